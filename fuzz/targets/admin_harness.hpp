// The admin API's real endpoint (AdminEndpoint::handle: routing, authentication, body parsing,
// the doctor-settings service and its checks) over an in-memory SettingsRepository that starts
// empty for every input, so that an input always does the same thing. The input is up to four
// request bodies separated by NUL bytes (never valid inside JSON), sent in turn: later requests
// meet what earlier ones stored (a setting already in force, a rule they conflict with).
// Every answer must be the admin API's JSON; a 5xx on a body is a finding.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sas/host/admin_api/admin_endpoint.hpp"
#include "sas/host/appointment_notifications/outbox.hpp"
#include "sas/host/doctor_settings/repository.hpp"
#include "sas/host/doctor_settings/service.hpp"
#include "sas/host/store/store.hpp"

namespace sas::fuzz {

namespace ds = sas::host::doctor_settings;

// The repository's contract (repository.hpp) in memory, one process, no durability.
class MemorySettingsRepository final : public ds::SettingsRepository {
 public:
  void clear() {
    std::lock_guard lock(mutex_);
    changes_.clear();
    rules_.clear();
    last_id_ = 0;
    ++version_;
  }
  void record_changes(const std::vector<ds::SettingChangeRecord>& changes) override {
    std::lock_guard lock(mutex_);
    for (auto change : changes) {
      change.id = static_cast<int64_t>(++last_id_);
      changes_.push_back(std::move(change));
    }
    ++version_;
  }
  std::vector<ds::SettingChangeRecord> changes(const std::string& practitioner) override {
    std::lock_guard lock(mutex_);
    std::vector<ds::SettingChangeRecord> out;
    for (const auto& c : changes_)
      if (practitioner.empty() || c.practitioner == practitioner) out.push_back(c);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.effective_at != b.effective_at ? a.effective_at < b.effective_at : a.id < b.id;
    });
    return out;
  }
  int64_t add_rule(const ds::PublicationRuleRecord& rule,
                   const std::function<void(const std::vector<ds::PublicationRuleRecord>& active)>& check) override {
    std::lock_guard lock(mutex_);
    std::vector<ds::PublicationRuleRecord> active;
    for (const auto& r : rules_)
      if (r.practitioner == rule.practitioner && !r.removed_at) active.push_back(r);
    check(active);
    rules_.push_back(rule);
    rules_.back().id = static_cast<int64_t>(++last_id_);
    ++version_;
    return rules_.back().id;
  }
  bool remove_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                   const std::string& by) override {
    std::lock_guard lock(mutex_);
    for (auto& r : rules_) {
      if (r.id == id && r.practitioner == practitioner && !r.removed_at) {
        r.removed_at = at;
        r.removed_by = by;
        ++version_;
        return true;
      }
    }
    return false;
  }
  std::vector<ds::PublicationRuleRecord> rules(const std::string& practitioner, bool include_removed) override {
    std::lock_guard lock(mutex_);
    std::vector<ds::PublicationRuleRecord> out;
    for (const auto& r : rules_)
      if ((practitioner.empty() || r.practitioner == practitioner) && (include_removed || !r.removed_at))
        out.push_back(r);
    return out;
  }
  uint64_t version() override {
    std::lock_guard lock(mutex_);
    return version_;
  }

 private:
  std::mutex mutex_;
  std::vector<ds::SettingChangeRecord> changes_;
  std::vector<ds::PublicationRuleRecord> rules_;
  uint64_t last_id_ = 0;
  uint64_t version_ = 1;
};

class AdminHarness {
 public:
  AdminHarness() {
    // The outbox is required by the endpoint; these routes never touch it.
    outbox_store_ = sas::host::store::open("sqlite:" + (scratch_dir() / "outbox.db").string());
    outbox_ = std::make_shared<sas::host::appointment_notifications::Outbox>(outbox_store_.outbox);
    sas::host::admin_api::AdminEndpointOptions options;
    options.settings = std::make_shared<ds::Service>(repository_, ds::PublicationPolicy{}, [] {
      return std::chrono::system_clock::time_point(std::chrono::sys_days{std::chrono::year{2026} / 6 / 15});
    });
    options.outbox = outbox_;
    endpoint_ = std::make_unique<sas::host::admin_api::AdminEndpoint>(std::move(options));
  }

  // Sends each NUL-separated body of the input, in turn, as `method` to `target`.
  void run(std::string_view method, std::string_view target, const uint8_t* data, std::size_t size) {
    repository_->clear();
    std::string_view rest = text(data, size);
    for (int request_count = 0; request_count < 4; ++request_count) {
      const auto end = rest.find('\0');
      send(method, target, rest.substr(0, end));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }

 private:
  void send(std::string_view method, std::string_view target, std::string_view body) {
    sas::host::server::Request request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.client = {"back-office", "SAS"};  // authenticated by its certificate
    const auto response = endpoint_->handle(request);
    note("HTTP " + std::to_string(response.status) + " " + response.body.substr(0, 160));
    if (response.status >= 500) finding("HTTP " + std::to_string(response.status) + ": " + response.body);
    boost::system::error_code ec;
    const auto answer = boost::json::parse(response.body, ec);
    require(!ec && answer.is_object(), "the answer is not a JSON object: " + response.body);
    if (response.status >= 400) {
      require(answer.as_object().contains("error"), "a refusal without its error object: " + response.body);
    }
  }

  std::shared_ptr<MemorySettingsRepository> repository_ = std::make_shared<MemorySettingsRepository>();
  sas::host::store::Store outbox_store_;
  std::shared_ptr<sas::host::appointment_notifications::Outbox> outbox_;
  std::unique_ptr<sas::host::admin_api::AdminEndpoint> endpoint_;
};

}  // namespace sas::fuzz
