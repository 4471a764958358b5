#include "sas/host/doctor_settings/settings.hpp"

#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sdk/phone.hpp>

namespace sas::host::doctor_settings {

namespace json = boost::json;
namespace datetime = sas::sdk::datetime;

std::string normalize_practitioner(std::string_view raw, std::string_view field) {
  std::string reason;
  if (auto id = sas::sdk::ids::normalize_practitioner_id(raw, &reason)) return id->prefixed;
  throw SettingsError(std::string(field) + ": '" + std::string(raw) + "' is not an RPPS or ADELI number (" + reason +
                      ")");
}

namespace {

std::string flag(bool value) { return value ? "true" : "false"; }

std::string normalize_phone(const std::string& raw) {
  if (raw.empty()) return raw;  // removes the phone
  std::string reason;
  if (auto phone = sas::sdk::phone::to_plus33(raw, &reason)) return *phone;
  throw SettingsError("phone: '" + raw + "' is not a French phone number (" + reason + ")");
}

}  // namespace

std::vector<SettingChangeRecord> changes_for(const Settings& current, const SettingsPatch& patch, const Actor& actor,
                                             Clock::time_point effective_at, Clock::time_point recorded_at) {
  std::vector<SettingChangeRecord> changes;
  auto add = [&](std::string_view field, std::string value) {
    SettingChangeRecord& c = changes.emplace_back();
    c.practitioner = current.practitioner;
    c.field = std::string(field);
    c.value = std::move(value);
    c.effective_at = effective_at;
    c.recorded_at = recorded_at;
    c.changed_by = actor.by;
    c.source = actor.source;
  };
  if (patch.volunteer && patch.volunteer != current.volunteer) add(kVolunteer, flag(*patch.volunteer));
  if (patch.visible && patch.visible != current.visible) add(kVisible, flag(*patch.visible));
  if (patch.consent_to_call && patch.consent_to_call != current.consent_to_call) {
    add(kConsentToCall, flag(*patch.consent_to_call));
  }
  if (patch.phone) {
    std::string phone = normalize_phone(*patch.phone);
    if (phone != current.phone.value_or("")) add(kPhone, std::move(phone));
  }
  return changes;
}

Settings settings_at(std::string_view practitioner, const std::vector<SettingChangeRecord>& history,
                     Clock::time_point at) {
  Settings s;
  s.practitioner = std::string(practitioner);
  for (const auto& c : history) {
    if (c.practitioner != practitioner || c.effective_at > at) continue;
    if (c.field == kVolunteer) {
      s.volunteer = c.value == "true";
    } else if (c.field == kVisible) {
      s.visible = c.value == "true";
    } else if (c.field == kConsentToCall) {
      s.consent_to_call = c.value == "true";
    } else if (c.field == kPhone) {
      s.phone = c.value.empty() ? std::nullopt : std::optional<std::string>(c.value);
    } else {
      continue;  // a field of a later version: not ours to interpret
    }
    if (!s.updated_at || c.effective_at > *s.updated_at) s.updated_at = c.effective_at;
  }
  return s;
}

std::string format_instant(Clock::time_point t) {
  return datetime::format_paris(std::chrono::time_point_cast<std::chrono::milliseconds>(t), false);
}

Clock::time_point parse_instant(std::string_view text, std::string_view field) {
  std::string error;
  if (auto t = datetime::parse_fhir(text, &error)) {
    // The clock counts nanoseconds: beyond about 1677-2262 a conversion would wrap round.
    using namespace std::chrono;
    const auto limit = duration_cast<milliseconds>(Clock::duration::max()) - hours(24);
    if (t->time_since_epoch() > limit || t->time_since_epoch() < -limit) {
      throw SettingsError(std::string(field) + ": '" + std::string(text) + "' is out of range");
    }
    return Clock::time_point(duration_cast<Clock::duration>(t->time_since_epoch()));
  }
  throw SettingsError(std::string(field) + ": '" + std::string(text) + "' is not a date-time with an offset (" + error +
                      ")");
}

json::object to_json(const Settings& s) {
  json::object o;
  o["practitioner"] = s.practitioner;
  auto opt = [&](std::string_view key, const std::optional<bool>& v) {
    o[key] = v ? json::value(*v) : json::value(nullptr);
  };
  opt(kVolunteer, s.volunteer);
  opt(kVisible, s.visible);
  opt(kConsentToCall, s.consent_to_call);
  o[kPhone] = s.phone ? json::value(*s.phone) : json::value(nullptr);
  o["updated_at"] = s.updated_at ? json::value(format_instant(*s.updated_at)) : json::value(nullptr);
  return o;
}

json::object to_json(const SettingChangeRecord& c) {
  json::object o;
  o["id"] = c.id;
  o["field"] = c.field;
  if (c.field == kPhone) {
    o["value"] = c.value.empty() ? json::value(nullptr) : json::value(c.value);
  } else {
    o["value"] = c.value == "true";
  }
  o["effective_at"] = format_instant(c.effective_at);
  o["recorded_at"] = format_instant(c.recorded_at);
  o["changed_by"] = c.changed_by;
  o["source"] = c.source;
  return o;
}

SettingsPatch patch_from_json(const json::value& value) {
  if (!value.is_object()) throw SettingsError("the settings must be a JSON object");
  SettingsPatch patch;
  for (const auto& [key, v] : value.as_object()) {
    auto boolean = [&, k = std::string_view(key)]() -> bool {
      if (!v.is_bool()) throw SettingsError(std::string(k) + ": expected true or false");
      return v.as_bool();
    };
    if (key == kVolunteer) {
      patch.volunteer = boolean();
    } else if (key == kVisible) {
      patch.visible = boolean();
    } else if (key == kConsentToCall) {
      patch.consent_to_call = boolean();
    } else if (key == kPhone) {
      if (v.is_null()) {
        patch.phone = "";
      } else if (v.is_string()) {
        patch.phone = std::string(v.as_string());
        normalize_phone(*patch.phone);  // refuse here, naming the key
      } else {
        throw SettingsError("phone: expected a phone number as a string, or null to remove it");
      }
    } else if (key == "effective_at" || key == "changed_by") {
      if (!v.is_string()) throw SettingsError(std::string(key) + ": expected a string");
    } else {
      throw SettingsError(std::string(key) +
                          ": unknown setting (expected volunteer, visible, consent_to_call, phone, effective_at, "
                          "changed_by)");
    }
  }
  return patch;
}

}  // namespace sas::host::doctor_settings
