// Doctor settings and publication rules over the host's store: what the admin API, the CLI and
// the plugin's host calls use, and the snapshot slot search reads on every request.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sas/host/doctor_settings/forfait.hpp>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/doctor_settings/repository.hpp>
#include <sas/host/doctor_settings/rules.hpp>
#include <sas/host/doctor_settings/settings.hpp>

namespace sas::host::doctor_settings {

// A rule or rule id that does not exist for this practitioner.
class NotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Service {
 public:
  explicit Service(
      std::shared_ptr<SettingsRepository> repository, PublicationPolicy policy = {},
      std::function<Clock::time_point()> clock = [] { return Clock::now(); });

  // Practitioner ids are accepted in any form normalize_practitioner takes. Input errors throw
  // SettingsError / RuleError, a missing rule NotFound, the store StoreError.
  Settings get(const std::string& practitioner);
  std::vector<SettingChangeRecord> history(const std::string& practitioner);
  // Records the changed fields (all or none) and returns the settings now in force.
  // effective_at: when the doctor made the choice (default now); never in the future.
  Settings set(const std::string& practitioner, const SettingsPatch& patch, const Actor& actor,
               std::optional<Clock::time_point> effective_at = std::nullopt);

  std::vector<Rule> rules(const std::string& practitioner);
  // Validates, checks conflicts with the active rules and stores, in one transaction.
  Rule add_rule(const std::string& practitioner, const boost::json::value& rule, const Actor& actor);
  void remove_rule(const std::string& practitioner, int64_t rule_id, const Actor& actor);

  // What search applies now. Rebuilt after this service's own writes at once, and after
  // another process's (another host on the same store, an offline `sas-host settings set`)
  // within 250 ms (the store's version is read at most that often).
  std::shared_ptr<const Snapshot> snapshot();

  std::vector<ForfaitLine> forfait(int year, const std::string& practitioner = "");

  const std::shared_ptr<SettingsRepository>& repository() const { return repository_; }

 private:
  std::shared_ptr<const Snapshot> load();

  std::shared_ptr<SettingsRepository> repository_;
  PublicationPolicy policy_;
  std::function<Clock::time_point()> clock_;
  std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  uint64_t version_ = 0;
  std::chrono::steady_clock::time_point checked_at_{};
};

}  // namespace sas::host::doctor_settings
