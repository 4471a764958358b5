// The PostgreSQL backend's own behaviour: store URLs (pool size, the password never shown),
// migrations (once however many hosts start at once; a database from a newer host refused),
// the connection pool. What every backend promises is in contract_test.cpp. Each test process
// runs its own throw-away PostgreSQL 15 (postgres_cluster.hpp): none installed, the tests fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <postgres_cluster.hpp>
#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

namespace store = sas::host::store;
using sas::test::PostgresCluster;
using testing::HasSubstr;
using testing::Not;

std::string open_error(const std::string& url) {
  try {
    store::open(url);
  } catch (const store::StoreError& e) {
    return e.what();
  }
  return "accepted";
}

class PostgresStoreTest : public testing::Test {
 protected:
  PostgresStoreTest() : url_(PostgresCluster::shared().create_database()) {}
  std::string database() const { return url_.substr(url_.rfind('/') + 1); }
  std::string url_;
};

TEST_F(PostgresStoreTest, CreatesTheSchemaAndReopensIt) {
  {
    const auto s = store::open(url_);
    EXPECT_EQ(s.backend, "postgresql");
    EXPECT_EQ(s.url, url_);
    EXPECT_EQ(s.schema_version, 5);
    ASSERT_TRUE(s.account_audit && s.consultations && s.outbox && s.doctor_settings);
  }
  EXPECT_EQ(store::open(url_).schema_version, 5);
  EXPECT_EQ(store::open("postgres" + url_.substr(10)).backend, "postgresql") << "postgres:// is the same";
}

TEST_F(PostgresStoreTest, ThePasswordIsNeverShown) {
  const std::string with_password =
      "postgresql://sas:s3cr%40t@127.0.0.1:" + std::to_string(PostgresCluster::shared().port()) + "/" + database();
  const auto s = store::open(with_password + "?pool=2&connect_timeout=5");
  EXPECT_THAT(s.url, Not(HasSubstr("s3cr"))) << s.url;
  EXPECT_EQ(s.url, "postgresql://sas@127.0.0.1:" + std::to_string(PostgresCluster::shared().port()) + "/" + database() +
                       "?connect_timeout=5")
      << "pool= is ours, the rest is libpq's";
  const std::string missing =
      "postgresql://sas:s3cr%40t@127.0.0.1:" + std::to_string(PostgresCluster::shared().port()) +
      "/no_such_db?password=other";
  const std::string error = open_error(missing);
  EXPECT_THAT(error, HasSubstr("--store postgresql://sas@127.0.0.1:"));
  EXPECT_THAT(error, HasSubstr("no_such_db"));
  EXPECT_THAT(error, HasSubstr("cannot connect"));
  EXPECT_THAT(error, Not(HasSubstr("s3cr")));
  EXPECT_THAT(error, Not(HasSubstr("other")));
}

TEST_F(PostgresStoreTest, BadUrlsAreRefusedWithWhatIsWrong) {
  EXPECT_THAT(open_error(url_ + "?pool=0"), HasSubstr("pool=0 must be a number of connections"));
  EXPECT_THAT(open_error(url_ + "?pool=x"), HasSubstr("pool=x must be"));
  EXPECT_THAT(open_error(url_ + "?no_such_option=1"), HasSubstr("cannot connect"));
  // Nothing listens there (a port that was free a moment ago).
  EXPECT_THAT(open_error("postgresql://sas@127.0.0.1:" + std::to_string(sas::test::free_port()) + "/x"),
              HasSubstr("cannot connect"));
}

TEST_F(PostgresStoreTest, RefusesADatabaseFromANewerHost) {
  store::open(url_);
  PostgresCluster::shared().exec(database(), "UPDATE sas_schema SET version = 99");
  const std::string error = open_error(url_);
  EXPECT_THAT(error, HasSubstr("schema version 99 is newer than this sas-host (5)"));
  EXPECT_THAT(error, HasSubstr(url_)) << "names the database";
}

TEST_F(PostgresStoreTest, HostsStartingAtOnceMigrateOnce) {
  std::atomic<int> opened{0};
  std::vector<std::thread> hosts;
  for (int i = 0; i < 8; ++i) {
    hosts.emplace_back([&] {
      if (store::open(url_).schema_version == 5) ++opened;
    });
  }
  for (auto& h : hosts) h.join();
  EXPECT_EQ(opened.load(), 8);
  // One row in the version table, one host_meta row: every migration ran once.
  PostgresCluster::shared().exec(database(),
                                 "DO $$ BEGIN IF (SELECT count(*) FROM sas_schema) <> 1 OR (SELECT count(*) FROM "
                                 "host_meta) <> 1 THEN RAISE EXCEPTION 'migrated twice'; END IF; END $$");
}

TEST_F(PostgresStoreTest, ThePoolOpensAtMostItsSizeAndSurvivesLostConnections) {
  auto s = store::open(url_ + "?pool=2");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) s.account_audit->record_request({{}, "POST", "/", "", "", "", "x"});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(s.account_audit->requests(0, 1000).size(), 160U);
  PostgresCluster::shared().exec(
      database(),
      "DO $$ BEGIN IF (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
      "pid <> pg_backend_pid()) > 2 THEN RAISE EXCEPTION 'more than 2 connections'; END IF; END $$");
  // The server drops every connection (a restart, a failover): calls may fail while the pool
  // finds out, each at most once per connection, then work again.
  PostgresCluster::shared().exec(database(),
                                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND pid <> pg_backend_pid()");
  int failures = 0;
  bool worked = false;
  for (int i = 0; i < 4 && !worked; ++i) {
    try {
      s.account_audit->record_request({{}, "POST", "/", "", "", "", "y"});
      worked = true;
    } catch (const store::StoreError& e) {
      ++failures;
      EXPECT_THAT(e.what(), HasSubstr("--store " + url_));
    }
  }
  EXPECT_TRUE(worked);
  EXPECT_LE(failures, 2);
}

}  // namespace
