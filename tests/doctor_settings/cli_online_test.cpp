// sas-host settings, rules and report forfait ONLINE (--admin): the real `sas-host serve` with
// its admin API (--admin-listen 127.0.0.1:0 --admin-token-file F; it logs
// "sas-host: admin API listening on https://HOST:PORT"), the real reference plugin, the test
// PKI. What the online commands change is what the offline ones read from the same store, and
// both print the same text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <sas_test/host_log.hpp>
#include <sas_test/support.hpp>
#include <thread>

#include "e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using sas::test::bin;
using sas::test::RunResult;
using testing::HasSubstr;

constexpr const char* kDoctor = "810002673899";

class SettingsOnline : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("settings-online");
    sas::e2e::write_pki(dir_ / "pki");
    auto gen = sas::test::run({bin("sas-sim").string(), "gen-agenda", "--out", (dir_ / "agenda.db").string(),
                               "--practitioners", "3", "--days", "2", "--seed", "5", "--start", "2029-01-08"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    // serve wants at least 32 printable characters in a file only its owner may read.
    sas::test::write_file(dir_ / "token", "0123456789abcdef0123456789abcdef0123456789abcdef\n");
    sas::test::write_file(dir_ / "wrong-token", "fedcba9876543210fedcba9876543210fedcba9876543210\n");
    for (const char* name : {"token", "wrong-token"}) {
      fs::permissions(dir_ / name, fs::perms::owner_read | fs::perms::owner_write);
    }
    sas::e2e::HostOptions o;
    o.agenda = dir_ / "agenda.db";
    o.pki = dir_ / "pki";
    o.work = dir_;
    o.extra_arguments = {"--admin-listen", "127.0.0.1:0", "--admin-token-file", (dir_ / "token").string()};
    host_ = std::make_unique<sas::e2e::Host>(o);
    ASSERT_TRUE(host_->log_contains("admin API listening on", 10000)) << host_->output();
    admin_ = sas::test::listening_url(host_->output(), "admin");
    ASSERT_FALSE(admin_.empty()) << host_->output();
    store_ = "sqlite:" + (dir_ / ("host-" + std::to_string(host_->port()) + ".db")).string();
  }
  void TearDown() override {
    host_.reset();
    fs::remove_all(dir_);
  }

  RunResult online(std::vector<std::string> args, const std::string& token = "token") {
    args.insert(args.begin(), bin("sas-host").string());
    args.insert(args.end(), {"--admin", admin_, "--admin-token-file", (dir_ / token).string(), "--admin-ca",
                             (dir_ / "pki" / "ca.pem").string()});
    return sas::test::run(args);
  }
  RunResult offline(std::vector<std::string> args) {
    args.insert(args.begin(), bin("sas-host").string());
    args.insert(args.end(), {"--store", store_});
    return sas::test::run(args);
  }

  fs::path dir_;
  std::unique_ptr<sas::e2e::Host> host_;
  std::string admin_;
  std::string store_;
};

TEST_F(SettingsOnline, SetThroughTheApiReadOfflineAndBack) {
  auto set =
      online({"settings", "set", "--practitioner", kDoctor, "--volunteer", "true", "--visible", "true", "--phone",
              "01 23 45 67 89", "--effective-at", "2025-03-01T09:00:00+01:00", "--changed-by", "alice"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto settings = json::parse(set.out).as_object();
  EXPECT_EQ(settings.at("volunteer"), true);
  EXPECT_EQ(settings.at("phone"), "+33123456789");

  auto get_online = online({"settings", "get", "--practitioner", kDoctor});
  auto get_offline = offline({"settings", "get", "--practitioner", kDoctor});
  ASSERT_EQ(get_online.exit_code, 0) << get_online.err;
  EXPECT_EQ(get_online.out, get_offline.out);

  auto history_online = online({"settings", "history", "--practitioner", kDoctor});
  auto history_offline = offline({"settings", "history", "--practitioner", kDoctor});
  ASSERT_EQ(history_online.exit_code, 0) << history_online.err;
  EXPECT_EQ(history_online.out, history_offline.out);
  EXPECT_THAT(history_online.out, HasSubstr(R"("changed_by":"alice")"));

  // Written offline, read online.
  ASSERT_EQ(offline({"settings", "set", "--practitioner", kDoctor, "--visible", "false", "--effective-at",
                     "2025-10-15T00:00:00+02:00"})
                .exit_code,
            0);
  auto after = online({"settings", "get", "--practitioner", kDoctor});
  EXPECT_THAT(after.out, HasSubstr(R"("visible":false)"));

  // The forfait report, both forms, both ways. Visible in 2025 from 1 March 09:00 (+01:00) to
  // 15 October 00:00 (+02:00), by hand: 228 calendar days less 9 h, less the hour of 30 March:
  // 227 days 14 h = 227.583333 days.
  for (const char* format : {"json", "csv"}) {
    auto a = online({"report", "forfait", "--year", "2025", "--format", format});
    auto b = offline({"report", "forfait", "--year", "2025", "--format", format});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out) << format;
    EXPECT_THAT(a.out, HasSubstr("227.583333")) << format;
  }
}

TEST_F(SettingsOnline, RulesThroughTheApi) {
  auto add = online({"rules", "add", "--practitioner", kDoctor, "--rule",
                     R"({"kind":"snp-hours","days":["mon"],"from":"17:00","to":"19:00"})"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const auto id = json::parse(add.out).at("id").to_number<int64_t>();
  auto conflict = online({"rules", "add", "--practitioner", kDoctor, "--rule",
                          R"({"kind":"snp-hours","days":["mon"],"from":"18:00","to":"20:00"})"});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_THAT(conflict.err, HasSubstr("rule " + std::to_string(id) + " (snp-hours)"));
  EXPECT_EQ(online({"rules", "list", "--practitioner", kDoctor}).out,
            offline({"rules", "list", "--practitioner", kDoctor}).out);
  auto explain = online({"rules", "explain", "--practitioner", "811000000007", "--from", "2029-01-08T00:00:00+01:00",
                         "--to", "2029-01-09T00:00:00+01:00"});
  EXPECT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_THAT(explain.out, HasSubstr(R"("practitioner":"811000000007")"));
  auto removed = online({"rules", "remove", "--practitioner", kDoctor, "--id", std::to_string(id)});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  auto again = online({"rules", "remove", "--practitioner", kDoctor, "--id", std::to_string(id)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_FALSE(again.err.empty());
}

TEST_F(SettingsOnline, AWrongTokenIsRefusedWithTheApisMessage) {
  auto r = online({"settings", "get", "--practitioner", kDoctor}, "wrong-token");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("sas-host settings get: "));
  EXPECT_TRUE(r.out.empty());
  auto set = online({"settings", "set", "--practitioner", kDoctor, "--volunteer", "true"}, "wrong-token");
  EXPECT_EQ(set.exit_code, 1);
  EXPECT_EQ(offline({"settings", "history", "--practitioner", kDoctor}).out,
            R"({"practitioner":"810002673899","changes":[]})"
            "\n");
}

}  // namespace
