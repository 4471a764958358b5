// A SAS plugin template for doctor settings and publication rules (ABI 1.4 host calls): what a
// doctor chose in your software is pushed to the host, which applies it to every search. The
// SDK's reporter sends your pending changes with the host's retry policy; replace
// MySettingsStore with your table of changes (docs/plugin-guide.md, docs/plugin-guide/
// accounts-and-reports.md).
#include <sas/sdk/plugin.hpp>
#include <sas/sdk/reporter.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
namespace rp = sas::sdk::reporter;
using sas::sdk::Status;

// Stand-in for your tables of changes made in your UI, oldest first: a doctor (RPPS stored
// unprefixed) joined SAS on 2025-03-03 at 09:00 Paris time, and asked for SNP evenings.
struct MySettingsStore {
  std::mutex mutex;
  std::vector<v1::SetDoctorSettingsRequest> settings;
  std::vector<v1::AddPublicationRuleRequest> rules;
  MySettingsStore() {
    v1::SetDoctorSettingsRequest& joined = settings.emplace_back();
    joined.set_practitioner_national_id("10002673899");  // as stored: the host normalises
    joined.set_volunteer(true);
    joined.set_visible(true);
    joined.set_consent_to_call(true);
    joined.set_phone("06 12 34 56 78");   // any French form: the host writes +33
    joined.set_effective_at(1740988800);  // when the doctor chose, not when pushed
    joined.set_changed_by("dr-durand");
    v1::AddPublicationRuleRequest& evenings = rules.emplace_back();
    evenings.set_practitioner_national_id("10002673899");
    evenings.set_rule_json(
        R"({"kind":"snp-hours","days":["mon","tue","wed","thu","fri"],"from":"17:00","to":"19:00"})");
    evenings.set_changed_by("dr-durand");
  }
};

class MySettingsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host& host) override {
    if (!host.has_doctor_settings()) return Status::ok();  // a host older than ABI 1.4: changes wait
    host_ = &host;
    reporter_.add_stream("settings changes", [this](rp::Round& round) { report(round); });
    reporter_.start(host, {std::chrono::milliseconds(500)});
    return Status::ok();
  }

  void shutdown() override { reporter_.stop(); }  // before the host goes away

 private:
  // Oldest first; a change stays pending until the host has it. Refused (e.g. a rule in
  // conflict with an active one): never acceptable as is, show it to the doctor.
  void report(rp::Round& round) {
    std::lock_guard lock(store_.mutex);
    while (!store_.settings.empty()) {
      const auto change = store_.settings.front();
      if (!round.send(
              "settings of " + change.practitioner_national_id(), change, [](const auto&) {},
              [this](const std::string& why) { tell_the_doctor(why); }))
        return;                                        // the host is unavailable: the rest waits, in order
      store_.settings.erase(store_.settings.begin());  // your UPDATE ... SET reported
    }
    while (!store_.rules.empty()) {
      const auto rule = store_.rules.front();
      if (!round.send(
              "rule of " + rule.practitioner_national_id(), rule, [](const auto&) {},
              [this](const std::string& why) { tell_the_doctor(why); }))
        return;
      store_.rules.erase(store_.rules.begin());
      if (store_.rules.empty()) host_->log(sas::sdk::LogLevel::info, "my-settings: every change is with the host");
    }
  }
  void tell_the_doctor(const std::string& why) { host_->log(sas::sdk::LogLevel::warning, "refused: " + why); }

  MySettingsStore store_;
  const sas::sdk::Host* host_ = nullptr;
  rp::Reporter reporter_;
};

}  // namespace

// `doctor-settings` only declares it (the host takes these calls from any plugin): sas-conformance
// then waits for them and checks them (SET-*). Put this in your search plugin.
SAS_PLUGIN(MySettingsPlugin, "my-settings", "Example Vendor", "1.0.0", "doctor-settings", free_threaded)
