// The SAS platform's side of a call to a vendor: HTTPS with a client certificate, as
// sas.sante.fr makes it (7 s budget, FHIR JSON): the searches' GET, INT_R02's POST and PUT. One
// client = one libcurl easy handle = one keep-alive connection, reused across calls. Not
// thread-safe: use one client per thread. Without a certificate it is a plain HTTPS client
// (sas-sim load uses one, with a bearer token, for the host's admin API).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sas::sim {

// The platform gives up on a vendor after 7 seconds.
inline constexpr std::chrono::milliseconds kPlatformTimeout{7000};

struct ClientTls {
  std::string cert_file;  // PEM client certificate (CN=sas.sante.fr, OU=SAS); empty: none
  std::string key_file;   // PEM private key of cert_file
  std::string ca_file;    // PEM CA bundle that signed the vendor's server certificate
};

struct HttpResult {
  bool transport_ok = false;  // false: no HTTP answer (DNS, connect, TLS, timeout, ...)
  long status = 0;            // HTTP status when transport_ok
  std::string body;
  std::string content_type;
  std::string error;         // when !transport_ok: a readable reason
  int curl_code = 0;         // CURLcode, 0 on success
  double total_seconds = 0;  // libcurl's CURLINFO_TOTAL_TIME
  long new_connections = 0;  // connections opened for this call (0 when reused)
  bool ok() const { return transport_ok && status == 200; }
};

class PlatformClient {
 public:
  explicit PlatformClient(ClientTls tls);
  PlatformClient(const PlatformClient&) = delete;
  PlatformClient& operator=(const PlatformClient&) = delete;
  ~PlatformClient();

  // GET `url` (already encoded: sent as given), Accept: application/fhir+json.
  HttpResult get(const std::string& url, std::chrono::milliseconds timeout = kPlatformTimeout);
  // `method` (GET, POST, PUT, ...) on `url` with `body` (sent when not GET) and extra header
  // lines ("Name: value"); Accept: application/fhir+json unless `headers` set another Accept.
  HttpResult send(const std::string& method, const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers, std::chrono::milliseconds timeout = kPlatformTimeout);

 private:
  void* curl_ = nullptr;  // CURL*, kept opaque so that callers need not include curl.h
  ClientTls tls_;
};

// The INT_R01 search URL exactly as the platform builds it: `|` raw, `+` as %2B, ids joined
// by commas. `from`/`to` are FHIR dateTimes, sent as given apart from the encoding. `cpts`: the
// INT_R04 CPTS search, with the IG's two CPTS includes after the INT_R01 ones.
std::string slot_search_url(std::string_view base, const std::vector<std::string>& practitioner_ids,
                            std::string_view from, std::string_view to, bool cpts = false);

// Percent-encodes everything but RFC 3986 unreserved characters and ':' (so '+' becomes %2B).
std::string encode_query_value(std::string_view value);

}  // namespace sas::sim
