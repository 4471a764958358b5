#include <sas/host/runtime/measured.hpp>

#include <sas/host/store/store.hpp>

namespace sas::host::runtime {

namespace v1 = sas::plugin::v1;
namespace ds = doctor_settings;
namespace an = appointment_notifications;

namespace {

constexpr std::string_view kNoMethod = "none";

metrics::HistogramFamily& plugin_durations(metrics::Registry& registry) {
  return registry.histogram("sas_plugin_call_duration_seconds",
                            "Time of one plugin call as the host sees it (runner round trip included), by call",
                            {"call"}, metrics::latency_buckets());
}

// The errors of one repository method: counted, then thrown on.
class Errors {
 public:
  Errors(metrics::CounterFamily& family, std::string_view operation) : counter_(family.with({operation})) {}
  template <class F>
  auto operator()(F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const store::StoreError&) {
      counter_.inc();
      throw;
    }
  }

 private:
  metrics::Counter& counter_;
};

class MeasuredSettings final : public ds::SettingsRepository {
 public:
  MeasuredSettings(std::shared_ptr<ds::SettingsRepository> inner, metrics::CounterFamily& errors)
      : inner_(std::move(inner)),
        record_changes_(errors, "doctor_settings.record_changes"),
        changes_(errors, "doctor_settings.changes"),
        add_rule_(errors, "doctor_settings.add_rule"),
        remove_rule_(errors, "doctor_settings.remove_rule"),
        rules_(errors, "doctor_settings.rules"),
        version_(errors, "doctor_settings.version") {}
  void record_changes(const std::vector<ds::SettingChangeRecord>& changes) override {
    record_changes_([&] { inner_->record_changes(changes); });
  }
  std::vector<ds::SettingChangeRecord> changes(const std::string& practitioner) override {
    return changes_([&] { return inner_->changes(practitioner); });
  }
  int64_t add_rule(const ds::PublicationRuleRecord& rule,
                   const std::function<void(const std::vector<ds::PublicationRuleRecord>&)>& check) override {
    return add_rule_([&] { return inner_->add_rule(rule, check); });
  }
  bool remove_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                   const std::string& by) override {
    return remove_rule_([&] { return inner_->remove_rule(practitioner, id, at, by); });
  }
  std::vector<ds::PublicationRuleRecord> rules(const std::string& practitioner, bool include_removed) override {
    return rules_([&] { return inner_->rules(practitioner, include_removed); });
  }
  uint64_t version() override {
    return version_([&] { return inner_->version(); });
  }

 private:
  std::shared_ptr<ds::SettingsRepository> inner_;
  Errors record_changes_, changes_, add_rule_, remove_rule_, rules_, version_;
};

class MeasuredOutbox final : public an::OutboxRepository {
 public:
  MeasuredOutbox(std::shared_ptr<an::OutboxRepository> inner, metrics::CounterFamily& errors)
      : inner_(std::move(inner)),
        enqueue_(errors, "outbox.enqueue"),
        claim_(errors, "outbox.claim"),
        finish_(errors, "outbox.finish"),
        next_due_(errors, "outbox.next_due"),
        rows_(errors, "outbox.rows"),
        counts_(errors, "outbox.counts"),
        replay_(errors, "outbox.replay") {}
  std::vector<an::NotificationIds> enqueue(const std::vector<an::NotificationInput>& inputs) override {
    return enqueue_([&] { return inner_->enqueue(inputs); });
  }
  std::vector<an::Notification> claim(std::chrono::system_clock::time_point now, std::size_t limit,
                                      std::chrono::system_clock::time_point lease_until) override {
    return claim_([&] { return inner_->claim(now, limit, lease_until); });
  }
  void finish(const std::vector<an::DeliveryOutcome>& outcomes) override {
    finish_([&] { inner_->finish(outcomes); });
  }
  std::optional<std::chrono::system_clock::time_point> next_due() override {
    return next_due_([&] { return inner_->next_due(); });
  }
  std::vector<an::Notification> rows(const std::string& state, int64_t after_id, std::size_t limit) override {
    return rows_([&] { return inner_->rows(state, after_id, limit); });
  }
  an::OutboxCounts counts() override {
    return counts_([&] { return inner_->counts(); });
  }
  std::size_t replay(std::optional<int64_t> id, std::chrono::system_clock::time_point now) override {
    return replay_([&] { return inner_->replay(id, now); });
  }

 private:
  std::shared_ptr<an::OutboxRepository> inner_;
  Errors enqueue_, claim_, finish_, next_due_, rows_, counts_, replay_;
};

class MeasuredAudit final : public regulator_accounts::AccountAudit {
 public:
  MeasuredAudit(std::shared_ptr<regulator_accounts::AccountAudit> inner, metrics::CounterFamily& errors)
      : inner_(std::move(inner)),
        record_request_(errors, "account_audit.record_request"),
        record_outcome_(errors, "account_audit.record_outcome"),
        requests_(errors, "account_audit.requests") {}
  int64_t record_request(const regulator_accounts::AccountRequest& request) override {
    return record_request_([&] { return inner_->record_request(request); });
  }
  void record_outcome(int64_t id, const regulator_accounts::AccountRequestOutcome& outcome) override {
    record_outcome_([&] { inner_->record_outcome(id, outcome); });
  }
  std::vector<regulator_accounts::AccountRequestRecord> requests(int64_t after_id, std::size_t limit) override {
    return requests_([&] { return inner_->requests(after_id, limit); });
  }

 private:
  std::shared_ptr<regulator_accounts::AccountAudit> inner_;
  Errors record_request_, record_outcome_, requests_;
};

class MeasuredLedger final : public billing::ConsultationLedger {
 public:
  MeasuredLedger(std::shared_ptr<billing::ConsultationLedger> inner, metrics::CounterFamily& errors)
      : inner_(std::move(inner)),
        record_(errors, "consultations.record"),
        count_snp_in_week_(errors, "consultations.count_snp_in_week"),
        consultations_(errors, "consultations.consultations") {}
  std::pair<billing::ConsultationRecord, bool> record(
      const billing::ConsultationRecord& facts,
      const std::function<void(int, billing::ConsultationRecord&)>& decide) override {
    return record_([&] { return inner_->record(facts, decide); });
  }
  int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                        const std::string& except_consultation_id) override {
    return count_snp_in_week_(
        [&] { return inner_->count_snp_in_week(practitioner_id, week_start, except_consultation_id); });
  }
  std::vector<billing::ConsultationRecord> consultations(const std::string& practitioner_id,
                                                         std::chrono::system_clock::time_point from,
                                                         std::chrono::system_clock::time_point to) override {
    return consultations_([&] { return inner_->consultations(practitioner_id, from, to); });
  }

 private:
  std::shared_ptr<billing::ConsultationLedger> inner_;
  Errors record_, count_snp_in_week_, consultations_;
};

}  // namespace

MeasuredPlugin::MeasuredPlugin(std::shared_ptr<plugin_loader::Plugin> inner, metrics::Registry& registry)
    : inner_(std::move(inner)),
      calls_(registry.counter("sas_plugin_calls_total", "Plugin calls by call and status (ok or the SAS_ERR_* name)",
                              {"call", "status"})),
      durations_(plugin_durations(registry)) {
  // One entry per case of PluginRequest's oneof, named as in the .proto.
  const auto* oneof = v1::PluginRequest::descriptor()->FindOneofByName("method");
  for (int i = 0; oneof != nullptr && i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    Call call{field->name(), &calls_.with({field->name(), "ok"}), &durations_.with({field->name()})};
    by_case_.emplace(field->number(), std::move(call));
  }
}

MeasuredPlugin::Call MeasuredPlugin::call_of(int method_case) const {
  if (const auto it = by_case_.find(method_case); it != by_case_.end()) return it->second;
  // A request without a method (a bug of the caller): its series appear if it ever happens.
  return Call{kNoMethod, &calls_.with({kNoMethod, "ok"}), &durations_.with({kNoMethod})};
}

plugin_loader::CallResult MeasuredPlugin::call(const v1::PluginRequest& request, v1::PluginResponse& response,
                                               std::chrono::system_clock::time_point deadline, std::stop_token stop) {
  const Call call = call_of(static_cast<int>(request.method_case()));
  const auto start = std::chrono::steady_clock::now();
  plugin_loader::CallResult result = inner_->call(request, response, deadline, std::move(stop));
  call.duration->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (result.ok()) {
    call.ok->inc();
  } else {
    calls_.with({call.name, plugin_loader::status_name(result.status)}).inc();
  }
  return result;
}

store::Store measure_store(store::Store store, metrics::Registry& registry) {
  auto& errors = registry.counter("sas_store_errors_total",
                                  "Failed operations on the host's store (each a StoreError), by repository.method",
                                  {"operation"});
  store.doctor_settings = std::make_shared<MeasuredSettings>(std::move(store.doctor_settings), errors);
  store.outbox = std::make_shared<MeasuredOutbox>(std::move(store.outbox), errors);
  store.account_audit = std::make_shared<MeasuredAudit>(std::move(store.account_audit), errors);
  store.consultations = std::make_shared<MeasuredLedger>(std::move(store.consultations), errors);
  return store;
}

}  // namespace sas::host::runtime
