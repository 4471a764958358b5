#include "sas/host/doctor_settings/documents.hpp"

#include <chrono>

namespace sas::host::doctor_settings {

namespace json = boost::json;
namespace v1 = sas::plugin::v1;

namespace {
int64_t seconds(std::chrono::sys_seconds t) { return t.time_since_epoch().count(); }
}  // namespace

json::object history_document(const std::string& practitioner, const std::vector<SettingChangeRecord>& changes) {
  json::array list;
  for (const auto& change : changes) list.push_back(to_json(change));
  return {{"practitioner", practitioner}, {"changes", std::move(list)}};
}

json::object rules_document(const std::string& practitioner, const std::vector<Rule>& rules) {
  json::array list;
  for (const auto& rule : rules) list.push_back(to_json(rule));
  return {{"practitioner", practitioner}, {"rules", std::move(list)}};
}

json::object forfait_document(int year, const std::vector<ForfaitLine>& lines) {
  json::array doctors;
  for (const auto& line : lines) doctors.push_back(to_json(line));
  return {{"year", year}, {"doctors", std::move(doctors)}};
}

v1::SearchSlotsRequest explain_request(const std::string& practitioner, Clock::time_point start,
                                       Clock::time_point end) {
  v1::SearchSlotsRequest request;
  request.add_practitioner_national_ids(practitioner);
  request.set_start_from(seconds(std::chrono::ceil<std::chrono::seconds>(start)));
  request.set_start_to(seconds(std::chrono::floor<std::chrono::seconds>(end)));
  return request;
}

std::optional<json::object> explain_document(const Snapshot& snapshot, const std::string& practitioner,
                                             Clock::time_point start, Clock::time_point end,
                                             const v1::SearchSlotsResponse& answer,
                                             const std::optional<std::string>& slot) {
  const v1::SearchSlotsRequest window = explain_request(practitioner, start, end);
  json::array slots;
  for (const v1::Slot& s : answer.slots()) {
    if (slot && s.id() != *slot) continue;
    slots.push_back(explain(snapshot, answer, s, window.start_from(), window.start_to()));
  }
  if (slot && slots.empty()) return std::nullopt;
  return json::object{{"practitioner", practitioner},
                      {"window", json::object{{"start", format_instant(start)}, {"end", format_instant(end)}}},
                      {"slots", std::move(slots)}};
}

}  // namespace sas::host::doctor_settings
