// The host built by the runtime, as `sas-host serve` builds it, with the real reference plugin
// over a real agenda and a real host store: the plugin's host calls reach their flows through the
// router (the INT_R03 outbox, billing with the shipped rules and apply_billing_decision back),
// the endpoint searches, a tool's runtime answers no host call, and stop() is idempotent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sas_test/support.hpp>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
namespace rt = sas::host::runtime;
using namespace std::chrono;

// The first column of the first row ("<none>": no row, or no such table yet).
std::string query(const fs::path& file, const std::string& sql) {
  try {
    const auto rows = sas::test::sqlite_rows(file, sql, "NULL");
    return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
  } catch (const std::runtime_error&) {
    return "<none>";
  }
}

// Every test runs with the plugin in process and in runner processes (docs/plugins/isolation.md):
// the flows cannot tell the difference.
class RuntimeTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("runtime");
    sas::test::sqlite_exec(agenda(), sas::sqlite_agenda::schema_sql());
    // A1: an honoured SAS-origin appointment (booked by an IDNPS regulator), A2: booked by an
    // INTRN regulator, A3: not SAS-origin.
    sas::test::sqlite_exec(
        agenda(),
        "INSERT INTO practitioner (id, national_id, family_name) VALUES ('P1', '10100050075', 'Durand');"
        "INSERT INTO practitioner_specialty (practitioner_id, code) VALUES ('P1', 'SM54');"
        "INSERT INTO place (id, practitioner_id, address, postal_code, city) VALUES ('L1', 'P1', 'x', '75002', "
        "'Paris');"
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (1, 'L1', 1795510800, "
        "1795512000, 'busy', 'SNP'), (2, 'L1', 1795514400, 1795515600, 'busy', 'SNP'), (3, 'L1', 1795518000, "
        "1795519200, 'busy', 'PUBLIC'), (4, 'L1', 1795521600, 1795522800, 'free', 'PUBLIC,SNP');"
        "INSERT INTO appointment (id, slot_id, sas_origin, booked_at, status, regulator_id_system, "
        "regulator_id_value) VALUES "
        "('A1', 1, 1, 1795446000, 'fulfilled', 'urn:oid:1.2.250.1.71.4.2.1', '810002673899'), "
        "('A2', 2, 1, 1795446000, 'booked', 'urn:oid:1.2.250.1.213.3.6', '1ef1c748-6a5d-4f8c-9f3e-2a1b3c4d5e6f'), "
        "('A3', 3, 0, 1795446000, 'fulfilled', NULL, NULL);"
        "INSERT INTO consultation (id, appointment_id, consulted_at, other_codes) VALUES "
        "('A1', 'A1', 1795510800, 'G'), ('A3', 'A3', 1795510800, 'G');");
  }
  void TearDown() override {
    host_.reset();
    fs::remove_all(dir_);
  }
  fs::path agenda() const { return dir_ / "agenda.db"; }
  fs::path store() const { return dir_ / "host.db"; }

  rt::RuntimeOptions options() const {
    rt::RuntimeOptions o;
    o.plugin = sas::test::plugin("sas-sqlite-agenda");
    o.plugin_config = "db=" + agenda().string() + ";report_interval_ms=20";
    o.store = "sqlite:" + store().string();
    o.billing_rules = (sas::test::build_dir() / "share/sas/billing/rules.json").string();
    o.plugin_log = [](int32_t, std::string_view) {};
    if (GetParam()) o.isolation.emplace();
    return o;
  }

  // Waits until `sql` on `file` answers `expected` (or 10 s).
  static bool wait_for(const fs::path& file, const std::string& sql, const std::string& expected) {
    for (int i = 0; i < 1000; ++i) {
      if (query(file, sql) == expected) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  fs::path dir_;
  std::vector<std::string> log_;
  std::mutex log_mutex_;
  std::unique_ptr<rt::Runtime> host_;  // declared last: stopped first
};

TEST_P(RuntimeTest, ThePluginsHostCallsReachTheirFlowsThroughTheRouter) {
  // Destroyed after the host (which logs until it stops), even when an assertion returns early.
  auto& log = log_;
  auto& log_mutex = log_mutex_;
  auto o = options();
  o.log = [&](std::string_view line) {
    std::lock_guard lock(log_mutex);
    log.emplace_back(line);
  };
  host_ = rt::Runtime::build(std::move(o));
  EXPECT_THAT(host_->describe(), testing::StartsWith("plugin sqlite-agenda 0.1.0 loaded (ABI 1."));
  EXPECT_THAT(host_->describe(), testing::HasSubstr("store sqlite:"));
  EXPECT_THAT(host_->describe(), testing::HasSubstr(GetParam() ? ", process)" : ", in-process)"));
  for (auto method : {v1::HostRequest::kReportConsultation, v1::HostRequest::kAppointmentEvent,
                      v1::HostRequest::kGetDoctorSettings, v1::HostRequest::kExplainPublication})
    EXPECT_TRUE(host_->host_calls().answers(method)) << rt::method_name(method);

  // INT_R03: A1's booking and fulfilment, A2's booking, in the host's outbox, accepted.
  ASSERT_TRUE(wait_for(store(), "SELECT count(*) FROM appointment_outbox", "3"));
  // In order per appointment (in process mode each runner's plugin reports, and the two race).
  EXPECT_EQ(query(store(),
                  "SELECT group_concat(event, ',') FROM (SELECT event FROM appointment_outbox WHERE "
                  "appointment_key LIKE '%A1' ORDER BY id)"),
            "booked,fulfilled");
  ASSERT_TRUE(wait_for(agenda(), "SELECT count(*) FROM appointment_notification WHERE outbox_sequence > 0", "3"));
  // Billing: A1 judged with the shipped rules (SNP + U) in the host store, and the decision back in
  // the agenda through the synchronous answer and apply_billing_decision.
  ASSERT_TRUE(wait_for(store(), "SELECT code FROM sas_consultation", "SNP"));
  ASSERT_TRUE(wait_for(agenda(),
                       "SELECT code || '+' || parcours_indicator FROM billing_decision WHERE consultation_id = 'A1'",
                       "SNP+U"));
  EXPECT_EQ(query(agenda(), "SELECT count(*) FROM consultation WHERE id = 'A3' AND reported_at IS NOT NULL"), "0");
  // Doctor settings through the same store: what the endpoint's search applies.
  ASSERT_NE(host_->doctor_settings(), nullptr);
  ASSERT_NE(host_->outbox(), nullptr);
  ASSERT_NE(host_->billing(), nullptr);
  EXPECT_TRUE(host_->billing_unavailable().empty());
  const auto admin = host_->admin_options();
  EXPECT_EQ(admin.plugin, host_->plugin());
  EXPECT_EQ(admin.outbox, host_->outbox());
  host_->stop();
  host_->stop();  // idempotent
  v1::PluginRequest request;
  request.mutable_search_slots();
  v1::PluginResponse response;
  EXPECT_EQ(host_->plugin()->call(request, response).status, SAS_ERR_UNAVAILABLE);  // shut down
  std::lock_guard lock(log_mutex);
  // Nothing to warn about; in process mode, each runner's start and stop.
  const std::string kReadyAtCurrentAbi =
      " ready (ABI " + std::to_string(SAS_ABI_VERSION_MAJOR) + "." + std::to_string(SAS_ABI_VERSION_MINOR) + ")";
  std::erase_if(log, [&](const std::string& line) {
    return line.starts_with("plugin runner ") &&
           (line.ends_with(kReadyAtCurrentAbi) || line.ends_with(" stopped (exited with status 0)"));
  });
  EXPECT_TRUE(log.empty()) << log.front();
}

TEST_P(RuntimeTest, TheEndpointOpensOnceAndSearchesThroughTheOneSearchPath) {
  auto o = options();
  o.plugin_config = "db=" + agenda().string() + ";report_interval_ms=0";
  host_ = rt::Runtime::build(std::move(o));
  EXPECT_EQ(host_->endpoint(), nullptr);
  const auto* before = &host_->search();  // the runtime's own, until the endpoint opens
  auto endpoint = host_->open_endpoint({"https://agenda.example.fr/sas", "", milliseconds(3000)});
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(host_->endpoint(), endpoint);
  EXPECT_EQ(&host_->search(), &endpoint->search());
  EXPECT_NE(&host_->search(), before);
  EXPECT_THROW((void)host_->open_endpoint({"https://agenda.example.fr/sas", "", milliseconds(3000)}), std::logic_error);
  EXPECT_EQ(host_->admin_options().plugin_deadline, milliseconds(3000));
  v1::PluginResponse answer;
  const auto result = host_->search().search(
      sas::host::slot_search::slot_query_target({"810100050075"}, "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"),
      answer);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(answer.search_slots().slots_size(), 1);
  EXPECT_THAT(result.bundle, testing::HasSubstr("https://agenda.example.fr/sas/Slot/"));
}

TEST_P(RuntimeTest, AToolsRuntimeAnswersNoHostCallAndOpensNoStore) {
  auto o = options();
  o.store.reset();
  o.answer_host_calls = false;
  host_ = rt::Runtime::build(std::move(o));
  EXPECT_TRUE(host_->host_calls().methods().empty());
  EXPECT_EQ(host_->doctor_settings(), nullptr);
  EXPECT_EQ(host_->outbox(), nullptr);
  EXPECT_FALSE(fs::exists(store()));
  std::this_thread::sleep_for(milliseconds(200));  // several rounds of the plugin's reporter
  EXPECT_EQ(query(agenda(), "SELECT count(*) FROM consultation WHERE reported_at IS NULL"), "2");
  EXPECT_EQ(query(agenda(), "SELECT count(*) FROM appointment_notification"), "0");
  v1::PluginResponse answer;
  EXPECT_TRUE(host_->search()
                  .search(sas::host::slot_search::slot_query_target({"810100050075"}, "2026-11-24T00:00:00Z",
                                                                    "2026-11-25T00:00:00Z"),
                          answer)
                  .ok());
}

TEST_P(RuntimeTest, ARuleFileGivenMustBeUsableAndEveryHostCallCanBeObserved) {
  auto bad = options();
  bad.billing_rules = (dir_ / "missing-rules.json").string();
  EXPECT_ANY_THROW((void)rt::Runtime::build(std::move(bad)));

  std::atomic<int> seen{0};
  // The host stops before `seen` goes, even when an assertion returns early.
  struct StopFirst {
    std::unique_ptr<rt::Runtime>& host;
    ~StopFirst() { host.reset(); }
  } stop_first{host_};
  auto o = options();
  o.wrap_host_calls = [&seen](rt::HostCallHandler inner) -> rt::HostCallHandler {
    return [&seen, inner](const v1::HostRequest& request, v1::HostResponse& response) {
      const auto result = inner(request, response);
      if (result.ok() && request.has_appointment_event()) ++seen;
      return result;
    };
  };
  host_ = rt::Runtime::build(std::move(o));
  ASSERT_TRUE(wait_for(store(), "SELECT count(*) FROM appointment_outbox", "3"));
  for (int i = 0; i < 500 && seen < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(seen.load(), 3);
}

INSTANTIATE_TEST_SUITE_P(Isolation, RuntimeTest, testing::Bool(), [](const testing::TestParamInfo<bool>& param) {
  return param.param ? "Process" : "InProcess";
});

}  // namespace
