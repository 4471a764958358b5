#include <sas/host/doctor_settings/host_calls.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <sas/sdk/datetime.hpp>
#include <string>

#include <boost/json.hpp>

namespace sas::host::doctor_settings {

namespace json = boost::json;

namespace {

int64_t seconds_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The request's practitioner, prefixed; SettingsError naming the proto field otherwise.
std::string practitioner_of(const std::string& raw) { return normalize_practitioner(raw, "practitioner_national_id"); }

plugin_loader::CallResult get_settings(Service& service, const v1::GetDoctorSettingsRequest& request,
                                       v1::GetDoctorSettingsResponse& response) {
  *response.mutable_settings() = settings_to_message(service.get(practitioner_of(request.practitioner_national_id())));
  return {};
}

plugin_loader::CallResult set_settings(Service& service, const Actor& actor,
                                       const v1::SetDoctorSettingsRequest& request,
                                       v1::SetDoctorSettingsResponse& response) {
  const std::string practitioner = practitioner_of(request.practitioner_national_id());
  SettingsPatch patch;
  if (request.has_volunteer()) patch.volunteer = request.volunteer();
  if (request.has_visible()) patch.visible = request.visible();
  if (request.has_consent_to_call()) patch.consent_to_call = request.consent_to_call();
  if (request.has_phone()) patch.phone = request.phone();
  if (!sas::sdk::datetime::from_epoch_seconds(request.effective_at())) {
    throw SettingsError(
        "field \"effective_at\": expected UTC seconds since the epoch (up to the year 9999), 0 for now; got " +
        std::to_string(request.effective_at()) +
        (request.effective_at() > sas::sdk::datetime::kLastEpochSecond ? " (milliseconds?)" : ""));
  }
  std::optional<Clock::time_point> effective_at;
  if (request.effective_at() != 0) effective_at = Clock::time_point(std::chrono::seconds(request.effective_at()));
  *response.mutable_settings() = settings_to_message(service.set(practitioner, patch, actor, effective_at));
  return {};
}

plugin_loader::CallResult list_rules(Service& service, const v1::ListPublicationRulesRequest& request,
                                     v1::ListPublicationRulesResponse& response) {
  for (const Rule& rule : service.rules(practitioner_of(request.practitioner_national_id()))) {
    *response.add_rules() = rule_to_message(rule);
  }
  return {};
}

plugin_loader::CallResult add_rule(Service& service, const Actor& actor, const v1::AddPublicationRuleRequest& request,
                                   v1::AddPublicationRuleResponse& response) {
  const std::string practitioner = practitioner_of(request.practitioner_national_id());
  json::value rule;
  try {
    rule = json::parse(request.rule_json());
  } catch (const std::exception& e) {
    throw RuleError(std::string("field \"rule_json\": not JSON: ") + e.what());
  }
  *response.mutable_rule() = rule_to_message(service.add_rule(practitioner, rule, actor));
  return {};
}

plugin_loader::CallResult remove_rule(Service& service, const Actor& actor,
                                      const v1::RemovePublicationRuleRequest& request,
                                      v1::RemovePublicationRuleResponse&) {
  service.remove_rule(practitioner_of(request.practitioner_national_id()), request.rule_id(), actor);
  return {};
}

plugin_loader::CallResult explain_slots(Service& service, const v1::ExplainPublicationRequest& request,
                                        v1::ExplainPublicationResponse& response) {
  const std::shared_ptr<const Snapshot> snapshot = service.snapshot();
  for (const v1::Slot& slot : request.agenda().slots()) {
    response.add_slot_explanations(
        json::serialize(explain(*snapshot, request.agenda(), slot, request.window_start(), request.window_end())));
  }
  return {};
}

}  // namespace

v1::DoctorSettings settings_to_message(const Settings& settings) {
  v1::DoctorSettings m;
  m.set_practitioner_national_id(settings.practitioner);
  if (settings.volunteer) m.set_volunteer(*settings.volunteer);
  if (settings.visible) m.set_visible(*settings.visible);
  if (settings.consent_to_call) m.set_consent_to_call(*settings.consent_to_call);
  if (settings.phone) m.set_phone(*settings.phone);
  m.set_updated_at(settings.updated_at ? seconds_of(*settings.updated_at) : 0);
  return m;
}

v1::PublicationRule rule_to_message(const Rule& rule) {
  v1::PublicationRule m;
  m.set_id(rule.id);
  m.set_json(json::serialize(to_json(rule)));
  return m;
}

HostCalls::HostCalls(std::shared_ptr<Service> service, std::string plugin_name)
    : service_(std::move(service)), plugin_name_(std::move(plugin_name)) {}

Actor HostCalls::actor(const std::string& changed_by) const {
  return Actor{changed_by.empty() ? plugin_name_ : changed_by, "plugin"};
}

plugin_loader::CallResult HostCalls::handle(const v1::HostRequest& request, v1::HostResponse& response) const {
  try {
    switch (request.method_case()) {
      case v1::HostRequest::kGetDoctorSettings:
        return get_settings(*service_, request.get_doctor_settings(), *response.mutable_get_doctor_settings());
      case v1::HostRequest::kSetDoctorSettings:
        return set_settings(*service_, actor(request.set_doctor_settings().changed_by()), request.set_doctor_settings(),
                            *response.mutable_set_doctor_settings());
      case v1::HostRequest::kListPublicationRules:
        return list_rules(*service_, request.list_publication_rules(), *response.mutable_list_publication_rules());
      case v1::HostRequest::kAddPublicationRule:
        return add_rule(*service_, actor(request.add_publication_rule().changed_by()), request.add_publication_rule(),
                        *response.mutable_add_publication_rule());
      case v1::HostRequest::kRemovePublicationRule:
        return remove_rule(*service_, actor(request.remove_publication_rule().changed_by()),
                           request.remove_publication_rule(), *response.mutable_remove_publication_rule());
      case v1::HostRequest::kExplainPublication:
        return explain_slots(*service_, request.explain_publication(), *response.mutable_explain_publication());
      default:
        return {SAS_ERR_UNIMPLEMENTED,
                "this host does not answer host method " + std::to_string(static_cast<int>(request.method_case()))};
    }
  } catch (const SettingsError& e) {
    response.Clear();
    return {SAS_ERR_INVALID_ARGUMENT, e.what()};
  } catch (const RuleError& e) {
    response.Clear();
    return {SAS_ERR_INVALID_ARGUMENT, e.what()};
  } catch (const NotFound& e) {
    response.Clear();
    return {SAS_ERR_NOT_FOUND, e.what()};
  } catch (const store::StoreError& e) {
    response.Clear();
    return {SAS_ERR_UNAVAILABLE, std::string("the host's store is unavailable: ") + e.what()};
  } catch (const std::exception& e) {
    response.Clear();
    return {SAS_ERR_INTERNAL, std::string("doctor settings: ") + e.what()};
  }
}

}  // namespace sas::host::doctor_settings
