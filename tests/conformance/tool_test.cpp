// sas-conformance as a tester runs it: plugin mode on the reference plugin over a generated
// agenda and on a deliberately broken plugin; endpoint mode against the real `sas-host serve`
// over mutual TLS; reports; and docs/certification.md in sync with the catalogue.
#include <sas/sim/agenda_generator.hpp>
#include <sas/sim/sos_agenda_generator.hpp>
#include <sas_test/support.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <set>

#include "e2e_support.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using sas::test::bin;
using sas::test::run;

// 2026-11-23 is a Monday; the agenda starts that day, the suite's clock at 08:00 Paris.
constexpr const char* kNow = "2026-11-23T08:00:00+01:00";

struct Agenda {
  fs::path dir;
  fs::path db;
  fs::path pristine;               // a copy no plugin ran on (the reference plugin marks what it reported)
  std::string practitioners;       // comma-separated, each with free slots the host emits in the window
  std::string sos_sirets;          // comma-separated SOS Médecins associations, each with free slots in the window
  std::string cpts_practitioners;  // comma-separated, each with free slots open to a CPTS in the window
  std::string cpts_two;            // one with a free slot open to two CPTS in the window
};

const Agenda& agenda() {
  static const Agenda a = [] {
    Agenda out;
    out.dir = sas::test::make_temp_dir("conformance");
    out.db = out.dir / "agenda.db";
    sas::sim::AgendaSpec spec;
    spec.practitioners = 12;
    spec.days = 3;
    spec.seed = 8;
    spec.first_day = std::chrono::year{2026} / 11 / 23;
    sas::sim::generate_agenda(out.db, spec);
    sas::sim::SosAgendaSpec sos;
    sos.associations = 3;
    sos.days = 3;
    sos.seed = 8;
    sos.first_day = spec.first_day;
    sas::sim::generate_sos_agenda(out.db, sos);
    // Free slots of a publishable audience within [now, now + 48 h].
    const int64_t from = 1795417200;  // 2026-11-23T07:00:00Z
    const int64_t to = from + 48 * 3600;
    auto rows = sas::e2e::sql(out.db,
                              "SELECT DISTINCT pr.national_id FROM slot s JOIN place p ON p.id = s.place_id "
                              "JOIN practitioner pr ON pr.id = p.practitioner_id WHERE s.status = 'free' AND "
                              "s.start_utc BETWEEN " +
                                  std::to_string(from) + " AND " + std::to_string(to) +
                                  " AND (s.audiences LIKE '%PUBLIC%' OR s.audiences LIKE '%PRO%' OR "
                                  "s.audiences LIKE '%SNP%') ORDER BY pr.id LIMIT 4");
    for (const auto& row : rows) out.practitioners += (out.practitioners.empty() ? "" : ",") + row[0];
    // INT_R04: practitioners with free slots open to a CPTS in the window, and one whose free slot
    // is open to two (the generator names them in slot.cpts, comma-separated; this seed has none in
    // the window, so the first place gets one, its FINESS stored with and without their 1).
    const auto finess = sas::e2e::sql(out.db, "SELECT finess FROM cpts ORDER BY finess");
    sas::test::sqlite_exec(
        out.db, "INSERT INTO slot (place_id, start_utc, end_utc, status, audiences, cpts) SELECT p.id, " +
                    std::to_string(from + 23400) + ", " + std::to_string(from + 24600) + ", 'free', 'PUBLIC,CPTS', '1" +
                    finess.front()[0] + "," + finess.back()[0] + "' FROM place p ORDER BY p.id LIMIT 1;");
    const std::string cpts_slots =
        "SELECT DISTINCT pr.national_id FROM slot s JOIN place p ON p.id = s.place_id JOIN practitioner pr ON pr.id = "
        "p.practitioner_id WHERE s.status = 'free' AND s.start_utc BETWEEN " +
        std::to_string(from) + " AND " + std::to_string(to) + " AND s.audiences LIKE '%CPTS%' AND s.cpts <> ''";
    for (const auto& row : sas::e2e::sql(out.db, cpts_slots + " ORDER BY pr.id LIMIT 3"))
      out.cpts_practitioners += (out.cpts_practitioners.empty() ? "" : ",") + row[0];
    for (const auto& row : sas::e2e::sql(out.db, cpts_slots + " AND s.cpts LIKE '%,%' ORDER BY pr.id LIMIT 1"))
      out.cpts_two = row[0];
    // SOS Médecins associations with a free PUBLIC or SNP slot in the window at one of their places.
    for (const auto& row :
         sas::e2e::sql(out.db,
                       "SELECT DISTINCT a.siret FROM slot s JOIN sos_place p ON p.id = s.place_id JOIN sos_association "
                       "a ON a.siret = p.association_siret WHERE s.status = 'free' AND s.start_utc BETWEEN " +
                           std::to_string(from) + " AND " + std::to_string(to) +
                           " AND (s.audiences LIKE '%PUBLIC%' OR s.audiences LIKE '%SNP%') ORDER BY a.siret"))
      out.sos_sirets += (out.sos_sirets.empty() ? "" : ",") + row[0];
    // Plugin mode's host calls: three SAS-origin bookings the reference plugin has not notified yet
    // (one honoured, with its consultation to report; one booked by an INTRN regulator; one at an
    // SOS Médecins association, whose SIRET it stores without the 3), on busy slots of the first
    // practitioner's first place.
    sas::test::sqlite_exec(
        out.db,
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) SELECT 990001, p.id, "
        "1795510800, 1795512000, 'busy', 'SNP' FROM place p ORDER BY p.id LIMIT 1;"
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) SELECT 990002, p.id, "
        "1795514400, 1795515600, 'busy', 'SNP' FROM place p ORDER BY p.id LIMIT 1;"
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) SELECT 990003, p.id, "
        "1795518000, 1795519200, 'busy', 'SNP' FROM place p ORDER BY p.id LIMIT 1;"
        "INSERT INTO appointment (id, slot_id, sas_origin, booked_at, status, regulator_id_system, "
        "regulator_id_value) VALUES "
        "('5f1c2b7e-1a2b-4c3d-8e9f-000000000001', 990001, 1, 1795446000, 'fulfilled', "
        "'urn:oid:1.2.250.1.71.4.2.1', '810002673899'), "
        "('5f1c2b7e-1a2b-4c3d-8e9f-000000000002', 990002, 1, 1795446000, 'booked', "
        "'urn:oid:1.2.250.1.213.3.6', '1ef1c748-6a5d-4f8c-9f3e-2a1b3c4d5e6f');"
        "INSERT INTO appointment (id, slot_id, sas_origin, booked_at, status, regulator_id_system, "
        "regulator_id_value, sos_association_siret) VALUES ('5f1c2b7e-1a2b-4c3d-8e9f-000000000003', 990003, 1, "
        "1795446000, 'booked', 'urn:oid:1.2.250.1.71.4.2.1', '810002673899', '34173748400020');"
        "INSERT INTO consultation (id, appointment_id, consulted_at, other_codes) VALUES "
        "('5f1c2b7e-1a2b-4c3d-8e9f-000000000001', '5f1c2b7e-1a2b-4c3d-8e9f-000000000001', 1795510800, "
        "'G');");
    // ...and one doctor's settings change and publication rule it has not pushed yet (a doctor the
    // searches do not ask for, stored unprefixed, chosen the day before the suite's clock).
    EXPECT_TRUE(sas::e2e::sql(out.db,
                              "SELECT id FROM practitioner WHERE national_id IN ('10009999990', "
                              "'810009999990')")
                    .empty());
    sas::test::sqlite_exec(
        out.db,
        "INSERT INTO sas_doctor_settings_change (practitioner_id, volunteer, visible, consent_to_call, phone, "
        "changed_at, changed_by) VALUES ('10009999990', 1, 1, 1, '01 23 45 67 89', 1795330800, 'dr-test');"
        "INSERT INTO sas_publication_rule_request (practitioner_id, action, rule_json, requested_at, requested_by) "
        "VALUES ('10009999990', 'add', '{\"kind\":\"snp-hours\",\"days\":[\"mon\"],\"from\":\"17:00\","
        "\"to\":\"19:00\"}', 1795330800, 'dr-test');");
    out.pristine = out.dir / "pristine.db";
    fs::copy_file(out.db, out.pristine);
    return out;
  }();
  return a;
}

json::object report(const fs::path& file) { return json::parse(sas::test::read_file(file)).as_object(); }

std::set<std::string> with_status(const json::object& r, const std::string& status) {
  std::set<std::string> ids;
  for (const auto& c : r.at("checks").as_array())
    if (c.as_object().at("status") == status.c_str()) ids.insert(std::string(c.as_object().at("id").as_string()));
  return ids;
}

std::string failures(const json::object& r) {
  std::string out;
  for (const auto& c : r.at("checks").as_array())
    if (c.as_object().at("status") == "failed") out += json::serialize(c) + "\n";
  return out;
}

TEST(ConformancePlugin, ReferencePluginPasses) {
  const auto& a = agenda();
  ASSERT_FALSE(a.practitioners.empty());
  ASSERT_FALSE(a.sos_sirets.empty());
  ASSERT_FALSE(a.cpts_practitioners.empty());
  ASSERT_FALSE(a.cpts_two.empty());
  const fs::path out = a.dir / "plugin.json";
  auto r = run({bin("sas-conformance").string(),
                "plugin",
                sas::test::plugin("sas-sqlite-agenda").string(),
                "--plugin-config",
                "db=" + a.db.string(),
                "--practitioners",
                a.practitioners,
                "--cpts-practitioners",
                a.cpts_practitioners,
                "--cpts-two-cpts",
                a.cpts_two,
                "--sos-sirets",
                a.sos_sirets,
                "--now",
                kNow,
                "--json",
                out.string(),
                "--junit",
                (a.dir / "plugin.xml").string(),
                "--html",
                (a.dir / "plugin.html").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  const auto passed = with_status(json_report, "passed");
  for (const char* id : {"R01-QUERY-001", "R01-QUERY-008", "R01-QUERY-014", "R01-FAQ-01", "R01-FAQ-10",
                         "R01-PROFILE-SLOT-001", "R02-001", "R02-004", "PERF-001"})
    EXPECT_TRUE(passed.contains(id)) << id;
  // Its CPTS and SOS Médecins data, through the host's INT_R04 and SOS searches: every check of both.
  for (const auto& c : json_report.at("checks").as_array())
    if (c.as_object().at("id").as_string().starts_with("SOS-") ||
        c.as_object().at("id").as_string().starts_with("R04-")) {
      EXPECT_EQ(c.as_object().at("status"), "passed") << json::serialize(c);
    }
  // Its host calls, made to the host the runtime built: the four appointment events (A1 booked
  // then fulfilled, A2 booked, the SOS one booked), the honoured consultation and the doctor's
  // settings change and rule, each checked.
  for (const char* id : {"R03-001", "R03-002", "R03-003", "R03-004", "R03-005", "R03-006", "R03-007", "R03-008",
                         "R03-PROFILE-APPOINTMENT-001", "R03-PROFILE-SOS-APPOINTMENT-001", "BILL-001", "BILL-002",
                         "BILL-003", "SET-001", "SET-002", "SET-003", "SET-004", "SET-005", "SET-006"})
    EXPECT_TRUE(passed.contains(id)) << id << "\n" << failures(json_report);
  EXPECT_TRUE(with_status(json_report, "not-run").contains("TLS-002"));
  EXPECT_THAT(sas::test::read_file(a.dir / "plugin.xml"), testing::HasSubstr("<testsuite name=\"sas-conformance\""));
  EXPECT_THAT(sas::test::read_file(a.dir / "plugin.html"), testing::HasSubstr("PASS"));
}

// The same verdict with the plugin in runner processes (docs/plugins/isolation.md): its searches
// and its host calls (INT_R03 events, consultations) cross the runner's socket.
TEST(ConformancePlugin, ReferencePluginPassesInRunnerProcesses) {
  const auto& a = agenda();
  const fs::path dir = sas::test::make_temp_dir("conformance-isolated");
  const fs::path db = dir / "agenda.db";
  fs::copy_file(a.pristine, db);
  const fs::path out = dir / "plugin.json";
  auto r = run({bin("sas-conformance").string(), "plugin", sas::test::plugin("sas-sqlite-agenda").string(),
                "--plugin-config", "db=" + db.string(), "--plugin-isolation", "process", "--practitioners",
                a.practitioners, "--cpts-practitioners", a.cpts_practitioners, "--cpts-two-cpts", a.cpts_two,
                "--sos-sirets", a.sos_sirets, "--now", kNow, "--json", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  EXPECT_EQ(json_report.at("run").as_object().at("isolation"), "process") << json::serialize(json_report.at("run"));
  const auto passed = with_status(json_report, "passed");
  for (const char* id : {"R01-QUERY-001", "R01-FAQ-01", "R01-FAQ-10", "R02-001", "R03-001", "R03-004",
                         "R03-PROFILE-APPOINTMENT-001", "BILL-001", "BILL-003", "SOS-QUERY-001", "SOS-QUERY-003",
                         "SOS-BUNDLE-007", "R04-QUERY-001", "R04-CPTS-006", "R04-CPTS-010"})
    EXPECT_TRUE(passed.contains(id)) << id << "\n" << failures(json_report);
  EXPECT_EQ(
      run({bin("sas-conformance").string(), "plugin", sas::test::plugin("sas-sqlite-agenda").string(),
           "--plugin-config", "db=" + db.string(), "--plugin-isolation", "bogus", "--practitioners", a.practitioners})
          .exit_code,
      2);
  fs::remove_all(dir);
}

// A plugin that segfaults on every search, in runner processes: the run ends with a report that
// fails the search checks on 503s, instead of dying with the plugin.
TEST(ConformancePlugin, ACrashingPluginFailsItsChecksInRunnerProcesses) {
  const fs::path dir = sas::test::make_temp_dir("conformance-crash");
  const fs::path out = dir / "report.json";
  // misbehaving's id 8100000000 02: a write through a null pointer in search_slots.
  auto r = run({bin("sas-conformance").string(), "plugin", sas::test::test_plugin("misbehaving").string(),
                "--plugin-isolation", "process", "--practitioners", "810000000002", "--now", kNow, "--json",
                out.string(), "--skip", "R02-", "R03-", "BILL-"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "fail");
  EXPECT_TRUE(with_status(json_report, "failed").contains("R01-QUERY-001")) << failures(json_report);
  EXPECT_THAT(failures(json_report), testing::HasSubstr("503")) << failures(json_report);
  fs::remove_all(dir);
}

TEST(ConformancePlugin, BrokenPluginFailsWithTheRightIds) {
  const auto& a = agenda();
  const fs::path out = a.dir / "broken.json";
  const fs::path html = a.dir / "broken.html";
  auto r = run({bin("sas-conformance").string(), "plugin", sas::test::test_plugin("broken_agenda").string(),
                "--practitioners", "810002673899,810100050075", "--now", kNow, "--json", out.string(), "--html",
                html.string(), "--skip", "R02-", "PERF-"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "fail");
  const auto failed = with_status(json_report, "failed");
  for (const char* id : {"R01-FAQ-01", "R01-FAQ-02", "R01-FAQ-07", "R01-FAQ-10"})
    EXPECT_TRUE(failed.contains(id)) << id << "\n" << failures(json_report);
  EXPECT_THAT(r.out, testing::HasSubstr("FAIL R01-FAQ-02"));
  // Its appointment events, each fault under the check that names it.
  for (const char* id : {"R03-001", "R03-003", "R03-004", "R03-005"})
    EXPECT_TRUE(failed.contains(id)) << id << "\n" << failures(json_report);
  EXPECT_THAT(r.out, testing::HasSubstr("FAIL R03-004"));
  const std::string findings = failures(json_report);
  EXPECT_THAT(findings, testing::HasSubstr("no regulator"));                     // R03-005
  EXPECT_THAT(findings, testing::HasSubstr("'10002673899' is not a prefixed"));  // R03-005
  EXPECT_THAT(findings, testing::HasSubstr("is `cancelled`"));                   // R03-004
  EXPECT_THAT(findings, testing::HasSubstr("under several identifiers"));        // R03-003
  EXPECT_FALSE(with_status(json_report, "failed").contains("R03-006")) << "its practitioner ids are fine";
  EXPECT_THAT(sas::test::read_file(html), testing::HasSubstr("id=\"R01-FAQ-10\""));
  // The offending element of the plugin's answer, highlighted at its path (a blank given name).
  EXPECT_THAT(sas::test::read_file(html), testing::HasSubstr("<mark>&quot; &quot;</mark>"));
}

// A plugin that declares appointments and sas-billing but has nothing to report: a warning that
// says how to give it data, not a silent pass, and not a failed run.
TEST(ConformancePlugin, DeclaredHostCallsWithoutDataAreAWarningThatSaysWhatToDo) {
  const fs::path dir = sas::test::make_temp_dir("conformance-no-host-calls");
  const fs::path db = dir / "agenda.db";
  fs::copy_file(agenda().db, db);
  sas::test::sqlite_exec(db,
                         "DELETE FROM consultation; DELETE FROM appointment; DELETE FROM sas_doctor_settings_change; "
                         "DELETE FROM sas_publication_rule_request;");
  const fs::path out = dir / "report.json";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run({bin("sas-conformance").string(), "plugin", sas::test::plugin("sas-sqlite-agenda").string(),
                "--plugin-config", "db=" + db.string(), "--practitioners", agenda().practitioners, "--now", kNow,
                "--only", "R03-", "BILL-", "SET-", "--host-calls-wait", "1.5", "--json", out.string()});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  const auto failed = with_status(json_report, "failed");
  EXPECT_TRUE(failed.contains("R03-008")) << failures(json_report);
  EXPECT_TRUE(failed.contains("BILL-003")) << failures(json_report);
  EXPECT_TRUE(failed.contains("SET-006")) << failures(json_report);
  EXPECT_THAT(failures(json_report), testing::HasSubstr("Give it data"));
  EXPECT_THAT(failures(json_report), testing::HasSubstr("sas_doctor_settings_change"));
  EXPECT_THAT(r.out, testing::HasSubstr("WARN R03-008"));
  EXPECT_TRUE(with_status(json_report, "not-run").contains("R03-001"));
  EXPECT_TRUE(with_status(json_report, "not-run").contains("SET-001"));
  EXPECT_LT(seconds, 30.0);
  fs::remove_all(dir);
}

// A plugin with CPTS and SOS Médecins data (tests/conformance/plugins/cpts_sos_agenda_plugin.cpp),
// through the host's own INT_R04 and SOS searches: every check of both groups passes; each fault
// the host cannot repair fails with the error check that names it, and no other.
std::vector<std::string> cpts_sos_command(const std::string& config, const fs::path& out) {
  return {bin("sas-conformance").string(),
          "plugin",
          sas::test::test_plugin("cpts_sos_agenda").string(),
          "--plugin-config",
          config,
          "--practitioners",
          "810002673899,810100050075",
          "--cpts-practitioners",
          "810100050075",
          "--cpts-two-cpts",
          "810002673899",
          "--sos-sirets",
          "34173748400020,392080466300010",
          "--now",
          kNow,
          "--json",
          out.string(),
          "--quiet",
          "--skip",
          "PERF-"};
}

TEST(ConformancePlugin, CptsAndSosPluginPassesThroughTheHostsOwnSearches) {
  const fs::path out = agenda().dir / "cpts-sos.json";
  auto r = run(cpts_sos_command("", out));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  int checked = 0;
  for (const auto& c : json_report.at("checks").as_array()) {
    const auto& id = c.as_object().at("id").as_string();
    if (!id.starts_with("R04-") && !id.starts_with("SOS-")) continue;
    ++checked;
    EXPECT_EQ(c.as_object().at("status"), "passed") << json::serialize(c);
  }
  EXPECT_GT(checked, 200);
}

TEST(ConformancePlugin, CptsAndSosPluginFaultsFailWithTheCheckThatNamesThem) {
  const struct {
    const char* fault;
    std::set<std::string> errors;
  } cases[] = {
      {"cpts-undescribed", {"R04-CPTS-008", "R04-CPTS-009"}},  // the CPTS sent with its FINESS alone
      {"cpts-one-of-two", {"R04-CPTS-006"}},                   // FAQ 11
      {"sos-siret-as-stored", {"SOS-BUNDLE-009"}},             // the unprefixed association never found
  };
  for (const auto& c : cases) {
    const fs::path out = agenda().dir / (std::string("cpts-sos-") + c.fault + ".json");
    auto r = run(cpts_sos_command(std::string("fault=") + c.fault, out));
    EXPECT_EQ(r.exit_code, 1) << c.fault << "\n" << r.out << r.err;
    auto json_report = report(out);
    std::set<std::string> errors;
    for (const auto& check : json_report.at("checks").as_array())
      if (check.as_object().at("status") == "failed" && check.as_object().at("severity") == "error")
        errors.insert(std::string(check.as_object().at("id").as_string()));
    EXPECT_EQ(errors, c.errors) << c.fault << "\n" << failures(json_report);
  }
}

TEST(ConformancePlugin, TemplatePluginPasses) {
  const fs::path out = agenda().dir / "template.json";
  auto r = run({bin("sas-conformance").string(), "plugin", sas::test::test_plugin("template_agenda").string(),
                "--plugin-config", "demo", "--practitioners", "810002673899", "--now", kNow, "--json", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  EXPECT_TRUE(with_status(json_report, "passed").contains("R01-FAQ-02"));
  EXPECT_TRUE(with_status(json_report, "not-run").contains("R02-001"));  // slot search only
}

// Doctor settings and publication rules (flow doctor-settings, SET-*): the settings template and
// tests/conformance/plugins/faulty_settings_plugin.cpp without a fault pass every SET check; each of
// its faults fails exactly the check that names it (all SET checks are warnings: the run passes).
std::vector<std::string> settings_command(const fs::path& plugin, const std::string& config, const fs::path& out) {
  return {bin("sas-conformance").string(),
          "plugin",
          plugin.string(),
          "--plugin-config",
          config,
          "--practitioners",
          "810002673899",
          "--now",
          kNow,
          "--only",
          "SET-",
          "--host-calls-wait",
          "5",
          "--json",
          out.string()};
}

const std::set<std::string> kSettingsChecks = {"SET-001", "SET-002", "SET-003", "SET-004", "SET-005", "SET-006"};

TEST(ConformancePlugin, SettingsTemplateAndCorrectSettingsPluginPass) {
  for (const char* plugin : {"template_settings", "faulty_settings"}) {
    const fs::path out = agenda().dir / (std::string(plugin) + ".json");
    auto r = run(settings_command(sas::test::test_plugin(plugin), "", out));
    EXPECT_EQ(r.exit_code, 0) << plugin << "\n" << r.out << r.err;
    auto json_report = report(out);
    EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
    EXPECT_EQ(with_status(json_report, "passed"), kSettingsChecks) << plugin << "\n" << failures(json_report);
  }
}

TEST(ConformancePlugin, SettingsFaultsFailWithTheCheckThatNamesThem) {
  const struct {
    const char* fault;
    const char* check;
    const char* words;  // in the finding
  } cases[] = {
      {"unknown-rule-kind", "SET-001", "refused by the host (SAS_ERR_INVALID_ARGUMENT): kind: 'snp-evenings'"},
      {"bad-practitioner", "SET-002", "'1000267389'"},
      {"bad-phone", "SET-003", "'06 12 34'"},
      {"effective-at-millis", "SET-004", "milliseconds, not seconds?"},
      {"effective-at-1970", "SET-004", "before 2020"},
      {"overlapping-rules", "SET-005", "conflict: "},
      {"silent", "SET-006", "Give it data"},
  };
  for (const auto& c : cases) {
    const fs::path out = agenda().dir / (std::string("settings-") + c.fault + ".json");
    auto r = run(settings_command(sas::test::test_plugin("faulty_settings"), std::string("fault=") + c.fault, out));
    EXPECT_EQ(r.exit_code, 0) << c.fault << " (warnings only)\n" << r.out << r.err;
    auto json_report = report(out);
    EXPECT_EQ(with_status(json_report, "failed"), std::set<std::string>{c.check}) << c.fault << "\n"
                                                                                  << failures(json_report);
    EXPECT_THAT(failures(json_report), testing::HasSubstr(c.words)) << c.fault;
    EXPECT_THAT(r.out, testing::HasSubstr(std::string("WARN ") + c.check)) << c.fault;
  }
}

struct Endpoint {
  fs::path pki;
  std::unique_ptr<sas::e2e::Host> host;
};

std::vector<std::string> endpoint_command(const Endpoint& e, const std::string& practitioners) {
  return {bin("sas-conformance").string(),
          "endpoint",
          "--base",
          e.host->base(),
          "--ca",
          (e.pki / "ca.pem").string(),
          "--pki",
          e.pki.string(),
          "--practitioners",
          practitioners,
          "--cpts-practitioners",
          agenda().cpts_practitioners,
          "--cpts-two-cpts",
          agenda().cpts_two,
          "--sos-sirets",
          agenda().sos_sirets,
          "--now",
          kNow,
          "--quiet"};
}

Endpoint start_endpoint() {
  Endpoint e;
  e.pki = agenda().dir / "pki";
  // The suite's own PKI, as a tester would install it on the endpoint.
  auto r = run({bin("sas-conformance").string(), "pki", "--out", e.pki.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::HasSubstr("crl.pem"));
  sas::e2e::HostOptions options;
  options.agenda = agenda().db;
  options.pki = e.pki;
  options.work = agenda().dir;
  options.base_path = "/sas";
  e.host = std::make_unique<sas::e2e::Host>(options);
  return e;
}

TEST(ConformanceEndpoint, RealHostPassesOverMutualTlsInUnderTenSeconds) {
  Endpoint e = start_endpoint();
  auto argv = endpoint_command(e, agenda().practitioners);
  const fs::path out = agenda().dir / "endpoint.json";
  argv.insert(argv.end(), {"--json", out.string()});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(argv);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_LT(seconds, 10.0);
  std::cout << "sas-conformance endpoint took " << seconds << " s\n";
  auto json_report = report(out);
  EXPECT_EQ(json_report.at("verdict"), "pass") << failures(json_report);
  const auto passed = with_status(json_report, "passed");
  for (const char* id : {"TLS-001",
                         "TLS-002",
                         "TLS-003",
                         "TLS-004",
                         "TLS-005",
                         "TLS-006",
                         "TLS-007",
                         "TLS-008",
                         "R01-QUERY-002",
                         "R01-QUERY-017",
                         "R02-003",
                         "PERF-001",
                         "R01-PROFILE-ROLE-001",
                         "SOS-QUERY-001",
                         "SOS-QUERY-002",
                         "SOS-QUERY-004",
                         "SOS-BUNDLE-010",
                         "SOS-PROFILE-SLOT-001",
                         "R04-QUERY-001",
                         "R04-QUERY-003",
                         "R04-QUERY-006",
                         "R04-CPTS-002",
                         "R04-CPTS-006",
                         "R04-PROFILE-ORGANIZATION-001"})
    EXPECT_TRUE(passed.contains(id)) << id << "\n" << failures(json_report);
}

TEST(ConformanceEndpoint, SameInputsSameReportAndOnlyRunsTheChecksAsked) {
  Endpoint e = start_endpoint();
  auto strip = [](json::object r) {
    r.erase("timings");
    return json::serialize(r);
  };
  std::string reports[2];
  for (int i = 0; i < 2; ++i) {
    auto argv = endpoint_command(e, agenda().practitioners);
    const fs::path out = agenda().dir / ("same-" + std::to_string(i) + ".json");
    argv.insert(argv.end(), {"--json", out.string(), "--skip", "PERF-"});
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    reports[i] = strip(report(out));
  }
  EXPECT_EQ(reports[0], reports[1]);

  auto argv = endpoint_command(e, agenda().practitioners);
  const fs::path out = agenda().dir / "only.json";
  argv.insert(argv.end(), {"--json", out.string(), "--only", "R01-QUERY-014", "TLS-004"});
  auto r = run(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto json_report = report(out);
  EXPECT_EQ(with_status(json_report, "passed"), (std::set<std::string>{"R01-QUERY-014", "TLS-004"}));
}

TEST(ConformanceDocs, CatalogueInDocsIsTheToolsOutput) {
  auto r = run({bin("sas-conformance").string(), "catalogue", "--markdown"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string docs = sas::test::read_file(sas::test::source_dir() / "docs" / "certification.md");
  const std::string begin = "<!-- catalogue:begin -->\n";
  const std::string end = "<!-- catalogue:end -->";
  const auto a = docs.find(begin);
  const auto b = docs.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(docs.substr(a + begin.size(), b - a - begin.size()), r.out)
      << "regenerate: scripts/update-certification-docs";
}

TEST(ConformanceTool, UsageErrorsAndValidate) {
  EXPECT_EQ(run({bin("sas-conformance").string(), "endpoint", "--base", "https://x"}).exit_code, 2);
  EXPECT_EQ(
      run({bin("sas-conformance").string(), "plugin", "x.so", "--practitioners", "1", "--only", "NOPE"}).exit_code, 2);
  auto ok = run({bin("sas-conformance").string(), "validate",
                 (sas::test::ig_dir() / "example" / "Bundle-ExampleBundlePSIndiv.json").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto req = run({bin("sas-conformance").string(), "requirements"});
  EXPECT_EQ(req.exit_code, 0) << req.err;
  EXPECT_THAT(req.out, testing::HasSubstr("agg-psindiv@49"));
}

}  // namespace
