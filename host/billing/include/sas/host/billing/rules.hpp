// The SNP / MRT coding rules as data: a versioned rule file (JSON) whose versions each carry a
// date of effect, so a consultation is judged by the rules in force on its date. The format
// and the meaning of every key are in docs/billing.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sas::host::billing {

// A rule file or a consultation that cannot be used; the message names the key or field.
class BillingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A public holiday: a fixed month-day, or a number of days after Easter Sunday (negative:
// before it, e.g. Good Friday is -2).
struct Holiday {
  std::string name;  // as a doctor reads it, French ("Lundi de Pâques")
  std::optional<std::chrono::month_day> fixed;
  std::optional<int> easter_offset;
};

// A wall-clock window in Europe/Paris, [from, to); `to` <= `from` crosses midnight.
struct TimeWindow {
  std::chrono::minutes from{0};
  std::chrono::minutes to{0};
  bool contains(std::chrono::minutes time_of_day) const;
};

// An extra PDSA window on one weekday (e.g. Saturday afternoon), for a region that has it.
struct WeekdayWindow {
  std::chrono::weekday day;
  TimeWindow window;
};

// Regional extensions: extra public holidays (Alsace-Moselle: Good Friday, 26 December) and
// extra PDSA hours (Saturday afternoon where the regional PDSA plan has it).
struct Region {
  std::vector<Holiday> holidays;
  std::vector<WeekdayWindow> pdsa;
};

// An exclusion: billing `codes` with the majoration forbids it.
struct Exclusion {
  std::vector<std::string> codes;
  std::string fr;  // what the group is, in words ("majoration de coordination généraliste")
  std::string en;
};

// One majoration (SNP or MRT) as one rule-set version defines it.
struct Majoration {
  std::string code;                   // "SNP" or "MRT"
  std::string parcours_indicator;     // "U" for SNP, "" when none
  int64_t amount_cents = 0;           // euro cents, never floating point
  std::chrono::minutes max_delay{0};  // after the regulation, inclusive
  std::optional<int> max_per_week;    // per doctor and calendar week (Monday 00:00 Paris)
  bool requires_opposable_tariff = false;
  std::vector<std::string> excluded_specialties;  // TRE_R38 codes
  std::vector<Exclusion> exclusions;
  std::string reference;  // the rule's source, e.g. "NGAP art. 14.1.3"
};

// PDSA (permanence des soins ambulatoires, the out-of-hours service) hours, national part.
struct Pdsa {
  TimeWindow nights;                // every day
  TimeWindow sundays_and_holidays;  // Sundays and public holidays
  std::string reference;
};

struct RuleSet {
  std::string id;
  std::chrono::year_month_day effective_from;  // Europe/Paris date, inclusive
  std::string title;
  Majoration snp;
  Majoration mrt;
  Pdsa pdsa;
  std::vector<Holiday> holidays;
  std::map<std::string, Region> regions;
};

class RuleBook {
 public:
  // Parses a rule file's text; throws BillingError naming the key ("versions[1].snp.amount_cents").
  static RuleBook parse(std::string_view json, const std::string& origin = "rules");
  static RuleBook load(const std::filesystem::path& path);

  // The version in force on a Europe/Paris date; throws BillingError when none is.
  const RuleSet& in_force(std::chrono::year_month_day date) const;
  const std::vector<RuleSet>& versions() const { return versions_; }
  const std::string& origin() const { return origin_; }

 private:
  std::vector<RuleSet> versions_;  // sorted by effective_from
  std::string origin_;
};

// The rule file shipped with the host: share/sas/billing/rules.json next to the binary's bin/.
std::filesystem::path default_rules_path(const std::filesystem::path& executable);

}  // namespace sas::host::billing
