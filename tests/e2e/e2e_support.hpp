// What the end-to-end tests share: a test PKI, the real `sas-host serve` over the reference
// plugin on an agenda file, and an HTTPS client (libcurl, as the SAS platform connects) that
// presents a client certificate of that PKI.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sas_test/support.hpp"

namespace sas::e2e {

namespace fs = std::filesystem;

// Certificates of sas::pki::write_test_pki, written into `dir` (ca, server, client,
// client-wrong-cn, client-wrong-ou, client-expired, client-revoked, client-other-ca, crl.pem).
void write_pki(const fs::path& dir);

struct HostOptions {
  fs::path agenda;                           // the sqlite-agenda file
  fs::path plugin;                           // another plugin than the reference one, when not empty
  std::string plugin_config;                 // its --plugin-config (the reference plugin: db=AGENDA)
  fs::path pki;                              // a write_pki directory
  fs::path work;                             // the host's store goes here
  std::string base_path;                     // "" or e.g. "/ans-sas": --base-url https://localhost:PORT/ans-sas
  std::string place_identifier_system;       // --place-identifier-system, when not empty
  bool crl = true;                           // --client-crl crl.pem
  std::string store;                         // --store URL; "" = a new file in `work`
  std::vector<std::string> extra_arguments;  // appended to the command line
};

// The real `sas-host serve` with the real reference plugin (or HostOptions::plugin), on a free
// port of 127.0.0.1, stopped by the destructor.
class Host {
 public:
  explicit Host(const HostOptions& options);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host();

  uint16_t port() const { return port_; }
  std::string origin() const { return "https://localhost:" + std::to_string(port_); }  // what the cert names
  std::string base() const { return origin() + base_path_; }  // the FHIR base the host was told
  bool running() { return process_->running(); }
  std::string output() const { return process_->output(); }
  // Waits (a little) until the host's log contains `text`.
  bool log_contains(const std::string& text, int timeout_ms = 2000) const;

 private:
  uint16_t port_ = 0;
  std::string base_path_;
  std::unique_ptr<sas::test::ChildProcess> process_;
};

struct Response {
  int curl_code = 0;  // CURLcode
  long status = 0;    // 0: no HTTP answer
  std::string body;
  std::string content_type;
  std::string error;  // curl's error buffer

  boost::json::object json() const;  // the body as a JSON object (throws when it is not one)
  std::string describe() const;      // for failure messages
};

struct RequestOptions {
  std::optional<std::string> client = "client";  // certificate NAME(.pem, -key.pem) in the PKI; nullopt: none
  std::string method = "GET";
  bool tls11_only = false;  // offer TLS 1.1 and nothing else (client-side security level lowered to allow it)
  std::string accept = "application/fhir+json";
  std::optional<std::string> body;   // sent with any method (POST without one sends "{}")
  std::vector<std::string> headers;  // extra "Name: value" lines
};

// A client over mutual TLS to one host. Keeps its connection alive between requests.
class Client {
 public:
  explicit Client(fs::path pki);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // `url` is sent as given: libcurl does not re-encode '|', '+' or '%XX' (it refuses a raw space).
  Response get(const std::string& url, const RequestOptions& options = {});

 private:
  fs::path pki_;
  void* curl_ = nullptr;  // CURL*
};

// One request written byte for byte over mutual TLS (for what libcurl refuses to send, e.g. a raw
// space in the request target); returns everything the server sent until it closed (or 5 s).
std::string raw_tls_exchange(const fs::path& pki, uint16_t port, const std::string& request);

// One request written in plain TCP (no TLS) to the port; returns what came back (or 3 s).
std::string raw_tcp_exchange(uint16_t port, const std::string& request);

// The rows of one SQL query on an SQLite file opened read-only (NULL: ""). Throws on errors.
std::vector<std::vector<std::string>> sql(const fs::path& db, const std::string& query);

// "urn:oid:1.2.250.1.71.4.2.1|ID,urn:oid:...|ID2" with the separator and bar given.
std::string identifier_list(const std::vector<std::string>& ids, const std::string& bar = "|",
                            const std::string& separator = ",");

}  // namespace sas::e2e
