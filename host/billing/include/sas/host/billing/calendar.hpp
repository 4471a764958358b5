// French public holidays (jours fériés) for any year, PDSA hours and the billing week, all in
// Europe/Paris wall-clock time.
#pragma once

#include <chrono>
#include <optional>
#include <sas/host/billing/rules.hpp>
#include <string>

namespace sas::host::billing {

// Easter Sunday of a Gregorian year (the anonymous Gregorian computus, Meeus/Jones/Butcher).
std::chrono::year_month_day easter_sunday(std::chrono::year year);

// The name of the public holiday on `date` among the rule set's national holidays and, when
// `region` is not empty, that region's; nullopt on an ordinary day.
std::optional<std::string> holiday_on(const RuleSet& rules, const std::string& region,
                                      std::chrono::year_month_day date);

// Why a wall-clock time is within PDSA hours ("nuit", "dimanche", "jour férié : Ascension",
// ...), or nullopt outside them.
struct PdsaPeriod {
  std::string fr;
  std::string en;
};
std::optional<PdsaPeriod> pdsa_period(const RuleSet& rules, const std::string& region,
                                      std::chrono::local_time<std::chrono::minutes> paris_time);

// Monday 00:00 of the calendar week holding `paris_time`.
std::chrono::local_days week_start(std::chrono::local_time<std::chrono::minutes> paris_time);

}  // namespace sas::host::billing
