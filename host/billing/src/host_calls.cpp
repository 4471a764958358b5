#include <algorithm>
#include <sas/host/billing/host_calls.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>

namespace sas::host::billing {

Consultation consultation_from_message(const v1::Consultation& m) {
  Consultation c;
  c.id = m.consultation_id();
  if (c.id.empty()) throw BillingError("consultation: field \"consultation_id\": missing");
  std::string error;
  auto id = sas::sdk::ids::normalize_practitioner_id(m.practitioner_national_id(), &error);
  if (!id) throw BillingError("consultation: field \"practitioner_national_id\": " + error);
  c.practitioner_id = id->prefixed;
  if (m.consulted_at() <= 0) throw BillingError("consultation: field \"consulted_at\": missing");
  if (m.regulated_at() <= 0) throw BillingError("consultation: field \"regulated_at\": missing");
  const auto instant = [](int64_t seconds, const char* field) {
    auto t = sas::sdk::datetime::from_epoch_seconds(seconds);
    if (!t)
      throw BillingError(std::string("consultation: field \"") + field + "\": " + std::to_string(seconds) +
                         " is not UTC seconds since the epoch up to the year 9999 (milliseconds?)");
    return *t;
  };
  c.consulted_at = instant(m.consulted_at(), "consulted_at");
  c.regulated_at = instant(m.regulated_at(), "regulated_at");
  c.medecin_traitant = m.medecin_traitant();
  c.specialty = m.specialty();
  c.opposable_tariff = m.opposable_tariff();
  c.tariff_sector = m.tariff_sector();
  c.other_codes.assign(m.other_codes().begin(), m.other_codes().end());
  c.region = m.region();
  return c;
}

v1::BillingDecision decision_to_message(const Decision& d, const Consultation& c) {
  v1::BillingDecision m;
  m.set_consultation_id(c.id);
  m.set_practitioner_national_id(c.practitioner_id);
  m.set_code(d.code);
  m.set_parcours_indicator(d.parcours_indicator);
  m.set_amount_cents(d.amount_cents);
  m.set_rule_set(d.rule_set);
  m.set_snp_count_this_week(d.snp_count_this_week);
  m.set_candidate(d.candidate);
  for (const auto& r : d.reasons) {
    auto& reason = *m.add_reasons();
    reason.set_rule(r.rule);
    reason.set_met(r.met);
    reason.set_fr(r.fr);
    reason.set_en(r.en);
    reason.set_reference(r.reference);
  }
  return m;
}

HostCalls::HostCalls(std::shared_ptr<const BillingService> service, std::function<void(std::string_view)> log)
    : service_(std::move(service)), log_(std::move(log)) {}

HostCalls::~HostCalls() { stop(); }

plugin_loader::CallResult HostCalls::handle(const v1::HostRequest& request, v1::HostResponse& response) {
  if (request.method_case() != v1::HostRequest::kReportConsultation) {
    return {SAS_ERR_UNIMPLEMENTED,
            "this host does not answer host method " + std::to_string(static_cast<int>(request.method_case()))};
  }
  try {
    const Consultation consultation = consultation_from_message(request.report_consultation().consultation());
    const Decision decision = service_->report(consultation);
    auto& answer = *response.mutable_report_consultation();
    *answer.mutable_decision() = decision_to_message(decision, consultation);
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && delivering_) queue_.push_back(answer.decision());
    }
    changed_.notify_all();
    return {};
  } catch (const BillingError& e) {
    return {SAS_ERR_INVALID_ARGUMENT, e.what()};
  } catch (const std::exception& e) {
    return {SAS_ERR_UNAVAILABLE, std::string("the consultation could not be recorded: ") + e.what()};
  }
}

void HostCalls::attach(std::weak_ptr<plugin_loader::Plugin> plugin) {
  auto locked = plugin.lock();
  if (!locked) return;
  const auto& flows = locked->manifest().flows;
  std::lock_guard lock(mutex_);
  if (std::find(flows.begin(), flows.end(), "sas-billing") == flows.end()) {
    delivering_ = false;  // the plugin only gets the synchronous answer
    queue_.clear();
    return;
  }
  if (thread_.joinable() || stopping_) return;
  plugin_ = std::move(plugin);
  thread_ = std::thread([this] { deliver(); });
}

void HostCalls::deliver() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    v1::PluginRequest request;
    *request.mutable_apply_billing_decision()->mutable_decision() = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (auto plugin = plugin_.lock()) {
      v1::PluginResponse response;
      const plugin_loader::CallResult result =
          plugin->call(request, response, std::chrono::system_clock::now() + std::chrono::seconds(30));
      if (!result.ok() && log_) {
        log_("apply_billing_decision for consultation " +
             request.apply_billing_decision().decision().consultation_id() + " failed: " + result.message);
      }
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

void HostCalls::drain() {
  std::unique_lock lock(mutex_);
  if (!thread_.joinable()) return;
  changed_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void HostCalls::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace sas::host::billing
