// SOS Médecins: the plugin's SearchSosSlotsResponse made into the searchset Bundle the platform
// expects (profiles sas-sos-bundle-aggregator, sas-sos-schedule-aggregator,
// sas-sos-slot-aggregator, sas-sos-location-aggregator, sas-sos-organization-aggregator), shaped
// as the IG's example Bundle-ExampleBundleAgregateurSOS:
// - one Schedule per consultation place that has at least one emitted Slot (search.mode match:
//   the search is on Schedule), actor = that place's Location;
// - its Slots (search.mode include, _revinclude=Slot:schedule): meta.security PUBLIC and/or SNP
//   only, serviceType (modes as v3-ActCode codings, motives as text), the slot's own
//   specialties when the agenda gives them, appointmentType, status free, start/end with the
//   Europe/Paris offset, comment = the booking URL;
// - the Location (include, _include=Schedule:actor:Location): INTRN identifier in the vendor's
//   place system, name, telecom +33, address (one line, city, postal code), managingOrganization,
//   hoursOfOperation from the agenda's opening hours;
// - the association's Organization (include, _include:iterate=Location:organization, and only
//   with the Locations, which it is iterated from): IDNST identifier (type system
//   fr-location-identifier-type, as the profile pins it) urn:oid:1.2.250.1.71.4.2.2 | 3+SIRET,
//   name.
//
// Order (the example's): the places of the first association asked for, then the next; within
// an association, the place with the earliest slot first (then by id); within a place, slots by
// start (then id). Each Slot is followed by the resources it brings in for the first time:
// Schedule, Location, Organization.
//
// total: the number of matching Slots, not of Schedules. FHIR's rule would count the match
// entries (the Schedules: 3 in the example), but the IG's page defines the answer as "0 à n
// ressources Slot correspondant aux critères" with "le total trouvé", and its example carries
// total 4 for 4 Slots and 3 Schedules; the platform is written against the IG, so we follow it.
// For the same reason _count caps the Slots (the earliest ones are kept, over all places) and a
// place left without a kept slot is left out; total still counts every matching slot.
//
// What never leaves, even if the plugin returned it (each counted in the report, the data
// problems also as warnings): a slot that is not free; whose start is outside the window; with
// no PUBLIC or SNP audience (PRO, CPTS and the doctor's own patients are not part of this
// search: those audiences are removed from a slot that also has PUBLIC or SNP); whose id is
// empty or whose end is not after its start; a second slot with the same id; a slot of an
// unknown place; a slot of a place whose association was not asked for or whose SIRET is not
// valid.
//
// Resource ids are the vendor ids when they are valid FHIR ids, else a stable derivation
// (fhir::resource_id): Slot: slot.id; Schedule and Location: place.id; Organization: the
// prefixed SIRET.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sas/host/sos_search/query.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace sas::host::sos_search {

struct SosBundleOptions {
  // The FHIR base as the platform calls it: fullUrl and the self link start with it.
  std::string base_url;
  // Identifier.system of each Location's INTRN identifier: the vendor's OID ("urn:oid:...") or
  // URL, as INT_R01 uses it. Empty: base_url.
  std::string place_identifier_system;
  // true: start/end with the Europe/Paris offset of the instant; false: in UTC (+00:00).
  bool paris_offsets = true;
};

// What the builder did, for logs, `sas-host search --sos` and tests.
struct SosBuildReport {
  std::size_t matches = 0;                 // Bundle.total: every matching Slot
  std::size_t emitted = 0;                 // Slots kept (fewer than matches when _count cuts)
  std::size_t schedules = 0;               // Schedule entries: places with a kept Slot
  std::size_t dropped_not_free = 0;        // busy or status unspecified
  std::size_t dropped_outside_window = 0;  // start before ge or after le
  std::size_t dropped_no_audience = 0;     // neither PUBLIC nor SNP
  std::size_t dropped_invalid = 0;         // empty id, end not after start
  std::size_t dropped_duplicate = 0;       // an id already seen
  std::size_t dropped_unknown_place = 0;   // place_id names no SosPlace of the answer
  std::size_t dropped_not_requested = 0;   // the place's association was not asked for, or its SIRET is invalid
  std::vector<std::string> warnings;       // data problems, each once
};

// The Bundle as application/fhir+json, written straight into `out` (appended): no tree is built.
// What the endpoint sends; `report` says what was left out and why.
void write_sos_bundle(std::string& out, const ParsedSosQuery& query,
                      const sas::plugin::v1::SearchSosSlotsResponse& response, const SosBundleOptions& options,
                      SosBuildReport* report = nullptr);

// The same, as a new string.
std::string serialize_sos_bundle(const ParsedSosQuery& query, const sas::plugin::v1::SearchSosSlotsResponse& response,
                                 const SosBundleOptions& options, SosBuildReport* report = nullptr);

// The same Bundle parsed back into a tree, for callers that inspect it (tests): exactly what is
// sent, nothing built aside.
boost::json::object build_sos_bundle(const ParsedSosQuery& query,
                                     const sas::plugin::v1::SearchSosSlotsResponse& response,
                                     const SosBundleOptions& options, SosBuildReport* report = nullptr);

}  // namespace sas::host::sos_search
