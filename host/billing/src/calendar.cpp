#include <sas/host/billing/calendar.hpp>

namespace sas::host::billing {
namespace {

using namespace std::chrono;

std::optional<std::string> find_holiday(const std::vector<Holiday>& holidays, year_month_day date, sys_days easter) {
  const sys_days day{date};
  for (const auto& holiday : holidays) {
    if (holiday.fixed && holiday.fixed->month() == date.month() && holiday.fixed->day() == date.day()) {
      return holiday.name;
    }
    if (holiday.easter_offset && easter + days(*holiday.easter_offset) == day) return holiday.name;
  }
  return std::nullopt;
}

std::string hhmm(minutes m) {
  char text[8];
  std::snprintf(text, sizeof(text), "%02d:%02d", static_cast<int>(m.count() / 60), static_cast<int>(m.count() % 60));
  return text;
}

std::string window_text(const TimeWindow& w) { return hhmm(w.from) + "–" + hhmm(w.to); }

}  // namespace

year_month_day easter_sunday(year y) {
  const int Y = static_cast<int>(y);
  const int a = Y % 19;
  const int b = Y / 100;
  const int c = Y % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month_number = (h + l - 7 * m + 114) / 31;
  const int day_number = (h + l - 7 * m + 114) % 31 + 1;
  return year_month_day{y, month(static_cast<unsigned>(month_number)), day(static_cast<unsigned>(day_number))};
}

std::optional<std::string> holiday_on(const RuleSet& rules, const std::string& region, year_month_day date) {
  const sys_days easter{easter_sunday(date.year())};
  if (auto name = find_holiday(rules.holidays, date, easter)) return name;
  if (!region.empty()) {
    auto found = rules.regions.find(region);
    if (found != rules.regions.end()) return find_holiday(found->second.holidays, date, easter);
  }
  return std::nullopt;
}

std::optional<PdsaPeriod> pdsa_period(const RuleSet& rules, const std::string& region, local_time<minutes> paris_time) {
  const local_days day = floor<days>(paris_time);
  const minutes time_of_day = paris_time - day;
  const year_month_day date{day};
  const weekday wd{day};
  if (rules.pdsa.nights.contains(time_of_day)) {
    return PdsaPeriod{"nuit (" + window_text(rules.pdsa.nights) + ")",
                      "night (" + window_text(rules.pdsa.nights) + ")"};
  }
  if (rules.pdsa.sundays_and_holidays.contains(time_of_day)) {
    const std::string hours = window_text(rules.pdsa.sundays_and_holidays);
    if (auto holiday = holiday_on(rules, region, date)) {
      return PdsaPeriod{"jour férié, " + *holiday + " (" + hours + ")",
                        "public holiday, " + *holiday + " (" + hours + ")"};
    }
    if (wd == Sunday) return PdsaPeriod{"dimanche (" + hours + ")", "Sunday (" + hours + ")"};
  }
  if (!region.empty()) {
    auto found = rules.regions.find(region);
    if (found != rules.regions.end()) {
      for (const auto& extra : found->second.pdsa) {
        if (extra.day == wd && extra.window.contains(time_of_day)) {
          const std::string hours = window_text(extra.window);
          return PdsaPeriod{"extension régionale de la PDSA « " + region + " » (" + hours + ")",
                            "regional PDSA extension \"" + region + "\" (" + hours + ")"};
        }
      }
    }
  }
  return std::nullopt;
}

local_days week_start(local_time<minutes> paris_time) {
  const local_days day = floor<days>(paris_time);
  return day - (weekday{day} - Monday);
}

}  // namespace sas::host::billing
