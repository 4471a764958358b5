// The limits of the real `sas-host serve` (docs/reliability.md, "Limits"): with the defaults,
// what the SAS platform legitimately sends passes (the longest INT_R01 search the guide allows,
// the guide's regulator accounts); past each limit the FHIR listener answers an OperationOutcome
// and the admin listener its {"error":...} form, the refusal is counted in
// sas_limit_refusals_total{listener,limit} and logged without the oversized content.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "serve_world.hpp"
#include "tls_test_client.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using sas::metrics_test::Parsed;
using sas::metrics_test::value_of;
using sas::metrics_test::World;
using sas::server_test::TlsClient;
using testing::HasSubstr;

const std::vector<std::string> kLimits = {"target_length",  "header_size",  "header_count", "body_size",
                                          "header_timeout", "body_timeout", "connections",  "connections_per_client"};

double refusals(const Parsed& p, const std::string& listener, const std::string& limit) {
  return value_of(p, "sas_limit_refusals_total", {{"listener", listener}, {"limit", limit}});
}

// One request written whole over mutual TLS (the SAS identity); everything the host sent back.
std::string raw(World& world, const std::string& request) {
  TlsClient client(world.pki(), world.host().port());
  if (!client.handshake()) return "handshake failed: " + client.error();
  if (!client.send(request)) return "send failed";
  return client.receive();
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

// The OperationOutcome's issue code of a raw answer, "" when it is not one.
std::string outcome_code(const std::string& response) {
  const auto body = response.find("\r\n\r\n");
  if (body == std::string::npos) return "";
  boost::system::error_code ec;
  const json::value outcome = json::parse(response.substr(body + 4), ec);
  if (ec || !outcome.is_object() || outcome.at("resourceType") != "OperationOutcome") return "";
  return std::string(outcome.at("issue").at(0).at("code").as_string());
}

// The longest INT_R01 search the guide allows: 25 practitioner identifiers (the most it takes),
// every reserved character percent-encoded, as a client library that encodes everything sends.
std::string longest_search() {
  std::string identifiers;
  for (int i = 0; i < 25; ++i) {
    if (i != 0) identifiers += "%2C%20";
    identifiers += "urn%3Aoid%3A1.2.250.1.71.4.2.1%7C8101000500" + std::to_string(10 + i);
  }
  return "/Slot?_include=Slot%3Aschedule&_include%3Aiterate=Schedule%3Aactor"
         "&_include=Slot%3Aservice-type-reference&_include%3Aiterate=HealthcareService%3Aorganization"
         "&start=ge2026-03-10T00%3A00%3A00.000%2B01%3A00&start=le2026-03-10T23%3A59%3A59.999%2B01%3A00"
         "&schedule.actor%3APractitioner.identifier=" +
         identifiers + "&status=free&_count=1000";
}

// The guide's regulator account example, as the platform would POST it (its narrative kept).
std::string regulator_example(int n) {
  auto p = json::parse(sas::test::read_file(sas::test::ig_dir() / "example" /
                                            ("Practitioner-ExamplePractitionerRegul" + std::to_string(n) + ".json")))
               .as_object();
  p.erase("id");
  return json::serialize(p);
}

// A token percent-encoded for a query (the guide's identifier values hold '/').
std::string encoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    }
  }
  return out;
}

class LimitsE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
};

TEST_F(LimitsE2e, WhatThePlatformSendsPassesTheDefaults) {
  World world;
  const std::string target = longest_search();
  ASSERT_LT(target.size(), 8192U / 2) << "the default max-target-bytes keeps a margin of 2";
  const auto search = world.fhir(target);
  EXPECT_EQ(search.status, 200) << search.describe();
  // The platform's headers, a generous set of them.
  const std::string answer =
      raw(world, "GET " + target +
                     " HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json\r\n"
                     "Accept-Encoding: gzip, deflate\r\nUser-Agent: SAS-platform/1.0 (Java/17)\r\n"
                     "X-Request-Id: platform-4f2a17bc\r\ntraceparent: 00-" +
                     std::string(32, 'a') + "-" + std::string(16, 'b') + "-01\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(answer), "HTTP/1.1 200 OK");
  // Each as a conditional update (examples 2 and 3 are the same account, enabled then disabled).
  for (int n = 1; n <= 4; ++n) {
    const std::string body = regulator_example(n);
    ASSERT_LT(body.size(), 65536U / 16) << "the default max-body-bytes keeps a margin of 16";
    const json::value account = json::parse(body);
    const auto& identifier = account.at("identifier").at(0);
    const auto written = world.fhir("/Practitioner?identifier=" + encoded(identifier.at("system").as_string()) + "%7C" +
                                        encoded(identifier.at("value").as_string()),
                                    "client", "PUT", body);
    EXPECT_THAT(written.status, testing::AnyOf(200, 201)) << n << ": " << written.describe();
  }
  const Parsed after = world.scrape();
  for (const auto& listener : {"fhir", "admin"})
    for (const auto& limit : kLimits) EXPECT_EQ(refusals(after, listener, limit), 0) << listener << " " << limit;
}

TEST_F(LimitsE2e, EachLimitIsAnsweredInTheListenersFormatCountedAndLoggedWithoutTheContent) {
  World world;
  const Parsed before = world.scrape();
  for (const auto& listener : {"fhir", "admin"})
    for (const auto& limit : kLimits) EXPECT_EQ(refusals(before, listener, limit), 0) << listener << " " << limit;

  // 414: a target of 9000 bytes.
  const std::string long_target = "/Slot?status=free&x=" + std::string(9000, 'q');
  const std::string too_long = raw(world, "GET " + long_target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(status_line(too_long), "HTTP/1.1 414 URI Too Long");
  EXPECT_EQ(outcome_code(too_long), "too-long") << too_long;
  EXPECT_THAT(too_long, HasSubstr("the request target is longer than 8192 bytes"));
  // 431: 101 header fields.
  std::string fields;
  for (int i = 0; i < 100; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  const std::string too_many = raw(world, "GET /metadata HTTP/1.1\r\nHost: localhost\r\n" + fields + "\r\n");
  EXPECT_EQ(status_line(too_many), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(outcome_code(too_many), "too-long") << too_many;
  // 413: an INT_R02 body of 64 KiB + 1, and a search with a body.
  const auto large = world.fhir("/Practitioner", "client", "POST", std::string(65537, ' '));
  EXPECT_EQ(large.status, 413) << large.describe();
  EXPECT_THAT(large.body, HasSubstr("\"too-long\""));
  EXPECT_THAT(large.body, HasSubstr("the request body is larger than 65536 bytes, the limit of this route"));
  const std::string search_body =
      raw(world, "GET /Slot?status=free HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status_line(search_body), "HTTP/1.1 413 Payload Too Large");
  EXPECT_THAT(search_body, HasSubstr("larger than 0 bytes"));

  // The admin listener: settings are small, a batch of appointment events may be larger.
  const std::string settings = "/admin/v1/practitioners/810100050075/settings";
  const auto patch = world.admin("PATCH", settings, World::admin_token(), std::string(65537, ' '));
  EXPECT_EQ(patch.status, 413) << patch.body;
  EXPECT_EQ(json::parse(patch.body).at("error").at("status"), 413) << patch.body;
  const std::string batch_of_nothing = "[" + std::string(100000, ' ') + "]";
  const auto events = world.admin("POST", "/admin/v1/appointment-events", World::admin_token(), batch_of_nothing);
  EXPECT_EQ(events.status, 400) << events.body;  // read and judged: the array holds no event
  const auto huge =
      world.admin("POST", "/admin/v1/appointment-events", World::admin_token(), "[" + std::string(1 << 20, ' ') + "]");
  EXPECT_EQ(huge.status, 413) << huge.body;

  const Parsed after = world.scrape();
  EXPECT_EQ(refusals(after, "fhir", "target_length"), 1);
  EXPECT_EQ(refusals(after, "fhir", "header_count"), 1);
  EXPECT_EQ(refusals(after, "fhir", "body_size"), 2);
  EXPECT_EQ(refusals(after, "admin", "body_size"), 2);
  // Counted as answers too, the body refusals under their routes.
  EXPECT_EQ(value_of(after, "sas_http_requests_total",
                     {{"listener", "fhir"}, {"route", "int_r02_create"}, {"status", "413"}}),
            1);
  EXPECT_EQ(value_of(after, "sas_http_requests_total", {{"listener", "fhir"}, {"route", "other"}, {"status", "414"}}),
            1);
  EXPECT_TRUE(world.host().log_contains("refused: the request target is longer than 8192 bytes"));
  EXPECT_THAT(world.host().output(), testing::Not(HasSubstr("qqqqqqqq")));
}

TEST_F(LimitsE2e, SlowClientsAndGreedyClientsAreCutOff) {
  sas::metrics_test::WorldOptions options;
  options.extra_arguments = {"--header-timeout-ms",          "1500", "--body-timeout-ms", "1500",
                             "--max-connections-per-client", "3"};
  World world(options);

  // One byte a second: dropped at the header deadline with a 408.
  {
    TlsClient client(world.pki(), world.host().port());
    ASSERT_TRUE(client.handshake()) << client.error();
    const std::string request = "GET /metadata HTTP/1.1\r\nHost: localhost\r\n";
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < request.size() && client.send(request.substr(i, 1)); ++i)
      if (client.readable_within(1s)) break;
    const std::string answer = client.receive();
    EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout");
    EXPECT_EQ(outcome_code(answer), "timeout") << answer;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  }
  // A body trickled after its headers: the same at the body deadline.
  {
    TlsClient client(world.pki(), world.host().port());
    ASSERT_TRUE(client.handshake()) << client.error();
    ASSERT_TRUE(
        client.send("POST /Practitioner HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\n"
                    "Content-Length: 100\r\n\r\n{"));
    for (int i = 0; i < 10 && client.send(" "); ++i)
      if (client.readable_within(500ms)) break;
    EXPECT_EQ(status_line(client.receive()), "HTTP/1.1 408 Request Timeout");
  }
  // Three connections held from one address: the fourth is closed at once.
  std::vector<std::unique_ptr<TlsClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<TlsClient>(world.pki(), world.host().port()));
    ASSERT_TRUE(held.back()->handshake()) << held.back()->error();
  }
  TlsClient fourth(world.pki(), world.host().port());
  EXPECT_FALSE(fourth.handshake());
  held.clear();

  Parsed after;
  for (int i = 0; i < 100; ++i) {
    after = world.scrape();
    if (refusals(after, "fhir", "connections_per_client") >= 1) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(refusals(after, "fhir", "header_timeout"), 1);
  EXPECT_EQ(refusals(after, "fhir", "body_timeout"), 1);
  EXPECT_EQ(refusals(after, "fhir", "connections_per_client"), 1);
  EXPECT_TRUE(world.host().log_contains("max_connections_per_client (3) reached for 127.0.0.1"));
}

}  // namespace
