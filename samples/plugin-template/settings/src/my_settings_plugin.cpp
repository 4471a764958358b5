// A SAS plugin template for doctor settings and publication rules (ABI 1.4 host calls): what a
// doctor chose in your software is pushed to the host, which applies it to every search. Replace
// MySettingsStore with your table of changes; keep the shape: push from a thread of your own,
// oldest change first, and keep a change until the host has it (docs/plugin-guide.md).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sas/sdk/plugin.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

// Stand-in for your table of changes made in your UI, oldest first: a doctor (RPPS stored
// unprefixed) joined SAS on 2025-03-03 at 09:00 Paris time, then asked for SNP evenings.
struct MySettingsStore {
  struct Change {
    v1::SetDoctorSettingsRequest settings;  // or a publication rule:
    std::string rule_json;
  };
  std::vector<Change> pending() const {
    Change joined;
    joined.settings.set_practitioner_national_id("10002673899");
    joined.settings.set_volunteer(true);
    joined.settings.set_visible(true);
    joined.settings.set_consent_to_call(true);
    joined.settings.set_phone("06 12 34 56 78");   // any French form: the host writes +33
    joined.settings.set_effective_at(1740988800);  // when the doctor chose, not when pushed
    joined.settings.set_changed_by("dr-durand");
    Change evenings;
    evenings.settings.set_practitioner_national_id("10002673899");
    evenings.rule_json = R"({"kind":"snp-hours","days":["mon","tue","wed","thu","fri"],"from":"17:00","to":"19:00"})";
    return {joined, evenings};
  }
};

class MySettingsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host& host) override {
    if (!host.has_doctor_settings()) return Status::ok();  // a host older than ABI 1.4: nothing to push
    pusher_ = std::thread([this, &host] { push(host); });
    return Status::ok();
  }

  void shutdown() override {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    lock.unlock();
    wake_.notify_all();
    if (pusher_.joinable()) pusher_.join();
  }

 private:
  // Each change until the host has it. unavailable: nothing changed, retry later in the same
  // order. invalid_argument (e.g. a rule that conflicts with an active one, as after a restart):
  // never acceptable as is, so log it, show it to the doctor, and go on.
  void push(const sas::sdk::Host& host) {
    for (const auto& change : store_.pending()) {
      for (auto wait = std::chrono::seconds(1);; wait = std::min(wait * 2, std::chrono::seconds(60))) {
        Status status = change.rule_json.empty() ? set(host, change.settings) : add_rule(host, change);
        if (status.code() != SAS_ERR_UNAVAILABLE) {
          if (!status.is_ok()) host.log(sas::sdk::LogLevel::warning, "settings change refused: " + status.message());
          break;  // here: mark the change done in your table
        }
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
      }
    }
    host.log(sas::sdk::LogLevel::info, "my-settings: every settings change is with the host");
  }

  static Status set(const sas::sdk::Host& host, const v1::SetDoctorSettingsRequest& change) {
    v1::SetDoctorSettingsResponse now_in_force;
    return host.set_doctor_settings(change, now_in_force);
  }

  static Status add_rule(const sas::sdk::Host& host, const MySettingsStore::Change& change) {
    v1::AddPublicationRuleRequest request;
    request.set_practitioner_national_id(change.settings.practitioner_national_id());
    request.set_rule_json(change.rule_json);
    v1::AddPublicationRuleResponse stored;
    return host.add_publication_rule(request, stored);
  }

  MySettingsStore store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread pusher_;
};

}  // namespace

// No flow to declare: any plugin may make these host calls. Put this in your search plugin.
SAS_PLUGIN(MySettingsPlugin, "my-settings", "Example Vendor", "1.0.0", "", free_threaded)
