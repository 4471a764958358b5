// The JSON documents the admin API answers and `sas-host settings|rules|report forfait` print
// offline: built here once, so both doors say the same thing (docs/admin-api.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sas/plugin/v1/plugin.pb.h>
#include <boost/json.hpp>
#include <sas/host/doctor_settings/forfait.hpp>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/doctor_settings/rules.hpp>

namespace sas::host::doctor_settings {

// {"practitioner", "changes": [...]}
boost::json::object history_document(const std::string& practitioner, const std::vector<SettingChangeRecord>& changes);
// {"practitioner", "rules": [...]}
boost::json::object rules_document(const std::string& practitioner, const std::vector<Rule>& rules);
// {"year", "doctors": [...]}
boost::json::object forfait_document(int year, const std::vector<ForfaitLine>& lines);

// What to ask the plugin to explain one practitioner's slots in [start, end]: whole seconds,
// never wider than asked (as slot search rounds).
sas::plugin::v1::SearchSlotsRequest explain_request(const std::string& practitioner, Clock::time_point start,
                                                    Clock::time_point end);
// {"practitioner", "window", "slots": [explain(...) of each slot of the answer, or only `slot`]};
// nullopt when `slot` is given and not in the answer.
std::optional<boost::json::object> explain_document(const Snapshot& snapshot, const std::string& practitioner,
                                                    Clock::time_point start, Clock::time_point end,
                                                    const sas::plugin::v1::SearchSlotsResponse& answer,
                                                    const std::optional<std::string>& slot);

}  // namespace sas::host::doctor_settings
