// Structure forfait, indicator 8: when a practitioner was a volunteer, visible, and both, over
// one Europe/Paris year, from the settings history (docs/doctor-options.md).
#include <algorithm>
#include <cstdio>
#include <map>
#include <sas/host/doctor_settings/forfait.hpp>
#include <sas/sdk/datetime.hpp>
#include <string_view>

namespace sas::host::doctor_settings {

namespace {

namespace json = boost::json;
using Instant = sas::sdk::datetime::Instant;

// 1 January 00:00 Europe/Paris of `year`.
Clock::time_point year_start(int year) {
  const std::chrono::local_days day{std::chrono::year{year} / std::chrono::January / 1};
  const Instant start =
      sas::sdk::datetime::from_paris_local(std::chrono::local_time<std::chrono::milliseconds>(day.time_since_epoch()));
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(start.time_since_epoch()));
}

std::string instant_text(Clock::time_point t) { return format_instant(t); }

double days_of(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count() / 86400.0;
}

double total_days(const std::vector<Period>& periods) {
  double sum = 0;
  for (const auto& p : periods) sum += days_of(p.from, p.to);
  return sum;
}

// The periods of [begin, end) during which `field` was "true", from the practitioner's changes
// ordered by (effective_at, id). A change effective at or before `begin` sets the state the year
// starts with; one effective at or after `end` is not looked at. Periods never touch: a change
// to the same value does not split one, and a value that holds for no time at all (two changes
// at the same instant) leaves nothing.
std::vector<Period> held(const std::vector<const SettingChangeRecord*>& changes, std::string_view field,
                         Clock::time_point begin, Clock::time_point end) {
  std::vector<Period> periods;
  if (end <= begin) return periods;
  bool on = false;
  Clock::time_point since = begin;
  for (const SettingChangeRecord* change : changes) {
    if (change->field != field) continue;
    if (change->effective_at >= end) break;
    const bool value = change->value == "true";
    const Clock::time_point at = std::max(change->effective_at, begin);
    if (value == on) continue;
    if (on && at > since) periods.push_back({since, at});
    on = value;
    since = at;
  }
  if (on && end > since) periods.push_back({since, end});
  // Two changes at one instant (false then true, say) could leave [a, b) followed by [b, c).
  std::vector<Period> merged;
  for (const auto& p : periods) {
    if (!merged.empty() && merged.back().to == p.from) {
      merged.back().to = p.to;
    } else {
      merged.push_back(p);
    }
  }
  return merged;
}

// Both lists are ordered and their periods do not touch.
std::vector<Period> intersection(const std::vector<Period>& a, const std::vector<Period>& b) {
  std::vector<Period> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const auto from = std::max(a[i].from, b[j].from);
    const auto to = std::min(a[i].to, b[j].to);
    if (from < to) {
      if (!out.empty() && out.back().to == from) {
        out.back().to = to;
      } else {
        out.push_back({from, to});
      }
    }
    if (a[i].to < b[j].to) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

// Days with at most 6 decimals, no trailing zeros: 365, 227.958333, 0.5.
std::string days_text(double days) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6f", days);
  std::string text = buffer;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

json::array periods_json(const std::vector<Period>& periods) {
  json::array out;
  for (const auto& p : periods) {
    out.push_back(
        json::object{{"from", instant_text(p.from)}, {"to", instant_text(p.to)}, {"days", days_of(p.from, p.to)}});
  }
  return out;
}

}  // namespace

std::vector<ForfaitLine> forfait_report(const std::vector<SettingChangeRecord>& history, int year,
                                        Clock::time_point now) {
  const Clock::time_point begin = year_start(year);
  const Clock::time_point end = std::min(year_start(year + 1), std::max(now, begin));

  std::map<std::string, std::vector<const SettingChangeRecord*>> by_practitioner;
  for (const auto& change : history) by_practitioner[change.practitioner].push_back(&change);

  std::vector<ForfaitLine> lines;
  for (auto& [practitioner, changes] : by_practitioner) {
    std::stable_sort(changes.begin(), changes.end(), [](const SettingChangeRecord* a, const SettingChangeRecord* b) {
      if (a->effective_at != b->effective_at) return a->effective_at < b->effective_at;
      return a->id < b->id;
    });
    ForfaitLine line;
    line.practitioner = practitioner;
    line.year = year;
    line.volunteer = held(changes, kVolunteer, begin, end);
    line.visible = held(changes, kVisible, begin, end);
    line.both = intersection(line.volunteer, line.visible);
    line.volunteer_days = total_days(line.volunteer);
    line.visible_days = total_days(line.visible);
    line.both_days = total_days(line.both);
    line.both_at_end = !line.both.empty() && line.both.back().to == end;
    lines.push_back(std::move(line));
  }
  return lines;
}

json::object to_json(const ForfaitLine& line) {
  return json::object{{"practitioner", line.practitioner},
                      {"year", line.year},
                      {"volunteer", periods_json(line.volunteer)},
                      {"visible", periods_json(line.visible)},
                      {"both", periods_json(line.both)},
                      {"volunteer_days", line.volunteer_days},
                      {"visible_days", line.visible_days},
                      {"both_days", line.both_days},
                      {"both_at_end", line.both_at_end}};
}

std::string to_csv(const std::vector<ForfaitLine>& lines) {
  std::string out = "practitioner,year,kind,from,to,days\n";
  auto row = [&out](const ForfaitLine& line, std::string_view kind, const std::string& from, const std::string& to,
                    double days) {
    out += line.practitioner;
    out += ',';
    out += std::to_string(line.year);
    out += ',';
    out += kind;
    out += ',';
    out += from;
    out += ',';
    out += to;
    out += ',';
    out += days_text(days);
    out += '\n';
  };
  for (const auto& line : lines) {
    for (const auto& [kind, periods] :
         {std::pair<std::string_view, const std::vector<Period>*>{"volunteer", &line.volunteer},
          {"visible", &line.visible},
          {"both", &line.both}}) {
      for (const auto& p : *periods) row(line, kind, instant_text(p.from), instant_text(p.to), days_of(p.from, p.to));
    }
    row(line, "total-volunteer", "", "", line.volunteer_days);
    row(line, "total-visible", "", "", line.visible_days);
    row(line, "total-both", "", "", line.both_days);
  }
  return out;
}

}  // namespace sas::host::doctor_settings
