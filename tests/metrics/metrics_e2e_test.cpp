// /metrics, /healthz and /readyz of the real `sas-host serve` (admin listener, real mTLS, the
// reference plugin, libcurl): after a known sequence of searches, an account creation, refused
// client certificates, a plain-HTTP attempt and an appointment event, the counters moved by
// exactly what was done; who may read /metrics; /readyz failing on a stopped PostgreSQL store.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas_test/host_log.hpp>
#include <thread>

#include "e2e_support.hpp"
#include "exposition.hpp"
#include "postgres_cluster.hpp"
#include "serve_world.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using sas::metrics_test::handshakes;
using sas::metrics_test::has_sample;
using sas::metrics_test::parse;
using sas::metrics_test::Parsed;
using sas::metrics_test::requests;
using sas::metrics_test::token_file;
using sas::metrics_test::value_of;
using sas::metrics_test::World;
using testing::HasSubstr;

const char* const kWindow = "start=ge2026-03-10T00:00:00%2B01:00&start=le2026-03-10T23:59:59%2B01:00";
const std::string kSearch = std::string("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&") + kWindow +
                            "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810100050075"
                            "&status=free";
// No practitioner identifier: 400, without a plugin call.
const std::string kBadSearch = std::string("/Slot?") + kWindow + "&status=free";

// The notAfter of a PEM certificate in seconds since the epoch, as the openssl tool reads it.
double openssl_not_after(const fs::path& pem) {
  const auto end = sas::test::run({"/usr/bin/openssl", "x509", "-in", pem.string(), "-noout", "-enddate"});
  if (end.exit_code != 0) throw std::runtime_error("openssl x509: " + end.err);
  const auto seconds = sas::test::run({"/usr/bin/date", "-u", "+%s", "-d", end.out.substr(end.out.find('=') + 1)});
  if (seconds.exit_code != 0) throw std::runtime_error("date: " + seconds.err);
  return std::stod(seconds.out);
}

// The PractitionerRegul example 2 of the IG, as the platform would POST it.
std::string regulator_body() {
  auto p =
      json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / "Practitioner-ExamplePractitionerRegul2.json"))
          .as_object();
  p.erase("text");
  p.erase("id");
  return json::serialize(p);
}

TEST(MetricsE2e, CountsMoveByExactlyWhatWasDone) {
  World world;
  const Parsed before = world.scrape();
  // Every failure reason is there from the start, at 0, for each listener.
  for (const char* reason : {"no_certificate", "unknown_ca", "subject_refused", "revoked", "expired", "not_yet_valid",
                             "bad_certificate", "protocol", "timeout", "plain_http", "closed"}) {
    EXPECT_EQ(handshakes(before, reason), 0) << reason;
    EXPECT_EQ(value_of(before, "sas_tls_handshake_failures_total", {{"listener", "admin"}, {"reason", reason}}), 0);
  }
  EXPECT_EQ(value_of(before, "sas_plugin_calls_total", {{"call", "search_slots"}, {"status", "ok"}}), 0);
  EXPECT_EQ(value_of(before, "sas_outbox_notifications", {{"state", "pending"}}), 0);

  // Two INT_R01 searches, one refused search, one INT_R02 account creation.
  for (int i = 0; i < 2; ++i) {
    const auto ok = world.fhir(kSearch);
    ASSERT_EQ(ok.status, 200) << ok.describe();
    EXPECT_THAT(ok.body, HasSubstr(R"("total":1)"));
  }
  const auto bad = world.fhir(kBadSearch);
  ASSERT_EQ(bad.status, 400) << bad.describe();
  const auto created = world.fhir("/Practitioner", "client", "POST", regulator_body());
  ASSERT_EQ(created.status, 201) << created.describe();

  // Refused clients: none, another CA, a subject not on the allow-list, a revoked one; plain HTTP.
  for (const char* client : {"client-other-ca", "client-wrong-cn", "client-revoked"}) {
    const auto refused = world.fhir(kSearch, std::string(client));
    EXPECT_EQ(refused.status, 0) << client << ": " << refused.describe();
  }
  EXPECT_EQ(world.fhir(kSearch, std::nullopt).status, 0);
  EXPECT_EQ(sas::e2e::raw_tcp_exchange(world.host().port(), "GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n"), "");

  // An appointment event into the outbox (no delivery configured: it stays pending).
  const auto event = world.admin("POST", "/admin/v1/appointment-events", World::admin_token(),
                                 sas::test::read_file(sas::test::source_dir() / "tests" / "metrics" / "event.json"));
  ASSERT_EQ(event.status, 201) << event.body;

  // The server counts a handshake when the connection ends: give the last ones a moment.
  Parsed after;
  for (int i = 0; i < 100; ++i) {
    after = world.scrape();
    if (handshakes(after, "plain_http") >= 1 && handshakes(after, "no_certificate") >= 1) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(requests(after, "fhir", "int_r01_search", "200"), 2);
  EXPECT_EQ(requests(after, "fhir", "int_r01_search", "400"), 1);
  EXPECT_EQ(requests(after, "fhir", "int_r02_create", "201"), 1);
  EXPECT_EQ(
      value_of(after, "sas_http_request_duration_seconds_count", {{"listener", "fhir"}, {"route", "int_r01_search"}}),
      3);
  EXPECT_EQ(value_of(after, "sas_http_request_duration_seconds_bucket",
                     {{"listener", "fhir"}, {"route", "int_r01_search"}, {"le", "+Inf"}}),
            3);
  EXPECT_EQ(requests(after, "admin", "appointment_events", "201"), 1);
  EXPECT_GE(requests(after, "admin", "metrics", "200"), 1);

  EXPECT_EQ(handshakes(after, "unknown_ca"), 1);
  EXPECT_EQ(handshakes(after, "subject_refused"), 1);
  EXPECT_EQ(handshakes(after, "revoked"), 1);
  EXPECT_EQ(handshakes(after, "no_certificate"), 1);
  EXPECT_EQ(handshakes(after, "plain_http"), 1);
  for (const char* reason : {"expired", "not_yet_valid", "bad_certificate", "protocol", "timeout"})
    EXPECT_EQ(handshakes(after, reason), 0) << reason;

  // The plugin: two searches and one account write, all ok; the refused search never reached it.
  EXPECT_EQ(value_of(after, "sas_plugin_calls_total", {{"call", "search_slots"}, {"status", "ok"}}), 2);
  EXPECT_EQ(value_of(after, "sas_plugin_calls_total", {{"call", "write_regulator_account"}, {"status", "ok"}}), 1);
  EXPECT_EQ(value_of(after, "sas_plugin_call_duration_seconds_count", {{"call", "search_slots"}}), 2);

  // The outbox as the store counts it.
  EXPECT_EQ(value_of(after, "sas_outbox_notifications", {{"state", "pending"}}), 1);
  EXPECT_EQ(value_of(after, "sas_outbox_notifications", {{"state", "delivered"}}), 0);
  EXPECT_EQ(value_of(after, "sas_outbox_notifications", {{"state", "dead"}}), 0);
  EXPECT_GE(value_of(after, "sas_outbox_oldest_pending_age_seconds"), 0);
  EXPECT_LT(value_of(after, "sas_outbox_oldest_pending_age_seconds"), 120);
  EXPECT_EQ(value_of(after, "sas_outbox_delivery_attempts_total", {{"outcome", "delivered"}}), 0);
  EXPECT_EQ(value_of(after, "sas_store_errors_total", {{"operation", "outbox.enqueue"}}), 0);

  // The rest of the catalogue (docs/operations.md).
  const auto pem = world.pki() / "server.pem";
  EXPECT_EQ(
      value_of(after, "sas_tls_certificate_expiry_timestamp_seconds", {{"listener", "fhir"}, {"file", pem.string()}}),
      openssl_not_after(pem));
  EXPECT_GE(value_of(after, "sas_http_connections", {{"listener", "admin"}}), 1);
  EXPECT_TRUE(has_sample(after, "sas_http_connections"));
  EXPECT_TRUE(has_sample(after, "sas_build_info"));
  EXPECT_EQ(value_of(after, "sas_limit_refusals_total", {{"listener", "fhir"}, {"limit", "body_size"}}), 0);
  EXPECT_TRUE(has_sample(after, "sas_plugin_info"));
  for (const char* name :
       {"process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds"})
    EXPECT_TRUE(has_sample(after, name)) << name;
  EXPECT_EQ(has_sample(after, "sas_plugin_runner_restarts_total"), sas::test::plugin_isolation() == "process");
}

TEST(MetricsE2e, WhoMayReadMetricsAndHealth) {
  World world;
  const auto anonymous = world.admin("GET", "/metrics", "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  const auto wrong = world.admin("GET", "/metrics", "not-" + World::metrics_token());
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  const auto as_metrics = world.admin("GET", "/metrics", World::metrics_token());
  EXPECT_EQ(as_metrics.status, 200) << as_metrics.body;
  EXPECT_EQ(as_metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const auto as_admin = world.admin("GET", "/metrics", World::admin_token());
  EXPECT_EQ(as_admin.status, 200) << as_admin.body;

  // The metrics token changes nothing and reads nothing else.
  const std::string settings = "/admin/v1/practitioners/810100050075/settings";
  const auto patch = world.admin("PATCH", settings, World::metrics_token(), R"({"visible":false})");
  EXPECT_EQ(patch.status, 403) << patch.body;
  EXPECT_EQ(world.admin("GET", settings, World::metrics_token()).status, 403);
  EXPECT_EQ(world.admin("GET", "/admin/v1/outbox", World::metrics_token()).status, 403);
  EXPECT_EQ(world.admin("GET", settings, World::admin_token()).status, 200);

  // Health needs no identity.
  const auto health = world.admin("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const auto ready = world.admin("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(json::parse(ready.body), json::parse(R"({"status":"ready","checks":["plugin","store","tls"]})"));
}

TEST(MetricsE2e, ServeRefusesAMetricsTokenEqualToTheAdminToken) {
  const auto dir = sas::test::make_temp_dir("metrics-same-token");
  const auto admin = token_file(dir, "admin.token", World::admin_token());
  const auto same = token_file(dir, "metrics.token", World::admin_token());
  const auto result =
      sas::test::run({sas::test::bin("sas-host").string(), "serve", "--plugin", "x.so", "--tls-cert", "c", "--tls-key",
                      "k", "--client-ca", "ca", "--allow-client-subject", "CN=a,OU=b", "--admin-listen", "127.0.0.1:0",
                      "--admin-token-file", admin.string(), "--metrics-token-file", same.string()});
  fs::remove_all(dir);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--metrics-token-file holds the admin token"));
}

// The store stopped under a running host: /readyz says 503 and names it, /healthz still 200.
TEST(MetricsE2e, ReadyzFailsNamingTheStoreWhenPostgresqlStops) {
  sas::test::PostgresCluster cluster;
  World world(cluster.create_database());
  const auto ready = world.admin("GET", "/readyz", "");
  ASSERT_EQ(ready.status, 200) << ready.body;

  cluster.stop();
  const auto not_ready = world.admin("GET", "/readyz", "");
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  const auto body = json::parse(not_ready.body).as_object();
  EXPECT_EQ(body.at("status"), "not ready");
  EXPECT_EQ(body.at("failing").as_object().at("store"), "the store does not answer");
  EXPECT_EQ(body.at("failing").as_object().size(), 1U) << not_ready.body;
  EXPECT_EQ(body.at("passing"), json::parse(R"(["plugin","tls"])"));
  EXPECT_EQ(world.admin("GET", "/healthz", "").status, 200);
  EXPECT_TRUE(world.host().log_contains("readiness: the store does not answer"));

  // The failed query is a store error; the scrape itself still answers.
  const Parsed p = world.scrape();
  EXPECT_GE(value_of(p, "sas_store_errors_total", {{"operation", "doctor_settings.version"}}), 1);
  EXPECT_TRUE(has_sample(p, "sas_build_info"));
  EXPECT_FALSE(has_sample(p, "sas_outbox_notifications"));  // not known while the store is down
}

}  // namespace
