// The command-line tools as an operator runs them: exit codes and the words they print.
#include <gmock/gmock.h>
#include <google/protobuf/stubs/common.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sas/host/store/store.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

namespace fs = std::filesystem;
using sas::test::run;
using testing::HasSubstr;

TEST(CliTest, InspectPluginPrintsTheIdentityAndExitsZero) {
  auto result = run({sas::test::bin("sas-host"), "inspect-plugin", sas::test::plugin("sas-sqlite-agenda")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("sqlite-agenda 0.1.0"));
  EXPECT_THAT(result.out, HasSubstr("slot-search"));
  EXPECT_THAT(result.out, HasSubstr("free-threaded"));

  auto json = run({sas::test::bin("sas-host"), "inspect-plugin", "--json", sas::test::test_plugin("probe")});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr(R"("name":"probe")"));
  EXPECT_THAT(json.out, HasSubstr(R"("abi":"1.5")"));  // an SDK plugin is built for the SDK's ABI
  const std::string protobuf = std::to_string(GOOGLE_PROTOBUF_VERSION / 1000000) + "." +
                               std::to_string(GOOGLE_PROTOBUF_VERSION / 1000 % 1000) + "." +
                               std::to_string(GOOGLE_PROTOBUF_VERSION % 1000);
  EXPECT_THAT(json.out, HasSubstr(R"("protobuf":")" + protobuf + R"(")"));
  EXPECT_THAT(result.out, HasSubstr("protobuf:  " + protobuf + " (this host loads " + protobuf + ")"));

  auto raw = run({sas::test::bin("sas-host"), "inspect-plugin", "--json", sas::test::test_plugin("raw_ok")});
  EXPECT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_THAT(raw.out, HasSubstr(R"("protobuf":null)"));  // written straight against the C ABI
}

TEST(CliTest, InspectPluginRefusesBadFilesWithOneLineAndNonZero) {
  for (const auto& [file, words] : std::vector<std::pair<fs::path, std::string>>{
           {sas::test::test_plugin("no_entry_point"), "does not export the entry point"},
           {sas::test::test_plugin("abi_major_2"), "incompatible ABI"},
           {sas::test::test_plugin("protobuf_other_minor"), "incompatible protobuf"},
           {sas::test::bin("sas-sim"), "not a SAS plugin"},  // a PIE executable is ELF ET_DYN too
           {sas::test::source_dir() / "README.md", "not a shared library"},
           {"/nonexistent/plugin.so", "no such file"}}) {
    auto result = run({sas::test::bin("sas-host"), "inspect-plugin", file.string()});
    EXPECT_NE(result.exit_code, 0) << file;
    EXPECT_THAT(result.err, HasSubstr(words)) << file;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

TEST(CliTest, ServeRefusesABadConfigNamingTheKey) {
  auto dir = sas::test::make_temp_dir("cli");
  sas::test::write_file(dir / "host.conf", "plugin = /x.so\nlisten-adress = 127.0.0.1:1\n");
  auto result = run({sas::test::bin("sas-host"), "serve", "--config", (dir / "host.conf").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("listen-adress"));

  auto missing = run({sas::test::bin("sas-host"), "serve", "--store", "sqlite:" + (dir / "h.db").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("plugin"));

  auto bad_store = run({sas::test::bin("sas-host"), "serve", "--plugin", sas::test::plugin("sas-sqlite-agenda"),
                        "--store", "oracle://x", "--allow-plain-http", "--listen", "127.0.0.1:0"});
  EXPECT_NE(bad_store.exit_code, 0);
  EXPECT_THAT(bad_store.err, HasSubstr("--store oracle:...: unknown store URL scheme"));

  auto bad_policy = run({sas::test::bin("sas-host"), "serve", "--plugin", sas::test::plugin("sas-sqlite-agenda"),
                         "--allow-plain-http", "--listen", "127.0.0.1:0", "--unset-doctors", "hide"});
  EXPECT_EQ(bad_policy.exit_code, 2);
  EXPECT_THAT(bad_policy.err, HasSubstr("--unset-doctors 'hide'"));
  fs::remove_all(dir);
}

TEST(CliTest, ServeLoadsThePluginFromAConfigFileAndStopsOnSigterm) {
  auto dir = sas::test::make_temp_dir("cli");
  sas::test::run({sas::test::bin("sas-sim"), "gen-agenda", "--out", (dir / "agenda.db").string(), "--practitioners",
                  "5", "--days", "2", "--seed", "1"});
  sas::test::write_file(dir / "host.conf",
                        "# the host's config\nplugin = " + sas::test::plugin("sas-sqlite-agenda").string() +
                            "\nplugin-config = db=" + (dir / "agenda.db").string() + "\nstore = sqlite:" +
                            (dir / "host.db").string() + "\nlisten = 127.0.0.1:0\nallow-plain-http = true\n");
  sas::test::ChildProcess host({sas::test::bin("sas-host"), "serve", "--config", (dir / "host.conf").string()});
  for (int i = 0; i < 500 && host.output().find("listening") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(host.output(), HasSubstr("plugin sqlite-agenda 0.1.0 loaded"));
  EXPECT_EQ(host.stop(), 0) << host.output();
  EXPECT_TRUE(fs::exists(dir / "host.db"));
  fs::remove_all(dir);
}

// The first 25 practitioners of a generated agenda, as the platform names them.
std::string first_practitioners(const fs::path& agenda) {
  auto ids = sas::sim::practitioner_ids(agenda);
  ids.resize(std::min<std::size_t>(ids.size(), 25));
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  return list;
}

TEST(CliTest, GenAgendaAndSearchThroughThePlugin) {
  auto dir = sas::test::make_temp_dir("cli");
  auto gen = run({sas::test::bin("sas-sim"), "gen-agenda", "--out", (dir / "agenda.db").string(), "--practitioners",
                  "30", "--days", "3", "--seed", "9", "--start", "2026-11-23"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_THAT(gen.out, HasSubstr("\"practitioners\": 30"));

  auto bad = run({sas::test::bin("sas-sim"), "gen-agenda", "--out", (dir / "x.db").string(), "--start", "2026-13-01"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--start"));

  // P100000, the first practitioner, has RPPS 11000000007 (stored with or without its prefix);
  // an unknown id next to it is not an error.
  auto search =
      run({sas::test::bin("sas-host"), "search", "--plugin", sas::test::plugin("sas-sqlite-agenda"), "--plugin-config",
           "db=" + (dir / "agenda.db").string(), "--practitioners", "811000000007,899999999999", "--from",
           "2026-11-23T00:00:00+01:00", "--to", "2026-11-26T00:00:00+01:00"});
  EXPECT_EQ(search.exit_code, 0) << search.err;
  EXPECT_THAT(search.out, HasSubstr("1 practitioner(s)"));
  EXPECT_THAT(search.out, testing::ContainsRegex("\\(8?11000000007\\)"));

  // --store applies the doctors' settings: this doctor's agenda is not visible to SAS.
  {
    const auto store = sas::host::store::open("sqlite:" + (dir / "host.db").string());
    sas::host::doctor_settings::SettingChangeRecord hidden;
    hidden.practitioner = "811000000007";
    hidden.field = "visible";
    hidden.value = "false";
    hidden.effective_at = hidden.recorded_at = std::chrono::system_clock::now();
    hidden.changed_by = "test";
    hidden.source = "cli";
    store.doctor_settings->record_changes({hidden});
  }
  auto withheld = run({sas::test::bin("sas-host"), "search", "--plugin", sas::test::plugin("sas-sqlite-agenda"),
                       "--plugin-config", "db=" + (dir / "agenda.db").string(), "--practitioners", "811000000007",
                       "--from", "2026-11-23T00:00:00+01:00", "--to", "2026-11-26T00:00:00+01:00", "--store",
                       "sqlite:" + (dir / "host.db").string()});
  EXPECT_EQ(withheld.exit_code, 0) << withheld.err;
  EXPECT_THAT(withheld.out, HasSubstr("0 free slot(s)"));
  EXPECT_THAT(withheld.err, testing::ContainsRegex("[1-9][0-9]* slot\\(s\\) withheld"));

  // --cpts: the INT_R04 search of the same agenda, as a Bundle: sas-cpts-bundle-aggregator, with each CPTS slot's
  // HealthcareService and Organization.
  auto cpts =
      run({sas::test::bin("sas-host"), "search", "--plugin", sas::test::plugin("sas-sqlite-agenda"), "--plugin-config",
           "db=" + (dir / "agenda.db").string(), "--practitioners", first_practitioners(dir / "agenda.db"), "--from",
           "2026-11-23T00:00:00+01:00", "--to", "2026-11-26T00:00:00+01:00", "--cpts", "--bundle"});
  ASSERT_EQ(cpts.exit_code, 0) << cpts.err;
  EXPECT_THAT(cpts.out, HasSubstr("sas-cpts-bundle-aggregator"));
  EXPECT_THAT(cpts.out, HasSubstr("\"code\":\"CPTS\""));
  EXPECT_THAT(cpts.out, HasSubstr("\"resourceType\":\"HealthcareService\""));
  EXPECT_THAT(cpts.out, HasSubstr("\"resourceType\":\"Organization\""));
  auto individual =
      run({sas::test::bin("sas-host"), "search", "--plugin", sas::test::plugin("sas-sqlite-agenda"), "--plugin-config",
           "db=" + (dir / "agenda.db").string(), "--practitioners", first_practitioners(dir / "agenda.db"), "--from",
           "2026-11-23T00:00:00+01:00", "--to", "2026-11-26T00:00:00+01:00", "--bundle"});
  ASSERT_EQ(individual.exit_code, 0) << individual.err;
  EXPECT_THAT(individual.out, testing::Not(HasSubstr("\"code\":\"CPTS\"")));
  EXPECT_THAT(individual.out, testing::Not(HasSubstr("HealthcareService")));

  auto bad_id = run({sas::test::bin("sas-host"), "search", "--plugin", sas::test::plugin("sas-sqlite-agenda"),
                     "--plugin-config", "db=" + (dir / "agenda.db").string(), "--practitioners", "12AB", "--from",
                     "2026-11-23T00:00:00+01:00", "--to", "2026-11-26T00:00:00+01:00"});
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("--practitioners: '12AB'"));
  fs::remove_all(dir);
}

}  // namespace
