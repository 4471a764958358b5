// Plugin mode: the plugin's host calls (ABI 1.2+), observed while the suite runs and checked
// afterwards. A recorder decorates the runtime's router (every call the plugin makes goes through
// it, answered by the real flows over the suite's throw-away store); the checks then read what was
// recorded: R03-* for appointment events (INT_R03), BILL-* for consultations (flow sas-billing),
// SET-* for doctor settings and publication rules (flow doctor-settings, ABI 1.4 host calls).
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <chrono>
#include <mutex>
#include <sas/conformance/catalogue.hpp>
#include <sas/conformance/report.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/runtime/host_call_router.hpp>
#include <vector>

namespace sas::conformance::tool {

struct RecordedCall {
  sas::plugin::v1::HostRequest request;
  sas::plugin::v1::HostResponse response;
  sas::host::plugin_loader::CallResult result;
};

class HostCallRecorder {
 public:
  // The router's handler, recording each call with the host's answer. The recorder must outlive
  // the plugin (declare it before the runtime).
  sas::host::runtime::HostCallHandler wrap(sas::host::runtime::HostCallHandler inner);

  std::vector<RecordedCall> calls() const;
  std::size_t count(sas::host::runtime::HostMethod method) const;
  std::chrono::steady_clock::time_point last_call() const;

 private:
  mutable std::mutex mutex_;
  std::vector<RecordedCall> calls_;
  std::chrono::steady_clock::time_point last_{};
};

// Which of the plugin's host-call flows the run checks: declared by its manifest, or observed.
struct HostCallFlows {
  bool appointments = false;  // manifest flow `appointments` (INT_R03 appointment_event)
  bool billing = false;       // manifest flow `sas-billing` (report_consultation, apply_billing_decision)
  bool settings = false;      // manifest flow `doctor-settings` (HostRequest cases 18 to 23)
};

// Lets the plugin push until every declared flow was seen and it has been quiet for a second, or
// until `deadline`. Returns at once when no flow is declared.
void wait_for_host_calls(const HostCallRecorder& recorder, HostCallFlows declared,
                         std::chrono::steady_clock::time_point deadline);

// The R03-*, BILL-* and SET-* checks on what was recorded. `plugin` gets apply_billing_decision for
// each accepted consultation when it declares sas-billing. `billing_unavailable`: why the host could
// not judge consultations (no rule file), empty when it could. `host_now`: the host's clock (--now),
// against which it judged each effective_at. `waited`: --host-calls-wait, for the findings' words.
void check_host_calls(Run& run, const ProfileSet& profiles, const std::vector<RecordedCall>& calls,
                      sas::host::plugin_loader::Plugin& plugin, HostCallFlows declared,
                      const std::string& billing_unavailable, std::chrono::system_clock::time_point host_now,
                      double waited);

}  // namespace sas::conformance::tool
