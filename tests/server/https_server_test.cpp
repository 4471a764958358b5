// The mutual-TLS HTTPS server against real certificates (samples/pki), with libcurl as the
// SAS platform would connect, and with raw OpenSSL to prove that refusals happen during the
// TLS handshake, before any HTTP byte.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "sas/host/server/https_server.hpp"
#include "sas/pki/test_pki.hpp"
#include "sas_test/support.hpp"
#include "tls_test_client.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sas::host::server::AllowedSubject;
using sas::host::server::Exchange;
using sas::host::server::HandshakeFailure;
using sas::host::server::HttpsServer;
using sas::host::server::LimitRefusal;
using sas::host::server::Request;
using sas::host::server::Response;
using sas::host::server::ServerConfig;
using sas::server_test::raw_get;
using sas::server_test::TlsClient;
using sas::server_test::TlsOptions;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

const char* const kSasSubject = "CN=sas.sante.fr,OU=SAS";

// ---- libcurl client ---------------------------------------------------------------------

struct CurlResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  long new_connections = -1;
  std::string error;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

// One request; pass the same handle twice to reuse its connection.
CurlResult curl_get(CURL* curl, const fs::path& pki, uint16_t port, const std::optional<std::string>& client,
                    const std::string& path = "/metadata", bool tls = true) {
  CurlResult r;
  char error[CURL_ERROR_SIZE] = {};
  const std::string url = (tls ? "https://localhost:" : "http://localhost:") + std::to_string(port) + path;
  const std::string resolve_entry = "localhost:" + std::to_string(port) + ":127.0.0.1";
  curl_slist* resolve = curl_slist_append(nullptr, resolve_entry.c_str());
  const std::string ca = (pki / "ca.pem").string();
  const std::string cert = client ? (pki / (*client + ".pem")).string() : "";
  const std::string key = client ? (pki / (*client + "-key.pem")).string() : "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLCERT, client ? cert.c_str() : nullptr);
  curl_easy_setopt(curl, CURLOPT_SSLKEY, client ? key.c_str() : nullptr);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &r.new_connections);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, nullptr);
  curl_slist_free_all(resolve);
  r.error = error;
  return r;
}

CurlResult curl_get(const fs::path& pki, uint16_t port, const std::optional<std::string>& client,
                    const std::string& path = "/metadata", bool tls = true) {
  CurlPtr curl(curl_easy_init());
  return curl_get(curl.get(), pki, port, client, path, tls);
}

// A refused client certificate: a handshake error, or with TLS 1.3 a receive error (the
// server's alert arrives after the client considers the handshake done).
MATCHER(IsTlsRefusal, "") { return arg.code == CURLE_SSL_CONNECT_ERROR || arg.code == CURLE_RECV_ERROR; }

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// ---- fixture ------------------------------------------------------------------------------

class HttpsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The raw clients write to sockets the server may already have closed.
    std::signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pki_ = new fs::path(sas::test::make_temp_dir("sas-server-pki"));
    sas::pki::write_test_pki(*pki_);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*pki_, ec);
    delete pki_;
    curl_global_cleanup();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  static const fs::path& pki() { return *pki_; }

  ServerConfig config(const fs::path& dir = pki()) {
    ServerConfig c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.cert_file = dir / "server.pem";
    c.key_file = dir / "server-key.pem";
    c.client_ca_file = dir / "ca.pem";
    c.crl_file = dir / "crl.pem";
    c.allowed_subjects = {kSasSubject};
    c.worker_threads = 2;
    c.log = [this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_.emplace_back(line);
    };
    c.route_of = [](std::string_view method, std::string_view target) {
      return target.starts_with("/slow") ? std::string("slow route") : method == "POST" ? std::string("posts") : "";
    };
    c.on_exchange = [this](const Exchange& e) {
      std::lock_guard lock(log_mutex_);
      exchanges_.push_back({std::string(e.id), std::string(e.route), std::string(e.method), std::string(e.target),
                            e.status, e.body_bytes, e.written, e.client->cn});
    };
    c.on_handshake_failure = [this](HandshakeFailure reason, std::string_view remote) {
      std::lock_guard lock(log_mutex_);
      EXPECT_THAT(std::string(remote), HasSubstr("127.0.0.1:"));
      handshake_failures_.emplace_back(sas::host::server::to_string(reason));
    };
    c.on_limit_refusal = [this](LimitRefusal limit, std::string_view remote) {
      std::lock_guard lock(log_mutex_);
      EXPECT_THAT(std::string(remote), HasSubstr("127.0.0."));
      limit_refusals_.emplace_back(sas::host::server::to_string(limit));
    };
    return c;
  }

  std::vector<std::string> limit_refusals() {
    std::lock_guard lock(log_mutex_);
    return limit_refusals_;
  }

  struct SeenExchange {
    std::string id, route, method, target;
    int status;
    std::size_t body_bytes;
    bool written;
    std::string client_cn;
  };
  std::vector<SeenExchange> exchanges() {
    std::lock_guard lock(log_mutex_);
    return exchanges_;
  }
  std::vector<std::string> handshake_failures() {
    std::lock_guard lock(log_mutex_);
    return handshake_failures_;
  }
  // Waits for the one handshake failure a refused connection must report, and returns it.
  std::string sole_handshake_failure() {
    wait_until([&] { return !handshake_failures().empty(); });
    std::this_thread::sleep_for(50ms);  // a second report would be a bug
    const auto all = handshake_failures();
    return all.size() == 1 ? all.front() : "reported " + std::to_string(all.size()) + " times";
  }

  uint16_t start(ServerConfig c) {
    server_ = std::make_unique<HttpsServer>(std::move(c), [this](const Request& r) { return handle(r); });
    server_->start();
    return server_->port();
  }

  Response handle(const Request& r) {
    ++calls_;
    {
      std::lock_guard lock(log_mutex_);
      last_ = r;
    }
    if (r.target == "/slow") std::this_thread::sleep_for(1500ms);
    if (r.target == "/throw") throw std::runtime_error("boom");
    Response res;
    if (r.target == "/large") {
      res.body = large_body();
      return res;
    }
    res.body = R"({"resourceType":"CapabilityStatement"})";
    res.headers = {{"Location", "/Practitioner/1/_history/1"}};
    return res;
  }

  // An answer of many TLS records, not a multiple of the record size, no two records alike.
  static std::string large_body() {
    std::string body(1024 * 1024 + 4321, ' ');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('!' + (i * 7 + i / 16384) % 90);
    return body;
  }

  std::string logs() {
    std::lock_guard lock(log_mutex_);
    std::string all;
    for (const auto& l : log_) all += l + "\n";
    return all;
  }
  Request last() {
    std::lock_guard lock(log_mutex_);
    return last_;
  }

  static fs::path* pki_;
  std::unique_ptr<HttpsServer> server_;
  std::atomic<int> calls_{0};
  std::mutex log_mutex_;
  std::vector<std::string> log_;
  Request last_;
  std::vector<SeenExchange> exchanges_;
  std::vector<std::string> handshake_failures_;
  std::vector<std::string> limit_refusals_;
};

fs::path* HttpsServerTest::pki_ = nullptr;

// ---- accepted client ----------------------------------------------------------------------

TEST_F(HttpsServerTest, SasClientGets200) {
  const uint16_t port = start(config());
  const auto r = curl_get(pki(), port, "client");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"resourceType":"CapabilityStatement"})");
  EXPECT_EQ(calls_, 1);
  const Request seen = last();
  EXPECT_TRUE(seen.tls);
  EXPECT_EQ(seen.client.cn, "sas.sante.fr");
  EXPECT_EQ(seen.client.ou, "SAS");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/metadata");
  EXPECT_EQ(seen.route, "other");  // route_of gives no label for it
  EXPECT_THAT(seen.id, ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_TRUE(handshake_failures().empty());
}

TEST_F(HttpsServerTest, EveryAnswerCarriesItsRequestIdAndIsObserved) {
  const uint16_t port = start(config());
  TlsClient c(pki(), port);
  ASSERT_TRUE(c.handshake()) << c.error();
  ASSERT_TRUE(c.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const std::string first = c.receive_response();
  ASSERT_TRUE(c.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  const std::string second = c.receive();
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 2; }));
  const auto seen = exchanges();
  EXPECT_NE(seen[0].id, seen[1].id);
  EXPECT_THAT(first, HasSubstr("X-Request-Id: " + seen[0].id + "\r\n"));
  EXPECT_THAT(second, HasSubstr("X-Request-Id: " + seen[1].id + "\r\n"));
  for (const auto& e : seen) {
    EXPECT_EQ(e.status, 200);
    EXPECT_EQ(e.method, "GET");
    EXPECT_EQ(e.target, "/metadata");
    EXPECT_EQ(e.body_bytes, std::string(R"({"resourceType":"CapabilityStatement"})").size());
    EXPECT_TRUE(e.written);
    EXPECT_EQ(e.client_cn, "sas.sante.fr");
  }
}

TEST_F(HttpsServerTest, TheClientsRequestIdIsKeptWhenSafe) {
  const uint16_t port = start(config());
  const std::string too_long(65, 'a');
  for (const std::string given : {"platform-4f2a:17.b_c", "two words", "<script>", too_long.c_str()}) {
    TlsClient c(pki(), port);
    ASSERT_TRUE(c.handshake()) << c.error();
    ASSERT_TRUE(c.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: " + given +
                       "\r\nConnection: close\r\n\r\n"));
    const std::string response = c.receive();
    const std::string id = last().id;
    if (given == "platform-4f2a:17.b_c") {
      EXPECT_EQ(id, given);
    } else {
      EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{16}")) << given;
    }
    EXPECT_THAT(response, HasSubstr("X-Request-Id: " + id + "\r\n"));
  }
}

TEST_F(HttpsServerTest, RequestIsPassedRawAndResponseHeadersAreSent) {
  const uint16_t port = start(config());
  TlsClient c(pki(), port);
  ASSERT_TRUE(c.handshake()) << c.error();
  // The SAS platform sends '|' raw or as %7C; the handler must see the target untouched.
  const std::string target = "/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000000&x=a%7Cb%2B";
  ASSERT_TRUE(c.send("POST " + target +
                     " HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: abc\r\nContent-Type: application/fhir+json\r\n"
                     "Content-Length: 5\r\nConnection: close\r\n\r\nhello"));
  const std::string response = c.receive();
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Location: /Practitioner/1/_history/1\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: application/fhir+json\r\n"));
  const Request seen = last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, target);
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.header("x-request-id"), "abc");
  EXPECT_EQ(seen.header("Missing"), std::nullopt);
  EXPECT_THAT(seen.remote, HasSubstr("127.0.0.1:"));
}

TEST_F(HttpsServerTest, ExpectContinueIsAnswered) {
  const uint16_t port = start(config());
  TlsClient c(pki(), port);
  ASSERT_TRUE(c.handshake()) << c.error();
  ASSERT_TRUE(
      c.send("POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.receive(25), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("hello"));
  EXPECT_THAT(c.receive_response(), HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(last().body, "hello");
}

TEST_F(HttpsServerTest, OversizedBodyGets413) {
  auto cfg = config();
  cfg.max_body_bytes = 10;
  const uint16_t port = start(cfg);
  TlsClient c(pki(), port);
  ASSERT_TRUE(c.handshake()) << c.error();
  ASSERT_TRUE(c.send("POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world"));
  const std::string response = c.receive();  // then the server closes
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 413 Payload Too Large\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(calls_, 0);
  // The server's own answer is observed too, with what it read of the request.
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 1; }));
  const auto e = exchanges().front();
  EXPECT_EQ(e.status, 413);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.target, "/Practitioner");
  EXPECT_EQ(e.route, "posts");  // the header was read: counted under its route
  EXPECT_THAT(response, HasSubstr("X-Request-Id: " + e.id + "\r\n"));
  EXPECT_EQ(limit_refusals(), std::vector<std::string>{"body_size"});
}

TEST_F(HttpsServerTest, MalformedRequestGets400) {
  const uint16_t port = start(config());
  TlsClient c(pki(), port);
  ASSERT_TRUE(c.handshake()) << c.error();
  ASSERT_TRUE(c.send("NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_THAT(c.receive(), HasSubstr("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(calls_, 0);
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 1; }));
  EXPECT_EQ(exchanges().front().status, 400);
  EXPECT_EQ(exchanges().front().method, "");
}

// ---- refused clients ----------------------------------------------------------------------

struct RefusalCase {
  const char* name;
  std::optional<std::string> client;
  const char* server_log;  // why the server refused, as it logs it
  const char* alert12;     // the alert the client receives, TLS 1.2
  const char* alert13;     // and TLS 1.3
  const char* reason;      // HandshakeFailure, as reported to on_handshake_failure
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.name; }

class RefusedClientTest : public HttpsServerTest, public ::testing::WithParamInterface<RefusalCase> {};

TEST_P(RefusedClientTest, RefusedByCurl) {
  const uint16_t port = start(config());
  const auto r = curl_get(pki(), port, GetParam().client);
  EXPECT_THAT(r, IsTlsRefusal()) << r.code << " " << r.error;
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(calls_, 0);
  EXPECT_TRUE(wait_until([&] { return logs().find(GetParam().server_log) != std::string::npos; })) << logs();
}

TEST_P(RefusedClientTest, RefusedDuringTls12Handshake) {
  const uint16_t port = start(config());
  TlsOptions options;
  options.client = GetParam().client;
  const auto r = raw_get(pki(), port, options);
  EXPECT_FALSE(r.handshake_ok) << "SSL_connect succeeded";
  EXPECT_EQ(r.received, "");
  EXPECT_THAT(r.error, HasSubstr(GetParam().alert12)) << "the server must answer with a TLS alert";
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(sole_handshake_failure(), GetParam().reason);
}

TEST_P(RefusedClientTest, RefusedBeforeAnyHttpByteWithTls13) {
  const uint16_t port = start(config());
  TlsOptions options;
  options.client = GetParam().client;
  options.max_version = TLS1_3_VERSION;
  const auto r = raw_get(pki(), port, options);
  EXPECT_EQ(r.received, "");
  EXPECT_THAT(r.error, HasSubstr(GetParam().alert13));
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(sole_handshake_failure(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Clients, RefusedClientTest,
    ::testing::Values(RefusalCase{"NoCertificate", std::nullopt, "peer did not return a certificate",
                                  "alert handshake failure", "alert certificate required", "no_certificate"},
                      RefusalCase{"OtherCa", "client-other-ca", "unable to get local issuer certificate",
                                  "alert unknown ca", "alert unknown ca", "unknown_ca"},
                      RefusalCase{"Revoked", "client-revoked", "certificate revoked", "alert certificate revoked",
                                  "alert certificate revoked", "revoked"},
                      RefusalCase{"Expired", "client-expired", "certificate has expired", "alert certificate expired",
                                  "alert certificate expired", "expired"},
                      RefusalCase{"WrongCn", "client-wrong-cn",
                                  "CN=other.example.fr,OU=SAS,O=SAS SDK Test PKI,C=FR): subject not allowed",
                                  "alert handshake failure", "alert handshake failure", "subject_refused"},
                      RefusalCase{"WrongOu", "client-wrong-ou",
                                  "CN=sas.sante.fr,OU=OTHER,O=SAS SDK Test PKI,C=FR): subject not allowed",
                                  "alert handshake failure", "alert handshake failure", "subject_refused"}),
    [](const ::testing::TestParamInfo<RefusalCase>& param_info) { return std::string(param_info.param.name); });

TEST_F(HttpsServerTest, Tls11ClientRefusedByServer) {
  const uint16_t port = start(config());
  TlsOptions options;
  options.max_version = TLS1_1_VERSION;
  options.security_level = 0;  // so that the client itself is willing to speak TLS 1.1
  const auto r = raw_get(pki(), port, options);
  EXPECT_FALSE(r.handshake_ok);
  EXPECT_EQ(r.received, "");
  // The server's protocol_version alert, not a local "no protocols available".
  EXPECT_THAT(r.error, HasSubstr("alert protocol version"));
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(sole_handshake_failure(), "protocol");
}

TEST_F(HttpsServerTest, Tls12AndTls13Accepted) {
  const uint16_t port = start(config());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsOptions options;
    options.min_version = version;
    options.max_version = version;
    const auto r = raw_get(pki(), port, options);
    EXPECT_TRUE(r.handshake_ok) << r.error;
    EXPECT_THAT(r.received, HasSubstr("HTTP/1.1 200 OK"));
  }
  EXPECT_EQ(calls_, 2);
}

// The server encrypts a whole answer itself and sends it in one write: a large answer must
// arrive intact under both TLS versions, and the connection must go on decrypting after it.
TEST_F(HttpsServerTest, ALargeAnswerArrivesWholeAndTheConnectionGoesOn) {
  const uint16_t port = start(config());
  const std::string expected = large_body();
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    TlsOptions options;
    options.min_version = version;
    options.max_version = version;
    TlsClient c(pki(), port, options);
    ASSERT_TRUE(c.handshake()) << c.error();
    for (int round = 0; round < 2; ++round) {
      ASSERT_TRUE(c.send("GET /large HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      const std::string large = c.receive_response();
      ASSERT_THAT(large, HasSubstr("Content-Length: " + std::to_string(expected.size()) + "\r\n"));
      const auto header_end = large.find("\r\n\r\n");
      ASSERT_NE(header_end, std::string::npos);
      EXPECT_TRUE(large.compare(header_end + 4, std::string::npos, expected) == 0) << "round " << round;
      ASSERT_TRUE(c.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      EXPECT_THAT(c.receive_response(), HasSubstr(R"({"resourceType":"CapabilityStatement"})"));
    }
    // HEAD: the GET's headers, Content-Length included, and not one byte of body.
    ASSERT_TRUE(c.send("HEAD /large HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    const std::string head = c.receive();
    EXPECT_THAT(head, HasSubstr("Content-Length: " + std::to_string(expected.size()) + "\r\n"));
    EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head.size() << " bytes";
  }
  EXPECT_EQ(calls_, 10);
}

TEST_F(HttpsServerTest, NobodyAllowedWithEmptyAllowList) {
  auto c = config();
  c.allowed_subjects.clear();
  const uint16_t port = start(c);
  EXPECT_THAT(curl_get(pki(), port, "client"), IsTlsRefusal());
  EXPECT_EQ(calls_, 0);
}

// ---- optional client certificate (the admin listener) ----------------------------------------

TEST_F(HttpsServerTest, ClientWithoutCertificateRefusedByDefault) {
  const uint16_t port = start(config());
  EXPECT_THAT(curl_get(pki(), port, std::nullopt), IsTlsRefusal());
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpsServerTest, OptionalCertificateLetsAClientWithoutOneIn) {
  auto c = config();
  c.require_client_certificate = false;
  const uint16_t port = start(c);
  const auto none = curl_get(pki(), port, std::nullopt);
  ASSERT_EQ(none.code, CURLE_OK) << none.error;
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(last().client.cn, "");
  // A presented certificate is still checked: on the allow-list it is the client's identity...
  const auto allowed = curl_get(pki(), port, "client");
  ASSERT_EQ(allowed.code, CURLE_OK) << allowed.error;
  EXPECT_EQ(last().client.cn, "sas.sante.fr");
  // ...off the allow-list, from another CA, expired or revoked, it is refused.
  for (const char* client : {"client-wrong-cn", "client-other-ca", "client-expired", "client-revoked"})
    EXPECT_THAT(curl_get(pki(), port, std::string(client)), IsTlsRefusal()) << client;
  EXPECT_EQ(calls_, 2);
}

TEST_F(HttpsServerTest, OptionalCertificateWithEmptyAllowListVerifiesButGivesNoIdentity) {
  auto c = config();
  c.require_client_certificate = false;
  c.allowed_subjects.clear();
  const uint16_t port = start(c);
  const auto verified = curl_get(pki(), port, "client-wrong-cn");
  ASSERT_EQ(verified.code, CURLE_OK) << verified.error;
  EXPECT_EQ(last().client.cn, "");
  EXPECT_THAT(curl_get(pki(), port, "client-other-ca"), IsTlsRefusal());
  EXPECT_EQ(calls_, 1);
}

// ---- plain HTTP ---------------------------------------------------------------------------

TEST_F(HttpsServerTest, PlainHttpRefusedByDefault) {
  const uint16_t port = start(config());
  const auto r = curl_get(pki(), port, std::nullopt, "/metadata", false);
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(calls_, 0);
  EXPECT_TRUE(wait_until([&] { return logs().find("plain HTTP connection") != std::string::npos; })) << logs();
  EXPECT_EQ(sole_handshake_failure(), "plain_http");
}

TEST_F(HttpsServerTest, PlainHttpAcceptedWhenAllowedNextToTls) {
  auto c = config();
  c.allow_plain_http = true;
  const uint16_t port = start(c);
  const auto plain = curl_get(pki(), port, std::nullopt, "/metadata", false);
  ASSERT_EQ(plain.code, CURLE_OK) << plain.error;
  EXPECT_EQ(plain.status, 200);
  EXPECT_FALSE(last().tls);
  EXPECT_EQ(last().client.cn, "");
  // The same port still speaks mutual TLS, with the same checks.
  const auto tls = curl_get(pki(), port, "client");
  ASSERT_EQ(tls.code, CURLE_OK) << tls.error;
  EXPECT_TRUE(last().tls);
  EXPECT_THAT(curl_get(pki(), port, "client-wrong-ou"), IsTlsRefusal());
}

TEST_F(HttpsServerTest, PlainHttpOnlyServerWithoutCertificate) {
  ServerConfig c;
  c.allow_plain_http = true;
  c.worker_threads = 1;
  const uint16_t port = start(c);
  const auto r = curl_get(pki(), port, std::nullopt, "/metadata", false);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(curl_get(pki(), port, "client").code, CURLE_OK);
}

// ---- CRL reload ---------------------------------------------------------------------------

TEST_F(HttpsServerTest, CrlReloadedWithoutRestart) {
  const fs::path dir = sas::test::make_temp_dir("sas-server-crl");
  sas::pki::write_test_pki(dir);
  const uint16_t port = start(config(dir));
  const auto before = curl_get(dir, port, "client");
  ASSERT_EQ(before.code, CURLE_OK) << before.error;
  EXPECT_EQ(before.status, 200);

  sas::pki::write_crl(dir, {dir / "client.pem"});
  std::this_thread::sleep_for(1100ms);  // the files are checked at most once a second
  EXPECT_THAT(curl_get(dir, port, "client"), IsTlsRefusal());
  EXPECT_THAT(logs(), HasSubstr("TLS material reloaded"));
  EXPECT_THAT(logs(), HasSubstr("certificate revoked"));
  TlsOptions options;
  const auto raw = raw_get(dir, port, options);
  EXPECT_FALSE(raw.handshake_ok);
  EXPECT_THAT(raw.error, HasSubstr("certificate revoked"));

  // Un-revoked again: accepted again, still without a restart.
  sas::pki::write_crl(dir);
  std::this_thread::sleep_for(1100ms);
  const auto after = curl_get(dir, port, "client");
  EXPECT_EQ(after.code, CURLE_OK) << after.error;
  EXPECT_EQ(calls_, 2);
  fs::remove_all(dir);
}

TEST_F(HttpsServerTest, BrokenCrlKeepsPreviousContext) {
  const fs::path dir = sas::test::make_temp_dir("sas-server-crl");
  sas::pki::write_test_pki(dir);
  const uint16_t port = start(config(dir));
  sas::test::write_file(dir / "crl.pem", "-----BEGIN X509 CRL-----\ngarbage\n");
  std::this_thread::sleep_for(1100ms);
  const auto r = curl_get(dir, port, "client");
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_THAT(logs(), HasSubstr("TLS reload failed"));
  EXPECT_FALSE(server_->reload_tls());
  EXPECT_THAT(curl_get(dir, port, "client-revoked"), IsTlsRefusal());  // the old CRL is still in force
  fs::remove_all(dir);
}

// ---- connections --------------------------------------------------------------------------

TEST_F(HttpsServerTest, KeepAliveReusesConnection) {
  const uint16_t port = start(config());
  CurlPtr curl(curl_easy_init());
  const auto first = curl_get(curl.get(), pki(), port, "client");
  ASSERT_EQ(first.code, CURLE_OK) << first.error;
  EXPECT_EQ(first.new_connections, 1);
  const auto second = curl_get(curl.get(), pki(), port, "client");
  ASSERT_EQ(second.code, CURLE_OK) << second.error;
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.new_connections, 0);
  EXPECT_EQ(calls_, 2);
}

TEST_F(HttpsServerTest, ConcurrentClients) {
  auto c = config();
  c.io_threads = 2;
  c.worker_threads = 4;
  const uint16_t port = start(c);
  std::vector<std::future<int>> clients;
  for (int i = 0; i < 6; ++i)
    clients.push_back(std::async(std::launch::async, [&] {
      CurlPtr curl(curl_easy_init());  // keep-alive within a client, several connections overall
      int ok = 0;
      for (int j = 0; j < 5; ++j) ok += curl_get(curl.get(), pki(), port, "client").status == 200 ? 1 : 0;
      return ok;
    }));
  int total = 0;
  for (auto& f : clients) total += f.get();
  EXPECT_EQ(total, 30);
  EXPECT_EQ(calls_, 30);
}

TEST_F(HttpsServerTest, MaxConnectionsBound) {
  auto c = config();
  c.max_connections = 2;
  const uint16_t port = start(c);
  auto held1 = std::make_unique<TlsClient>(pki(), port);
  TlsClient held2(pki(), port);
  ASSERT_TRUE(held1->handshake()) << held1->error();
  ASSERT_TRUE(held2.handshake()) << held2.error();
  ASSERT_TRUE(wait_until([&] { return server_->active_connections() == 2; }));

  const auto refused = raw_get(pki(), port, {});
  EXPECT_FALSE(refused.handshake_ok);
  EXPECT_EQ(refused.received, "");
  EXPECT_EQ(server_->refused_connections(), 1u);
  EXPECT_EQ(limit_refusals(), std::vector<std::string>{"connections"});
  EXPECT_THAT(curl_get(pki(), port, "client").code, Not(CURLE_OK));

  held1.reset();  // frees a place
  ASSERT_TRUE(wait_until([&] { return server_->active_connections() == 1; }));
  const auto r = curl_get(pki(), port, "client");
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpsServerTest, SlowHandlerGets503BeforeDeadline) {
  auto c = config();
  c.request_deadline = 300ms;
  const uint16_t port = start(c);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = curl_get(pki(), port, "client", "/slow");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 503);
  // A generic server knows no FHIR: its own errors are plain text unless a renderer is set.
  EXPECT_EQ(r.body, "the server could not answer in time\n");
  EXPECT_LT(elapsed, 1400ms);
  // Counted under its route, though the handler never answered.
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 1; }));
  EXPECT_EQ(exchanges().front().route, "slow route");
  EXPECT_EQ(exchanges().front().status, 503);
}

TEST_F(HttpsServerTest, HandlerExceptionGives500) {
  const uint16_t port = start(config());
  const auto r = curl_get(pki(), port, "client", "/throw");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "internal server error\n");
  EXPECT_THAT(r.body, Not(HasSubstr("boom")));
  EXPECT_THAT(logs(), HasSubstr("boom"));
}

TEST_F(HttpsServerTest, TheErrorRendererWritesTheServersOwnErrors) {
  auto c = config();
  c.render_error = [](int status, std::string_view message) {
    Response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = "{\"status\":" + std::to_string(status) + ",\"message\":\"" + std::string(message) + "\"}";
    return r;
  };
  const uint16_t port = start(c);
  const auto r = curl_get(pki(), port, "client", "/throw");
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"status":500,"message":"internal server error"})");
}

TEST_F(HttpsServerTest, ASilentConnectionIsClosedAfterTheIdleTimeoutWithoutAnAnswer) {
  auto c = config();
  c.idle_timeout = 300ms;
  const uint16_t port = start(c);
  TlsClient client(pki(), port);
  ASSERT_TRUE(client.handshake()) << client.error();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(client.receive(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(calls_, 0);
  EXPECT_TRUE(wait_until([&] { return server_->active_connections() == 0; }));
  EXPECT_TRUE(limit_refusals().empty());  // an idle connection is no refusal
}

// ---- limits -------------------------------------------------------------------------------

// A request written whole on a new connection; everything the server sent until it closed.
std::string exchange_once(const fs::path& pki, uint16_t port, const std::string& request) {
  TlsClient c(pki, port);
  if (!c.handshake()) return "handshake failed: " + c.error();
  if (!c.send(request)) return "send failed";
  return c.receive();
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

TEST_F(HttpsServerTest, ATargetPastTheLimitGets414WithoutBeingLogged) {
  auto c = config();
  c.max_target_bytes = 1024;
  const uint16_t port = start(c);
  const auto get = [&](const std::string& target) {
    return exchange_once(pki(), port, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  };
  const std::string at_limit = "/metadata?" + std::string(1024 - 10, 'a');
  EXPECT_EQ(status_line(get(at_limit)), "HTTP/1.1 200 OK");
  // Just past it (the request line is parsed), and far past it (the line overflows the parser's 16 KiB).
  for (const std::size_t length : {std::size_t{1025}, std::size_t{100'000}}) {
    const std::string response = get("/metadata?" + std::string(length - 10, 'b'));
    EXPECT_EQ(status_line(response), "HTTP/1.1 414 URI Too Long") << length;
    EXPECT_THAT(response, HasSubstr("the request target is longer than 1024 bytes")) << length;
    EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  }
  EXPECT_EQ(calls_, 1);
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 3; }));
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(exchanges()[i].status, 414);
    EXPECT_EQ(exchanges()[i].target, "");  // not the oversized target
  }
  EXPECT_EQ(limit_refusals(), (std::vector<std::string>{"target_length", "target_length"}));
  EXPECT_THAT(logs(), Not(HasSubstr("bbbb")));
  EXPECT_THAT(logs(), HasSubstr("refused: the request target is longer than 1024 bytes"));
}

TEST_F(HttpsServerTest, HeaderFieldsPastTheLimitsGet431) {
  auto c = config();
  c.max_header_bytes = 1024;
  c.max_header_fields = 10;
  const uint16_t port = start(c);
  const auto get = [&](const std::string& fields) {
    return exchange_once(pki(), port,
                         "GET /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + fields + "\r\n");
  };
  std::string eight;  // with Host and Connection: ten fields
  for (int i = 0; i < 8; ++i) eight += "X-Field-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_line(get(eight)), "HTTP/1.1 200 OK");
  const std::string nine = eight + "X-Field-8: v\r\n";
  const std::string count_refused = get(nine);
  EXPECT_EQ(status_line(count_refused), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_THAT(count_refused, HasSubstr("the request has more than 10 header fields"));
  // One large field (parsed, then measured), and far too many bytes (the parser's own limit).
  for (const std::size_t size : {std::size_t{1100}, std::size_t{60000}}) {
    const std::string response = get("X-Large: " + std::string(size, 'c') + "\r\n");
    EXPECT_EQ(status_line(response), "HTTP/1.1 431 Request Header Fields Too Large") << size;
    EXPECT_THAT(response, HasSubstr("the request's header fields take more than 1024 bytes")) << size;
  }
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(limit_refusals(), (std::vector<std::string>{"header_count", "header_size", "header_size"}));
  EXPECT_THAT(logs(), Not(HasSubstr("cccc")));
}

TEST_F(HttpsServerTest, BodyLimitsAreByRoute) {
  auto c = config();
  c.max_body_bytes = 1000;  // "other"
  c.route_body_limits = {{"posts", 16}, {"slow route", 0}};
  const uint16_t port = start(c);
  const auto send = [&](const std::string& method, const std::string& target, std::size_t length, std::size_t sent) {
    return exchange_once(pki(), port,
                         method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
                             "Content-Length: " + std::to_string(length) + "\r\n\r\n" + std::string(sent, 'd'));
  };
  EXPECT_EQ(status_line(send("POST", "/Practitioner", 16, 16)), "HTTP/1.1 200 OK");
  // Refused on its Content-Length: the body is never waited for.
  const std::string posted = send("POST", "/Practitioner", 17, 0);
  EXPECT_EQ(status_line(posted), "HTTP/1.1 413 Payload Too Large");
  EXPECT_THAT(posted, HasSubstr("the request body is larger than 16 bytes, the limit of this route"));
  // A route that takes no body, even a small one; without one it is served.
  EXPECT_EQ(status_line(send("GET", "/slowly", 1, 1)), "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(status_line(send("GET", "/slowly", 0, 0)), "HTTP/1.1 200 OK");
  // A route without a limit of its own: max_body_bytes.
  EXPECT_EQ(status_line(send("PUT", "/other", 1000, 1000)), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_line(send("PUT", "/other", 1001, 1001)), "HTTP/1.1 413 Payload Too Large");
  // A chunked body has no length to judge in advance: refused once past the limit.
  const std::string chunked =
      exchange_once(pki(), port,
                    "POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(status_line(chunked), "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(limit_refusals(), std::vector<std::string>(4, "body_size"));
  ASSERT_TRUE(wait_until([&] { return exchanges().size() == 7; }));
  EXPECT_EQ(exchanges()[1].route, "posts");
  EXPECT_EQ(exchanges()[2].route, "slow route");
}

// A client that does not wait for "100 Continue" is still sending its body when the server
// refuses it. Closing with those bytes unread would make the kernel send a reset, which can
// destroy the answer in the client's buffer before it is read (RFC 9112, 9.6): the server
// closes its side, then reads and drops what still comes, and the client reads its 413.
TEST_F(HttpsServerTest, ARefusedClientStillSendingItsBodyReadsItsAnswer) {
  auto c = config();
  c.route_body_limits = {{"posts", 16}};
  const uint16_t port = start(c);
  for (const std::size_t length : {std::size_t{100'000}, std::size_t{4'000'000}}) {
    TlsClient client(pki(), port);
    ASSERT_TRUE(client.handshake()) << client.error();
    ASSERT_TRUE(client.send("POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                            std::to_string(length) + "\r\n\r\n" + std::string(length, 'g')))
        << length << ": the server stopped reading before the client was done";
    const std::string response = client.receive();
    EXPECT_EQ(status_line(response), "HTTP/1.1 413 Payload Too Large") << length << ": " << client.error();
  }
  // Far past the target limit: the parser stops reading at its own limit, the rest is dropped.
  {
    const std::string target = "/metadata?" + std::string(1'000'000, 'h');
    TlsClient client(pki(), port);
    ASSERT_TRUE(client.handshake()) << client.error();
    ASSERT_TRUE(client.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    EXPECT_EQ(status_line(client.receive()), "HTTP/1.1 414 URI Too Long") << client.error();
  }
  EXPECT_EQ(calls_, 0);
  EXPECT_TRUE(wait_until([&] { return server_->active_connections() == 0; }));
}

// The slow-loris client: one byte a second, never the end of its header fields.
TEST_F(HttpsServerTest, AClientTricklingItsHeadersGets408AtTheHeaderDeadline) {
  auto c = config();
  c.header_timeout = 2s;
  c.idle_timeout = 30s;  // not what drops it
  const uint16_t port = start(c);
  TlsClient client(pki(), port);
  ASSERT_TRUE(client.handshake()) << client.error();
  const std::string request = "GET /metadata HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + std::string(60, 'e');
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  while (sent < request.size() && client.send(request.substr(sent, 1))) {
    ++sent;
    if (client.readable_within(1s)) break;
  }
  const std::string response = client.receive();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(status_line(response), "HTTP/1.1 408 Request Timeout");
  EXPECT_THAT(response, HasSubstr("the request's header fields did not arrive within 2000 ms"));
  EXPECT_GE(elapsed, 1900ms);
  EXPECT_LT(elapsed, 4s);
  EXPECT_LT(sent, 5u);
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(limit_refusals(), std::vector<std::string>{"header_timeout"});
  EXPECT_TRUE(wait_until([&] { return server_->active_connections() == 0; }));
}

TEST_F(HttpsServerTest, AClientTricklingItsBodyGets408AtTheBodyDeadline) {
  auto c = config();
  c.body_timeout = 1s;
  const uint16_t port = start(c);
  TlsClient client(pki(), port);
  ASSERT_TRUE(client.handshake()) << client.error();
  ASSERT_TRUE(client.send("POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20\r\n\r\n"));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20 && client.send("f"); ++i)
    if (client.readable_within(300ms)) break;
  const std::string response = client.receive();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(status_line(response), "HTTP/1.1 408 Request Timeout");
  EXPECT_THAT(response, HasSubstr("the request body did not arrive within 1000 ms"));
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(limit_refusals(), std::vector<std::string>{"body_timeout"});
}

// A kept-alive connection may stay quiet longer than the header deadline: that deadline counts
// from the next request's first byte.
TEST_F(HttpsServerTest, TheHeaderDeadlineCountsFromTheRequestsFirstByte) {
  auto c = config();
  c.header_timeout = 300ms;
  c.idle_timeout = 5s;
  const uint16_t port = start(c);
  TlsClient client(pki(), port);
  ASSERT_TRUE(client.handshake()) << client.error();
  std::this_thread::sleep_for(700ms);
  ASSERT_TRUE(client.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_EQ(status_line(client.receive_response()), "HTTP/1.1 200 OK");
  std::this_thread::sleep_for(700ms);
  ASSERT_TRUE(client.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_line(client.receive()), "HTTP/1.1 200 OK");
  EXPECT_EQ(calls_, 2);
  EXPECT_TRUE(limit_refusals().empty());
}

TEST_F(HttpsServerTest, ConnectionsAreBoundedPerClientAddress) {
  auto c = config();
  c.max_connections = 10;
  c.max_connections_per_client = 2;
  const uint16_t port = start(c);
  auto held1 = std::make_unique<TlsClient>(pki(), port);
  TlsClient held2(pki(), port);
  ASSERT_TRUE(held1->handshake()) << held1->error();
  ASSERT_TRUE(held2.handshake()) << held2.error();
  ASSERT_TRUE(wait_until([&] { return server_->active_connections() == 2; }));

  // A third from the same address is closed at once...
  const auto refused = raw_get(pki(), port, {});
  EXPECT_FALSE(refused.handshake_ok);
  EXPECT_EQ(refused.received, "");
  EXPECT_EQ(server_->refused_connections(), 1u);
  EXPECT_EQ(limit_refusals(), std::vector<std::string>{"connections_per_client"});
  EXPECT_THAT(logs(), HasSubstr("max_connections_per_client (2) reached for 127.0.0.1"));
  // ...while another address still gets in (127.0.0.2 is loopback too).
  TlsOptions other;
  other.source_address = "127.0.0.2";
  const auto served = raw_get(pki(), port, other);
  EXPECT_TRUE(served.handshake_ok) << served.error;
  EXPECT_THAT(served.received, HasSubstr("HTTP/1.1 200 OK"));

  held1.reset();  // frees a place of 127.0.0.1
  ASSERT_TRUE(wait_until([&] { return server_->active_connections() == 1; }));
  const auto r = curl_get(pki(), port, "client");
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
}

// TLS 1.2 with forward secrecy and authenticated encryption only (the test PKI's keys are ECDSA).
TEST_F(HttpsServerTest, WeakTls12CipherSuitesAreRefused) {
  const uint16_t port = start(config());
  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256",
                           "AES128-GCM-SHA256", "AES256-SHA"}) {
    TlsOptions options;
    options.min_version = TLS1_2_VERSION;
    options.ciphers = weak;
    options.security_level = 0;
    const auto r = raw_get(pki(), port, options);
    EXPECT_FALSE(r.handshake_ok) << weak;
    EXPECT_EQ(r.received, "") << weak;
    EXPECT_THAT(r.error, HasSubstr("alert handshake failure")) << weak;
  }
  EXPECT_EQ(calls_, 0);
  ASSERT_TRUE(wait_until([&] { return handshake_failures().size() == 5; }));
  EXPECT_EQ(handshake_failures(), std::vector<std::string>(5, "protocol"));
}

TEST_F(HttpsServerTest, Tls12AeadSuitesWithForwardSecrecyAreAccepted) {
  const uint16_t port = start(config());
  for (const std::string suite :
       {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
    TlsOptions options;
    options.min_version = TLS1_2_VERSION;
    options.ciphers = suite;
    TlsClient client(pki(), port, options);
    ASSERT_TRUE(client.handshake()) << suite << ": " << client.error();
    EXPECT_EQ(client.cipher(), suite);
  }
}

TEST_F(HttpsServerTest, SilentConnectionClosedAfterHandshakeTimeout) {
  auto c = config();
  c.handshake_timeout = 300ms;
  const uint16_t port = start(c);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const auto t0 = std::chrono::steady_clock::now();
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // orderly close by the server
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  ::close(fd);
  EXPECT_EQ(sole_handshake_failure(), "timeout");
}

TEST_F(HttpsServerTest, AHandshakeLeftHalfwayIsATimeout) {
  auto c = config();
  c.handshake_timeout = 300ms;
  const uint16_t port = start(c);
  TlsClient client(pki(), port);
  ASSERT_TRUE(client.connected());
  // A ClientHello's first bytes (record header of a handshake), then silence.
  ASSERT_TRUE(client.send_raw(std::string("\x16\x03\x01\x00\x80\x01", 6)));
  EXPECT_EQ(sole_handshake_failure(), "timeout");
}

TEST_F(HttpsServerTest, AClientGivingUpMidHandshakeIsCountedAsClosed) {
  const uint16_t port = start(config());
  // Too few bytes to tell TLS from HTTP, and the start of a ClientHello the TLS handshake reads.
  for (const std::size_t sent : {std::size_t{6}, std::size_t{9}}) {
    {
      TlsClient client(pki(), port);
      ASSERT_TRUE(client.connected());
      ASSERT_TRUE(client.send_raw(std::string("\x16\x03\x01\x00\x80\x01\x00\x00\x7c", sent)));
      std::this_thread::sleep_for(100ms);
    }  // closed
    EXPECT_EQ(sole_handshake_failure(), "closed") << sent;
    std::lock_guard lock(log_mutex_);
    handshake_failures_.clear();
  }
}

// ---- lifecycle ----------------------------------------------------------------------------

TEST_F(HttpsServerTest, StopLetsInFlightRequestFinishAndClosesIdleConnections) {
  const uint16_t port = start(config());
  CurlPtr idle(curl_easy_init());
  ASSERT_EQ(curl_get(idle.get(), pki(), port, "client").code, CURLE_OK);  // stays open, idle

  auto in_flight = std::async(std::launch::async, [&] { return curl_get(pki(), port, "client", "/slow"); });
  ASSERT_TRUE(wait_until([&] { return calls_ == 2; }));
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  const auto r = in_flight.get();
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(server_->active_connections(), 0u);
  // Nothing listens any more.
  EXPECT_EQ(curl_get(pki(), port, "client").code, CURLE_COULDNT_CONNECT);
}

TEST_F(HttpsServerTest, RunBlocksUntilStop) {
  auto c = config();
  c.port = sas::test::free_port();
  const uint16_t port = c.port;
  server_ = std::make_unique<HttpsServer>(std::move(c), [this](const Request& r) { return handle(r); });
  std::thread runner([&] { server_->run(); });
  ASSERT_TRUE(sas::test::wait_for_port(port));
  EXPECT_EQ(server_->port(), port);
  EXPECT_EQ(curl_get(pki(), port, "client").status, 200);
  server_->stop();
  runner.join();
}

TEST_F(HttpsServerTest, StartFailsOnMissingFiles) {
  auto c = config();
  c.crl_file = pki() / "missing-crl.pem";
  HttpsServer server(c, [](const Request&) { return Response{}; });
  EXPECT_THROW(server.start(), std::runtime_error);
  c = config();
  c.key_file = pki() / "client-key.pem";  // does not match server.pem
  HttpsServer mismatched(c, [](const Request&) { return Response{}; });
  EXPECT_THROW(mismatched.start(), std::runtime_error);
}

TEST_F(HttpsServerTest, InvalidConfigurationRejected) {
  auto handler = [](const Request&) { return Response{}; };
  auto c = config();
  c.allowed_subjects = {"CN=sas.sante.fr"};
  EXPECT_THROW(HttpsServer(c, handler), std::invalid_argument);
  ServerConfig no_cert;
  EXPECT_THROW(HttpsServer(no_cert, handler), std::invalid_argument);
  c = config();
  c.max_connections_per_client = 0;
  EXPECT_THROW(HttpsServer(c, handler), std::invalid_argument);
  EXPECT_THROW(HttpsServer(config(), nullptr), std::invalid_argument);
}

// ---- allow-list syntax --------------------------------------------------------------------

TEST(AllowedSubject, Parses) {
  EXPECT_EQ(AllowedSubject::parse("CN=sas.sante.fr,OU=SAS"), (AllowedSubject{"sas.sante.fr", "SAS"}));
  EXPECT_EQ(AllowedSubject::parse(" ou = SAS , cn = sas.sante.fr "), (AllowedSubject{"sas.sante.fr", "SAS"}));
  EXPECT_EQ(AllowedSubject::parse(R"(CN=a\,b,OU=c\\d)"), (AllowedSubject{"a,b", R"(c\d)"}));
}

TEST(AllowedSubject, RejectsIncompleteOrUnknown) {
  for (const char* bad : {"", "CN=sas.sante.fr", "OU=SAS", "CN=a,OU=b,O=c", "CN=a,CN=b,OU=c", "CN=,OU=SAS",
                          "sas.sante.fr", "CN=a,OU=b\\"})
    EXPECT_THROW(AllowedSubject::parse(bad), std::invalid_argument) << bad;
}

}  // namespace
