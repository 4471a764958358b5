// Structure forfait, indicator 8 (1,400 EUR a year): was the doctor a volunteer on the SAS
// platform with an agenda visible to SAS, and when. Computed from the settings history.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/doctor_settings/settings.hpp>

namespace sas::host::doctor_settings {

// [from, to): Europe/Paris year boundaries, or the instant a setting changed.
struct Period {
  Clock::time_point from;
  Clock::time_point to;
};

struct ForfaitLine {
  std::string practitioner;
  int year = 0;
  std::vector<Period> volunteer;  // volunteer = true
  std::vector<Period> visible;    // visible = true
  std::vector<Period> both;       // both at once: what indicator 8 asks
  double volunteer_days = 0;      // lengths in days of 24 h
  double visible_days = 0;
  double both_days = 0;
  bool both_at_end = false;  // both held at the end of the year (or at `now` for the current year)
};

// One line per practitioner with any history, by practitioner. The year runs from 1 January
// 00:00 Europe/Paris to the next; a year still running is cut at `now`; an unset option counts
// as not held (money needs an explicit choice).
std::vector<ForfaitLine> forfait_report(const std::vector<SettingChangeRecord>& history, int year,
                                        Clock::time_point now);

boost::json::object to_json(const ForfaitLine& line);
// CSV (docs/doctor-options.md): a header row, one row per period kind and period, then three
// total rows per practitioner (total-volunteer, total-visible, total-both).
std::string to_csv(const std::vector<ForfaitLine>& lines);

}  // namespace sas::host::doctor_settings
