// The ABI 1.2 host calls through the real loader and the real reference plugin: the plugin
// reports an honoured SAS-origin consultation with call_host, keeps the answer, and takes
// apply_billing_decision; the host side (HostCalls) judges with the rules and the store.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sas/host/billing/host_calls.hpp>
#include <sas/host/store/store.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using namespace std::chrono;

// 2026-11-23T15:00:00Z (Monday, 16:00 Paris) and the next day 10:00 Paris.
constexpr int64_t kBookedAt = 1795446000;
constexpr int64_t kConsultedAt = 1795510800;

// The first column of the first row ("<none>": no row, or the table is not there yet).
std::string query(const fs::path& file, const std::string& sql) {
  try {
    const auto rows = sas::test::sqlite_rows(file, sql, "NULL");
    return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
  } catch (const std::runtime_error&) {
    return "<none>";
  }
}

void exec(const fs::path& file, const std::string& sql) { sas::test::sqlite_exec(file, sql); }

class HostCallsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("host-calls");
    exec(agenda(), sas::sqlite_agenda::schema_sql());
    exec(agenda(),
         "INSERT INTO practitioner (id, national_id, family_name) VALUES ('P1', '10100050075', 'Durand');"
         "INSERT INTO practitioner_specialty (practitioner_id, code) VALUES ('P1', 'SM54');"
         "INSERT INTO place (id, practitioner_id, address, postal_code, city) VALUES ('L1', 'P1', 'x', '75002', "
         "'Paris');"
         "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (1, 'L1', 1795510800, "
         "1795512000, 'busy', 'SNP'), (2, 'L1', 1795514400, 1795515600, 'busy', 'SNP'), (3, 'L1', 1795518000, "
         "1795519200, 'busy', 'PUBLIC');"
         "INSERT INTO appointment (id, slot_id, sas_origin, booked_at, status) VALUES "
         "('A1', 1, 1, 1795446000, 'fulfilled'), ('A2', 2, 1, 1795446000, 'booked'), "
         "('A3', 3, 0, 1795446000, 'fulfilled');"
         "INSERT INTO consultation (id, appointment_id, consulted_at, other_codes) VALUES "
         "('A1', 'A1', 1795510800, 'G'), ('A2', 'A2', 1795510800, 'G'), ('A3', 'A3', 1795510800, 'G');");
  }
  void TearDown() override {
    plugin_.reset();
    fs::remove_all(dir_);
  }
  fs::path agenda() const { return dir_ / "agenda.db"; }

  void load(sas::host::plugin_loader::HostServices services) {
    plugin_ = sas::host::plugin_loader::PluginInstance::load(sas::test::plugin("sas-sqlite-agenda"),
                                              "db=" + agenda().string() + ";report_interval_ms=20", services);
  }

  // Waits until `sql` answers `expected` (or 10 s).
  bool wait_for(const std::string& sql, const std::string& expected) {
    for (int i = 0; i < 1000; ++i) {
      if (query(agenda(), sql) == expected) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  fs::path dir_;
  std::shared_ptr<sas::host::plugin_loader::PluginInstance> plugin_;
};

// ABI 1.3: every state of every SAS-origin appointment reaches the host once, booking first.
TEST_F(HostCallsTest, ThePluginReportsEachStateOfItsSasOriginAppointmentsOnceBookingFirst) {
  exec(agenda(),
       "UPDATE appointment SET regulator_id_system = 'urn:oid:1.2.250.1.213.3.6', regulator_id_value = "
       "'1ef1c748-6a5d-4f8c-9f3e-2a1b3c4d5e6f' WHERE id = 'A2'");
  std::mutex mutex;
  std::vector<v1::AppointmentEvent> events;
  std::atomic<int> refuse_next{1};  // the first call fails as a host outage would: retried, same order
  sas::host::plugin_loader::HostServices services;
  services.handle_request = [&](const v1::HostRequest& request, v1::HostResponse& response) {
    if (!request.has_appointment_event()) return sas::host::plugin_loader::CallResult{SAS_ERR_UNAVAILABLE, "not in this test"};
    if (refuse_next.exchange(0) == 1) return sas::host::plugin_loader::CallResult{SAS_ERR_UNAVAILABLE, "store busy"};
    std::lock_guard lock(mutex);
    events.push_back(request.appointment_event().event());
    response.mutable_appointment_event()->set_sequence(static_cast<int64_t>(events.size()));
    return sas::host::plugin_loader::CallResult{};
  };
  load(services);
  ASSERT_TRUE(wait_for("SELECT count(*) FROM appointment_notification", "3"));
  std::this_thread::sleep_for(milliseconds(100));  // a few more rounds: nothing is sent twice
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(events.size(), 3U);
    // A1 (fulfilled, never notified): its booking, then its fulfilment; A2 (booked): its booking.
    // A3 is not SAS-origin: nothing.
    EXPECT_EQ(events[0].appointment_id(), "A1");
    EXPECT_EQ(events[0].type(), v1::APPOINTMENT_BOOKED);
    EXPECT_EQ(events[1].appointment_id(), "A1");
    EXPECT_EQ(events[1].type(), v1::APPOINTMENT_FULFILLED);
    EXPECT_EQ(events[2].appointment_id(), "A2");
    EXPECT_EQ(events[2].type(), v1::APPOINTMENT_BOOKED);
    EXPECT_EQ(events[2].regulator_id_type(), v1::REGULATOR_ID_INTRN);
    EXPECT_EQ(events[2].regulator_id(), "1ef1c748-6a5d-4f8c-9f3e-2a1b3c4d5e6f");
    EXPECT_EQ(events[0].practitioner_national_id(), "10100050075");  // as stored; the host prefixes
    EXPECT_EQ(events[0].start_time(), 1795510800);
    EXPECT_EQ(events[0].end_time(), 1795512000);
    EXPECT_EQ(events[0].created_time(), kBookedAt);
    EXPECT_EQ(events[0].appointment_system(), "https://agenda.example.fr/fhir/appointment-id");
  }

  // A cancellation later is one more event, after the booking.
  exec(agenda(), "UPDATE appointment SET status = 'cancelled' WHERE id = 'A2'");
  ASSERT_TRUE(wait_for("SELECT count(*) FROM appointment_notification", "4"));
  std::lock_guard lock(mutex);
  ASSERT_EQ(events.size(), 4U);
  EXPECT_EQ(events[3].appointment_id(), "A2");
  EXPECT_EQ(events[3].type(), v1::APPOINTMENT_CANCELLED);
  EXPECT_EQ(query(agenda(),
                  "SELECT outbox_sequence FROM appointment_notification WHERE appointment_id = 'A2' AND "
                  "status = 'cancelled'"),
            "4");
}

TEST_F(HostCallsTest, ThePluginReportsOnlyHonouredSasOriginConsultationsAndKeepsTheAnswer) {
  std::mutex mutex;
  std::vector<v1::Consultation> seen;
  sas::host::plugin_loader::HostServices services;
  services.handle_request = [&](const v1::HostRequest& request, v1::HostResponse& response) {
    std::lock_guard lock(mutex);
    if (request.has_appointment_event()) {  // INT_R03 events: the next test's business
      response.mutable_appointment_event()->set_sequence(1);
      return sas::host::plugin_loader::CallResult{};
    }
    seen.push_back(request.report_consultation().consultation());
    auto& d = *response.mutable_report_consultation()->mutable_decision();
    d.set_consultation_id(request.report_consultation().consultation().consultation_id());
    d.set_code("SNP");
    d.set_parcours_indicator("U");
    d.set_amount_cents(1500);
    d.set_rule_set("test");
    auto& reason = *d.add_reasons();
    reason.set_rule("delay");
    reason.set_met(true);
    reason.set_fr("dans le délai");
    reason.set_en("within the delay");
    reason.set_reference("NGAP art. 14.1.3");
    return sas::host::plugin_loader::CallResult{};
  };
  load(services);
  ASSERT_TRUE(wait_for("SELECT count(*) FROM consultation WHERE reported_at IS NOT NULL", "1"));
  EXPECT_EQ(query(agenda(), "SELECT id FROM consultation WHERE reported_at IS NOT NULL"), "A1");
  EXPECT_EQ(query(agenda(),
                  "SELECT code || '+' || parcours_indicator || ' ' || amount_cents || ' ' || rule_set FROM "
                  "billing_decision WHERE consultation_id = 'A1'"),
            "SNP+U 1500 test");
  EXPECT_EQ(query(agenda(), "SELECT reasons_fr FROM billing_decision"), "+ dans le délai [NGAP art. 14.1.3]\n");
  std::this_thread::sleep_for(milliseconds(100));  // a few more rounds: reported once, never again
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 1U);
  const v1::Consultation& c = seen.front();
  EXPECT_EQ(c.consultation_id(), "A1");
  EXPECT_EQ(c.practitioner_national_id(), "10100050075");  // as stored; the host normalises
  EXPECT_EQ(c.regulated_at(), kBookedAt);                  // the regulation is the booking
  EXPECT_EQ(c.consulted_at(), kConsultedAt);
  EXPECT_EQ(c.specialty(), "SM54");  // the practitioner's, none given on the row
  EXPECT_TRUE(c.opposable_tariff());
  EXPECT_FALSE(c.medecin_traitant());
  ASSERT_EQ(c.other_codes_size(), 1);
  EXPECT_EQ(c.other_codes(0), "G");
}

TEST_F(HostCallsTest, ARefusalIsKeptAndNotRetriedAnOutageIsRetried) {
  std::atomic<int> calls{0};
  std::atomic<bool> available{false};
  sas::host::plugin_loader::HostServices services;
  services.handle_request = [&](const v1::HostRequest& request, v1::HostResponse& response) {
    ++calls;
    if (!available) return sas::host::plugin_loader::CallResult{SAS_ERR_UNAVAILABLE, "store busy"};
    (void)request;
    (void)response;
    return sas::host::plugin_loader::CallResult{SAS_ERR_INVALID_ARGUMENT, "consultation: field \"specialty\": no"};
  };
  load(services);
  for (int i = 0; i < 500 && calls < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_GE(calls.load(), 3);  // retried while unavailable
  EXPECT_EQ(query(agenda(), "SELECT reported_at IS NULL FROM consultation WHERE id = 'A1'"), "1");
  available = true;
  ASSERT_TRUE(
      wait_for("SELECT report_error FROM consultation WHERE id = 'A1'", "consultation: field \"specialty\": no"));
  const int after = calls.load();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(calls.load(), after);  // a refusal is final
  EXPECT_EQ(query(agenda(), "SELECT count(*) FROM billing_decision"), "0");
}

TEST_F(HostCallsTest, WithTheRealRulesTheDecisionAlsoComesBackAsApplyBillingDecision) {
  auto rules = std::make_shared<const sas::host::billing::RuleBook>(
      sas::host::billing::RuleBook::load(sas::test::build_dir() / "share/sas/billing/rules.json"));
  const auto ledger = sas::host::store::open("sqlite:" + (dir_ / "host.db").string()).consultations;
  auto calls = std::make_shared<sas::host::billing::HostCalls>(
      std::make_shared<const sas::host::billing::BillingService>(rules, ledger));
  sas::host::plugin_loader::HostServices services;
  services.handle_request = [calls](const v1::HostRequest& request, v1::HostResponse& response) {
    return calls->handle(request, response);
  };
  load(services);
  calls->attach(plugin_);
  ASSERT_TRUE(
      wait_for("SELECT code || '+' || parcours_indicator FROM billing_decision WHERE consultation_id = 'A1'", "SNP+U"));
  // Remove the row the synchronous answer wrote; the apply_billing_decision delivery writes it.
  calls->drain();
  exec(agenda(), "DELETE FROM billing_decision");
  v1::PluginRequest request;
  auto& decision = *request.mutable_apply_billing_decision()->mutable_decision();
  decision.set_consultation_id("A1");
  decision.set_code("SNP");
  decision.set_parcours_indicator("U");
  decision.set_amount_cents(1500);
  decision.set_rule_set("2023-01-snp-mrt");
  v1::PluginResponse response;
  ASSERT_TRUE(plugin_->call(request, response).ok());
  EXPECT_EQ(query(agenda(), "SELECT amount_cents FROM billing_decision WHERE consultation_id = 'A1'"), "1500");
  // And the host store has the consultation, judged by the shipped rules.
  auto rows = ledger->consultations("810100050075", system_clock::time_point(seconds(kConsultedAt - 10)),
                                   system_clock::time_point(seconds(kConsultedAt + 10)));
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].code, "SNP");
  EXPECT_EQ(rows[0].week_start, "2026-11-23");
  calls->stop();
}

TEST_F(HostCallsTest, AHostWithoutAHandlerAnswersUnimplementedAndNothingIsLost) {
  load({});
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(query(agenda(), "SELECT count(*) FROM consultation WHERE reported_at IS NULL"), "3");
}

}  // namespace
