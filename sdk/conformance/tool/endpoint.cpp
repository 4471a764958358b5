// sas-conformance endpoint: the suite as the SAS platform, against a live endpoint over mutual
// TLS (libcurl), black-box; and the TLS refusal probes (OpenSSL directly, to tell a refusal
// during the handshake from an HTTP error after it).
#include <curl/curl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <sas/sdk/datetime.hpp>
#include <stdexcept>

#include "options.hpp"
#include "tool.hpp"

namespace sas::conformance::tool {

namespace fs = std::filesystem;
using sas::cli::parse_options;

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    auto a = value.find_first_not_of(" \t");
    auto b = value.find_last_not_of(" \t\r\n");
    value = a == std::string::npos ? std::string() : value.substr(a, b - a + 1);
    static_cast<std::vector<std::pair<std::string, std::string>>*>(out)->emplace_back(name, value);
  }
  return size * n;
}

struct ClientFiles {
  std::string cert, key, ca;
};

// HTTPS with the platform's client certificate; one keep-alive connection.
class CurlTransport : public Transport {
 public:
  CurlTransport(std::string base, ClientFiles files) : base_(std::move(base)), files_(std::move(files)) {
    if (!base_.empty() && base_.back() == '/') base_.pop_back();
    curl_ = curl_easy_init();
    if (!curl_) throw std::runtime_error("curl_easy_init failed");
  }
  ~CurlTransport() override { curl_easy_cleanup(curl_); }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpReply send(const std::string& method, const std::string& target, const std::string& body) override {
    HttpReply r;
    curl_easy_reset(curl_);
    char error[CURL_ERROR_SIZE] = {};
    const std::string url = base_ + target;
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/fhir+json");
    if (method != "GET") headers = curl_slist_append(headers, "Content-Type: application/fhir+json");
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_CAINFO, files_.ca.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLCERT, files_.cert.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLKEY, files_.key.c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else if (method != "GET") {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 7000L);  // the platform's limit
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    const CURLcode code = curl_easy_perform(curl_);
    r.transport_ok = code == CURLE_OK;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    char* content_type = nullptr;
    if (curl_easy_getinfo(curl_, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type)
      r.content_type = content_type;
    curl_easy_getinfo(curl_, CURLINFO_TOTAL_TIME, &r.seconds);
    if (!r.transport_ok) r.error = std::string(curl_easy_strerror(code)) + (error[0] ? ": " + std::string(error) : "");
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    return r;
  }

 private:
  std::string base_;
  ClientFiles files_;
  CURL* curl_ = nullptr;
};

struct Url {
  std::string host, port, path;
};

Url parse_base(const std::string& base) {
  if (!base.starts_with("https://")) throw std::invalid_argument("--base must be an https:// URL");
  std::string rest = base.substr(8);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  if (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = "443";
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

enum class Outcome { http_answer, refused_in_handshake, cannot_connect, server_untrusted };

struct Probe {
  Outcome outcome = Outcome::cannot_connect;
  long status = 0;
  std::string detail;
};

int connect_to(const Url& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &list) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = list; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  return fd;
}

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    out += (out.empty() ? "" : "; ") + std::string(buffer);
  }
  return out;
}

// One connection with this client identity: handshake, then GET [base]/metadata. A refusal
// "during the handshake" is a failed handshake, or (TLS 1.3, where the server checks the client
// certificate after the client finished) an alert or a close before any HTTP byte.
Probe probe(const Url& url, const std::string& ca, const std::string& cert, const std::string& key, bool tls11) {
  Probe p;
  const int fd = connect_to(url);
  if (fd < 0) {
    p.detail = "cannot connect to " + url.host + ":" + url.port;
    return p;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  if (tls11) {
    SSL_CTX_set_security_level(ctx, 0);  // so that only the server can refuse TLS 1.1
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  } else {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, url.host.c_str());
  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
      p.outcome = Outcome::server_untrusted;
      p.detail = std::string("the server certificate does not verify against --ca: ") +
                 X509_verify_cert_error_string(SSL_get_verify_result(ssl));
    } else {
      p.outcome = Outcome::refused_in_handshake;
      p.detail = "handshake failed: " + ssl_errors();
    }
  } else {
    const std::string request = "GET " + url.path + "/metadata HTTP/1.1\r\nHost: " + url.host +
                                "\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n";
    std::string answer;
    if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      char buffer[4096];
      for (;;) {
        const int n = SSL_read(ssl, buffer, sizeof buffer);
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
        if (answer.size() > 64 * 1024) break;
      }
    }
    if (answer.starts_with("HTTP/")) {
      p.outcome = Outcome::http_answer;
      p.status = std::strtol(answer.c_str() + answer.find(' ') + 1, nullptr, 10);
      p.detail = "answered HTTP " + std::to_string(p.status) + " after the handshake";
    } else {
      p.outcome = Outcome::refused_in_handshake;
      const std::string errors = ssl_errors();
      p.detail = "connection refused by the server during the handshake" + (errors.empty() ? "" : ": " + errors);
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return p;
}

void run_tls_checks(Run& run, const std::string& base, const std::string& ca, const fs::path& pki,
                    const ScenarioOptions& options) {
  if (!run.any_selected("TLS-")) return;
  if (pki.empty()) {
    for (const auto& c : run.catalogue().checks())
      if (c.group == "TLS")
        run.note(c.id, "needs --pki DIR (sas-conformance pki --out DIR, installed on the endpoint)");
    return;
  }
  if (options.progress) options.progress("mTLS: refusals during the handshake");
  const Url url = parse_base(base);
  struct Case {
    const char* id;
    const char* client;  // "" = no certificate
    bool tls11;
  };
  const Case cases[] = {{"TLS-001", "client", false},          {"TLS-002", "", false},
                        {"TLS-003", "client-other-ca", false}, {"TLS-004", "client-revoked", false},
                        {"TLS-005", "client-expired", false},  {"TLS-006", "client-wrong-cn", false},
                        {"TLS-007", "client-wrong-ou", false}, {"TLS-008", "client", true}};
  for (const auto& c : cases) {
    if (!run.selected(c.id)) continue;
    const std::string name = c.client;
    const std::string cert = name.empty() ? std::string() : (pki / (name + ".pem")).string();
    const std::string key = name.empty() ? std::string() : (pki / (name + "-key.pem")).string();
    Probe p = probe(url, ca, cert, key, c.tls11);
    const std::string who =
        std::string(c.id) + " (" + (name.empty() ? "no certificate" : name) + (c.tls11 ? ", TLS 1.1" : "") + ")";
    if (p.outcome == Outcome::cannot_connect || p.outcome == Outcome::server_untrusted) {
      run.fail({c.id, who, "", p.detail});
    } else if (std::string_view(c.id) == "TLS-001") {
      // Accepted = an HTTP answer that is not a refusal of the client: the probe asks for /metadata,
      // which the IG does not require of the agenda (R01-QUERY-017 is a warning), so a 404 is fine.
      const bool refused = p.status == 401 || p.status == 403 || p.status == 495 || p.status == 496;
      if (p.outcome == Outcome::http_answer && !refused)
        run.ran(c.id);
      else
        run.fail({c.id, who, "", "the SAS client must be accepted: " + p.detail});
    } else if (p.outcome == Outcome::refused_in_handshake) {
      run.ran(c.id);
    } else {
      run.fail({c.id, who, "", p.detail + ": it must be refused during the TLS handshake"});
    }
  }
}

}  // namespace

int endpoint(const Args& args) {
  po::options_description options("endpoint options");
  options.add_options()("base", po::value<std::string>()->required(), "the FHIR base URL of the endpoint under test")(
      "ca", po::value<std::string>()->required(), "PEM CA bundle that signed the endpoint's server certificate")(
      "cert", po::value<std::string>(), "client certificate (CN=sas.sante.fr, OU=SAS); default PKI/client.pem")(
      "key", po::value<std::string>(), "its private key; default PKI/client-key.pem")(
      "pki", po::value<std::string>(), "the suite's test PKI (sas-conformance pki): enables the TLS-* checks");
  add_run_options(options);
  add_data_options(options);
  int exit_code = 0;
  auto vm = parse_options("sas-conformance endpoint",
                          "--base URL --ca F [--cert F --key F] [--pki DIR] --practitioners ID,... [--now T] "
                          "[--cpts-practitioners ID,... [--cpts-two-cpts ID]] [--sos-sirets SIRET,...] [--only ID...] "
                          "[--skip ID...] [--json F] [--junit F] [--html F]",
                          options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  const fs::path pki = v.count("pki") ? fs::path(v["pki"].as<std::string>()) : fs::path();
  ClientFiles files;
  files.ca = v["ca"].as<std::string>();
  files.cert = v.count("cert") ? v["cert"].as<std::string>() : (pki / "client.pem").string();
  files.key = v.count("key") ? v["key"].as<std::string>() : (pki / "client-key.pem").string();
  if (!v.count("cert") && pki.empty()) throw std::invalid_argument("give --cert and --key, or --pki");
  auto context = load_context(v);
  auto scenario = scenario_options(v, context);
  auto run = make_run(v, context);
  for (const auto& c : context.catalogue->checks())
    if (c.modes == "plugin") run->note(c.id, "plugin mode only (the plugin's host calls)");
  const std::string base = v["base"].as<std::string>();
  run->info("mode", "endpoint");
  run->info("base", base);
  run->info("now", sas::sdk::datetime::format_utc(scenario.now));
  describe_test_data(*run, scenario);
  // A server that refuses a client after the TLS 1.3 handshake closes the connection; writing the
  // probe's request to it then raises SIGPIPE, which must be an error to report, not the end of the run.
  ::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const auto t0 = std::chrono::steady_clock::now();
  {
    CurlTransport transport(base, files);
    run_search_scenarios(*run, transport, *context.profiles, scenario);
    run_cpts_scenarios(*run, transport, *context.profiles, scenario);
    run_sos_scenarios(*run, transport, *context.profiles, scenario);
    run_account_scenarios(*run, transport, *context.profiles, scenario);
    run_tls_checks(*run, base, files.ca, pki, scenario);
    run_latency(*run, transport, scenario);
  }
  run->timing("run.seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  curl_global_cleanup();
  return finish(v, context, *run);
}

}  // namespace sas::conformance::tool
