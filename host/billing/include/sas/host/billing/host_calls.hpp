// The host's side of the plugin's host calls (sas_host_api.call_host, ABI 1.2): answers
// report_consultation with the decision, and delivers the decision back to the plugin as
// apply_billing_decision from its own thread (never from inside the plugin's call).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <sas/host/billing/service.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <string_view>
#include <thread>

namespace sas::host::billing {

namespace v1 = ::sas::plugin::v1;

class HostCalls {
 public:
  // `log`: a decision the plugin could not apply (its consultation id and the plugin's message);
  // none: silent.
  explicit HostCalls(std::shared_ptr<const BillingService> service, std::function<void(std::string_view)> log = {});
  ~HostCalls();  // stop()
  HostCalls(const HostCalls&) = delete;
  HostCalls& operator=(const HostCalls&) = delete;

  // For plugin_loader::HostServices::handle_request. Thread-safe.
  plugin_loader::CallResult handle(const v1::HostRequest& request, v1::HostResponse& response);

  // Starts delivering apply_billing_decision to `plugin` when its manifest lists the flow
  // "sas-billing". Decisions made before attach are delivered then.
  void attach(std::weak_ptr<plugin_loader::Plugin> plugin);
  // Delivers what is queued, then stops. Idempotent; call before shutting the plugin down.
  void stop();
  // Waits until nothing is queued or in delivery (tests).
  void drain();

 private:
  void deliver();

  std::shared_ptr<const BillingService> service_;
  std::function<void(std::string_view)> log_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<v1::BillingDecision> queue_;
  std::weak_ptr<plugin_loader::Plugin> plugin_;
  bool stopping_ = false;
  bool busy_ = false;
  bool delivering_ = true;  // false once attach found a plugin without the sas-billing flow
  std::thread thread_;
};

// The ABI forms.
Consultation consultation_from_message(const v1::Consultation& message);
v1::BillingDecision decision_to_message(const Decision& decision, const Consultation& consultation);

}  // namespace sas::host::billing
