// sas-host settings, rules and report forfait, offline (--store), as an operator runs them: the
// real binary on a real SQLite store, the real reference plugin on a real agenda file. Expected
// outputs are written by hand from the calendar and the documented JSON and CSV shapes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sas_test/support.hpp>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using sas::test::bin;
using sas::test::RunResult;
using testing::HasSubstr;

constexpr const char* kDoctor = "810002673899";

class SettingsCli : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("settings-cli");
    store_ = "sqlite:" + (dir_ / "host.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // sas-host ARGS... --store URL
  RunResult host(std::vector<std::string> args) {
    args.insert(args.begin(), bin("sas-host").string());
    args.push_back("--store");
    args.push_back(store_);
    return sas::test::run(args);
  }
  std::vector<std::vector<std::string>> rows(const std::string& query) {
    if (!fs::exists(dir_ / "host.db")) return {};
    return sas::test::sqlite_rows(dir_ / "host.db", query, "NULL");
  }
  std::size_t changes() { return rows("SELECT id FROM doctor_setting_change").size(); }

  fs::path dir_;
  std::string store_;
};

json::object parse(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out;
  return ec || !v.is_object() ? json::object{} : v.as_object();
}

TEST_F(SettingsCli, SetGetAndHistoryRoundTrip) {
  auto set = host({"settings", "set", "--practitioner", kDoctor, "--volunteer", "true", "--visible", "true", "--phone",
                   "01 23 45 67 89", "--effective-at", "2026-03-01T09:00:00+01:00", "--changed-by", "alice"});
  auto settings = parse(set);
  EXPECT_EQ(settings.at("practitioner"), kDoctor);
  EXPECT_EQ(settings.at("volunteer"), true);
  EXPECT_EQ(settings.at("visible"), true);
  EXPECT_EQ(settings.at("phone"), "+33123456789");
  EXPECT_TRUE(!settings.contains("consent_to_call") || settings.at("consent_to_call").is_null()) << set.out;

  // An unprefixed RPPS names the same doctor.
  auto later = parse(host({"settings", "set", "--practitioner", "10002673899", "--visible", "false",
                           "--consent-to-call", "true", "--effective-at", "2026-06-01T10:00:00+02:00"}));
  EXPECT_EQ(later.at("visible"), false);
  EXPECT_EQ(later.at("consent_to_call"), true);
  EXPECT_EQ(later.at("volunteer"), true);

  auto get = host({"settings", "get", "--practitioner", kDoctor});
  EXPECT_EQ(parse(get), later);

  auto history = parse(host({"settings", "history", "--practitioner", kDoctor}));
  EXPECT_EQ(history.at("practitioner"), kDoctor);
  const auto& list = history.at("changes").as_array();
  ASSERT_EQ(list.size(), 5U) << history;
  EXPECT_EQ(list[0].at("field"), "volunteer");
  EXPECT_EQ(list[2].at("field"), "phone");
  EXPECT_EQ(list[2].at("changed_by"), "alice");
  EXPECT_EQ(list[2].at("source"), "cli");
  EXPECT_EQ(list[3].at("field"), "visible");

  // What is on disk: five rows, the first three from alice at 2026-03-01T08:00:00Z.
  auto on_disk = rows("SELECT field, value, changed_by, source FROM doctor_setting_change ORDER BY id");
  ASSERT_EQ(on_disk.size(), 5U);
  EXPECT_EQ(on_disk[0], (std::vector<std::string>{"volunteer", "true", "alice", "cli"}));
  EXPECT_EQ(on_disk[1], (std::vector<std::string>{"visible", "true", "alice", "cli"}));
  EXPECT_EQ(on_disk[2], (std::vector<std::string>{"phone", "+33123456789", "alice", "cli"}));
  EXPECT_EQ(on_disk[3][0], "visible");
  EXPECT_EQ(on_disk[3][1], "false");
  EXPECT_EQ(on_disk[4][0], "consent_to_call");

  // A doctor never set: every option null.
  auto unknown = parse(host({"settings", "get", "--practitioner", "811000000007"}));
  EXPECT_EQ(unknown.at("practitioner"), "811000000007");
  EXPECT_TRUE(!unknown.contains("volunteer") || unknown.at("volunteer").is_null());
}

TEST_F(SettingsCli, BadInputIsRefusedNamingTheFlagAndNothingIsRecorded) {
  // One good option next to a bad one: the good one is not recorded either.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--volunteer", "oui"}, "--volunteer: expected true or false, got 'oui'"},
      {{"--volunteer", "true", "--visible", "1"}, "--visible: expected true or false"},
      {{"--volunteer", "true", "--consent-to-call", "yes"}, "--consent-to-call"},
      {{"--volunteer", "true", "--phone", "12"}, "--phone: '12'"},
      {{"--volunteer", "true", "--effective-at", "2026-03-01T09:00:00"}, "--effective-at"},
      {{"--volunteer", "true", "--effective-at", "2200-01-01T00:00:00+01:00"},
       "--effective-at: 2200-01-01T00:00:00+01:00 is in the future"},
      // Beyond the clock's range (2262): refused, not wrapped round to 1829.
      {{"--volunteer", "true", "--effective-at", "2999-01-01T00:00:00+01:00"},
       "--effective-at: 2999-01-01T00:00:00+01:00 is out of range"},
      {{"--volunteer", "true", "--changed-by", ""}, "--changed-by"},
      {{}, "give at least one of --volunteer, --visible, --consent-to-call, --phone"},
  };
  for (const auto& [options, words] : cases) {
    std::vector<std::string> args = {"settings", "set", "--practitioner", kDoctor};
    args.insert(args.end(), options.begin(), options.end());
    auto r = host(args);
    EXPECT_EQ(r.exit_code, 2) << words;
    EXPECT_THAT(r.err, HasSubstr(words));
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(changes(), 0U) << words;
  }
  auto bad_id = host({"settings", "set", "--practitioner", "12AB", "--volunteer", "true"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("--practitioner: '12AB'"));
  auto unknown_flag = host({"settings", "set", "--practitioner", kDoctor, "--volonteer", "true"});
  EXPECT_EQ(unknown_flag.exit_code, 2);
  EXPECT_THAT(unknown_flag.err, HasSubstr("volonteer"));
  EXPECT_EQ(changes(), 0U);

  // Where to act: exactly one of --store and --admin.
  auto neither = sas::test::run({bin("sas-host"), "settings", "get", "--practitioner", kDoctor});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_THAT(neither.err, HasSubstr("give exactly one of --store URL (offline) and --admin URL (online)"));
  auto both = host({"settings", "get", "--practitioner", kDoctor, "--admin", "https://127.0.0.1:1"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("give exactly one of --store"));
  auto no_token =
      sas::test::run({bin("sas-host"), "settings", "get", "--practitioner", kDoctor, "--admin", "https://127.0.0.1:1"});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_THAT(no_token.err, HasSubstr("--admin-token-file: required with --admin"));
  sas::test::write_file(dir_ / "empty-token", "\n");
  auto empty_token = sas::test::run({bin("sas-host"), "settings", "get", "--practitioner", kDoctor, "--admin",
                                     "https://127.0.0.1:1", "--admin-token-file", (dir_ / "empty-token").string()});
  EXPECT_EQ(empty_token.exit_code, 2);
  EXPECT_THAT(empty_token.err, HasSubstr("--admin-token-file " + (dir_ / "empty-token").string() + ": empty"));
  auto no_subcommand = sas::test::run({bin("sas-host"), "settings", "show"});
  EXPECT_EQ(no_subcommand.exit_code, 2);
  EXPECT_THAT(no_subcommand.err, HasSubstr("usage: sas-host settings get|set|history"));
}

TEST_F(SettingsCli, AnAdminApiThatIsNotThereIsAnErrorNotAUsageError) {
  sas::test::write_file(dir_ / "token", "secret\n");
  auto r = sas::test::run({bin("sas-host"), "settings", "get", "--practitioner", kDoctor, "--admin",
                           "https://127.0.0.1:" + std::to_string(sas::test::free_port()), "--admin-token-file",
                           (dir_ / "token").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("sas-host settings get: --admin: https://127.0.0.1:"));
}

TEST_F(SettingsCli, RulesAddListRemoveAndConflicts) {
  auto first = parse(
      host({"rules", "add", "--practitioner", kDoctor, "--rule",
            R"({"kind":"snp-hours","days":["mon","tue"],"from":"17:00","to":"19:00"})", "--changed-by", "alice"}));
  ASSERT_TRUE(first.contains("id")) << first;
  const int64_t first_id = first.at("id").to_number<int64_t>();
  EXPECT_EQ(first.at("kind"), "snp-hours");

  sas::test::write_file(dir_ / "rule.json", R"({"kind":"hide-motives","motives":["Vaccination"]})");
  auto second = parse(host({"rules", "add", "--practitioner", kDoctor, "--rule", "@" + (dir_ / "rule.json").string()}));
  ASSERT_TRUE(second.contains("id")) << second;
  const int64_t second_id = second.at("id").to_number<int64_t>();
  EXPECT_NE(first_id, second_id);

  // Overlapping hours on a common day: refused, naming the rule in the way; nothing stored.
  auto conflict = host({"rules", "add", "--practitioner", kDoctor, "--rule",
                        R"({"kind":"snp-hours","days":["tue"],"from":"18:00","to":"20:00"})"});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_THAT(conflict.err, HasSubstr("sas-host rules add: conflict: these hours overlap rule " +
                                      std::to_string(first_id) + " (snp-hours)"));
  EXPECT_TRUE(conflict.out.empty());

  // Bad rules name --rule and the key; exit 2.
  for (const auto& [rule, words] : std::vector<std::pair<std::string, std::string>>{
           {R"({"kind":"snp-hours","days":["mon"],"from":"19:00","to":"17:00"})", "--rule: "},
           {R"({"kind":"snp-motives","motives":["X"],"colour":"red"})", "colour"},
           {R"({"kind":"snp-motives","motives":["X"])", "--rule: not JSON"},
           {R"(["snp-motives"])", "--rule: expected a JSON object"},
           {"@" + (dir_ / "missing.json").string(), "--rule @" + (dir_ / "missing.json").string()}}) {
    auto r = host({"rules", "add", "--practitioner", kDoctor, "--rule", rule});
    EXPECT_EQ(r.exit_code, 2) << rule;
    EXPECT_THAT(r.err, HasSubstr(words)) << rule;
  }
  EXPECT_EQ(rows("SELECT id FROM publication_rule").size(), 2U);

  auto list = parse(host({"rules", "list", "--practitioner", kDoctor}));
  ASSERT_EQ(list.at("rules").as_array().size(), 2U) << list;
  EXPECT_EQ(list.at("rules").as_array()[0].at("id").to_number<int64_t>(), first_id);

  auto removed = host({"rules", "remove", "--practitioner", kDoctor, "--id", std::to_string(first_id)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, R"({"practitioner":"810002673899","removed":)" + std::to_string(first_id) + "}\n");
  list = parse(host({"rules", "list", "--practitioner", kDoctor}));
  ASSERT_EQ(list.at("rules").as_array().size(), 1U);
  EXPECT_EQ(list.at("rules").as_array()[0].at("id").to_number<int64_t>(), second_id);
  // Kept, marked removed.
  auto on_disk = rows("SELECT id, removed_at IS NOT NULL FROM publication_rule ORDER BY id");
  ASSERT_EQ(on_disk.size(), 2U);
  EXPECT_EQ(on_disk[0][1], "1");
  EXPECT_EQ(on_disk[1][1], "0");

  // The overlapping rule fits now.
  auto now_fits = host({"rules", "add", "--practitioner", kDoctor, "--rule",
                        R"({"kind":"snp-hours","days":["tue"],"from":"18:00","to":"20:00"})"});
  EXPECT_EQ(now_fits.exit_code, 0) << now_fits.err;

  auto again = host({"rules", "remove", "--practitioner", kDoctor, "--id", std::to_string(first_id)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("no active publication rule " + std::to_string(first_id)));
  auto bad_id = host({"rules", "remove", "--practitioner", kDoctor, "--id", "x"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("--id"));
}

TEST_F(SettingsCli, RulesExplainWithTheReferencePlugin) {
  // A generated agenda; its first practitioner, P100000, is given RPPS 11000000007 and, in
  // place of its generated slots, three of ours on Monday 8 January 2029 (Europe/Paris, +01:00):
  // 09:00 Consultation, 10:00 Vaccination, 18:00 Consultation.
  const fs::path agenda = dir_ / "agenda.db";
  auto gen = sas::test::run({bin("sas-sim"), "gen-agenda", "--out", agenda.string(), "--practitioners", "2", "--days",
                             "2", "--seed", "4", "--start", "2029-01-08"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto places = sas::test::sqlite_rows(agenda, "SELECT id FROM place WHERE practitioner_id = 'P100000' ORDER BY id");
  ASSERT_FALSE(places.empty());
  const std::string place = places[0][0];
  sas::test::sqlite_exec(agenda,
                         "UPDATE practitioner SET national_id = '811000000007' WHERE id = 'P100000';"
                         "DELETE FROM appointment; DELETE FROM slot WHERE place_id IN "
                         "(SELECT id FROM place WHERE practitioner_id = 'P100000');"
                         "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences, motives) VALUES "
                         "(9001, '" +
                             place +
                             "', 1862553600, 1862555400, 'free', 'PUBLIC', 'Consultation'),"
                             "(9002, '" +
                             place +
                             "', 1862557200, 1862559000, 'free', 'PUBLIC', 'Vaccination'),"
                             "(9003, '" +
                             place + "', 1862586000, 1862587800, 'free', 'PUBLIC', 'Consultation');");
  // 1862553600 = 2029-01-08T08:00:00Z = 09:00 in Paris.
  ASSERT_EQ(host({"rules", "add", "--practitioner", "811000000007", "--rule",
                  R"({"kind":"hide-motives","motives":["vaccination"]})"})
                .exit_code,
            0);
  ASSERT_EQ(host({"rules", "add", "--practitioner", "811000000007", "--rule",
                  R"({"kind":"snp-hours","days":["mon"],"from":"17:00","to":"19:00"})"})
                .exit_code,
            0);
  const std::vector<std::string> base = {"rules",
                                         "explain",
                                         "--practitioner",
                                         "11000000007",
                                         "--plugin",
                                         sas::test::plugin("sas-sqlite-agenda").string(),
                                         "--plugin-config",
                                         "db=" + agenda.string(),
                                         "--from",
                                         "2029-01-08T00:00:00+01:00",
                                         "--to",
                                         "2029-01-09T00:00:00+01:00"};
  auto all = parse(host(base));
  EXPECT_EQ(all.at("practitioner"), "811000000007");
  EXPECT_EQ(all.at("window").at("start"), "2029-01-08T00:00:00+01:00");
  EXPECT_EQ(all.at("window").at("end"), "2029-01-09T00:00:00+01:00");
  ASSERT_EQ(all.at("slots").as_array().size(), 3U) << all;

  auto one = [&](const std::string& slot) {
    auto args = base;
    args.push_back("--slot");
    args.push_back(slot);
    auto out = parse(host(args));
    EXPECT_EQ(out.at("slots").as_array().size(), 1U) << out;
    return out.at("slots").as_array().empty() ? json::object{} : out.at("slots").as_array()[0].as_object();
  };
  const auto consultation = one("9001");
  EXPECT_EQ(consultation.at("published"), true) << consultation;
  EXPECT_EQ(consultation.at("types"), (json::array{"PUBLIC"})) << consultation;
  const auto vaccination = one("9002");
  EXPECT_EQ(vaccination.at("published"), false) << vaccination;
  EXPECT_THAT(json::serialize(vaccination.at("steps")), HasSubstr("hide-motives")) << vaccination;
  const auto evening = one("9003");
  EXPECT_EQ(evening.at("published"), true) << evening;
  EXPECT_EQ(evening.at("types"), (json::array{"SNP"})) << evening;

  auto missing = base;
  missing.insert(missing.end(), {"--slot", "424242"});
  auto r = host(missing);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--slot 424242"));

  auto no_plugin = host({"rules", "explain", "--practitioner", kDoctor, "--from", "2026-11-23T00:00:00+01:00", "--to",
                         "2026-11-24T00:00:00+01:00"});
  EXPECT_EQ(no_plugin.exit_code, 2);
  EXPECT_THAT(no_plugin.err, HasSubstr("--plugin: required with --store"));
  auto backwards = base;
  backwards[11] = "2029-01-07T00:00:00+01:00";
  r = host(backwards);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--to: must be after --from"));
  auto too_long = base;
  too_long[11] = "2029-02-08T00:00:01+01:00";  // 31 days and a second
  r = host(too_long);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--to: the window --from..--to is limited to 31 days"));
}

// The history of two doctors written through `settings set --effective-at`, reported for 2025
// (a year that is over). By hand: doctor A is a volunteer from before 2025 to after it, and
// visible from 1 March 00:00 (+01:00) to 15 October 00:00 (+02:00): 228 calendar days of which
// one, 30 March 2025, has 23 h: 227 + 23/24 = 227.958333 days. The change of February 2026 is
// outside the year. Doctor B only ever set a phone: a line with zero days.
TEST_F(SettingsCli, ReportForfaitJsonAndCsv) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--practitioner", kDoctor, "--volunteer", "true", "--effective-at", "2024-11-15T10:00:00+01:00"},
           {"--practitioner", kDoctor, "--visible", "true", "--effective-at", "2025-03-01T00:00:00+01:00"},
           {"--practitioner", kDoctor, "--visible", "false", "--effective-at", "2025-10-15T00:00:00+02:00"},
           {"--practitioner", kDoctor, "--visible", "true", "--effective-at", "2026-02-01T00:00:00+01:00"},
           {"--practitioner", "11000000007", "--phone", "0612345678", "--effective-at", "2025-05-05T12:00:00+02:00"}}) {
    std::vector<std::string> all = {"settings", "set"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = host(all);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string a_line =
      R"({"practitioner":"810002673899","year":2025,)"
      R"("volunteer":[{"from":"2025-01-01T00:00:00+01:00","to":"2026-01-01T00:00:00+01:00","days":365}],)"
      R"("visible":[{"from":"2025-03-01T00:00:00+01:00","to":"2025-10-15T00:00:00+02:00","days":227.958333}],)"
      R"("both":[{"from":"2025-03-01T00:00:00+01:00","to":"2025-10-15T00:00:00+02:00","days":227.958333}],)"
      R"("volunteer_days":365,"visible_days":227.958333,"both_days":227.958333,"both_at_end":false})";
  const std::string b_line = R"({"practitioner":"811000000007","year":2025,"volunteer":[],"visible":[],"both":[],)"
                             R"("volunteer_days":0,"visible_days":0,"both_days":0,"both_at_end":false})";

  auto json_report = host({"report", "forfait", "--year", "2025"});
  ASSERT_EQ(json_report.exit_code, 0) << json_report.err;
  EXPECT_EQ(json_report.out, R"({"year":2025,"doctors":[)" + a_line + "," + b_line + "]}\n");

  auto csv = host({"report", "forfait", "--year", "2025", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out,
            "practitioner,year,kind,from,to,days\n"
            "810002673899,2025,volunteer,2025-01-01T00:00:00+01:00,2026-01-01T00:00:00+01:00,365\n"
            "810002673899,2025,visible,2025-03-01T00:00:00+01:00,2025-10-15T00:00:00+02:00,227.958333\n"
            "810002673899,2025,both,2025-03-01T00:00:00+01:00,2025-10-15T00:00:00+02:00,227.958333\n"
            "810002673899,2025,total-volunteer,,,365\n"
            "810002673899,2025,total-visible,,,227.958333\n"
            "810002673899,2025,total-both,,,227.958333\n"
            "811000000007,2025,total-volunteer,,,0\n"
            "811000000007,2025,total-visible,,,0\n"
            "811000000007,2025,total-both,,,0\n");

  auto one = host({"report", "forfait", "--year", "2025", "--practitioner", "11000000007"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, R"({"year":2025,"doctors":[)" + b_line + "]}\n");

  // 2024: A a volunteer from 15 November 10:00 to the end of the year (46 days 14 h), never
  // visible.
  auto before = host({"report", "forfait", "--year", "2024", "--format", "csv", "--practitioner", kDoctor});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.out,
            "practitioner,year,kind,from,to,days\n"
            "810002673899,2024,volunteer,2024-11-15T10:00:00+01:00,2025-01-01T00:00:00+01:00,46.583333\n"
            "810002673899,2024,total-volunteer,,,46.583333\n"
            "810002673899,2024,total-visible,,,0\n"
            "810002673899,2024,total-both,,,0\n");

  for (const auto& [args, words] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--year", "twenty"}, "year"},
           {{"--year", "25"}, "--year: expected a year such as 2026, got 25"},
           {{"--year", "2101"}, "--year: expected a year such as 2026, got 2101"},
           {{"--year", "2025", "--format", "xml"}, "--format: expected json or csv, got 'xml'"},
           {{"--year", "2025", "--practitioner", "12"}, "--practitioner: '12'"},
           {{}, "year"}}) {
    std::vector<std::string> all = {"report", "forfait"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = host(all);
    EXPECT_EQ(r.exit_code, 2) << words;
    EXPECT_THAT(r.err, HasSubstr(words));
    EXPECT_TRUE(r.out.empty());
  }
}

}  // namespace
