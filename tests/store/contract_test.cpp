// The repositories' contract: what each flow's repository promises (the comments of
// audit_repository.hpp, consultation_ledger.hpp, outbox_repository.hpp, repository.hpp), checked
// against every store backend (SQLite, PostgreSQL). A second `open()` of the same store stands for another host
// process: what is promised "across handles" is checked with two of them.
// A new backend joins by adding its fixture type to `Backends`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <postgres_cluster.hpp>
#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>
#include <set>
#include <thread>

namespace {

namespace store = sas::host::store;
namespace ra = sas::host::regulator_accounts;
namespace billing = sas::host::billing;
namespace appointment_notifications = sas::host::appointment_notifications;
namespace ds = sas::host::doctor_settings;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;
using testing::ElementsAre;

// ---- backends --------------------------------------------------------------------------------

struct SqliteBackend {
  static constexpr const char* kName = "Sqlite";
  SqliteBackend() : dir(sas::test::make_temp_dir("store-contract")) {}
  ~SqliteBackend() { std::filesystem::remove_all(dir); }
  std::string url() const { return "sqlite:" + (dir / "host.db").string(); }
  std::filesystem::path dir;
};

// A new database on the test process's throw-away PostgreSQL 15 cluster (postgres_cluster.hpp).
// No PostgreSQL: the fixture throws and every PostgreSQL test fails.
struct PostgresBackend {
  static constexpr const char* kName = "Postgres";
  PostgresBackend() : url_(sas::test::PostgresCluster::shared().create_database() + "?pool=3") {}
  std::string url() const { return url_; }
  std::string url_;
};

template <class Backend>
class StoreContract : public testing::Test {
 protected:
  // Each call is a new handle on the same store.
  store::Store open() { return store::open(backend_.url()); }
  Backend backend_;
};

using Backends = testing::Types<SqliteBackend, PostgresBackend>;
struct BackendName {
  template <class Backend>
  static std::string GetName(int) {
    return Backend::kName;
  }
};
TYPED_TEST_SUITE(StoreContract, Backends, BackendName);

// A time with microseconds, as every backend must keep them.
const Clock::time_point kT0 = Clock::time_point(std::chrono::microseconds(1795462968123456));

// Runs `work(handle, thread)` on `threads` threads over each of two handles at once.
template <class Work>
void on_two_handles(store::Store& a, store::Store& b, int threads, Work work) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { work(a, t); });
    running.emplace_back([&, t] { work(b, threads + t); });
  }
  for (auto& thread : running) thread.join();
}

// ---- INT_R02 audit ---------------------------------------------------------------------------

ra::AccountRequest account_request(const std::string& body) {
  return {kT0,
          "PUT",
          "/sas/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899",
          "CN=sas.sante.fr,OU=SAS",
          "127.0.0.1:5555",
          "application/fhir+json",
          body};
}

TYPED_TEST(StoreContract, AuditKeepsEveryFieldAndByteDurably) {
  // Bytes as received, even ones that are not UTF-8: a replay resends exactly these.
  const std::string body = std::string("{\"resourceType\":\"Practitioner\"}\0\xff", 33);
  int64_t id = 0;
  {
    auto s = this->open();
    id = s.account_audit->record_request(account_request(body));
    auto unfinished = this->open().account_audit->requests();
    ASSERT_EQ(unfinished.size(), 1U);
    EXPECT_EQ(unfinished[0].id, id);
    EXPECT_FALSE(unfinished[0].outcome) << "not finished yet";
    ra::AccountRequestOutcome outcome;
    outcome.finished_at = kT0 + 15ms;
    outcome.operation = "conditional-update";
    outcome.national_id = "810002673899";
    outcome.active = false;
    outcome.outcome = "updated";
    outcome.http_status = 200;
    outcome.account_id = "acc-1";
    s.account_audit->record_outcome(id, outcome);
  }
  auto s = this->open();
  const auto records = s.account_audit->requests();
  ASSERT_EQ(records.size(), 1U);
  const auto& r = records[0];
  EXPECT_EQ(r.request.received_at, kT0);
  EXPECT_EQ(r.request.method, "PUT");
  EXPECT_EQ(r.request.target, "/sas/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899");
  EXPECT_EQ(r.request.client, "CN=sas.sante.fr,OU=SAS");
  EXPECT_EQ(r.request.remote, "127.0.0.1:5555");
  EXPECT_EQ(r.request.content_type, "application/fhir+json");
  EXPECT_EQ(r.request.body, body);
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(r.outcome->finished_at, kT0 + 15ms);
  EXPECT_EQ(r.outcome->operation, "conditional-update");
  EXPECT_EQ(r.outcome->national_id, "810002673899");
  EXPECT_EQ(r.outcome->sas_id, "");
  EXPECT_EQ(r.outcome->active, false);
  EXPECT_EQ(r.outcome->outcome, "updated");
  EXPECT_EQ(r.outcome->http_status, 200);
  EXPECT_EQ(r.outcome->account_id, "acc-1");
  EXPECT_EQ(r.outcome->plugin_status, "");
  EXPECT_THROW(s.account_audit->record_outcome(id + 1, ra::AccountRequestOutcome{}), store::StoreError);
}

TYPED_TEST(StoreContract, AuditIdsIncreaseAndPageInOrder) {
  auto s = this->open();
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    const int64_t id = s.account_audit->record_request(account_request(std::to_string(i)));
    EXPECT_GT(id, last);
    last = id;
  }
  const auto first = s.account_audit->requests(0, 2);
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[1].request.body, "1");
  const auto rest = s.account_audit->requests(first[1].id, 100);
  ASSERT_EQ(rest.size(), 3U);
  EXPECT_EQ(rest[0].request.body, "2");
  EXPECT_EQ(rest[2].request.body, "4");
}

TYPED_TEST(StoreContract, AuditRequestsFromTwoHostsAtOnceAreAllKept) {
  auto a = this->open();
  auto b = this->open();
  std::vector<std::vector<int64_t>> ids(8);
  on_two_handles(a, b, 4, [&](store::Store& s, int t) {
    for (int i = 0; i < 25; ++i) ids[t].push_back(s.account_audit->record_request(account_request("x")));
  });
  std::set<int64_t> all;
  for (const auto& v : ids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 200U);
  EXPECT_EQ(a.account_audit->requests(0, 1000).size(), 200U);
}

// ---- consultation ledger ---------------------------------------------------------------------

billing::ConsultationRecord consultation(const std::string& id, Clock::time_point at,
                                         const std::string& practitioner = "810002673899") {
  billing::ConsultationRecord r;
  r.consultation_id = id;
  r.practitioner_id = practitioner;
  r.consulted_at = at;
  r.regulated_at = at - 2h;
  r.week_start = "2026-11-23";
  r.consultation = R"({"consultation_id":")" + id + "\"}";
  r.recorded_at = at + 1s;
  return r;
}

// The decision a test records: SNP while the week has room, and the count it was given.
void decide_snp_under_cap(int before, billing::ConsultationRecord& row) {
  row.code = before < 20 ? "SNP" : "none";
  row.parcours_indicator = before < 20 ? "U" : "";
  row.amount_cents = before < 20 ? 1500 : 0;
  row.rule_set = "test";
  row.decision = std::to_string(before);
}

TYPED_TEST(StoreContract, LedgerRecordsOnceAndGivesTheFirstDecisionBack) {
  auto s = this->open();
  int decided = 0;
  auto decide = [&](int before, billing::ConsultationRecord& row) {
    ++decided;
    decide_snp_under_cap(before, row);
  };
  auto [first, created] = s.consultations->record(consultation("c1", kT0), decide);
  EXPECT_TRUE(created);
  EXPECT_GT(first.id, 0);
  EXPECT_EQ(first.code, "SNP");
  auto [again, created_again] = this->open().consultations->record(consultation("c1", kT0 + 1h), decide);
  EXPECT_FALSE(created_again);
  EXPECT_EQ(decided, 1) << "a consultation already recorded is not decided again";
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.consulted_at, kT0) << "as it was recorded";
  EXPECT_EQ(again.code, "SNP");
  EXPECT_EQ(again.parcours_indicator, "U");
  EXPECT_EQ(again.amount_cents, 1500);
  EXPECT_EQ(again.decision, "0");
  EXPECT_EQ(again.recorded_at, kT0 + 1s);
}

TYPED_TEST(StoreContract, LedgerCountsSnpPerPractitionerAndWeek) {
  auto s = this->open();
  s.consultations->record(consultation("c1", kT0), decide_snp_under_cap);
  s.consultations->record(consultation("c2", kT0 + 1h), decide_snp_under_cap);
  s.consultations->record(consultation("other", kT0, "810100050075"), decide_snp_under_cap);
  auto mrt = consultation("c3", kT0 + 2h);
  s.consultations->record(mrt, [](int, billing::ConsultationRecord& row) { row.code = "MRT"; });
  auto next_week = consultation("c4", kT0 + 7 * 24h);
  next_week.week_start = "2026-11-30";
  s.consultations->record(next_week, decide_snp_under_cap);
  EXPECT_EQ(s.consultations->count_snp_in_week("810002673899", "2026-11-23"), 2);
  EXPECT_EQ(s.consultations->count_snp_in_week("810002673899", "2026-11-23", "c1"), 1);
  EXPECT_EQ(s.consultations->count_snp_in_week("810002673899", "2026-11-30"), 1);
  EXPECT_EQ(s.consultations->count_snp_in_week("810100050075", "2026-11-23"), 1);
  // The decision is given the count of the other consultations of its week.
  int seen = -1;
  s.consultations->record(consultation("c5", kT0 + 3h), [&](int before, billing::ConsultationRecord& row) {
    seen = before;
    decide_snp_under_cap(before, row);
  });
  EXPECT_EQ(seen, 2);
}

TYPED_TEST(StoreContract, LedgerWeeklyCapHoldsWithTwoHostsReportingAtOnce) {
  auto a = this->open();
  auto b = this->open();
  // 48 consultations of one doctor in one week, reported from two hosts with 4 threads each:
  // each decision must see every SNP recorded before it, so exactly 20 are SNP.
  on_two_handles(a, b, 4, [&](store::Store& s, int t) {
    for (int i = 0; i < 6; ++i) {
      const std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
      s.consultations->record(consultation(id, kT0 + std::chrono::minutes(t * 10 + i)), decide_snp_under_cap);
    }
  });
  const auto rows = a.consultations->consultations("810002673899", kT0 - 1h, kT0 + 24h);
  ASSERT_EQ(rows.size(), 48U);
  std::multiset<int> counts_seen_by_snp;
  for (const auto& row : rows) {
    if (row.code == "SNP") counts_seen_by_snp.insert(std::stoi(row.decision));
  }
  std::multiset<int> expected;
  for (int i = 0; i < 20; ++i) expected.insert(i);
  EXPECT_EQ(counts_seen_by_snp, expected) << "two decisions saw the same weekly count";
  EXPECT_EQ(b.consultations->count_snp_in_week("810002673899", "2026-11-23"), 20);
}

TYPED_TEST(StoreContract, LedgerRecordsNothingWhenTheDecisionFails) {
  auto s = this->open();
  EXPECT_THROW(s.consultations->record(consultation("c1", kT0),
                                       [](int, billing::ConsultationRecord&) { throw std::runtime_error("no rules"); }),
               std::runtime_error);
  EXPECT_TRUE(s.consultations->consultations("810002673899", kT0 - 24h, kT0 + 24h).empty());
  auto [row, created] = s.consultations->record(consultation("c1", kT0), decide_snp_under_cap);
  EXPECT_TRUE(created) << "the failed attempt left nothing behind";
}

TYPED_TEST(StoreContract, LedgerListsAHalfOpenRangeInTimeOrder) {
  auto s = this->open();
  s.consultations->record(consultation("late", kT0 + 2h), decide_snp_under_cap);
  s.consultations->record(consultation("early", kT0), decide_snp_under_cap);
  s.consultations->record(consultation("end", kT0 + 3h), decide_snp_under_cap);
  s.consultations->record(consultation("else", kT0 + 1h, "810100050075"), decide_snp_under_cap);
  std::vector<std::string> ids;
  for (const auto& r : s.consultations->consultations("810002673899", kT0, kT0 + 3h)) ids.push_back(r.consultation_id);
  EXPECT_THAT(ids, ElementsAre("early", "late"));
}

// ---- INT_R03 outbox --------------------------------------------------------------------------

appointment_notifications::NotificationInput notification(const std::string& appointment, const std::string& event,
                                                          Clock::time_point at = kT0) {
  return {"urn:oid:1.1.111.1.11.1.1.1|" + appointment, event, R"({"type":")" + event + "\"}",
          R"({"resourceType":"Appointment","status":")" + event + "\"}", at};
}

TYPED_TEST(StoreContract, OutboxNumbersEachAppointmentInReportOrderAcrossHosts) {
  auto a = this->open();
  auto b = this->open();
  on_two_handles(a, b, 4, [&](store::Store& s, int t) {
    for (int i = 0; i < 10; ++i) {
      // Two events per call, for two appointments shared by every thread.
      const auto ids = s.outbox->enqueue({notification("apt-" + std::to_string(i % 5), "booked"),
                                          notification("apt-" + std::to_string((i + t) % 5), "rescheduled")});
      ASSERT_EQ(ids.size(), 2U);
      EXPECT_LT(ids[0].id, ids[1].id) << "ids increase in input order";
    }
  });
  std::map<std::string, std::vector<int64_t>> sequences;
  int64_t last_id = 0;
  for (const auto& n : b.outbox->rows("", 0, 10000)) {
    EXPECT_GT(n.id, last_id);
    last_id = n.id;
    sequences[n.appointment_key].push_back(n.sequence);
    EXPECT_EQ(n.state, "pending");
    EXPECT_EQ(n.attempts, 0);
  }
  ASSERT_EQ(sequences.size(), 5U);
  std::size_t total = 0;
  for (const auto& [key, seq] : sequences) {
    for (std::size_t i = 0; i < seq.size(); ++i) EXPECT_EQ(seq[i], static_cast<int64_t>(i + 1)) << key;
    total += seq.size();
  }
  EXPECT_EQ(total, 160U);
}

TYPED_TEST(StoreContract, OutboxClaimsKeepEachAppointmentsOrderThroughRetriesAndDeadLetters) {
  auto s = this->open();
  s.outbox->enqueue({notification("a", "booked"), notification("b", "booked")});
  s.outbox->enqueue({notification("a", "rescheduled"), notification("a", "cancelled")});
  const auto now = kT0 + 1s;

  auto first = s.outbox->claim(now, 10, now + 5s);
  ASSERT_EQ(first.size(), 2U);  // a#1 and b#1; a#2 waits for a#1
  EXPECT_EQ(first[0].appointment_key, "urn:oid:1.1.111.1.11.1.1.1|a");
  EXPECT_EQ(first[0].sequence, 1);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_EQ(first[0].resource, R"({"resourceType":"Appointment","status":"booked"})");
  EXPECT_EQ(first[0].reported_at, kT0);
  EXPECT_EQ(first[1].appointment_key, "urn:oid:1.1.111.1.11.1.1.1|b");
  // The attempt is on disk before it is made: another handle sees it.
  EXPECT_EQ(this->open().outbox->rows("", 0, 1)[0].attempts, 1);

  // a#1 fails (retry in a minute), b#1 is refused (dead letter).
  using Kind = appointment_notifications::DeliveryOutcome::Kind;
  s.outbox->finish(
      {{first[0].id, Kind::retry, "POST", 503, "HTTP 503", "", now, now + 60s},
       {first[1].id, Kind::dead, "POST", 422, "HTTP 422", R"({"resourceType":"OperationOutcome"})", now, now}});
  EXPECT_TRUE(s.outbox->claim(now, 10, now + 5s).empty()) << "a#1 not due yet, b dead";
  auto counts = s.outbox->counts();
  EXPECT_EQ(counts.pending, 3);
  EXPECT_EQ(counts.dead, 1);
  EXPECT_EQ(counts.delivered, 0);
  EXPECT_EQ(counts.oldest_pending, kT0);
  EXPECT_EQ(s.outbox->next_due(), now + 60s);

  auto again = s.outbox->claim(now + 61s, 10, now + 61s + 5s);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].sequence, 1);
  EXPECT_EQ(again[0].attempts, 2) << "the second attempt is counted before it is made";
  EXPECT_EQ(again[0].method, "POST");
  EXPECT_EQ(again[0].last_error, "HTTP 503");
  s.outbox->finish({{again[0].id, Kind::delivered, "PUT", 201, "", "", now + 61s, now}});
  auto next = s.outbox->claim(now + 61s, 10, now + 61s + 5s);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].sequence, 2);
  const auto delivered = s.outbox->rows("delivered");
  ASSERT_EQ(delivered.size(), 1U);
  EXPECT_EQ(delivered[0].delivered_at, now + 61s);
  EXPECT_EQ(delivered[0].http_status, 201);

  // The dead letter, with the platform's answer, then replayed.
  const auto dead = s.outbox->rows("dead");
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].http_status, 422);
  EXPECT_EQ(dead[0].outcome, R"({"resourceType":"OperationOutcome"})");
  EXPECT_EQ(s.outbox->replay(dead[0].id + 100, now), 0U);
  EXPECT_EQ(s.outbox->replay(std::nullopt, now + 70s), 1U);
  EXPECT_EQ(s.outbox->counts().dead, 0);
  const auto replayed = s.outbox->claim(now + 70s, 10, now + 70s + 5s);
  ASSERT_EQ(replayed.size(), 2U);  // b#1, and a#2, claimed above and never finished (as after a crash)
  EXPECT_EQ(replayed[0].appointment_key, "urn:oid:1.1.111.1.11.1.1.1|b");
  EXPECT_EQ(replayed[1].appointment_key, "urn:oid:1.1.111.1.11.1.1.1|a");
  EXPECT_EQ(replayed[1].attempts, 2) << "its first attempt's fate is unknown";
}

TYPED_TEST(StoreContract, OutboxClaimsFromTwoHostsAtOnceNeverShareARow) {
  auto a = this->open();
  auto b = this->open();
  std::vector<appointment_notifications::NotificationInput> inputs;
  for (int i = 0; i < 300; ++i) inputs.push_back(notification("apt-" + std::to_string(i), "booked"));
  a.outbox->enqueue(inputs);
  std::vector<std::vector<int64_t>> claimed(8);
  on_two_handles(a, b, 4, [&](store::Store& s, int t) {
    for (;;) {
      const auto rows = s.outbox->claim(kT0, 7, kT0 + 1h);
      if (rows.empty()) break;
      for (const auto& row : rows) {
        EXPECT_EQ(row.attempts, 1) << "claimed twice: " << row.id;
        claimed[t].push_back(row.id);
      }
    }
  });
  std::multiset<int64_t> all;
  for (const auto& v : claimed) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 300U);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 300U) << "a row was claimed by two callers";
  EXPECT_TRUE(a.outbox->claim(kT0 + 59min, 100, kT0 + 2h).empty()) << "every lease still runs";
  EXPECT_EQ(b.outbox->counts().pending, 300) << "leased rows are still pending";
}

TYPED_TEST(StoreContract, OutboxAnExpiredClaimIsClaimableAgainAndFinishEndsALease) {
  auto a = this->open();
  auto b = this->open();
  a.outbox->enqueue({notification("a", "booked"), notification("a", "cancelled"), notification("c", "booked")});
  // Host A claims and is killed before finishing: nobody gets the rows until the lease ends.
  ASSERT_EQ(a.outbox->claim(kT0, 10, kT0 + 30s).size(), 2U);
  EXPECT_TRUE(b.outbox->claim(kT0 + 10s, 10, kT0 + 40s).empty()) << "leased to A until kT0 + 30 s";
  EXPECT_EQ(b.outbox->next_due(), kT0 + 30s) << "when the lease ends";
  const auto taken_over = b.outbox->claim(kT0 + 30s, 10, kT0 + 90s);
  ASSERT_EQ(taken_over.size(), 2U);
  EXPECT_EQ(taken_over[0].sequence, 1);
  EXPECT_EQ(taken_over[0].attempts, 2) << "A's attempt counts: its POST may have reached the platform";
  EXPECT_EQ(taken_over[0].next_attempt_at, kT0 + 90s);
  // B finishes before its lease ends: a#1 delivered (a#2 is claimable at once), c#1 retried at
  // kT0 + 45 s, earlier than the lease.
  using Kind = appointment_notifications::DeliveryOutcome::Kind;
  b.outbox->finish({{taken_over[0].id, Kind::delivered, "PUT", 200, "", "", kT0 + 31s, kT0 + 31s},
                    {taken_over[1].id, Kind::retry, "POST", 503, "HTTP 503", "", kT0 + 31s, kT0 + 45s}});
  const auto next = a.outbox->claim(kT0 + 31s, 10, kT0 + 60s);
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].event, "cancelled");
  EXPECT_EQ(a.outbox->next_due(), kT0 + 45s) << "c#1's retry time, then a#2's lease";
  EXPECT_EQ(a.outbox->claim(kT0 + 45s, 10, kT0 + 60s).size(), 1U);
}

TYPED_TEST(StoreContract, OutboxHoldsLaterEventsBehindADeadLetter) {
  auto s = this->open();
  s.outbox->enqueue({notification("a", "booked"), notification("a", "cancelled")});
  const auto claimed = s.outbox->claim(kT0, 10, kT0 + 5s);
  ASSERT_EQ(claimed.size(), 1U);
  s.outbox->finish(
      {{claimed[0].id, appointment_notifications::DeliveryOutcome::Kind::dead, "POST", 400, "", "", kT0, kT0}});
  EXPECT_TRUE(s.outbox->claim(kT0 + 1h, 10, kT0 + 1h + 5s).empty());
  EXPECT_EQ(s.outbox->counts().blocked, 1);
  EXPECT_EQ(s.outbox->next_due(), std::nullopt) << "nothing is claimable until the dead letter is replayed";
}

// ---- doctor settings and publication rules ---------------------------------------------------

ds::SettingChangeRecord change(const std::string& practitioner, const std::string& field, const std::string& value,
                               Clock::time_point effective_at) {
  return {0, practitioner, field, value, effective_at, kT0 + 24h, "dr-martin", "admin-api"};
}

ds::PublicationRuleRecord rule(const std::string& practitioner, const std::string& json) {
  return {0, practitioner, json, kT0, "dr-martin", "admin-api", std::nullopt, ""};
}

TYPED_TEST(StoreContract, SettingsHistoryIsOrderedByEffectiveTimeThenRecording) {
  auto s = this->open();
  s.doctor_settings->record_changes(
      {change("810001", "volunteer", "true", kT0 + 2h), change("810002", "visible", "false", kT0)});
  s.doctor_settings->record_changes(
      {change("810001", "phone", "+33612345678", kT0 - 1h), change("810001", "visible", "true", kT0 + 2h)});
  const auto mine = this->open().doctor_settings->changes("810001");
  ASSERT_EQ(mine.size(), 3U);
  EXPECT_EQ(mine[0].field, "phone");
  EXPECT_EQ(mine[0].value, "+33612345678");
  EXPECT_EQ(mine[0].effective_at, kT0 - 1h);
  EXPECT_EQ(mine[0].recorded_at, kT0 + 24h);
  EXPECT_EQ(mine[0].changed_by, "dr-martin");
  EXPECT_EQ(mine[0].source, "admin-api");
  EXPECT_EQ(mine[1].field, "volunteer") << "same effective time: recording order";
  EXPECT_EQ(mine[2].field, "visible");
  EXPECT_LT(mine[1].id, mine[2].id);
  EXPECT_EQ(s.doctor_settings->changes("").size(), 4U);
}

TYPED_TEST(StoreContract, SettingsRuleCheckSeesTheActiveRulesAndARefusalWritesNothing) {
  auto s = this->open();
  const int64_t first = s.doctor_settings->add_rule(rule("810001", R"({"kind":"public-also-snp"})"),
                                                    [](const auto& active) { EXPECT_TRUE(active.empty()); });
  s.doctor_settings->add_rule(rule("810002", R"({"kind":"hide-motives","motives":["x"]})"), [](const auto&) {});
  std::vector<int64_t> seen;
  EXPECT_THROW(s.doctor_settings->add_rule(rule("810001", R"({"kind":"public-also-snp"})"),
                                           [&](const std::vector<ds::PublicationRuleRecord>& active) {
                                             for (const auto& r : active) seen.push_back(r.id);
                                             throw std::invalid_argument("conflict");
                                           }),
               std::invalid_argument);
  EXPECT_THAT(seen, ElementsAre(first)) << "only this practitioner's active rules";
  const auto rules = s.doctor_settings->rules("810001");
  ASSERT_EQ(rules.size(), 1U);
  EXPECT_EQ(rules[0].rule, R"({"kind":"public-also-snp"})");
  EXPECT_EQ(rules[0].created_at, kT0);
  EXPECT_EQ(s.doctor_settings->rules("").size(), 2U);
}

TYPED_TEST(StoreContract, SettingsConflictingRulesFromTwoHostsCannotBothPass) {
  auto a = this->open();
  auto b = this->open();
  std::atomic<int> added{0};
  std::atomic<int> refused{0};
  // Each host tries to add the practitioner's only `public-also-snp` rule, 4 threads each.
  on_two_handles(a, b, 4, [&](store::Store& s, int) {
    try {
      s.doctor_settings->add_rule(rule("810001", R"({"kind":"public-also-snp"})"), [](const auto& active) {
        if (!active.empty()) throw std::invalid_argument("conflict");
      });
      ++added;
    } catch (const std::invalid_argument&) {
      ++refused;
    }
  });
  EXPECT_EQ(added.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(a.doctor_settings->rules("810001").size(), 1U);
}

TYPED_TEST(StoreContract, SettingsRemovedRulesAreKeptAndMarked) {
  auto s = this->open();
  const int64_t id = s.doctor_settings->add_rule(rule("810001", R"({"kind":"public-also-snp"})"), [](const auto&) {});
  EXPECT_FALSE(s.doctor_settings->remove_rule("810002", id, kT0 + 1h, "op")) << "another practitioner's rule";
  EXPECT_FALSE(s.doctor_settings->remove_rule("810001", id + 1, kT0 + 1h, "op"));
  EXPECT_TRUE(s.doctor_settings->remove_rule("810001", id, kT0 + 1h, "op"));
  EXPECT_FALSE(s.doctor_settings->remove_rule("810001", id, kT0 + 2h, "op")) << "already removed";
  EXPECT_TRUE(s.doctor_settings->rules("810001").empty());
  const auto all = s.doctor_settings->rules("810001", true);
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].removed_at, kT0 + 1h);
  EXPECT_EQ(all[0].removed_by, "op");
}

TYPED_TEST(StoreContract, SettingsVersionMovesWithEveryWriteFromAnyHost) {
  auto a = this->open();
  auto b = this->open();
  auto v = a.doctor_settings->version();
  EXPECT_EQ(a.doctor_settings->version(), v) << "no write, no change";
  const auto moved = [&](const char* what) {
    const auto now = a.doctor_settings->version();
    EXPECT_NE(now, v) << what;
    v = now;
  };
  a.doctor_settings->record_changes({change("810001", "visible", "true", kT0)});
  moved("own setting change");
  b.doctor_settings->record_changes({change("810001", "visible", "false", kT0)});
  moved("another host's setting change");
  const int64_t id = b.doctor_settings->add_rule(rule("810001", R"({"kind":"public-also-snp"})"), [](const auto&) {});
  moved("another host's rule");
  a.doctor_settings->remove_rule("810001", id, kT0, "op");
  moved("own rule removal");
}

}  // namespace
