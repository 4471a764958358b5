// INT_R03 durable outbox: schema 4, report() on disk before it returns, per-appointment
// sequences. The outbox repository's own guarantees are checked in tests/store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "sas/host/appointment_notifications/delivery.hpp"
#include "sas/host/appointment_notifications/host_calls.hpp"
#include "sas/host/appointment_notifications/outbox.hpp"
#include "sas/host/store/store.hpp"
#include "sas_test/support.hpp"

namespace {

using namespace sas::host;
using namespace sas::host::appointment_notifications;
using namespace std::chrono_literals;

Event event(const std::string& id, EventType type = EventType::booked, int hour = 14) {
  Event e;
  e.type = type;
  e.appointment_system = "urn:oid:1.1.111.1.11.1.1.1";
  e.appointment_id = id;
  e.regulator_id = "810002673899";
  e.practitioner_national_id = "810100050075";
  e.start = "2026-12-04T" + std::to_string(hour) + ":00:00+01:00";
  e.end = "2026-12-04T" + std::to_string(hour) + ":15:00+01:00";
  e.created = "2026-12-01T10:00:00+01:00";
  return e;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("outbox"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string url() const { return "sqlite:" + (dir_ / "host.db").string(); }
  std::filesystem::path db() const { return dir_ / "host.db"; }
  std::filesystem::path dir_;
};

TEST_F(OutboxTest, SchemaVersion4AndTheEventIsOnDiskWhenReportReturns) {
  const auto store = sas::host::store::open(url());
  EXPECT_EQ(store.schema_version, 5);
  Outbox outbox(store.outbox);
  const Reported r = outbox.report(event("a"));
  EXPECT_EQ(r.sequence, 1);
  // Another connection (another process would do the same) sees it committed.
  auto rows =
      sas::test::sqlite_rows(db(), "SELECT id, appointment_key, sequence, state, event FROM appointment_outbox");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0], (std::vector<std::string>{std::to_string(r.outbox_id), "urn:oid:1.1.111.1.11.1.1.1|a", "1",
                                               "pending", "booked"}));
  EXPECT_THROW(outbox.report(event("")), InvalidEvent);
  EXPECT_EQ(sas::test::sqlite_rows(db(), "SELECT COUNT(*) FROM appointment_outbox")[0][0], "1");
}

TEST_F(OutboxTest, ConcurrentReportsGetContiguousSequencesPerAppointment) {
  const auto store = sas::host::store::open(url());
  Outbox outbox(store.outbox);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&outbox, t] {
      for (int i = 0; i < 50; ++i) outbox.report(event("apt-" + std::to_string((t * 50 + i) % 20)));
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, std::vector<int64_t>> sequences;
  for (const auto& n : store.outbox->rows("", 0, 10000)) sequences[n.appointment_key].push_back(n.sequence);
  ASSERT_EQ(sequences.size(), 20U);
  for (const auto& [key, seq] : sequences) {
    ASSERT_EQ(seq.size(), 20U) << key;
    for (std::size_t i = 0; i < seq.size(); ++i) EXPECT_EQ(seq[i], static_cast<int64_t>(i + 1)) << key;
  }
}

// The plugin's entry point (HostRequest.appointment_event, ABI 1.3), from many threads at once.
TEST_F(OutboxTest, ThePluginEntryPointIsThreadSafeAndRefusesBadMessages) {
  const auto store = sas::host::store::open(url());
  Outbox outbox(store.outbox);
  std::vector<std::thread> threads;
  std::atomic<int> reported{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&outbox, &reported, t] {
      for (int i = 0; i < 20; ++i) {
        sas::plugin::v1::AppointmentEvent m;
        m.set_type(i == 0 ? sas::plugin::v1::APPOINTMENT_BOOKED : sas::plugin::v1::APPOINTMENT_RESCHEDULED);
        m.set_appointment_system("https://agenda.example.fr/rdv");
        m.set_appointment_id("thread-" + std::to_string(t));
        m.set_regulator_id_type(sas::plugin::v1::REGULATOR_ID_INTRN);
        m.set_regulator_id("0a1b2c3d-0000-4000-8000-000000000001");
        m.set_practitioner_national_id("10100050075");
        m.set_start_time(1764860400 + i * 3600);
        m.set_end_time(1764860400 + i * 3600 + 900);
        m.set_created_time(1764583200);
        if (outbox.report(m).sequence == i + 1) ++reported;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(reported.load(), 160);
  const auto rows = store.outbox->rows("", 0, 1000);
  ASSERT_EQ(rows.size(), 160U);
  for (const auto& row : rows) {
    EXPECT_THAT(row.resource, ::testing::HasSubstr("\"value\":\"810100050075\""));  // prefixed by the host
    EXPECT_THAT(row.resource, ::testing::HasSubstr("+01:00\""));                    // Paris in December
  }
  sas::plugin::v1::AppointmentEvent bad;
  bad.set_type(sas::plugin::v1::APPOINTMENT_CANCELLED);
  bad.set_regulator_id_type(sas::plugin::v1::REGULATOR_ID_IDNPS);
  try {
    outbox.report(bad);
    ADD_FAILURE() << "accepted";
  } catch (const InvalidEvent& e) {
    EXPECT_THAT(e.problems(), ::testing::Contains(::testing::HasSubstr("appointment.system")));
  }
  EXPECT_EQ(store.outbox->rows("", 0, 1000).size(), 160U);
}

// ABI 1.5 through the plugin's host call: an SOS Médecins event is recorded with its association's
// SIRET kept for operators (event_json, `sas-host outbox`, the admin API) and a resource naming no
// one; a malformed SIRET, or a practitioner with it, is SAS_ERR_INVALID_ARGUMENT naming the field.
TEST_F(OutboxTest, TheHostCallTakesAnSosEventAndRefusesABadSiretOrAPractitionerWithIt) {
  const auto store = sas::host::store::open(url());
  Outbox outbox(store.outbox);
  auto request = [](const std::string& siret, const std::string& practitioner) {
    sas::plugin::v1::HostRequest r;
    auto& m = *r.mutable_appointment_event()->mutable_event();
    m.set_type(sas::plugin::v1::APPOINTMENT_BOOKED);
    m.set_appointment_system("https://agenda.example.fr/rdv");
    m.set_appointment_id("sos-1");
    m.set_regulator_id_type(sas::plugin::v1::REGULATOR_ID_IDNPS);
    m.set_regulator_id("810002673899");
    m.set_practitioner_national_id(practitioner);
    m.set_sos_association_siret(siret);
    m.set_needs_action(true);
    m.set_start_time(1764860400);
    m.set_end_time(1764861300);
    m.set_created_time(1764583200);
    return r;
  };
  sas::plugin::v1::HostResponse response;
  auto result = report_appointment_event(outbox, request("1234567890123", ""), response);
  EXPECT_EQ(result.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(result.message, ::testing::HasSubstr("sos_association_siret: '1234567890123'"));
  result = report_appointment_event(outbox, request("12345678901234", "810100050075"), response);
  EXPECT_EQ(result.status, SAS_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(result.message, ::testing::HasSubstr("practitioner_national_id"));
  EXPECT_TRUE(store.outbox->rows("", 0, 10).empty()) << "nothing recorded";

  result = report_appointment_event(outbox, request("12345678901234", ""), response);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(response.appointment_event().sequence(), 1);
  const auto rows = store.outbox->rows("", 0, 10);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(sos_association_siret(rows[0]), "312345678901234");
  EXPECT_EQ(to_json(rows[0]).at("sos_association_siret").as_string(), "312345678901234");
  EXPECT_THAT(rows[0].resource, ::testing::HasSubstr("sas-sos-appointment"));
  EXPECT_THAT(rows[0].resource, ::testing::HasSubstr(R"("status":"pending")"));
  EXPECT_THAT(rows[0].resource, ::testing::Not(::testing::HasSubstr("12345678901234")));
  outbox.report(event("individual"));
  EXPECT_FALSE(to_json(store.outbox->rows("", 1, 10).at(0)).contains("sos_association_siret"));
}

TEST_F(OutboxTest, AVersion2StoreIsMigratedTo4) {
  auto result = sas::test::run({"/usr/bin/sqlite3", db().string(),
                                "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                "CREATE TABLE regulator_account_request (id INTEGER PRIMARY KEY);"
                                "PRAGMA user_version = 2;"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto store = sas::host::store::open(url());
  EXPECT_EQ(store.schema_version, 5);
  Outbox outbox(store.outbox);
  EXPECT_EQ(outbox.report(event("a")).sequence, 1);
}

TEST(DeliveryRulesTest, ConditionalUrlAndBackOff) {
  EXPECT_EQ(conditional_url("https://sas.example/fhir/", "urn:oid:1.1.111|b6e3-x"),
            "https://sas.example/fhir/Appointment?identifier=urn:oid:1.1.111|b6e3-x");
  EXPECT_EQ(conditional_url("https://p", "https://v.fr/a b|x/y"),
            "https://p/Appointment?identifier=https:%2F%2Fv.fr%2Fa%20b|x%2Fy");
  for (int attempt = 1; attempt < 30; ++attempt) {
    const auto d = retry_delay(attempt, 500ms, 300s);
    const auto full = std::min<std::chrono::milliseconds>(500ms * (1LL << std::min(attempt - 1, 20)), 300s);
    EXPECT_GE(d, full / 2) << attempt;
    EXPECT_LE(d, full) << attempt;
  }
}

}  // namespace
