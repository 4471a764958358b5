#include "sas/host/doctor_settings/rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <sas/host/text/text.hpp>

namespace sas::host::doctor_settings {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::pair<RuleKind, std::string_view>, 4> kKinds = {{
    {RuleKind::snp_motives, "snp-motives"},
    {RuleKind::public_also_snp, "public-also-snp"},
    {RuleKind::snp_hours, "snp-hours"},
    {RuleKind::hide_motives, "hide-motives"},
}};

using sas::host::text::trim;

// "HH:MM", 00:00 to 24:00.
int parse_minute(const json::value& v, std::string_view key) {
  const std::string what = std::string(key) + ": expected a time \"HH:MM\" (00:00 to 24:00)";
  if (!v.is_string()) throw RuleError(what);
  const std::string_view s = v.as_string();
  if (s.size() != 5 || s[2] != ':') throw RuleError(what);
  for (std::size_t i : {0U, 1U, 3U, 4U}) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) throw RuleError(what);
  }
  const int hours = (s[0] - '0') * 10 + (s[1] - '0');
  const int minutes = (s[3] - '0') * 10 + (s[4] - '0');
  if (hours > 24 || minutes > 59 || (hours == 24 && minutes != 0)) throw RuleError(what);
  return hours * 60 + minutes;
}

std::string format_minute(int m) {
  std::string s = "00:00";
  s[0] = static_cast<char>('0' + m / 600);
  s[1] = static_cast<char>('0' + (m / 60) % 10);
  s[3] = static_cast<char>('0' + (m % 60) / 10);
  s[4] = static_cast<char>('0' + m % 10);
  return s;
}

std::vector<std::string> parse_motives(const json::value& v) {
  if (!v.is_array() || v.as_array().empty()) throw RuleError("motives: expected a non-empty array of motive texts");
  std::vector<std::string> motives;
  for (const auto& m : v.as_array()) {
    if (!m.is_string()) throw RuleError("motives: every motive must be a string");
    std::string text(trim(m.as_string()));
    if (text.empty()) throw RuleError("motives: a motive is empty");
    for (const auto& seen : motives) {
      if (motive_key(seen) == motive_key(text)) throw RuleError("motives: '" + text + "' is listed twice");
    }
    motives.push_back(std::move(text));
  }
  return motives;
}

unsigned parse_days(const json::value& v) {
  if (!v.is_array() || v.as_array().empty()) {
    throw RuleError("days: expected a non-empty array of mon, tue, wed, thu, fri, sat, sun");
  }
  unsigned days = 0;
  for (const auto& d : v.as_array()) {
    const auto it =
        d.is_string() ? std::find(kDays.begin(), kDays.end(), std::string_view(d.as_string())) : kDays.end();
    if (it == kDays.end()) throw RuleError("days: each day is one of mon, tue, wed, thu, fri, sat, sun");
    const unsigned bit = 1U << static_cast<unsigned>(it - kDays.begin());
    if ((days & bit) != 0) throw RuleError("days: '" + std::string(*it) + "' is listed twice");
    days |= bit;
  }
  return days;
}

std::string rule_label(const Rule& r) {
  return "rule " + std::to_string(r.id) + " (" + std::string(kind_name(r.kind)) + ")";
}

}  // namespace

std::string motive_key(std::string_view motive) {
  std::string key(trim(motive));
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::string_view kind_name(RuleKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

Rule parse_rule(const json::value& value, const std::string& practitioner) {
  if (!value.is_object()) throw RuleError("a rule must be a JSON object with a \"kind\"");
  const json::object& o = value.as_object();
  const json::value* kind = o.if_contains("kind");
  if (kind == nullptr || !kind->is_string()) {
    throw RuleError("kind: required, one of snp-motives, public-also-snp, snp-hours, hide-motives");
  }
  Rule rule;
  rule.practitioner = practitioner;
  const auto k = std::find_if(kKinds.begin(), kKinds.end(),
                              [&](const auto& entry) { return entry.second == std::string_view(kind->as_string()); });
  if (k == kKinds.end()) {
    throw RuleError("kind: '" + std::string(kind->as_string()) +
                    "' is not one of snp-motives, public-also-snp, snp-hours, hide-motives");
  }
  rule.kind = k->first;

  std::vector<std::string_view> allowed = {"kind", "note", "id"};
  switch (rule.kind) {
    case RuleKind::snp_motives:
    case RuleKind::hide_motives:
      allowed.push_back("motives");
      break;
    case RuleKind::snp_hours:
      allowed.insert(allowed.end(), {"days", "from", "to"});
      break;
    case RuleKind::public_also_snp:
      break;
  }
  for (const auto& [key, v] : o) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      throw RuleError(std::string(key) + ": not a key of a " + std::string(k->second) + " rule");
    }
  }
  auto required = [&](std::string_view key) -> const json::value& {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) throw RuleError(std::string(key) + ": required by a " + std::string(k->second) + " rule");
    return *v;
  };
  if (rule.kind == RuleKind::snp_motives || rule.kind == RuleKind::hide_motives) {
    rule.motives = parse_motives(required("motives"));
    for (const auto& m : rule.motives) rule.motive_keys.push_back(motive_key(m));
  }
  if (rule.kind == RuleKind::snp_hours) {
    rule.weekdays = parse_days(required("days"));
    rule.from_minute = parse_minute(required("from"), "from");
    rule.to_minute = parse_minute(required("to"), "to");
    if (rule.from_minute >= rule.to_minute) throw RuleError("to: must be after from (a rule does not cross midnight)");
  }
  if (const json::value* note = o.if_contains("note")) {
    if (!note->is_string()) throw RuleError("note: expected a string");
    rule.note = std::string(note->as_string());
  }
  if (const json::value* id = o.if_contains("id"); id != nullptr && id->is_int64()) rule.id = id->as_int64();
  return rule;
}

json::object to_json(const Rule& rule) {
  json::object o;
  if (rule.id != 0) o["id"] = rule.id;
  o["kind"] = kind_name(rule.kind);
  if (!rule.motives.empty()) {
    json::array motives;
    for (const auto& m : rule.motives) motives.emplace_back(m);
    o["motives"] = std::move(motives);
  }
  if (rule.kind == RuleKind::snp_hours) {
    json::array days;
    for (std::size_t i = 0; i < kDays.size(); ++i) {
      if ((rule.weekdays & (1U << i)) != 0) days.emplace_back(kDays[i]);
    }
    o["days"] = std::move(days);
    o["from"] = format_minute(rule.from_minute);
    o["to"] = format_minute(rule.to_minute);
  }
  if (!rule.note.empty()) o["note"] = rule.note;
  return o;
}

std::optional<std::string> conflict(const std::vector<Rule>& active, const Rule& candidate) {
  for (const Rule& other : active) {
    if (other.practitioner != candidate.practitioner) continue;
    if (candidate.kind == RuleKind::public_also_snp && other.kind == RuleKind::public_also_snp) {
      return "every public slot is already offered as SNP by " + rule_label(other);
    }
    if (candidate.kind == RuleKind::snp_hours && other.kind == RuleKind::snp_hours &&
        (candidate.weekdays & other.weekdays) != 0 && candidate.from_minute < other.to_minute &&
        other.from_minute < candidate.to_minute) {
      return "these hours overlap " + rule_label(other) + " (" + format_minute(other.from_minute) + "-" +
             format_minute(other.to_minute) + " on a common day)";
    }
    for (const auto& motive : candidate.motives) {
      for (const auto& theirs : other.motives) {
        if (motive_key(motive) != motive_key(theirs)) continue;
        if (other.kind == candidate.kind) {
          return "motive '" + motive + "' is already in " + rule_label(other);
        }
        return "motive '" + motive + "' cannot be both SNP-reserved and hidden: see " + rule_label(other);
      }
    }
  }
  return std::nullopt;
}

std::vector<Rule> rules_from_records(const std::vector<PublicationRuleRecord>& records,
                                     std::vector<std::string>* errors) {
  std::vector<Rule> rules;
  for (const auto& record : records) {
    try {
      Rule rule = parse_rule(json::parse(record.rule), record.practitioner);
      rule.id = record.id;
      rules.push_back(std::move(rule));
    } catch (const std::exception& e) {
      if (errors != nullptr) errors->push_back("rule " + std::to_string(record.id) + ": " + e.what());
    }
  }
  return rules;
}

}  // namespace sas::host::doctor_settings
