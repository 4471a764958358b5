// The SQLite backend's own behaviour: store URLs, the file it creates, migrations from older
// schemas, and a file from a newer host. What every backend promises is in contract_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

namespace store = sas::host::store;
using testing::HasSubstr;

std::string open_error(const std::string& url) {
  try {
    store::open(url);
  } catch (const store::StoreError& e) {
    return e.what();
  }
  return "accepted";
}

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("sqlite-store"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path db() const { return dir_ / "host.db"; }
  std::string url() const { return "sqlite:" + db().string(); }
  std::filesystem::path dir_;
};

TEST_F(SqliteStoreTest, CreatesTheFileAtTheCurrentSchemaAndReopensIt) {
  {
    const auto s = store::open(url());
    EXPECT_EQ(s.backend, "sqlite");
    EXPECT_EQ(s.url, url());
    // 2: INT_R02 audit, 3: SAS consultations, 4: INT_R03 outbox, 5: doctor settings
    EXPECT_EQ(s.schema_version, 5);
    ASSERT_TRUE(s.account_audit && s.consultations && s.outbox && s.doctor_settings);
  }
  EXPECT_TRUE(std::filesystem::exists(db()));
  EXPECT_EQ(store::open(url()).schema_version, 5);
  EXPECT_EQ(sas::test::sqlite_rows(db(), "PRAGMA journal_mode")[0][0], "wal");
}

TEST_F(SqliteStoreTest, BadUrlsAreRefusedWithTheKeyNamed) {
  EXPECT_THAT(open_error("mysql://x"), HasSubstr("--store mysql:...: unknown store URL scheme"));
  // A mistyped PostgreSQL URL: its password stays out of the message (docs/deployment.md).
  EXPECT_THAT(
      open_error("postgresq://sas:s3cret@db:5432/sas"),
      testing::AllOf(HasSubstr("--store postgresq:...: unknown store URL scheme"), testing::Not(HasSubstr("s3cret"))));
  EXPECT_THAT(open_error("sqlite:"), HasSubstr("needs a file path"));
  EXPECT_THAT(open_error("sqlite:/nonexistent-dir/x/host.db"), HasSubstr("cannot open"));
}

TEST_F(SqliteStoreTest, RefusesAStoreFromANewerHost) {
  store::open(url());
  auto result = sas::test::run({"/usr/bin/sqlite3", db().string(), "PRAGMA user_version = 99"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(open_error(url()), HasSubstr("schema version 99 is newer"));
}

TEST_F(SqliteStoreTest, AnOlderStoreIsMigratedInPlaceKeepingItsRows) {
  // Schema 2 as an older sas-host left it, with one audit row.
  auto result = sas::test::run(
      {"/usr/bin/sqlite3", db().string(),
       "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO host_meta VALUES ('created_by', 'sas-host');"
       "CREATE TABLE regulator_account_request (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL,"
       " method TEXT NOT NULL, target TEXT NOT NULL, client TEXT NOT NULL, remote TEXT NOT NULL,"
       " content_type TEXT NOT NULL, body BLOB NOT NULL, finished_at INTEGER, operation TEXT, national_id TEXT,"
       " sas_id TEXT, active INTEGER, outcome TEXT, http_status INTEGER, account_id TEXT, plugin_status TEXT,"
       " diagnostics TEXT);"
       "INSERT INTO regulator_account_request (received_at, method, target, client, remote, content_type, body)"
       " VALUES (1, 'POST', '/Practitioner', '', '', 'application/fhir+json', '{}');"
       "PRAGMA user_version = 2;"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto s = store::open(url());
  EXPECT_EQ(s.schema_version, 5);
  const auto old = s.account_audit->requests();
  ASSERT_EQ(old.size(), 1U);
  EXPECT_EQ(old[0].request.method, "POST");
  EXPECT_EQ(sas::test::sqlite_rows(db(), "SELECT value FROM host_meta WHERE key = 'created_by'")[0][0], "sas-host");
  // The tables of the later versions are there and work.
  EXPECT_EQ(s.outbox->counts().pending, 0);
  EXPECT_TRUE(s.doctor_settings->rules("").empty());
}

TEST_F(SqliteStoreTest, TwoHostsOpeningANewFileAtOnceMigrateItOnce) {
  std::vector<std::thread> hosts;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    hosts.emplace_back([&] {
      if (store::open(url()).schema_version == 5) ++opened;
    });
  }
  for (auto& h : hosts) h.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(sas::test::sqlite_rows(db(), "SELECT COUNT(*) FROM host_meta")[0][0], "1");
}

}  // namespace
