// The local admin API end to end: the real `sas-host serve` (reference plugin, generated agenda,
// SQLite store), its admin listener over HTTPS, authenticated by bearer token or client
// certificate (docs/admin-api.md).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "admin_harness.hpp"
#include "sas/pki/test_pki.hpp"

namespace sas::admin_test {
namespace {

namespace json = boost::json;
using sas::host::admin_api::ClientAnswer;

std::string header(const ClientAnswer& answer, const std::string& name) {
  for (const auto& [key, value] : answer.headers)
    if (key == name) return value;
  return "";
}

std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

std::string error_message(World& world, const ClientAnswer& answer) {
  const auto value = world.json(answer);
  EXPECT_EQ(value.at("error").at("status").as_int64(), answer.status) << answer.body;
  return std::string(value.at("error").at("message").as_string());
}

// "2026-12-01T12:00:00+00:00"-style: noon UTC `days_ago` days before today.
std::string noon_utc(int days_ago, int* year = nullptr) {
  using namespace std::chrono;
  const auto day = floor<days>(system_clock::now()) - days(days_ago);
  const year_month_day ymd(day);
  if (year != nullptr) *year = static_cast<int>(ymd.year());
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT12:00:00+00:00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

class AdminApi : public ::testing::Test {
 protected:
  void SetUp() override { world_.start_host(); }
  World world_;
};

TEST_F(AdminApi, RefusesRequestsWithoutOrWithAWrongToken) {
  const std::string path = "/admin/v1/practitioners/" + world_.practitioner() + "/settings";
  const ClientAnswer none = world_.call("GET", path, "", "");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(header(none, "www-authenticate").rfind("Bearer", 0), 0U) << header(none, "www-authenticate");
  EXPECT_NE(error_message(world_, none).find("authentication required"), std::string::npos);

  std::string wrong = world_.token();
  wrong.back() = wrong.back() == 'n' ? 'm' : 'n';  // same length, one character off
  const ClientAnswer off = world_.call("GET", path, "", wrong);
  EXPECT_EQ(off.status, 401) << off.body;
  EXPECT_NE(header(off, "www-authenticate").find("invalid_token"), std::string::npos);
  EXPECT_EQ(world_.call("GET", path, "", world_.token() + "x").status, 401);
  EXPECT_EQ(world_.call("GET", path, "", world_.token().substr(1)).status, 401);

  const ClientAnswer right = world_.call("GET", path);
  EXPECT_EQ(right.status, 200) << right.body;
  EXPECT_EQ(right.content_type, "application/json");
  // Each request is logged without its body, with the client.
  EXPECT_NE(world_.host_output().find("admin API: GET " + path + " 401 client (unauthenticated)"), std::string::npos)
      << world_.host_output();
  EXPECT_NE(world_.host_output().find("admin API: GET " + path + " 200 client token"), std::string::npos);
}

TEST_F(AdminApi, AcceptsAnAdminCertificateAndRefusesOthers) {
  const std::string practitioner = world_.practitioner();
  const std::string path = "/admin/v1/practitioners/" + practitioner + "/settings";
  const ClientAnswer admin = world_.call("PATCH", path, R"({"visible":false})", "", "admin");
  ASSERT_EQ(admin.status, 200) << admin.body;
  // The actor is the certificate's CN when the request does not name one.
  const auto history = world_.json(world_.call("GET", path + "/history"));
  ASSERT_EQ(history.at("changes").as_array().size(), 1U) << history;
  EXPECT_EQ(history.at("changes").at(0).at("changed_by"), "backoffice");
  EXPECT_EQ(history.at("changes").at(0).at("source"), "admin-api");

  // The SAS platform's certificate is valid but not on the admin allow-list: refused during the
  // handshake, token or not.
  const ClientAnswer sas = world_.call("GET", path, "", "", "client");
  EXPECT_EQ(sas.status, 0) << sas.body;
  EXPECT_EQ(world_.call("GET", path, "", world_.token(), "client").status, 0);
  // A certificate of another CA is refused too.
  EXPECT_EQ(world_.call("GET", path, "", world_.token(), "client-other-ca").status, 0);
  EXPECT_NE(world_.host_output().find("subject not allowed"), std::string::npos) << world_.host_output();
}

TEST(AdminApiStart, RefusesABadTokenFileOrNoAuthentication) {
  World world;
  // Too short.
  sas::test::write_file(world.work() / "short.token", "0123456789abcdef0123456789abcde\n");  // 31
  ::chmod((world.work() / "short.token").c_str(), 0600);
  auto argv = world.serve_arguments();
  argv.insert(argv.end(), {"--admin-token-file", (world.work() / "short.token").string()});
  auto result = sas::test::run(argv, std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--admin-token-file"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("at least 32"), std::string::npos) << result.err;

  // Long enough but readable by others.
  ::chmod(world.token_file().c_str(), 0644);
  argv = world.serve_arguments();
  argv.insert(argv.end(), {"--admin-token-file", world.token_file().string()});
  result = sas::test::run(argv, std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--admin-token-file"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("group or others"), std::string::npos) << result.err;

  // Neither a token nor an allow-list.
  result = sas::test::run(world.serve_arguments(), std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--admin-token-file, --admin-allow-client-subject or --panel-key-file"), std::string::npos)
      << result.err;

  // A token file without the admin listener.
  argv = world.serve_arguments();
  argv.erase(argv.end() - 2, argv.end());
  ::chmod(world.token_file().c_str(), 0600);
  argv.insert(argv.end(), {"--admin-token-file", world.token_file().string()});
  result = sas::test::run(argv, std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("needs --admin-listen"), std::string::npos) << result.err;

  // The right file starts, and a token-only listener lets a client without a certificate in.
  world.start_host({"--admin-token-file", world.token_file().string()});
  EXPECT_EQ(world.call("GET", "/admin/v1/outbox").status, 200);
  // With no allow-list, a certificate is not an identity: the token is still needed.
  EXPECT_EQ(world.call("GET", "/admin/v1/outbox", "", "", "admin").status, 401);
}

TEST_F(AdminApi, PatchThenGetSettingsAndHistory) {
  const std::string practitioner = world_.practitioner(1);
  const std::string path = "/admin/v1/practitioners/" + practitioner + "/settings";
  const ClientAnswer before = world_.call("GET", path);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(text(world_.json(before).at("practitioner")), practitioner);

  const ClientAnswer patched =
      world_.call("PATCH", path, R"({"volunteer":true,"visible":true,"phone":"06 12 34 56 78","changed_by":"alice"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  const auto now = world_.json(world_.call("GET", path));
  EXPECT_EQ(now.at("volunteer"), true) << now;
  EXPECT_EQ(now.at("visible"), true);
  EXPECT_EQ(now.at("phone"), "+33612345678");
  EXPECT_EQ(world_.json(patched), now);

  // The unprefixed RPPS is the same practitioner.
  const ClientAnswer again = world_.call("PATCH", "/admin/v1/practitioners/" + practitioner.substr(1) + "/settings",
                                         R"({"consent_to_call":false})");
  ASSERT_EQ(again.status, 200) << again.body;
  const auto history = world_.json(world_.call("GET", path + "/history"));
  EXPECT_EQ(text(history.at("practitioner")), practitioner);
  const auto& changes = history.at("changes").as_array();
  ASSERT_EQ(changes.size(), 4U) << history;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(changes[i].at("changed_by"), "alice") << changes[i];
    EXPECT_EQ(changes[i].at("source"), "admin-api") << changes[i];
  }
  EXPECT_EQ(changes[3].at("field"), "consent_to_call");
  EXPECT_EQ(changes[3].at("changed_by"), "token");  // no changed_by: the authenticated client
}

TEST_F(AdminApi, RefusesAMalformedPatchNamingTheKeyAndRecordsNothing) {
  const std::string practitioner = world_.practitioner(2);
  const std::string path = "/admin/v1/practitioners/" + practitioner + "/settings";
  struct Case {
    std::string body, words;
  };
  for (const Case& c :
       {Case{R"({"volunteer":true,"colour":"blue"})", "colour"}, Case{R"({"visible":"yes"})", "visible"},
        Case{R"({"volunteer":true,"phone":"12"})", "phone"},
        Case{R"({"volunteer":true,"effective_at":"yesterday"})", "effective_at"},
        Case{R"({"volunteer":true,"changed_by":7})", "changed_by"}, Case{R"({"volunteer":tru)", "not JSON"},
        Case{R"([1,2])", "JSON object"}, Case{R"({"changed_by":"alice"})", "nothing to change"}}) {
    const ClientAnswer answer = world_.call("PATCH", path, c.body);
    EXPECT_EQ(answer.status, 400) << c.body << " -> " << answer.body;
    EXPECT_NE(error_message(world_, answer).find(c.words), std::string::npos) << c.body << " -> " << answer.body;
  }
  const ClientAnswer bad_id = world_.call("GET", "/admin/v1/practitioners/12345/settings");
  EXPECT_EQ(bad_id.status, 400) << bad_id.body;
  EXPECT_NE(error_message(world_, bad_id).find("practitioner"), std::string::npos) << bad_id.body;

  const auto history = world_.json(world_.call("GET", path + "/history"));
  EXPECT_TRUE(history.at("changes").as_array().empty()) << history;
  EXPECT_EQ(sas::test::sqlite_rows(world_.store(), "SELECT COUNT(*) FROM doctor_setting_change")[0][0], "0");
}

TEST_F(AdminApi, AddsListsAndRemovesRules) {
  const std::string practitioner = world_.practitioner();
  const std::string path = "/admin/v1/practitioners/" + practitioner + "/rules";
  const ClientAnswer added = world_.call(
      "POST", path, R"({"kind":"snp-hours","days":["mon","tue"],"from":"17:00","to":"19:00","changed_by":"bob"})");
  ASSERT_EQ(added.status, 201) << added.body;
  const auto rule = world_.json(added);
  const int64_t id = rule.at("id").as_int64();
  EXPECT_EQ(header(added, "location"), path + "/" + std::to_string(id));
  EXPECT_EQ(rule.at("kind"), "snp-hours");

  auto listed = world_.json(world_.call("GET", path));
  ASSERT_EQ(listed.at("rules").as_array().size(), 1U) << listed;
  EXPECT_EQ(listed.at("rules").at(0).at("id").as_int64(), id);
  EXPECT_EQ(sas::test::sqlite_rows(world_.store(), "SELECT created_by, source FROM publication_rule")[0],
            (std::vector<std::string>{"bob", "admin-api"}));

  const ClientAnswer invalid = world_.call("POST", path, R"({"kind":"snp-hours","days":["mon"],"from":"19:00"})");
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  EXPECT_NE(error_message(world_, invalid).find("to"), std::string::npos) << invalid.body;

  const ClientAnswer removed = world_.call("DELETE", path + "/" + std::to_string(id));
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(removed.body.empty());
  const ClientAnswer gone = world_.call("DELETE", path + "/" + std::to_string(id));
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(world_.call("DELETE", path + "/999").status, 404);
  const ClientAnswer bad = world_.call("DELETE", path + "/x1");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(error_message(world_, bad).find("rule id"), std::string::npos);
  listed = world_.json(world_.call("GET", path));
  EXPECT_TRUE(listed.at("rules").as_array().empty()) << listed;
}

TEST_F(AdminApi, RefusesAConflictingRuleWith409) {
  const std::string path = "/admin/v1/practitioners/" + world_.practitioner() + "/rules";
  const ClientAnswer first = world_.call("POST", path, R"({"kind":"snp-motives","motives":["Grippe"]})");
  ASSERT_EQ(first.status, 201) << first.body;
  const int64_t id = world_.json(first).at("id").as_int64();
  const ClientAnswer second = world_.call("POST", path, R"({"kind":"hide-motives","motives":["grippe"]})");
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(error_message(world_, second).find(std::to_string(id)), std::string::npos) << second.body;
  EXPECT_EQ(world_.json(world_.call("GET", path)).at("rules").as_array().size(), 1U);
}

TEST_F(AdminApi, ReportsTheForfaitAsJsonAndCsv) {
  const std::string practitioner = world_.practitioner();
  int year = 0;
  const std::string since = noon_utc(2, &year);
  const ClientAnswer patched = world_.call("PATCH", "/admin/v1/practitioners/" + practitioner + "/settings",
                                           R"({"volunteer":true,"visible":true,"effective_at":")" + since + R"("})");
  ASSERT_EQ(patched.status, 200) << patched.body;

  const std::string path = "/admin/v1/reports/forfait?year=" + std::to_string(year);
  const ClientAnswer report = world_.call("GET", path);
  ASSERT_EQ(report.status, 200) << report.body;
  const auto body = world_.json(report);
  EXPECT_EQ(body.at("year").as_int64(), year);
  ASSERT_EQ(body.at("doctors").as_array().size(), 1U) << body;
  EXPECT_EQ(text(body.at("doctors").at(0).at("practitioner")), practitioner);

  const ClientAnswer csv = world_.call("GET", path + "&format=csv&practitioner=" + practitioner);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.content_type.rfind("text/csv", 0), 0U) << csv.content_type;
  EXPECT_NE(csv.body.find(practitioner), std::string::npos) << csv.body;

  for (const auto& [query, words] :
       std::vector<std::pair<std::string, std::string>>{{"", "year"},
                                                        {"?year=20x6", "year"},
                                                        {"?year=2026&format=xml", "format"},
                                                        {"?year=2026&colour=1", "colour"}}) {
    const ClientAnswer refused = world_.call("GET", "/admin/v1/reports/forfait" + query);
    EXPECT_EQ(refused.status, 400) << query << " -> " << refused.body;
    EXPECT_NE(error_message(world_, refused).find(words), std::string::npos) << query << " -> " << refused.body;
  }
}

json::object event(const std::string& id, const std::string& type) {
  return json::object{{"event", type},
                      {"appointment", json::object{{"system", "urn:oid:1.1.111.1.11.1.1.1"}, {"value", id}}},
                      {"regulator", json::object{{"type", "IDNPS"}, {"value", "810002673899"}}},
                      {"practitioner", "810100050075"},
                      {"start", "2026-12-04T14:00:00+01:00"},
                      {"end", "2026-12-04T14:15:00+01:00"},
                      {"created", "2026-12-01T10:00:00+01:00"}};
}

TEST_F(AdminApi, AppointmentEventsReachTheOutbox) {
  const std::string id = "6f1a9a52-3c1e-4d59-a0b8-2d0f3e7c9a11";
  const ClientAnswer reported =
      world_.call("POST", "/admin/v1/appointment-events", json::serialize(event(id, "booked")));
  ASSERT_EQ(reported.status, 201) << reported.body;
  EXPECT_EQ(world_.json(reported).at("sequence").as_int64(), 1);

  auto bad = event(id, "booked");
  bad.erase("start");
  const ClientAnswer invalid = world_.call("POST", "/admin/v1/appointment-events", json::serialize(bad));
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  EXPECT_NE(error_message(world_, invalid).find("start"), std::string::npos) << invalid.body;

  // The command line's --admin form goes through the same route.
  const fs::path file = world_.work() / "event.json";
  sas::test::write_file(file, json::serialize(json::array{event(id, "cancelled")}));
  const auto cli = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--admin",
                                   world_.admin_base(), "--admin-token-file", world_.token_file().string(),
                                   "--admin-ca", world_.pki("ca.pem").string(), "--json", file.string()});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("\"sequence\":2"), std::string::npos) << cli.out;
  sas::test::write_file(file, json::serialize(bad));
  const auto refused = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--admin",
                                       world_.admin_base(), "--admin-token-file", world_.token_file().string(),
                                       "--admin-ca", world_.pki("ca.pem").string(), "--json", file.string()});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("start"), std::string::npos) << refused.err;

  const ClientAnswer outbox = world_.call("GET", "/admin/v1/outbox");
  ASSERT_EQ(outbox.status, 200) << outbox.body;
  const auto counts = world_.json(outbox);
  EXPECT_EQ(counts.at("pending").as_int64(), 2) << counts;  // no --sas-base: nothing delivered
  EXPECT_EQ(counts.at("dead").as_int64(), 0);
  EXPECT_TRUE(counts.at("oldest_pending").is_string());
  EXPECT_TRUE(counts.at("dead_letters").as_array().empty());
  EXPECT_EQ(sas::test::sqlite_rows(world_.store(), "SELECT COUNT(*) FROM appointment_outbox")[0][0], "2");
}

// The dead letters of issue #6: a platform (sas-sim serve --fail reject) refuses every
// notification with a 422; the admin API lists the refusal with the platform's answer.
TEST(AdminApiOutbox, ListsDeadLettersWithThePlatformsAnswer) {
  World world;
  sas::pki::issue_certificate(world.pki_dir(), "vendor", {"localhost", "VENDOR", false, {}, {}});
  const uint16_t platform_port = sas::test::free_port();
  sas::test::ChildProcess platform(
      {sas::test::bin("sas-sim").string(), "serve", "--listen", "127.0.0.1:" + std::to_string(platform_port),
       "--tls-cert", world.pki("server.pem").string(), "--tls-key", world.pki("server-key.pem").string(), "--client-ca",
       world.pki("ca.pem").string(), "--db", (world.work() / "platform.db").string(), "--fail", "reject"});
  for (int i = 0; i < 1000 && platform.output().find("listening on") == std::string::npos; ++i) {
    ASSERT_TRUE(platform.running()) << platform.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  world.start_host({}, {"--sas-base", "https://localhost:" + std::to_string(platform_port) + "/fhir", "--sas-cert",
                        world.pki("vendor.pem").string(), "--sas-key", world.pki("vendor-key.pem").string(), "--sas-ca",
                        world.pki("ca.pem").string(), "--sas-poll-ms", "50"});
  const std::string id = "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d";
  const ClientAnswer reported =
      world.call("POST", "/admin/v1/appointment-events", json::serialize(json::array{event(id, "booked")}));
  ASSERT_EQ(reported.status, 201) << reported.body;
  EXPECT_EQ(world.json(reported).at("reported").at(0).at("sequence").as_int64(), 1);

  json::value outbox;
  for (int i = 0; i < 300; ++i) {
    outbox = world.json(world.call("GET", "/admin/v1/outbox"));
    if (outbox.at("dead").as_int64() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(outbox.at("dead").as_int64(), 1) << outbox << "\n" << world.host_output();
  EXPECT_EQ(outbox.at("pending").as_int64(), 0);
  const auto& letters = outbox.at("dead_letters").as_array();
  ASSERT_EQ(letters.size(), 1U) << outbox;
  EXPECT_EQ(text(letters[0].at("appointment")), std::string("urn:oid:1.1.111.1.11.1.1.1|") + id);
  EXPECT_EQ(letters[0].at("event"), "booked");
  EXPECT_EQ(letters[0].at("http_status").as_int64(), 422);
  EXPECT_EQ(letters[0].at("outcome").at("resourceType"), "OperationOutcome") << letters[0];
  EXPECT_NE(json::serialize(letters[0].at("outcome")).find("refused by --fail reject"), std::string::npos);
  platform.stop();
}

TEST_F(AdminApi, ExplainsASlotOfTheAgenda) {
  const AgendaSlot slot = world_.free_slot();
  using namespace std::chrono;
  auto iso = [](int64_t t) {
    const sys_seconds at{std::chrono::seconds(t)};
    const auto day = floor<days>(at);
    const hh_mm_ss<std::chrono::seconds> time(at - day);
    const year_month_day ymd(day);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ld%%2B00:00", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long>(time.seconds().count()));
    return std::string(text);
  };
  const std::string base = "/admin/v1/practitioners/" + slot.practitioner + "/explain?start=" + iso(slot.start - 3600) +
                           "&end=" + iso(slot.start + 3600);
  const ClientAnswer all = world_.call("GET", base);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_FALSE(world_.json(all).at("slots").as_array().empty()) << all.body;

  const ClientAnswer one = world_.call("GET", base + "&slot=" + slot.id);
  ASSERT_EQ(one.status, 200) << one.body;
  const auto body = world_.json(one);
  EXPECT_EQ(text(body.at("practitioner")), slot.practitioner);
  ASSERT_EQ(body.at("slots").as_array().size(), 1U) << body;
  EXPECT_TRUE(body.at("slots").at(0).as_object().contains("published")) << body;

  const ClientAnswer missing = world_.call("GET", base + "&slot=no-such-slot");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(error_message(world_, missing).find("no-such-slot"), std::string::npos);
  const ClientAnswer no_start =
      world_.call("GET", "/admin/v1/practitioners/" + slot.practitioner + "/explain?end=" + iso(slot.start));
  EXPECT_EQ(no_start.status, 400) << no_start.body;
  EXPECT_NE(error_message(world_, no_start).find("start"), std::string::npos);
}

TEST_F(AdminApi, AnswersUnknownRoutesAndWrongMethods) {
  const ClientAnswer unknown = world_.call("GET", "/admin/v1/nothing-here");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_NE(error_message(world_, unknown).find("/admin/v1/nothing-here"), std::string::npos);
  EXPECT_EQ(world_.call("GET", "/Slot").status, 404);
  EXPECT_EQ(world_.call("GET", "/admin/v1/practitioners/12345/nothing").status, 404);
  const ClientAnswer method = world_.call("DELETE", "/admin/v1/practitioners/" + world_.practitioner() + "/settings");
  EXPECT_EQ(method.status, 405) << method.body;
  EXPECT_EQ(header(method, "allow"), "GET, PATCH");
  EXPECT_EQ(world_.call("PUT", "/admin/v1/outbox", "{}").status, 405);
}

}  // namespace
}  // namespace sas::admin_test
