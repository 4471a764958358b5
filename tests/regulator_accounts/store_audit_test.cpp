// The host's audit of account requests (store migration 2), in process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sas/host/store/store.hpp>
#include <set>
#include <thread>

#include "accounts_harness.hpp"

namespace {

using sas::host::AccountRequest;
using sas::host::AccountRequestOutcome;
using sas::host::Store;
using sas::host::StoreError;
using namespace std::chrono_literals;

class StoreAuditTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("store-audit"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string url() const { return "sqlite:" + (dir_ / "host.db").string(); }
  std::filesystem::path dir_;
};

AccountRequest request(const std::string& body) {
  const auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(1795462968123456));
  return AccountRequest{at,
                        "PUT",
                        "/sas/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899",
                        "CN=sas.sante.fr,OU=SAS",
                        "127.0.0.1:5555",
                        "application/fhir+json",
                        body};
}

TEST_F(StoreAuditTest, RecordsARequestThenItsOutcomeAndKeepsThemAcrossReopening) {
  // Bytes as received, even ones that are not UTF-8: a replay resends exactly these.
  const std::string body = std::string("{\"resourceType\":\"Practitioner\"}\0\xff", 33);
  int64_t id = 0;
  {
    auto store = Store::open(url());
    EXPECT_EQ(store->schema_version(), 5);
    id = store->record_account_request(request(body));
    auto records = store->account_requests();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].id, id);
    EXPECT_FALSE(records[0].outcome) << "not finished yet";
    AccountRequestOutcome outcome;
    outcome.finished_at = request(body).received_at + 15ms;
    outcome.operation = "conditional-update";
    outcome.national_id = "810002673899";
    outcome.active = false;
    outcome.outcome = "updated";
    outcome.http_status = 200;
    outcome.account_id = "acc-1";
    store->record_account_outcome(id, outcome);
  }
  auto store = Store::open(url());
  EXPECT_EQ(store->schema_version(), 5);
  auto records = store->account_requests();
  ASSERT_EQ(records.size(), 1U);
  const auto& r = records[0];
  EXPECT_EQ(r.request.received_at, request(body).received_at);
  EXPECT_EQ(r.request.method, "PUT");
  EXPECT_EQ(r.request.target, "/sas/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899");
  EXPECT_EQ(r.request.client, "CN=sas.sante.fr,OU=SAS");
  EXPECT_EQ(r.request.body, body);
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(r.outcome->finished_at - r.request.received_at, 15ms);
  EXPECT_EQ(r.outcome->operation, "conditional-update");
  EXPECT_EQ(r.outcome->national_id, "810002673899");
  EXPECT_EQ(r.outcome->sas_id, "");
  EXPECT_EQ(r.outcome->active, false);
  EXPECT_EQ(r.outcome->outcome, "updated");
  EXPECT_EQ(r.outcome->http_status, 200);
  EXPECT_EQ(r.outcome->account_id, "acc-1");
  EXPECT_THROW(store->record_account_outcome(id + 1, AccountRequestOutcome{}), StoreError);
}

TEST_F(StoreAuditTest, PagesOldestFirst) {
  auto store = Store::open(url());
  for (int i = 0; i < 5; ++i) store->record_account_request(request(std::to_string(i)));
  auto first = store->account_requests(0, 2);
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[1].request.body, "1");
  auto rest = store->account_requests(first[1].id, 100);
  ASSERT_EQ(rest.size(), 3U);
  EXPECT_EQ(rest[0].request.body, "2");
}

TEST_F(StoreAuditTest, ConcurrentRequestsGetDistinctRecords) {
  auto store = Store::open(url());
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> ids(8);
  for (size_t t = 0; t < ids.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) ids[t].push_back(store->record_account_request(request("x")));
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 200U);
  EXPECT_EQ(store->account_requests(0, 1000).size(), 200U);
}

TEST_F(StoreAuditTest, AVersion1StoreIsMigratedInPlace) {
  const auto path = dir_ / "host.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "INSERT INTO host_meta VALUES ('created_by', 'sas-host'); PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::open(url());
  EXPECT_EQ(store->schema_version(), 5);
  EXPECT_EQ(sas::accounts_test::sql(path, "SELECT value FROM host_meta WHERE key = 'created_by'"),
            (std::vector<std::vector<std::string>>{{"sas-host"}}));
  EXPECT_GT(store->record_account_request(request("{}")), 0);
}

}  // namespace
