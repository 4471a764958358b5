#include "platform_client.hpp"
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <curl/curl.h>

#include <csignal>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <sas/sdk/ids.hpp>

namespace sas::sim {

namespace {

// curl_global_init is not thread-safe: once, before the first handle.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // CURLOPT_NOSIGNAL (needed with threads) also stops libcurl guarding against SIGPIPE from
    // a connection the server closed; this is a command-line tool, so ignore it process-wide.
    std::signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// What an operator should check, beyond libcurl's own words.
const char* hint(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CERTPROBLEM:
      return " (check --cert and --key: readable PEM files that belong together)";
    case CURLE_SSL_CACERT_BADFILE:
      return " (check --ca: a readable PEM CA bundle)";
    case CURLE_PEER_FAILED_VERIFICATION:
      return " (the server certificate is not trusted by --ca, or does not name this host)";
    case CURLE_COULDNT_CONNECT:
      return " (is the server running and listening there?)";
    case CURLE_OPERATION_TIMEDOUT:
      return " (the platform gives up after 7 s)";
    // With TLS 1.3 a refused client certificate surfaces after the handshake, as a read error.
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return " (the server may have refused the client certificate)";
    default:
      return "";
  }
}

template <typename T>
void set(CURL* curl, CURLoption option, T value) {
  if (curl_easy_setopt(curl, option, value) != CURLE_OK) {
    throw std::runtime_error("libcurl refused option " + std::to_string(static_cast<int>(option)));
  }
}

}  // namespace

PlatformClient::PlatformClient(ClientTls tls) : tls_(std::move(tls)) {
  global_init();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_ = curl;
  set(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
  set(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  set(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(kPlatformTimeout.count()));
  if (!tls_.cert_file.empty()) {
    set(curl, CURLOPT_SSLCERT, tls_.cert_file.c_str());
    set(curl, CURLOPT_SSLCERTTYPE, "PEM");
    set(curl, CURLOPT_SSLKEY, tls_.key_file.c_str());
    set(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  set(curl, CURLOPT_CAINFO, tls_.ca_file.c_str());
  set(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  set(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  set(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));  // the guide: TLS 1.2 or later
  set(curl, CURLOPT_USERAGENT, "sas-sim (SAS platform simulator)");
  set(curl, CURLOPT_WRITEFUNCTION, &append_body);
}

PlatformClient::~PlatformClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult PlatformClient::get(const std::string& url, std::chrono::milliseconds timeout) {
  return send("GET", url, {}, {}, timeout);
}

HttpResult PlatformClient::send(const std::string& method, const std::string& url, const std::string& body,
                                const std::vector<std::string>& extra_headers, std::chrono::milliseconds timeout) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  bool accept_given = false;
  for (const auto& h : extra_headers) {
    headers = curl_slist_append(headers, h.c_str());
    accept_given = accept_given || h.rfind("Accept:", 0) == 0;
  }
  if (!accept_given) headers = curl_slist_append(headers, "Accept: application/fhir+json");
  if (method == "GET") {
    set(curl, CURLOPT_HTTPGET, 1L);  // also undoes a previous call's POST fields
    set(curl, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  } else {
    // No "Expect: 100-continue" round trip before a body: the platform sends its bodies at once.
    headers = curl_slist_append(headers, "Expect:");
    set(curl, CURLOPT_POST, 1L);
    set(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    set(curl, CURLOPT_POSTFIELDS, body.c_str());
    set(curl, CURLOPT_CUSTOMREQUEST, method == "POST" ? static_cast<const char*>(nullptr) : method.c_str());
  }
  set(curl, CURLOPT_HTTPHEADER, headers);
  set(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(error));
  set(curl, CURLOPT_URL, url.c_str());
  set(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  set(curl, CURLOPT_WRITEDATA, static_cast<void*>(&result.body));

  const CURLcode code = curl_easy_perform(curl);
  result.curl_code = static_cast<int>(code);
  result.transport_ok = code == CURLE_OK;
  if (result.transport_ok) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    char* type = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) {
      result.content_type = type;
    }
  } else {
    result.error = curl_easy_strerror(code);
    if (error[0] != '\0') result.error += std::string(": ") + error;
    result.error += hint(code);
  }
  curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &result.total_seconds);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &result.new_connections);

  // The handle outlives these locals: unhook them.
  set(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  set(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  set(curl, CURLOPT_WRITEDATA, static_cast<void*>(nullptr));
  set(curl, CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));
  set(curl, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  curl_slist_free_all(headers);
  return result;
}

// RFC 3986 unreserved characters and ':' stay as they are; everything else is percent-encoded.
std::string encode_query_value(std::string_view value) {
  static constexpr auto kKept = boost::urls::unreserved_chars + ':';
  return boost::urls::encode(value, kKept);
}

std::string slot_search_url(std::string_view base, const std::vector<std::string>& practitioner_ids,
                            std::string_view from, std::string_view to, bool cpts) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  url += "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor";
  if (cpts) url += "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization";
  url += "&start=ge";
  url += encode_query_value(from);
  url += "&start=le";
  url += encode_query_value(to);
  url += "&schedule.actor:Practitioner.identifier=";
  bool first = true;
  for (const auto& id : practitioner_ids) {
    if (!first) url += ',';
    first = false;
    url += sas::sdk::ids::kPractitionerSystem;
    url += '|';  // raw, as the platform sends it
    url += encode_query_value(id);
  }
  url += "&status=free";
  return url;
}

}  // namespace sas::sim
