// Doctor settings and publication rules (store schema 5), kept as a history that is only ever
// appended to, because the structure forfait is judged over a year. host/doctor_settings owns
// their meaning (docs/doctor-options.md); host/store implements this per backend (tests/store:
// the contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sas/host/store/error.hpp>

namespace sas::host::doctor_settings {

// One change of one setting of one practitioner. field: volunteer | visible | consent_to_call |
// phone; value: "true" / "false" for the flags, "+33..." or "" (removed) for the phone.
struct SettingChangeRecord {
  int64_t id = 0;
  std::string practitioner;  // prefixed IDNPS
  std::string field;
  std::string value;
  std::chrono::system_clock::time_point effective_at;  // when the doctor's choice took effect
  std::chrono::system_clock::time_point recorded_at;   // when the host learnt of it
  std::string changed_by;                              // who: an operator, "doctor", a vendor user id...
  std::string source;                                  // admin-api | panel | cli | plugin
};

// One publication rule, as its JSON form (docs/doctor-options.md); removed rules are kept.
struct PublicationRuleRecord {
  int64_t id = 0;
  std::string practitioner;
  std::string rule;  // JSON
  std::chrono::system_clock::time_point created_at;
  std::string created_by;
  std::string source;
  std::optional<std::chrono::system_clock::time_point> removed_at;
  std::string removed_by;
};

// Guarantees (every backend; thread-safe; each call is one transaction: a call that throws
// store::StoreError changed nothing):
// - durable once returned, seen by every handle on the same store;
// - `add_rule` is an atomic check-and-insert with respect to every other `add_rule` and
//   `remove_rule` on the same store, from any process: `check` sees the practitioner's active
//   rules as they are when the rule is inserted, so two conflicting rules can never both pass;
// - `version` changes whenever a setting or rule may have changed, through this handle or any
//   other handle on the store (another process included), and is cheap enough to poll.
class SettingsRepository {
 public:
  virtual ~SettingsRepository() = default;
  // Appends changes, all or none.
  virtual void record_changes(const std::vector<SettingChangeRecord>& changes) = 0;
  // Changes of `practitioner` ("" = every practitioner), by effective_at then id.
  virtual std::vector<SettingChangeRecord> changes(const std::string& practitioner) = 0;
  // Adds a rule after `check` accepted the practitioner's active rules (`check` throws to
  // refuse: nothing is written, the exception propagates). Returns the new rule's id.
  virtual int64_t add_rule(const PublicationRuleRecord& rule,
                           const std::function<void(const std::vector<PublicationRuleRecord>& active)>& check) = 0;
  // Marks the practitioner's active rule `id` removed. false: no such active rule.
  virtual bool remove_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                           const std::string& by) = 0;
  // Rules of `practitioner` ("" = all), by id; removed ones only when asked.
  virtual std::vector<PublicationRuleRecord> rules(const std::string& practitioner, bool include_removed = false) = 0;
  virtual uint64_t version() = 0;
};

}  // namespace sas::host::doctor_settings
