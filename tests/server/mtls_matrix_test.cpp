// The mTLS negative matrix of the real `sas-host serve` (docs/reliability.md, "mTLS refusals"):
// one table, each row a client the SAS endpoint must refuse during the TLS handshake, never with
// an HTTP answer, and the one reason sas_tls_handshake_failures_total{listener="fhir"} must count
// it under, read from the admin listener's /metrics before and after the row. The PKI is RSA, as
// IGC-Santé's is, so that the weak TLS 1.2 suites (CBC, RSA key exchange) would be possible with
// OpenSSL's default list: the host's own list is what refuses them.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <sas/pki/test_pki.hpp>
#include <string>
#include <thread>
#include <vector>

#include "serve_world.hpp"
#include "tls_test_client.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sas::metrics_test::Parsed;
using sas::metrics_test::World;
using sas::server_test::TlsClient;
using sas::server_test::TlsOptions;
using testing::HasSubstr;

// Every reason of server::HandshakeFailure, as the metric's label.
const std::vector<std::string> kReasons = {"no_certificate", "unknown_ca",    "subject_refused", "revoked",
                                           "expired",        "not_yet_valid", "bad_certificate", "protocol",
                                           "timeout",        "plain_http",    "closed"};

enum class Attempt {
  tls,         // a TLS client with the row's certificate, versions and cipher list
  plain_http,  // an HTTP request in clear text on the TLS port
  silent,      // a TCP connection that never sends a byte
  half_hello,  // the first bytes of a ClientHello, then the connection closed
};

struct Row {
  const char* name = "";
  Attempt attempt = Attempt::tls;
  std::optional<std::string> client = "client";  // certificate NAME in the PKI; nullopt: none
  int min_version = 0;
  int max_version = TLS1_3_VERSION;
  std::string ciphers;  // TLS 1.2 suites offered; empty: OpenSSL's default
  const char* reason = "";
};

Row tls(const char* name, std::optional<std::string> client, const char* reason) {
  Row row;
  row.name = name;
  row.client = std::move(client);
  row.reason = reason;
  return row;
}

Row version(const char* name, int tls_version) {
  Row row;
  row.name = name;
  row.min_version = row.max_version = tls_version;
  row.reason = "protocol";
  return row;
}

Row suite(const char* name, const char* ciphers) {
  Row row;
  row.name = name;
  row.min_version = row.max_version = TLS1_2_VERSION;
  row.ciphers = ciphers;
  row.reason = "protocol";
  return row;
}

Row other(const char* name, Attempt attempt, const char* reason) {
  Row row;
  row.name = name;
  row.attempt = attempt;
  row.reason = reason;
  return row;
}

// The matrix (docs/reliability.md keeps the same table).
const std::vector<Row> kMatrix = {
    tls("NoCertificate", std::nullopt, "no_certificate"),
    tls("AnotherCa", "client-other-ca", "unknown_ca"),
    tls("WrongCn", "client-wrong-cn", "subject_refused"),
    tls("WrongOu", "client-wrong-ou", "subject_refused"),
    tls("Revoked", "client-revoked", "revoked"),
    tls("Expired", "client-expired", "expired"),
    tls("NotYetValid", "client-not-yet-valid", "not_yet_valid"),
    version("Tls10", TLS1_VERSION),
    version("Tls11", TLS1_1_VERSION),
    suite("Tls12CbcSuite", "ECDHE-RSA-AES128-SHA"),
    suite("Tls12CbcSha384Suite", "ECDHE-RSA-AES256-SHA384"),
    suite("Tls12RsaKeyExchange", "AES128-GCM-SHA256"),
    other("PlainHttp", Attempt::plain_http, "plain_http"),
    other("SilentPastTheHandshakeTimeout", Attempt::silent, "timeout"),
    other("GivesUpMidHandshake", Attempt::half_hello, "closed"),
};

// The test PKI with RSA keys, plus a certificate of the SAS identity valid only from next month.
void write_rsa_pki(const fs::path& dir) {
  sas::pki::TestPkiOptions options;
  options.key_type = sas::pki::KeyType::rsa_2048;
  sas::pki::write_test_pki(dir, options);
  sas::pki::TestPkiOptions next_month = options;
  next_month.now = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);
  sas::pki::issue_certificate(dir, "client-not-yet-valid", {"sas.sante.fr", "SAS", false, {}, {}}, next_month);
}

int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What the client saw: "" when it was refused without an HTTP byte, else what went wrong.
std::string attempt(const Row& row, const fs::path& pki, uint16_t port) {
  switch (row.attempt) {
    case Attempt::tls: {
      TlsOptions options;
      options.client = row.client;
      options.min_version = row.min_version;
      options.max_version = row.max_version;
      options.ciphers = row.ciphers;
      options.security_level = 0;  // the client itself must be willing to offer TLS 1.0, SHA-1 suites...
      TlsClient client(pki, port, options);
      if (!client.connected()) return "connect failed";
      // TLS 1.2 and older: SSL_connect fails with the server's alert. TLS 1.3: the server's
      // refusal of the certificate comes after the client's Finished, on the first read.
      const bool handshake = client.handshake();
      std::string received;
      if (handshake && client.send("GET /metadata HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
        received = client.receive();
      if (!received.empty()) return "received HTTP: " + received.substr(0, received.find("\r\n"));
      if (client.error().find("alert") == std::string::npos)
        return "no TLS alert from the server (" + client.error() + ")";
      return "";
    }
    case Attempt::plain_http: {
      const std::string answer = sas::e2e::raw_tcp_exchange(port, "GET /metadata HTTP/1.1\r\nHost: localhost\r\n\r\n");
      return answer.empty() ? "" : "received: " + answer.substr(0, 40);
    }
    case Attempt::silent:
    case Attempt::half_hello: {
      const int fd = connect_loopback(port);
      if (fd < 0) return "connect failed";
      std::string seen;
      if (row.attempt == Attempt::half_hello) {
        // A handshake record's header announcing 128 bytes, and the first of them.
        ::send(fd, "\x16\x03\x01\x00\x80\x01", 6, MSG_NOSIGNAL);
        std::this_thread::sleep_for(100ms);
      } else {
        char byte = 0;
        const auto t0 = std::chrono::steady_clock::now();
        if (::recv(fd, &byte, 1, 0) != 0) seen = "the server did not close the silent connection";
        if (std::chrono::steady_clock::now() - t0 > 3s) seen = "closed after more than 3 s";
      }
      ::close(fd);
      return seen;
    }
  }
  return "unknown attempt";
}

double failures(const Parsed& p, const std::string& reason) {
  return sas::metrics_test::value_of(p, "sas_tls_handshake_failures_total", {{"listener", "fhir"}, {"reason", reason}});
}

double total_failures(const Parsed& p) {
  double total = 0;
  for (const auto& reason : kReasons) total += failures(p, reason);
  return total;
}

// Every answer the FHIR listener gave, whatever its route and status.
double fhir_answers(const Parsed& p) {
  double total = 0;
  for (const auto& s : p.samples)
    if (s.name == "sas_http_requests_total" && s.labels.at("listener") == "fhir") total += s.value;
  return total;
}

class MtlsMatrix : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);
    sas::metrics_test::WorldOptions options;
    options.write_pki = write_rsa_pki;
    options.extra_arguments = {"--handshake-timeout-ms", "1000"};
    world_ = new World(options);
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }

  static World* world_;
};

World* MtlsMatrix::world_ = nullptr;

// The control row: the SAS identity, over TLS 1.2 (an AEAD suite) and 1.3, is served and counted
// nowhere in the failures.
TEST_F(MtlsMatrix, TheSasPlatformsCertificateIsServed) {
  const Parsed before = world_->scrape();
  for (const int tls_version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsOptions options;
    options.min_version = options.max_version = tls_version;
    const auto outcome = sas::server_test::raw_get(world_->pki(), world_->host().port(), options);
    ASSERT_TRUE(outcome.handshake_ok) << outcome.error;
    EXPECT_THAT(outcome.received, HasSubstr("HTTP/1.1 200 OK")) << tls_version;
  }
  const Parsed after = world_->scrape();
  EXPECT_EQ(total_failures(after), total_failures(before));
  EXPECT_EQ(fhir_answers(after), fhir_answers(before) + 2);
}

TEST_F(MtlsMatrix, EachRowIsRefusedInTheHandshakeAndCountedUnderItsReason) {
  const fs::path pki = world_->pki();
  const uint16_t port = world_->host().port();
  for (const Row& row : kMatrix) {
    SCOPED_TRACE(row.name);
    const Parsed before = world_->scrape();
    EXPECT_EQ(attempt(row, pki, port), "");
    // The server counts a failure when the connection ends: wait for it.
    Parsed after = world_->scrape();
    for (int i = 0; i < 150 && total_failures(after) == total_failures(before); ++i) {
      std::this_thread::sleep_for(20ms);
      after = world_->scrape();
    }
    std::this_thread::sleep_for(50ms);  // a second count would be a bug: give it the time to show
    after = world_->scrape();
    for (const auto& reason : kReasons) {
      const double expected = failures(before, reason) + (reason == row.reason ? 1 : 0);
      EXPECT_EQ(failures(after, reason), expected) << "reason " << reason;
    }
    EXPECT_EQ(fhir_answers(after), fhir_answers(before)) << "no request may reach the endpoint";
  }
  EXPECT_TRUE(world_->host().running()) << world_->host().output();
}

}  // namespace
