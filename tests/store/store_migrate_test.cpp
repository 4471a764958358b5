// sas-host store migrate: a SQLite store with every kind of row and state, copied to a new
// PostgreSQL database, then compared row by row, column by column; the copy goes on working
// (ids continue, the outbox's order and leases hold); a non-empty target is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <postgres_cluster.hpp>
#include <sas/host/store/migrate.hpp>
#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>

namespace {

namespace store = sas::host::store;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;
using sas::test::PostgresCluster;
using testing::HasSubstr;

const Clock::time_point kT0 = Clock::time_point(std::chrono::microseconds(1795462968123456));

// Every table, every column, as text on both sides (bytes as hex).
const std::vector<std::pair<std::string, std::string>> kTables = {
    {"regulator_account_request",
     "id, received_at, method, target, client, remote, content_type, $HEX(body), finished_at, operation, "
     "national_id, sas_id, active, outcome, http_status, account_id, plugin_status, diagnostics"},
    {"sas_consultation",
     "id, consultation_id, practitioner_id, consulted_at, regulated_at, week_start, consultation, code, "
     "parcours_indicator, amount_cents, rule_set, decision, recorded_at"},
    {"appointment_outbox",
     "id, appointment_key, sequence, event, event_json, resource, reported_at, state, attempts, next_attempt_at, "
     "delivered_at, method, http_status, last_error, outcome"},
    {"doctor_setting_change", "id, practitioner, field, value, effective_at, recorded_at, changed_by, source"},
    {"publication_rule", "id, practitioner, rule, created_at, created_by, source, removed_at, removed_by"},
};

std::string with_hex(std::string columns, const std::string& hex) {
  const auto at = columns.find("$HEX(body)");
  if (at != std::string::npos) columns.replace(at, 10, hex);
  return columns;
}

void fill(store::Store& s) {
  namespace appointment_notifications = sas::host::appointment_notifications;
  namespace ra = sas::host::regulator_accounts;
  // Audit: a finished request, an unfinished one, a body with NUL and non-UTF-8 bytes.
  const int64_t first =
      s.account_audit->record_request({kT0, "PUT", "/Practitioner?identifier=x|1", "CN=sas", "127.0.0.1:1",
                                       "application/fhir+json", std::string("{\"a\":1}\0\xff", 9)});
  ra::AccountRequestOutcome outcome;
  outcome.finished_at = kT0 + 1s;
  outcome.operation = "update";
  outcome.active = true;
  outcome.outcome = "updated";
  outcome.http_status = 200;
  s.account_audit->record_outcome(first, outcome);
  s.account_audit->record_request({kT0 + 2s, "POST", "/Practitioner", "", "", "", "{}"});
  // Consultations: SNP and none.
  for (int i = 0; i < 3; ++i) {
    sas::host::billing::ConsultationRecord c;
    c.consultation_id = "c" + std::to_string(i);
    c.practitioner_id = "810002673899";
    c.consulted_at = kT0 + std::chrono::hours(i);
    c.regulated_at = kT0 - 1h;
    c.week_start = "2026-11-23";
    c.consultation = "{}";
    c.recorded_at = kT0 + 3h;
    s.consultations->record(c, [&](int before, sas::host::billing::ConsultationRecord& row) {
      row.code = i == 2 ? "none" : "SNP";
      row.amount_cents = i == 2 ? 0 : 1500;
      row.rule_set = "test";
      row.decision = std::to_string(before);
    });
  }
  // Outbox: delivered, dead (with a held event behind it), retried, claimed and never finished.
  s.outbox->enqueue({{"k|a", "booked", "{}", "{\"status\":\"booked\"}", kT0},
                     {"k|b", "booked", "{}", "{}", kT0},
                     {"k|c", "booked", "{}", "{}", kT0},
                     {"k|d", "booked", "{}", "{}", kT0}});
  s.outbox->enqueue({{"k|b", "cancelled", "{}", "{}", kT0 + 1s}, {"k|a", "cancelled", "{}", "{}", kT0 + 1s}});
  const auto claimed = s.outbox->claim(kT0 + 2s, 10, kT0 + 1h);
  ASSERT_EQ(claimed.size(), 4U);
  using Kind = appointment_notifications::DeliveryOutcome::Kind;
  s.outbox->finish({{claimed[0].id, Kind::delivered, "POST", 201, "", "{}", kT0 + 3s, kT0 + 3s},
                    {claimed[1].id, Kind::dead, "POST", 422, "HTTP 422", "{\"oo\":1}", kT0 + 3s, kT0 + 3s},
                    {claimed[2].id, Kind::retry, "POST", 503, "HTTP 503", "", kT0 + 3s, kT0 + 60s}});
  // Settings and rules, one removed.
  s.doctor_settings->record_changes({{0, "810001", "visible", "false", kT0, kT0 + 1s, "dr", "cli"},
                                     {0, "810001", "phone", "", kT0, kT0 + 1s, "dr", "cli"}});
  const int64_t rule =
      s.doctor_settings->add_rule({0, "810001", "{\"kind\":\"x\"}", kT0, "dr", "cli", {}, ""}, [](const auto&) {});
  s.doctor_settings->add_rule({0, "810001", "{\"kind\":\"y\"}", kT0, "dr", "cli", {}, ""}, [](const auto&) {});
  s.doctor_settings->remove_rule("810001", rule, kT0 + 5s, "op");
}

class StoreMigrateTest : public testing::Test {
 protected:
  StoreMigrateTest()
      : dir_(sas::test::make_temp_dir("store-migrate")), to_(PostgresCluster::shared().create_database()) {}
  ~StoreMigrateTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path db() const { return dir_ / "host.db"; }
  std::string from() const { return "sqlite:" + db().string(); }
  std::string database() const { return to_.substr(to_.rfind('/') + 1); }
  std::filesystem::path dir_;
  std::string to_;
};

TEST_F(StoreMigrateTest, CopiesEveryRowOfEveryTableAsItIs) {
  {
    auto s = store::open(from());
    fill(s);
  }
  const auto copied = store::migrate_store(from(), to_);
  ASSERT_EQ(copied.size(), kTables.size());
  for (const auto& [table, columns] : kTables) {
    const auto source = sas::test::sqlite_rows(
        db(), "SELECT " + with_hex(columns, "lower(hex(body))") + " FROM " + table + " ORDER BY id", "NULL");
    const auto target = PostgresCluster::shared().rows(
        database(), "SELECT " + with_hex(columns, "encode(body, 'hex')") + " FROM " + table + " ORDER BY id", "NULL");
    EXPECT_FALSE(source.empty()) << table;
    EXPECT_EQ(source, target) << table;
    const auto it = std::find_if(copied.begin(), copied.end(), [&](const auto& c) { return c.first == table; });
    ASSERT_NE(it, copied.end());
    EXPECT_EQ(it->second, static_cast<int64_t>(source.size())) << table;
  }
  // The copy is a working store: ids go on, the dead letter still holds its appointment's next
  // event, the claimed-but-unfinished row waits for its lease, the retry for its time.
  auto s = store::open(to_);
  const auto audit = s.account_audit->requests();
  EXPECT_GT(s.account_audit->record_request({kT0, "POST", "/", "", "", "", ""}), audit.back().id);
  const auto counts = s.outbox->counts();
  EXPECT_EQ(counts.delivered, 1);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_EQ(counts.blocked, 1);
  const auto now = s.outbox->claim(kT0 + 10s, 10, kT0 + 20s);
  ASSERT_EQ(now.size(), 1U) << "a's cancellation, after its delivered booking";
  EXPECT_EQ(now[0].appointment_key, "k|a");
  EXPECT_EQ(now[0].sequence, 2);
  s.outbox->finish({{now[0].id, sas::host::appointment_notifications::DeliveryOutcome::Kind::delivered, "PUT", 200, "", "",
                     kT0 + 11s, kT0 + 11s}});
  const auto later = s.outbox->claim(kT0 + 2h, 10, kT0 + 3h);
  EXPECT_EQ(later.size(), 2U) << "c's retry and d's expired lease";
  EXPECT_EQ(s.outbox->enqueue({{"k|a", "fulfilled", "{}", "{}", kT0}})[0].sequence, 3);
}

TEST_F(StoreMigrateTest, ANonEmptyTargetIsRefusedAndLeftAsItWas) {
  {
    auto s = store::open(from());
    fill(s);
  }
  auto target = store::open(to_);
  target.doctor_settings->record_changes({{0, "810009", "visible", "true", kT0, kT0, "x", "cli"}});
  try {
    store::migrate_store(from(), to_);
    FAIL() << "a non-empty target was accepted";
  } catch (const store::StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("doctor_setting_change is not empty"));
  }
  EXPECT_EQ(target.doctor_settings->changes("").size(), 1U);
  EXPECT_TRUE(target.outbox->rows("").empty());
  EXPECT_THROW(store::migrate_store("sqlite:" + (dir_ / "missing.db").string(), to_), store::StoreError);
}

TEST_F(StoreMigrateTest, TheCommandPrintsRowsPerTable) {
  {
    auto s = store::open(from());
    fill(s);
  }
  const auto result =
      sas::test::run({sas::test::bin("sas-host").string(), "store", "migrate", "--from", from(), "--to", to_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr(R"({"table":"appointment_outbox","rows":6})"));
  const auto again =
      sas::test::run({sas::test::bin("sas-host").string(), "store", "migrate", "--from", from(), "--to", to_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("is not empty"));
}

}  // namespace
