// A practitioner's SAS options (docs/doctor-options.md): participation (volunteer), agenda
// visibility, consent to be called before each orientation, and the phone to call. The host
// keeps every change as history; the current settings are the latest change of each field.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/doctor_settings/repository.hpp>

namespace sas::host::doctor_settings {

using Clock = std::chrono::system_clock;

// Invalid input: the message names the field and says what is expected.
class SettingsError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The field names, as in JSON, the CLI (--consent-to-call) and the store.
inline constexpr std::string_view kVolunteer = "volunteer";
inline constexpr std::string_view kVisible = "visible";
inline constexpr std::string_view kConsentToCall = "consent_to_call";
inline constexpr std::string_view kPhone = "phone";

// nullopt: never set. What an unset option means is the host's policy (PublicationPolicy).
struct Settings {
  std::string practitioner;                     // prefixed IDNPS: 8+RPPS or 0+ADELI
  std::optional<bool> volunteer;                // "Je participe au SAS"
  std::optional<bool> visible;                  // the agenda is visible to SAS
  std::optional<bool> consent_to_call;          // call me before sending me a patient
  std::optional<std::string> phone;             // +33XXXXXXXXX, the number the regulator calls
  std::optional<Clock::time_point> updated_at;  // the latest effective change
};

// A change request: only the fields set change. phone "" removes the phone.
struct SettingsPatch {
  std::optional<bool> volunteer = std::nullopt;
  std::optional<bool> visible = std::nullopt;
  std::optional<bool> consent_to_call = std::nullopt;
  std::optional<std::string> phone = std::nullopt;
  bool empty() const { return !volunteer && !visible && !consent_to_call && !phone; }
};

// Who made a change, and through what.
struct Actor {
  std::string by;      // free text: an operator's name, "doctor", the vendor's user id
  std::string source;  // admin-api | panel | cli | plugin
};

// "81234567890" / "8" + RPPS / "0" + ADELI / bare RPPS or ADELI -> prefixed; SettingsError naming
// `field` otherwise.
std::string normalize_practitioner(std::string_view raw, std::string_view field = "practitioner");

// The patch's changes as store rows (phone normalised to +33), in field order; only the fields
// that differ from `current` (a no-op change is not history). Throws SettingsError.
std::vector<SettingChangeRecord> changes_for(const Settings& current, const SettingsPatch& patch, const Actor& actor,
                                             Clock::time_point effective_at, Clock::time_point recorded_at);

// The settings in force at `at` from a practitioner's history (ordered by effective_at, id).
Settings settings_at(std::string_view practitioner, const std::vector<SettingChangeRecord>& history,
                     Clock::time_point at);

// JSON forms (docs/doctor-options.md). A patch from JSON refuses unknown keys and wrong types,
// naming the key.
boost::json::object to_json(const Settings& settings);
boost::json::object to_json(const SettingChangeRecord& change);
SettingsPatch patch_from_json(const boost::json::value& value);

// "2026-03-01T09:00:00+01:00"-style instant with the Europe/Paris offset.
std::string format_instant(Clock::time_point t);
// A FHIR dateTime with an offset, or SettingsError naming `field`.
Clock::time_point parse_instant(std::string_view text, std::string_view field);

}  // namespace sas::host::doctor_settings
