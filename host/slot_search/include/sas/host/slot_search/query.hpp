// INT_R01 and INT_R04: the platform's slot search request, from the raw request target to a
// checked query.
//
//   GET [base]/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor
//       &start=geDATE&start=leDATE&status=free&_count=N
//       &schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|8XXXXXXXXXXX,...
//
// The INT_R04 CPTS search is the same request plus _include=Slot:service-type-reference and
// (optionally) _include:iterate=HealthcareService:organization (docs/cpts-search.md).
//
// Parsed leniently, because the platform sends what a strict URL parser refuses: a raw '|',
// spaces after commas, '+' in offsets. Percent escapes are decoded; '+' is never read as a
// space (in `start` it is the offset sign).
//
// Decisions:
// - Unknown parameters are refused (400 not-supported) rather than ignored: ignoring one would
//   silently answer a wider search than the platform asked for. Harmless result parameters are
//   accepted and ignored: _pretty, _total. _summary, _elements, _sort and any other '_' param
//   are refused.
// - _format: json, application/json, application/fhir+json, text/json are accepted; xml
//   (or anything else) gets 406 Not Acceptable with an OperationOutcome (in JSON).
// - _count caps the Slot entries (earliest first); Bundle.total still counts every match and
//   no paging link is offered. _count=0 gives total only.
// - _include values: Slot:schedule and Schedule:actor (with or without :iterate), and the INT_R04
//   ones: Slot:service-type-reference makes the query the CPTS search (ParsedSlotQuery::cpts);
//   HealthcareService:organization is accepted with it, and refused without it (400 invalid:
//   there is no HealthcareService to iterate from). The Organization of each CPTS is sent
//   whenever its HealthcareService is, with or without that second include (providedBy 1..1
//   must resolve in the Bundle; the IG's own examples omit the include and carry it). Other
//   values are refused as not supported.
// - start: exactly one `ge` and one `le`, each a dateTime with offset (milliseconds optional),
//   or a plain date (YYYY-MM-DD, read as the Paris day: ge = its first, le = its last
//   millisecond). A space where the offset sign should be is read as '+' (a client that
//   decoded '+' as a space). Other prefixes are refused. le before ge is refused.
// - identifiers: 1 to 25 comma-separated tokens (counted as sent, duplicates included), each
//   `system|value` with system urn:oid:1.2.250.1.71.4.2.1, or a bare value; spaces or '+'
//   around tokens are ignored, empty tokens skipped. Values are normalised to the prefixed
//   form (an unprefixed RPPS/ADELI is accepted). The parameter may appear once.
// - status: required, and only `free`.
// All problems of a request are reported together, one OperationOutcome issue each, with
// the parameter name as the issue expression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sas/host/fhir/operation_outcome.hpp"
#include "sas/plugin/v1/plugin.pb.h"
#include "sas/sdk/datetime.hpp"

namespace sas::host::slot_search {

using Instant = sas::sdk::datetime::Instant;

inline constexpr std::size_t kMaxPractitioners = 25;

namespace param {
inline constexpr std::string_view kStart = "start";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kPractitionerIdentifier = "schedule.actor:Practitioner.identifier";
inline constexpr std::string_view kInclude = "_include";
inline constexpr std::string_view kIncludeIterate = "_include:iterate";
inline constexpr std::string_view kCount = "_count";
inline constexpr std::string_view kFormat = "_format";
inline constexpr std::string_view kPretty = "_pretty";
inline constexpr std::string_view kTotal = "_total";
}  // namespace param

namespace include {
inline constexpr std::string_view kSlotSchedule = "Slot:schedule";
inline constexpr std::string_view kScheduleActor = "Schedule:actor";
// INT_R04 (CPTS).
inline constexpr std::string_view kSlotServiceTypeReference = "Slot:service-type-reference";
inline constexpr std::string_view kHealthcareServiceOrganization = "HealthcareService:organization";
}  // namespace include

struct ParsedSlotQuery {
  std::vector<std::string> practitioner_ids;  // prefixed (8+RPPS, 0+ADELI), distinct, request order
  Instant start_from{};                       // inclusive (start=ge)
  Instant start_to{};                         // inclusive (start=le)
  std::optional<std::uint32_t> count;         // _count
  bool include_schedule = false;              // _include=Slot:schedule
  bool include_actors = false;                // _include:iterate=Schedule:actor
  bool cpts = false;                          // INT_R04: _include=Slot:service-type-reference
  std::string query;                          // the query string as received, re-encoded only where
                                              // needed to be a valid URI (for the self link)
};

using QueryResult = std::variant<ParsedSlotQuery, sas::host::fhir::HttpError>;

// `request_target` is the path and query exactly as received, undecoded
// ("/Slot?_include=...&status=free"); a full URL works too. The path itself is not checked
// (routing is the server's job).
QueryResult parse_slot_query(std::string_view request_target);

// The plugin request: the ids and the window in whole seconds, still inclusive (ge is rounded
// up, le down, so that no slot outside the requested instants is asked for); cpts_search for
// the CPTS search.
sas::plugin::v1::SearchSlotsRequest to_plugin_request(const ParsedSlotQuery& query);

// The platform's request target for these ids and window, `start_ge`/`start_le` dateTimes as
// written (their '+' percent-encoded): for callers that get no target (`sas-host search`).
// `cpts`: the CPTS search (INT_R04), with both of its includes.
std::string slot_query_target(const std::vector<std::string>& practitioner_ids, std::string_view start_ge,
                              std::string_view start_le, bool cpts = false);

// base_url + "/Slot?" + query.query (a trailing '/' of base_url is not doubled).
std::string self_link(const ParsedSlotQuery& query, std::string_view base_url);

}  // namespace sas::host::slot_search
