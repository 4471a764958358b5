// sas-host check-config: a good configuration (test PKI from `sas-sim pki`, the reference plugin,
// an SQLite store) passes with every line OK; then one fault at a time, each giving exit 1 and a
// FAIL line that names the key and the fault. Nothing here needs more network than 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <sas/pki/test_pki.hpp>
#include <sas_test/support.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using sas::test::run;
using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;
  std::vector<std::string> lines;  // the check lines, without the summary
  std::string out;
  std::string err;

  // The lines of `key` with `status` ("OK", "WARN", "FAIL").
  std::vector<std::string> of(const std::string& key, const std::string& status) const {
    std::vector<std::string> found;
    for (const auto& line : lines) {
      std::string prefix = status;
      prefix.resize(5, ' ');
      if (line.rfind(prefix + key + " (", 0) == 0) found.push_back(line);
    }
    return found;
  }
};

std::string describe(const Outcome& outcome) {
  return "exit " + std::to_string(outcome.exit_code) + "\n" + outcome.out + outcome.err;
}

class CheckConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("check-config");
    pki_ = dir_ / "pki";
    const auto pki = run({sas::test::bin("sas-sim"), "pki", "--out", pki_.string()});
    ASSERT_EQ(pki.exit_code, 0) << pki.err;
    sas::test::write_file(dir_ / "admin.token", std::string(64, 'a') + "\n");
    fs::permissions(dir_ / "admin.token", fs::perms::owner_read | fs::perms::owner_write);
    keys_ = {
        {"plugin", sas::test::plugin("sas-sqlite-agenda").string()},
        {"plugin-config", "db=" + (dir_ / "agenda.db").string()},
        {"store", "sqlite:" + (dir_ / "host.db").string()},
        {"listen", "127.0.0.1:8443"},
        {"base-url", "https://localhost:8443/sas"},
        {"tls-cert", (pki_ / "server.pem").string()},
        {"tls-key", (pki_ / "server-key.pem").string()},
        {"client-ca", (pki_ / "ca.pem").string()},
        {"client-crl", (pki_ / "crl.pem").string()},
        {"allow-client-subject", "CN=sas.sante.fr,OU=SAS"},
        {"admin-listen", "127.0.0.1:8444"},
        {"admin-token-file", (dir_ / "admin.token").string()},
        {"sas-base", "https://localhost:9443/fhir"},
        {"sas-cert", (pki_ / "vendor.pem").string()},
        {"sas-key", (pki_ / "vendor-key.pem").string()},
        {"sas-ca", (pki_ / "ca.pem").string()},
    };
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void set(const std::string& key, const std::string& value) {
    for (auto& [k, v] : keys_) {
      if (k == key) {
        v = value;
        return;
      }
    }
    keys_.emplace_back(key, value);
  }
  void erase(const std::string& key) {
    std::erase_if(keys_, [&](const auto& entry) { return entry.first == key; });
  }
  fs::path write_config() const {
    std::string text = "# written by check_config_test\n";
    for (const auto& [key, value] : keys_) text += key + " = " + value + "\n";
    const fs::path file = dir_ / "host.conf";
    sas::test::write_file(file, text);
    return file;
  }

  Outcome check(std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv{sas::test::bin("sas-host").string(), "check-config", write_config().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto result = run(argv);
    Outcome outcome{result.exit_code, {}, result.out, result.err};
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("OK   ", 0) == 0 || line.rfind("WARN ", 0) == 0 || line.rfind("FAIL ", 0) == 0)
        outcome.lines.push_back(line);
    }
    return outcome;
  }

  // Exit 1 and a FAIL line of `key` saying `fault`.
  void expect_fail(const std::string& key, const std::string& fault) const {
    const Outcome outcome = check();
    EXPECT_EQ(outcome.exit_code, 1) << describe(outcome);
    const auto failing = outcome.of(key, "FAIL");
    ASSERT_FALSE(failing.empty()) << "no FAIL line for " << key << "\n" << describe(outcome);
    EXPECT_THAT(failing.front(), HasSubstr(fault)) << describe(outcome);
  }

  // A certificate for the server signed by the CA of `dir` (dir/ca.pem, dir/ca-key.pem).
  static void issue_server(const fs::path& dir, const std::string& name, const sas::pki::TestPkiOptions& options) {
    sas::pki::issue_certificate(dir, name, {"localhost", "", true, {"localhost"}, {"127.0.0.1"}}, options);
  }

  fs::path dir_;
  fs::path pki_;
  std::vector<std::pair<std::string, std::string>> keys_;
};

TEST_F(CheckConfig, AGoodConfigurationPassesWithEveryLineOk) {
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
  ASSERT_GE(outcome.lines.size(), 20U) << describe(outcome);
  for (const auto& line : outcome.lines) EXPECT_EQ(line.rfind("OK   ", 0), 0U) << line;
  // Every file the configuration names got its line.
  for (const char* key :
       {"config", "listen", "admin-listen", "base-url", "allow-client-subject", "tls-cert", "tls-key", "client-ca",
        "client-crl", "admin-token-file", "sas-base", "sas-cert", "sas-key", "sas-ca", "store", "plugin", "rules"}) {
    EXPECT_FALSE(outcome.of(key, "OK").empty()) << key << "\n" << describe(outcome);
  }
  EXPECT_THAT(outcome.of("tls-cert", "OK"), testing::Contains(HasSubstr("verified up to client-ca")));
  EXPECT_THAT(outcome.of("plugin", "OK").front(), HasSubstr("sqlite-agenda"));
  // Nothing was started nor created: the SQLite store does not exist yet.
  EXPECT_FALSE(fs::exists(dir_ / "host.db"));
}

TEST_F(CheckConfig, JsonHasOneEntryPerCheck) {
  set("tls-key", (pki_ / "client-key.pem").string());  // one FAIL among the OKs
  const Outcome text = check();
  const Outcome json = check({"--json"});
  EXPECT_EQ(json.exit_code, 1);
  const boost::json::value document = boost::json::parse(json.out);
  const auto& checks = document.at("checks").as_array();
  EXPECT_EQ(checks.size(), text.lines.size());
  EXPECT_EQ(document.at("status").as_string(), "FAIL");
  std::size_t failing = 0;
  for (const auto& entry : checks) {
    for (const char* field : {"key", "check", "status", "message"}) EXPECT_TRUE(entry.as_object().contains(field));
    if (entry.at("status").as_string() == "FAIL") {
      ++failing;
      EXPECT_EQ(entry.at("key").as_string(), "tls-key");
    }
  }
  EXPECT_EQ(failing, 1U) << json.out;
}

TEST_F(CheckConfig, UsageErrorsExitTwo) {
  EXPECT_EQ(run({sas::test::bin("sas-host"), "check-config"}).exit_code, 2);
  EXPECT_EQ(run({sas::test::bin("sas-host"), "check-config", write_config().string(), "--warn-days", "-1"}).exit_code,
            2);
  EXPECT_EQ(run({sas::test::bin("sas-host"), "check-config", write_config().string(), "--bogus"}).exit_code, 2);
}

TEST_F(CheckConfig, AnUnknownKeyIsNamedAsServeNamesIt) {
  set("tls-certificate", "x.pem");
  expect_fail("config", "unrecognised option 'tls-certificate'");
  const auto serve = run({sas::test::bin("sas-host"), "serve", "--config", write_config().string()});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("unrecognised option 'tls-certificate'"));
}

TEST_F(CheckConfig, AValueServeRefusesIsRefusedWithServesMessage) {
  set("unset-doctors", "maybe");
  expect_fail("unset-doctors", "--unset-doctors 'maybe': expected publish or withhold");
  const auto serve = run({sas::test::bin("sas-host"), "serve", "--config", write_config().string()});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("--unset-doctors 'maybe': expected publish or withhold"));
}

// Found by fuzz/host_config: Boost.Program_options' message for a value holding "%value%" never
// ended, and check-config and serve hung (fuzz/regressions/host_config/).
TEST_F(CheckConfig, AValueHoldingAMessagePlaceholderIsRefusedRatherThanHanging) {
  set("request-deadline-ms", "8%value%");
  expect_fail("config", "the argument ('8?value?') for option 'request-deadline-ms' is invalid");
  const auto serve =
      run({sas::test::bin("sas-host"), "serve", "--config", write_config().string()}, std::chrono::seconds(30));
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("for option 'request-deadline-ms' is invalid"));
}

TEST_F(CheckConfig, AnUnknownLogFormatIsRefusedByBoth) {
  set("log-format", "xml");
  expect_fail("log-format", "--log-format 'xml': expected json or text");
  const auto serve = run({sas::test::bin("sas-host"), "serve", "--config", write_config().string()});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("--log-format 'xml': expected json or text"));
}

TEST_F(CheckConfig, AMissingRequiredKeyIsNamed) {
  erase("plugin");
  expect_fail("config", "'--plugin' is required");
}

TEST_F(CheckConfig, AMissingFileIsNamed) {
  set("tls-cert", (dir_ / "missing.pem").string());
  expect_fail("tls-cert", "missing.pem: no such file");
}

TEST_F(CheckConfig, AKeyThatCannotBeReadOrIsNotPrivateFails) {
  set("tls-key", pki_.string());  // a directory
  expect_fail("tls-key", "not a regular file (a directory)");

  const fs::path key = dir_ / "server-key.pem";
  fs::copy_file(pki_ / "server-key.pem", key);
  set("tls-key", key.string());
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  expect_fail("tls-key", "readable or writable by others (mode 0604)");

  // Readable by the group of the user checking (root:sas 0640 checked as sas): private enough.
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ASSERT_EQ(::chown(key.c_str(), static_cast<uid_t>(-1), ::getegid()), 0);
  const Outcome own_group = check();
  EXPECT_EQ(own_group.exit_code, 0) << describe(own_group);
  EXPECT_FALSE(own_group.of("tls-key", "OK").empty()) << describe(own_group);
  // Readable by another group: a warning (fine only if that group is the service's alone).
  if (::chown(key.c_str(), static_cast<uid_t>(-1), ::getegid() == 65534 ? 65533 : 65534) == 0) {
    const Outcome group = check();
    EXPECT_EQ(group.exit_code, 0) << describe(group);
    EXPECT_FALSE(group.of("tls-key", "WARN").empty()) << describe(group);
  }

  // Mode 000: access(2) refuses every user but root, who reads everything.
  if (::getuid() != 0) {
    fs::permissions(key, fs::perms::none);
    expect_fail("tls-key", "not readable by this user");
  }
}

TEST_F(CheckConfig, AKeyOfAnotherIdentityDoesNotMatchItsCertificate) {
  set("tls-key", (pki_ / "client-key.pem").string());
  expect_fail("tls-key", "does not match tls-cert");
  set("tls-key", (pki_ / "server-key.pem").string());
  set("sas-key", (pki_ / "server-key.pem").string());
  expect_fail("sas-key", "does not match sas-cert");
}

TEST_F(CheckConfig, AnExpiredOrNotYetValidServerCertificateFails) {
  sas::pki::TestPkiOptions past;
  past.now = std::chrono::system_clock::now() - std::chrono::days(400);
  past.validity_days = 365;
  issue_server(pki_, "server-expired", past);
  set("tls-cert", (pki_ / "server-expired.pem").string());
  set("tls-key", (pki_ / "server-expired-key.pem").string());
  expect_fail("tls-cert", "expired on");

  sas::pki::TestPkiOptions future;
  future.now = std::chrono::system_clock::now() + std::chrono::days(10);
  issue_server(pki_, "server-future", future);
  set("tls-cert", (pki_ / "server-future.pem").string());
  set("tls-key", (pki_ / "server-future-key.pem").string());
  expect_fail("tls-cert", "not valid before");
}

TEST_F(CheckConfig, CertificatesAndCrlExpiringWithinTheWarningDaysWarn) {
  const fs::path soon = dir_ / "pki-10-days";
  ASSERT_EQ(run({sas::test::bin("sas-sim"), "pki", "--out", soon.string(), "--days", "10"}).exit_code, 0);
  for (const char* name : {"server", "ca", "crl", "vendor"}) {
    const std::string stem = name;
    for (auto& [key, value] : keys_) {
      if (value == (pki_ / (stem + ".pem")).string()) value = (soon / (stem + ".pem")).string();
      if (value == (pki_ / (stem + "-key.pem")).string()) value = (soon / (stem + "-key.pem")).string();
    }
  }
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);  // warnings only
  for (const char* key : {"tls-cert", "client-ca", "client-crl", "sas-cert", "sas-ca"}) {
    const auto warnings = outcome.of(key, "WARN");
    ASSERT_EQ(warnings.size(), 1U) << key << "\n" << describe(outcome);
    EXPECT_THAT(warnings.front(), HasSubstr("(expiry)"));
    EXPECT_THAT(warnings.front(), testing::AnyOf(HasSubstr("(in 9 days)"), HasSubstr("(in 10 days)")));
  }
  const Outcome fewer = check({"--warn-days", "5"});
  EXPECT_EQ(fewer.exit_code, 0);
  for (const auto& line : fewer.lines) EXPECT_EQ(line.rfind("OK   ", 0), 0U) << line;
}

TEST_F(CheckConfig, AServerCertificateFromAnotherCaThanClientCaFails) {
  const fs::path other = dir_ / "other-ca";
  fs::create_directories(other);
  fs::copy_file(pki_ / "other-ca.pem", other / "ca.pem");
  fs::copy_file(pki_ / "other-ca-key.pem", other / "ca-key.pem");
  issue_server(other, "server", {});
  set("tls-cert", (other / "server.pem").string());
  set("tls-key", (other / "server-key.pem").string());
  expect_fail("tls-cert", "does not verify up to a CA of client-ca: unable to get local issuer certificate");
}

TEST_F(CheckConfig, AnExpiredCrlFails) {
  sas::pki::TestPkiOptions past;
  past.now = std::chrono::system_clock::now() - std::chrono::days(400);
  past.validity_days = 365;
  sas::pki::write_crl(pki_, {}, past);
  expect_fail("client-crl", "has passed");
}

TEST_F(CheckConfig, ACrlOfAForeignCaFails) {
  // Another test PKI: a CA of the same name, with another key.
  const fs::path foreign = dir_ / "foreign";
  sas::pki::write_test_pki(foreign);
  set("client-crl", (foreign / "crl.pem").string());
  expect_fail("client-crl", "signed by none of client-ca's CAs");
  sas::test::write_file(dir_ / "broken.crl.pem", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
  set("client-crl", (dir_ / "broken.crl.pem").string());
  expect_fail("client-crl", "does not parse");
}

TEST_F(CheckConfig, AMalformedAllowedSubjectFails) {
  set("allow-client-subject", "CN=sas.sante.fr");
  expect_fail("allow-client-subject", "needs both CN and OU");
}

TEST_F(CheckConfig, ABaseUrlTheServerCertificateDoesNotNameFails) {
  set("base-url", "https://agenda.example.fr/sas");
  expect_fail("base-url", "host agenda.example.fr is not a name of tls-cert");
}

TEST_F(CheckConfig, AStoreWrittenByANewerHostFailsAndIsLeftUntouched) {
  const fs::path db = dir_ / "newer.db";
  sas::test::sqlite_exec(db, "PRAGMA user_version = 99");
  set("store", "sqlite:" + db.string());
  expect_fail("store", "schema version 99 is newer than this sas-host");

  // An older store is reachable, and not migrated by the check.
  const fs::path old = dir_ / "old.db";
  sas::test::sqlite_exec(old, "CREATE TABLE t (x); PRAGMA user_version = 2");
  set("store", "sqlite:" + old.string());
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
  EXPECT_THAT(outcome.of("store", "OK").front(), HasSubstr("schema version 2"));
  EXPECT_EQ(sas::test::sqlite_rows(old, "PRAGMA user_version").at(0).at(0), "2");
}

TEST_F(CheckConfig, AnUnreachablePostgresqlStoreFails) {
  set("store", "postgresql://sas@127.0.0.1:" + std::to_string(sas::test::free_port()) + "/sas");
  expect_fail("store", "cannot connect");
}

TEST_F(CheckConfig, ABrokenPluginFileFails) {
  sas::test::write_file(dir_ / "libbroken.so", "not an ELF file");
  set("plugin", (dir_ / "libbroken.so").string());
  expect_fail("plugin", "libbroken.so");
}

TEST_F(CheckConfig, ProcessIsolationNeedsItsRunner) {
  set("plugin-isolation", "process");
  const Outcome outcome = check();  // the runner of the build tree
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
  EXPECT_FALSE(outcome.of("plugin-runner", "OK").empty()) << describe(outcome);
  set("plugin-runner", (dir_ / "no-runner").string());
  expect_fail("plugin-runner", "no-runner: no such file");
}

TEST_F(CheckConfig, ABadRuleFileFails) {
  sas::test::write_file(dir_ / "rules.json", "{ \"versions\": [ { \"id\": 3 } ] }");
  set("rules", (dir_ / "rules.json").string());
  expect_fail("rules", "rules.json");
}

// The limits of docs/reliability.md: a value out of its range is named by both commands.
TEST_F(CheckConfig, ALimitOutOfItsRangeIsRefusedByBoth) {
  const std::pair<const char*, const char*> cases[] = {
      {"max-target-bytes", "--max-target-bytes 100: expected 1024 to 1048576"},
      {"max-body-bytes", "--max-body-bytes 0: expected 4096 to 67108864"},
      {"header-timeout-ms", "--header-timeout-ms 0: expected 100 to 600000"},
      {"admin-max-events-body-bytes", "--admin-max-events-body-bytes 100: expected 1024 to 67108864"},
      {"max-connections-per-client", "--max-connections-per-client 300: expected 1 to 256"},
  };
  for (const auto& [key, message] : cases) {
    SCOPED_TRACE(key);
    const std::string text(message);
    const auto value = text.substr(text.find(' ') + 1, text.find(':') - text.find(' ') - 1);
    set(key, value);
    expect_fail(key, message);
    const auto serve = run({sas::test::bin("sas-host"), "serve", "--config", write_config().string()});
    EXPECT_EQ(serve.exit_code, 2);
    EXPECT_THAT(serve.err, HasSubstr(message));
    erase(key);
  }
  // Within range, and the per-client default follows a smaller max-connections.
  set("max-connections", "8");
  set("max-target-bytes", "4096");
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
}

TEST_F(CheckConfig, DeliveryKeysMustComeTogether) {
  erase("sas-cert");
  expect_fail("sas-cert", "--sas-cert is required with --sas-base");

  // The other way round: the files without sas-base are unused, a warning.
  set("sas-cert", (pki_ / "vendor.pem").string());
  erase("sas-base");
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
  EXPECT_THAT(outcome.of("sas-cert", "WARN"), testing::Contains(HasSubstr("without sas-base")));
}

TEST_F(CheckConfig, ThePanelKeysAreCheckedAsServeChecksThem) {
  sas::test::write_file(dir_ / "panel.key", std::string(48, 'p') + "\n");
  fs::permissions(dir_ / "panel.key", fs::perms::owner_read | fs::perms::owner_write);
  set("panel-key-file", (dir_ / "panel.key").string());
  set("panel-token-max-ttl-s", "900");
  set("panel-frame-ancestors", "HTTPS://Agenda.Example.fr:8443/ http://localhost:8080");
  const Outcome outcome = check();
  EXPECT_EQ(outcome.exit_code, 0) << describe(outcome);
  EXPECT_THAT(outcome.of("panel-key-file", "OK"), testing::Contains(HasSubstr("private, 48 characters")));
  EXPECT_THAT(outcome.of("panel-token-max-ttl-s", "OK"), testing::Contains(HasSubstr("at most 900 s")));
  EXPECT_THAT(outcome.of("panel-frame-ancestors", "OK"),
              testing::Contains(HasSubstr("frame-ancestors https://agenda.example.fr:8443 http://localhost:8080")));

  set("panel-frame-ancestors", "https://*.example.fr");
  expect_fail("panel-frame-ancestors", "no path, query, user or wildcard");
  set("panel-frame-ancestors", "'none' https://agenda.example.fr");
  expect_fail("panel-frame-ancestors", "'none' cannot be combined");
  erase("panel-frame-ancestors");
  set("panel-token-max-ttl-s", "100000");
  expect_fail("panel-token-max-ttl-s", "expected 60 to 86400 seconds");
  erase("panel-token-max-ttl-s");
  set("panel-key-file", (dir_ / "admin.token").string());
  expect_fail("panel-key-file", "--panel-key-file holds the admin token");
  erase("admin-listen");
  erase("admin-token-file");
  expect_fail("panel-key-file", "--panel-key-file needs --admin-listen");
}

}  // namespace
