// SOS Médecins slot search: the platform's request, from the raw request target to a checked
// query (IG page specifications_techniques-sos-recherche_creneaux, CapabilityStatement
// SAS-GestionnaireAgenda-SOS).
//
//   GET [base]/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location
//       &_include:iterate=Location:organization
//       &_has:Slot:schedule:start=geDATE&_has:Slot:schedule:start=leDATE&_has:Slot:schedule:status=free
//       &actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2|3SIRET,...&_count=N
//
// Read with the lenient splitting of fhir/search_query.hpp (raw '|', spaces after commas, '+' in
// offsets), and with the decisions of INT_R01 (slot_search/query.hpp) wherever the two searches
// meet:
// - Unknown parameters are refused (400 not-supported): ignoring one would answer a wider search
//   than the platform asked for. _pretty and _total are accepted and have no effect; _summary,
//   _elements, _sort and any other '_' parameter are refused.
// - _format: json forms accepted; xml or anything else gets 406 with an OperationOutcome.
// - _count caps the Slot entries (earliest first); Bundle.total still counts every matching
//   Slot and no paging link is offered; _count=0 gives total only (bundle.hpp says why Slots).
// - _revinclude=Slot:schedule, _include=Schedule:actor:Location (or Schedule:actor) and
//   _include[:iterate]=Location:organization are honoured; any other value is refused as not
//   supported. Each is optional, as in FHIR: without it, those resources are left out.
// - _has:Slot:schedule:start: exactly one ge and one le (fhir::SearchWindow: a dateTime with
//   offset or a plain date read as the Paris day); le before ge is refused.
// - _has:Slot:schedule:status: required, and only `free`.
// - actor:Location.organization.identifier: 1 to 25 comma-separated SIRETs (the functional text
//   says 1 to 10, the technical table 25: 25 is accepted, 26 refused; counted as sent,
//   duplicates included), each `system|value` with system urn:oid:1.2.250.1.71.4.2.2, or a bare
//   value; the value is 3 + 14 digits, or 14 digits (an unprefixed SIRET is accepted, as INT_R01
//   accepts an unprefixed RPPS). A token that is the system followed by "7C" and a SIRET (the
//   IG's own example: `...4.2.27C334...`, a %7C that lost its '%') is refused with a message
//   saying what it probably is. The parameter may appear once.
// All problems of a request are reported together, one OperationOutcome issue each, with the
// parameter name as the issue expression.
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

namespace sas::host::sos_search {

using Instant = sas::sdk::datetime::Instant;

inline constexpr std::size_t kMaxAssociations = 25;

namespace param {
inline constexpr std::string_view kRevinclude = "_revinclude";
inline constexpr std::string_view kInclude = "_include";
inline constexpr std::string_view kIncludeIterate = "_include:iterate";
inline constexpr std::string_view kStart = "_has:Slot:schedule:start";
inline constexpr std::string_view kStatus = "_has:Slot:schedule:status";
inline constexpr std::string_view kOrganizationIdentifier = "actor:Location.organization.identifier";
inline constexpr std::string_view kCount = "_count";
inline constexpr std::string_view kFormat = "_format";
inline constexpr std::string_view kPretty = "_pretty";
inline constexpr std::string_view kTotal = "_total";
}  // namespace param

namespace include {
inline constexpr std::string_view kSlotSchedule = "Slot:schedule";                     // _revinclude
inline constexpr std::string_view kScheduleActorLocation = "Schedule:actor:Location";  // _include
inline constexpr std::string_view kScheduleActor = "Schedule:actor";                   // the same here: Locations only
inline constexpr std::string_view kLocationOrganization = "Location:organization";     // _include[:iterate]
}  // namespace include

struct ParsedSosQuery {
  std::vector<std::string> association_sirets;  // prefixed (3 + 14 digits), distinct, request order
  Instant start_from{};                         // inclusive (ge)
  Instant start_to{};                           // inclusive (le)
  std::optional<std::uint32_t> count;           // _count
  bool include_slots = false;                   // _revinclude=Slot:schedule
  bool include_locations = false;               // _include=Schedule:actor:Location
  bool include_organizations = false;           // _include[:iterate]=Location:organization
  std::string query;                            // as received, re-encoded only where needed (self link)
};

using SosQueryResult = std::variant<ParsedSosQuery, sas::host::fhir::HttpError>;

// `request_target` is the path and query exactly as received, undecoded
// ("/Schedule?_revinclude=..."); a full URL works too. The path itself is not checked.
SosQueryResult parse_sos_query(std::string_view request_target);

// The plugin request: the SIRETs and the window in whole seconds, still inclusive (ge rounded
// up, le down, so that no slot outside the requested instants is asked for).
sas::plugin::v1::SearchSosSlotsRequest to_plugin_request(const ParsedSosQuery& query);

// The platform's request target for these SIRETs (prefixed) and window, with every include, as
// the IG writes it; `start_ge`/`start_le` dateTimes as written (their '+' percent-encoded): for
// callers that get no target (`sas-host search --sos`).
std::string sos_query_target(const std::vector<std::string>& association_sirets, std::string_view start_ge,
                             std::string_view start_le);

// base_url + "/Schedule?" + query.query (a trailing '/' of base_url is not doubled).
std::string self_link(const ParsedSosQuery& query, std::string_view base_url);

}  // namespace sas::host::sos_search
