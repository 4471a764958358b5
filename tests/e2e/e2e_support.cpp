#include "e2e_support.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "sas/pki/test_pki.hpp"

namespace sas::e2e {

namespace json = boost::json;
using sas::test::bin;

void write_pki(const fs::path& dir) { sas::pki::write_test_pki(dir); }

Host::Host(const HostOptions& options) : base_path_(options.base_path) {
  // A free port can be taken between free_port() and the bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = sas::test::free_port();
    std::vector<std::string> argv = {
        bin("sas-host").string(),
        "serve",
        "--plugin",
        options.plugin.empty() ? sas::test::plugin("sas-sqlite-agenda").string() : options.plugin.string(),
        "--plugin-config",
        options.plugin.empty() ? "db=" + options.agenda.string() : options.plugin_config,
        "--store",
        options.store.empty() ? "sqlite:" + (options.work / ("host-" + std::to_string(port_) + ".db")).string()
                              : options.store,
        "--listen",
        "127.0.0.1:" + std::to_string(port_),
        "--base-url",
        base(),
        "--tls-cert",
        (options.pki / "server.pem").string(),
        "--tls-key",
        (options.pki / "server-key.pem").string(),
        "--client-ca",
        (options.pki / "ca.pem").string(),
        "--allow-client-subject",
        "CN=sas.sante.fr,OU=SAS"};
    if (options.crl) {
      argv.push_back("--client-crl");
      argv.push_back((options.pki / "crl.pem").string());
    }
    if (!options.place_identifier_system.empty()) {
      argv.push_back("--place-identifier-system");
      argv.push_back(options.place_identifier_system);
    }
    for (const auto& a : sas::test::plugin_isolation_args()) argv.push_back(a);
    for (const auto& a : options.extra_arguments) argv.push_back(a);
    process_ = std::make_unique<sas::test::ChildProcess>(argv);
    if (process_->wait_for_output("listening on")) {
      sas::test::expect_plugin_isolation(*process_);
      return;
    }
    if (process_->running()) break;  // neither listening nor dead after 15 s: give up
  }
  throw std::runtime_error("sas-host serve did not start:\n" + output());
}

Host::~Host() { process_->stop(); }

bool Host::log_contains(const std::string& text, int timeout_ms) const {
  for (int waited = 0;; waited += 10) {
    if (output().find(text) != std::string::npos) return true;
    if (waited >= timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

json::object Response::json() const { return json::parse(body).as_object(); }

std::string Response::describe() const {
  return "curl code " + std::to_string(curl_code) + " (" + error + "), HTTP " + std::to_string(status) +
         ", Content-Type \"" + content_type + "\", body: " + body.substr(0, 2000);
}

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

CURL* handle(void* p) { return static_cast<CURL*>(p); }

}  // namespace

Client::Client(fs::path pki) : pki_(std::move(pki)), curl_(curl_easy_init()) {
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

Client::~Client() { curl_easy_cleanup(handle(curl_)); }

Response Client::get(const std::string& url, const RequestOptions& options) {
  CURL* curl = handle(curl_);
  curl_easy_reset(curl);
  Response r;
  char error[CURL_ERROR_SIZE] = {};
  const std::string ca = (pki_ / "ca.pem").string();
  const std::string cert = options.client ? (pki_ / (*options.client + ".pem")).string() : std::string();
  const std::string key = options.client ? (pki_ / (*options.client + "-key.pem")).string() : std::string();
  curl_slist* headers = nullptr;
  if (!options.accept.empty()) headers = curl_slist_append(headers, ("Accept: " + options.accept).c_str());
  for (const auto& header : options.headers) headers = curl_slist_append(headers, header.c_str());
  // localhost is 127.0.0.1 here, whatever /etc/hosts says about ::1.
  std::string resolve_entry;
  curl_slist* resolve = nullptr;
  if (const auto colon = url.find("localhost:"); colon != std::string::npos) {
    const auto port = url.substr(colon + 10, url.find_first_not_of("0123456789", colon + 10) - colon - 10);
    resolve_entry = "localhost:" + port + ":127.0.0.1";
    resolve = curl_slist_append(nullptr, resolve_entry.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  if (options.client) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
  }
  if (options.tls11_only) {
    // CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1 (the latter is the former << 16).
    const long tls11 = CURL_SSLVERSION_TLSv1_1;
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, tls11 | (tls11 << 16));
    // OpenSSL 3 refuses TLS 1.1 itself at the default security level: lower it so that the
    // refusal can only come from the server.
    curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
  }
  if (options.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (options.body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(options.body->size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, options.body->c_str());
    if (options.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  } else if (options.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
  } else if (options.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  r.curl_code = static_cast<int>(curl_easy_perform(curl));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  char* content_type = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type != nullptr) {
    r.content_type = content_type;
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(resolve);
  curl_slist_free_all(headers);
  r.error = error;
  return r;
}

namespace {

int connect_loopback(uint16_t port, int timeout_s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

}  // namespace

std::string raw_tls_exchange(const fs::path& pki, uint16_t port, const std::string& request) {
  const int fd = connect_loopback(port, 5);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, (pki / "ca.pem").c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_use_certificate_chain_file(ctx, (pki / "client.pem").c_str());
  SSL_CTX_use_PrivateKey_file(ctx, (pki / "client-key.pem").c_str(), SSL_FILETYPE_PEM);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  std::string out;
  if (SSL_connect(ssl) == 1 && SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
    char buffer[4096];
    for (;;) {
      const int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

std::string raw_tcp_exchange(uint16_t port, const std::string& request) {
  const int fd = connect_loopback(port, 3);
  std::string out;
  if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (;;) {
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::vector<std::vector<std::string>> sql(const fs::path& db, const std::string& query) {
  return sas::test::sqlite_rows(db, query);
}

std::string identifier_list(const std::vector<std::string>& ids, const std::string& bar, const std::string& separator) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += separator;
    out += "urn:oid:1.2.250.1.71.4.2.1" + bar + id;
  }
  return out;
}

}  // namespace sas::e2e
