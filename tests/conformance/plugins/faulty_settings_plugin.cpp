// A plugin that declares `doctor-settings` and, once after init, pushes one doctor's settings
// and publication rules through the ABI 1.4 host calls, for sas-conformance's SET-* checks: without
// a fault it passes them all; --plugin-config "fault=NAME" puts in one fault, which fails exactly
// the check that names it:
// - unknown-rule-kind: a rule of a kind the host does not know (SET-001);
// - bad-practitioner: the settings name a 10-digit id, neither RPPS nor ADELI (SET-002);
// - bad-phone: the settings give a phone with 6 digits (SET-003);
// - effective-at-millis: effective_at in milliseconds, far in the future (SET-004);
// - effective-at-1970: effective_at in days since the epoch, which the host accepts (SET-004);
// - overlapping-rules: two snp-hours rules of the doctor on Monday evening (SET-005);
// - silent: nothing pushed (SET-006).
#include <sas/sdk/plugin.hpp>

#include <string>
#include <thread>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

constexpr const char* kDoctor = "10002673899";  // as a vendor stores it: the host prefixes it
constexpr int64_t kJoined = 1740988800;         // 2025-03-03T08:00:00Z, when the doctor chose

class FaultySettingsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host& host) override {
    fault_ = config.starts_with("fault=") ? std::string(config.substr(6)) : std::string();
    if (host.has_doctor_settings() && fault_ != "silent") pusher_ = std::thread([this, &host] { push(host); });
    return Status::ok();
  }

  void shutdown() override {
    if (pusher_.joinable()) pusher_.join();
  }

 private:
  void push(const sas::sdk::Host& host) {
    v1::SetDoctorSettingsRequest settings;
    settings.set_practitioner_national_id(fault_ == "bad-practitioner" ? "1000267389" : kDoctor);
    settings.set_volunteer(true);
    settings.set_visible(true);
    settings.set_consent_to_call(true);
    settings.set_phone(fault_ == "bad-phone" ? "06 12 34" : "06 12 34 56 78");
    settings.set_effective_at(fault_ == "effective-at-millis" ? kJoined * 1000
                              : fault_ == "effective-at-1970" ? kJoined / 86400
                                                              : kJoined);
    settings.set_changed_by("dr-durand");
    v1::SetDoctorSettingsResponse settings_response;
    (void)host.set_doctor_settings(settings, settings_response);

    auto add = [&](const std::string& rule_json) {
      v1::AddPublicationRuleRequest rule;
      rule.set_practitioner_national_id(kDoctor);
      rule.set_rule_json(rule_json);
      v1::AddPublicationRuleResponse response;
      (void)host.add_publication_rule(rule, response);
      return response.rule().id();
    };
    add(R"({"kind":"snp-hours","days":["mon","tue","wed","thu","fri"],"from":"17:00","to":"19:00"})");
    const int64_t motives = add(R"({"kind":"snp-motives","motives":["Fièvre"]})");
    if (fault_ == "unknown-rule-kind") add(R"({"kind":"snp-evenings","days":["mon"]})");
    if (fault_ == "overlapping-rules") add(R"({"kind":"snp-hours","days":["mon"],"from":"18:00","to":"20:00"})");

    // What a vendor's UI reads back, then a rule the doctor withdrew.
    v1::GetDoctorSettingsRequest get;
    get.set_practitioner_national_id(kDoctor);
    v1::GetDoctorSettingsResponse got;
    (void)host.get_doctor_settings(get, got);
    v1::ListPublicationRulesRequest list;
    list.set_practitioner_national_id(kDoctor);
    v1::ListPublicationRulesResponse listed;
    (void)host.list_publication_rules(list, listed);
    v1::RemovePublicationRuleRequest remove;
    remove.set_practitioner_national_id(kDoctor);
    remove.set_rule_id(motives);
    remove.set_changed_by("dr-durand");
    v1::RemovePublicationRuleResponse removed;
    (void)host.remove_publication_rule(remove, removed);
  }

  std::string fault_;
  std::thread pusher_;
};

}  // namespace

SAS_PLUGIN(FaultySettingsPlugin, "faulty-settings", "SAS SDK tests", "0.0.1", "doctor-settings", free_threaded)
