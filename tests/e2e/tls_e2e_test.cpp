// Who may call the real sas-host: only the SAS platform's certificate (CN=sas.sante.fr, OU=SAS,
// issued by the trusted CA, valid, not revoked) over TLS 1.2 or later. Every other client fails
// during the TLS handshake (libcurl error 35 or 56), never with an HTTP status, and the host's
// log says why; the good client gets 200 on the same host.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

#include "agenda.hpp"
#include "agenda_db.hpp"
#include "e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pb = sas::plugin::v1;
using namespace sas::test::agenda;
using testing::HasSubstr;

const char* const kSearch =
    "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-03-10T00:00:00%2B01:00"
    "&start=le2026-03-10T23:59:59%2B01:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C"
    "810100050075&status=free";

class TlsE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("e2e-tls"));
    sas::e2e::write_pki(*dir_ / "pki");
    pb::SearchSlotsResponse agenda;
    practitioner(agenda, "dr-a", "10100050075", "THOMAS", {"Sébastien"});
    place(agenda, "pa1", "dr-a", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
    slot(agenda, "a1", "pa1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:30:00+01:00");
    sas::e2e::write_agenda_db(agenda, *dir_ / "agenda.db");
    sas::e2e::HostOptions options;
    options.agenda = *dir_ / "agenda.db";
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    host_ = new sas::e2e::Host(options);  // with --client-crl crl.pem
  }

  static void TearDownTestSuite() {
    delete host_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    host_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(host_, nullptr);
    ASSERT_TRUE(host_->running()) << host_->output();
  }

  static sas::e2e::Response call(const std::optional<std::string>& client, bool tls11_only = false,
                                 const std::string& path = kSearch) {
    sas::e2e::Client c(*dir_ / "pki");  // a fresh connection each time
    sas::e2e::RequestOptions options;
    options.client = client;
    options.tls11_only = tls11_only;
    return c.get(host_->origin() + path, options);
  }

  static void expect_tls_refusal(const sas::e2e::Response& r) {
    EXPECT_THAT(r.curl_code, testing::AnyOf(CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR)) << r.describe();
    EXPECT_EQ(r.status, 0) << "an HTTP answer to a refused client: " << r.describe();
    EXPECT_EQ(r.body, "");
  }

  static void expect_good_client_served() {
    const auto ok = call("client");
    EXPECT_EQ(ok.curl_code, CURLE_OK) << ok.describe();
    EXPECT_EQ(ok.status, 200) << ok.describe();
    EXPECT_THAT(ok.body, HasSubstr(R"("total":1)"));
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
};

TEST_F(TlsE2e, GoodClientGetsItsSlots) { expect_good_client_served(); }

struct Refused {
  const char* name;
  std::optional<std::string> client;  // certificate in the test PKI; nullopt: none
  std::string log;                    // what the host's log says about it
};

void PrintTo(const Refused& r, std::ostream* os) { *os << r.name; }

class RefusedClientE2e : public TlsE2e, public testing::WithParamInterface<Refused> {};

TEST_P(RefusedClientE2e, FailsInTheHandshakeWhileTheGoodClientIsServed) {
  const Refused& c = GetParam();
  expect_tls_refusal(call(c.client));
  EXPECT_TRUE(host_->log_contains(c.log)) << "the host did not log \"" << c.log << "\":\n" << host_->output();
  EXPECT_TRUE(host_->running());
  expect_good_client_served();
}

INSTANTIATE_TEST_SUITE_P(
    Clients, RefusedClientE2e,
    testing::Values(Refused{"NoCertificate", std::nullopt, "peer did not return a certificate"},
                    Refused{"OtherCa", "client-other-ca", "unable to get local issuer certificate"},
                    Refused{"Revoked", "client-revoked", "certificate revoked"},
                    Refused{"Expired", "client-expired", "certificate has expired"},
                    Refused{"WrongCn", "client-wrong-cn",
                            "CN=other.example.fr,OU=SAS,O=SAS SDK Test PKI,C=FR): subject not allowed"},
                    Refused{"WrongOu", "client-wrong-ou",
                            "CN=sas.sante.fr,OU=OTHER,O=SAS SDK Test PKI,C=FR): subject not allowed"}),
    [](const testing::TestParamInfo<Refused>& param_info) { return std::string(param_info.param.name); });

// The platform's own certificate, but TLS 1.1 (the client's own security level lowered so that
// it does offer 1.1): the server's protocol_version alert, logged as an unsupported protocol.
TEST_F(TlsE2e, Tls11Refused) {
  const auto r = call("client", true);
  expect_tls_refusal(r);
  EXPECT_THAT(r.error, HasSubstr("alert protocol version")) << "refused by the server, not by the client itself";
  EXPECT_TRUE(host_->log_contains("unsupported protocol")) << host_->output();
  expect_good_client_served();
}

// Plain HTTP to the TLS port: no HTTP answer at all, from libcurl's point of view or on the wire.
TEST_F(TlsE2e, PlainHttpGetsNoHttpAnswer) {
  sas::e2e::Client c(*dir_ / "pki");
  const auto r = c.get("http://localhost:" + std::to_string(host_->port()) + kSearch);
  EXPECT_NE(r.curl_code, CURLE_OK) << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  const std::string wire = sas::e2e::raw_tcp_exchange(
      host_->port(), std::string("GET ") + kSearch + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(wire.find("HTTP/"), std::string::npos) << wire;
  EXPECT_TRUE(host_->log_contains("plain HTTP connection")) << host_->output();
  expect_good_client_served();
}

}  // namespace
