#include "sas/host/doctor_settings/forfait.hpp"

#include <map>
#include <sstream>

#include <sas/sdk/datetime.hpp>

namespace sas::host::doctor_settings {

namespace json = boost::json;
namespace datetime = sas::sdk::datetime;

namespace {

Clock::time_point year_start(int year) {
  using namespace std::chrono;
  const local_days day{std::chrono::year(year) / January / 1};
  return Clock::time_point(datetime::from_paris_local(local_time<milliseconds>(day)).time_since_epoch());
}

double days(const std::vector<Period>& periods) {
  double total = 0;
  for (const auto& p : periods) total += std::chrono::duration<double>(p.to - p.from).count() / 86400.0;
  return total;
}

// Periods in [from, to) where `field` is "true", from the practitioner's changes (ordered).
std::vector<Period> held(const std::vector<const SettingChangeRecord*>& changes, std::string_view field,
                         Clock::time_point from, Clock::time_point to) {
  std::vector<Period> periods;
  bool on = false;
  Clock::time_point since = from;
  auto set = [&](bool value, Clock::time_point at) {
    if (value == on) return;
    if (on && at > since) periods.push_back({since, at});
    on = value;
    since = at;
  };
  for (const auto* c : changes) {
    if (c->field != field) continue;
    if (c->effective_at >= to) break;
    set(c->value == "true", std::max(c->effective_at, from));
  }
  if (on && to > since) periods.push_back({since, to});
  return periods;
}

std::vector<Period> intersect(const std::vector<Period>& a, const std::vector<Period>& b) {
  std::vector<Period> out;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const auto from = std::max(a[i].from, b[j].from);
    const auto to = std::min(a[i].to, b[j].to);
    if (from < to) out.push_back({from, to});
    (a[i].to < b[j].to) ? ++i : ++j;
  }
  return out;
}

json::array periods_json(const std::vector<Period>& periods) {
  json::array out;
  for (const auto& p : periods) {
    json::object o;
    o["from"] = format_instant(p.from);
    o["to"] = format_instant(p.to);
    o["days"] = days({p});
    out.emplace_back(std::move(o));
  }
  return out;
}

}  // namespace

std::vector<ForfaitLine> forfait_report(const std::vector<SettingChangeRecord>& history, int year,
                                        Clock::time_point now) {
  std::map<std::string, std::vector<const SettingChangeRecord*>> by_practitioner;
  for (const auto& c : history) by_practitioner[c.practitioner].push_back(&c);
  const Clock::time_point from = year_start(year);
  const Clock::time_point to = std::max(from, std::min(year_start(year + 1), now));
  std::vector<ForfaitLine> lines;
  for (auto& [practitioner, changes] : by_practitioner) {
    std::stable_sort(changes.begin(), changes.end(),
                     [](const auto* a, const auto* b) { return a->effective_at < b->effective_at; });
    ForfaitLine& line = lines.emplace_back();
    line.practitioner = practitioner;
    line.year = year;
    line.volunteer = held(changes, kVolunteer, from, to);
    line.visible = held(changes, kVisible, from, to);
    line.both = intersect(line.volunteer, line.visible);
    line.volunteer_days = days(line.volunteer);
    line.visible_days = days(line.visible);
    line.both_days = days(line.both);
    line.both_at_end = from < to && !line.both.empty() && line.both.back().to == to;
  }
  return lines;
}

json::object to_json(const ForfaitLine& line) {
  json::object o;
  o["practitioner"] = line.practitioner;
  o["year"] = line.year;
  o["volunteer"] = periods_json(line.volunteer);
  o["visible"] = periods_json(line.visible);
  o["both"] = periods_json(line.both);
  o["volunteer_days"] = line.volunteer_days;
  o["visible_days"] = line.visible_days;
  o["both_days"] = line.both_days;
  o["both_at_end"] = line.both_at_end;
  return o;
}

std::string to_csv(const std::vector<ForfaitLine>& lines) {
  std::ostringstream out;
  out << "practitioner,year,kind,from,to,days\n";
  for (const auto& line : lines) {
    for (const auto& [kind, periods] :
         {std::pair<std::string_view, const std::vector<Period>*>{"volunteer", &line.volunteer},
          {"visible", &line.visible},
          {"both", &line.both}}) {
      for (const auto& p : *periods) {
        out << line.practitioner << ',' << line.year << ',' << kind << ',' << format_instant(p.from) << ','
            << format_instant(p.to) << ',' << days({p}) << '\n';
      }
    }
  }
  return out.str();
}

}  // namespace sas::host::doctor_settings
