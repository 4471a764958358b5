// INT_R01: the plugin's SearchSlotsResponse made into the searchset Bundle the platform expects
// (profiles BundleAgregateur, FrSlotAgregateur, FrScheduleAgregateur, FrPractitionerAgregateur,
// FrPractitionerRoleExerciceAgregateur with a contained FrLocationAgregateur).
//
// Shape (as in the IG example Bundle-ExampleBundlePSIndiv):
// - one Slot per emitted slot (search.mode match), sorted by start then id;
// - one Schedule per consultation place, actors [Practitioner, PractitionerRole];
// - one PractitionerRole per place, the address as a contained Location referenced "#location",
//   organization.identifier = FINESS, else SIRET, else RPPS-rang (prefixed, IDNST), telecom
//   = the place's phone, else the practitioner's, as +33;
// - one Practitioner per practitioner: IDNPS identifier (prefixed whatever form was stored),
//   name;
// - included resources (search.mode include) follow the first Slot that refers to them, and
//   only those referred to by an emitted Slot appear (_include semantics).
//
// What never leaves, even if the plugin returned it: a slot that is not free, whose start is
// outside the requested window, whose only audiences are the doctor's own patients (or none),
// whose end is not after its start, a duplicate, one whose place lacks an address line, city or
// postal code (its Location would make the Bundle invalid), or one that belongs to a practitioner
// the platform did not ask for (or whose national id is invalid, or whose place is unknown).
//
// Resource ids are the vendor ids when they are valid FHIR ids, otherwise a stable derivation
// (sas::host::fhir::resource_id). Slot: slot.id; Practitioner: practitioner.id; Schedule and
// PractitionerRole: place.id.
//
// INT_R04, the CPTS search (query.cpts; docs/cpts-search.md): profiles sas-cpts-bundle-aggregator
// and sas-cpts-slot-aggregator; the slots INT_R01 would return plus those open to CPTS only. A
// slot open to CPTS (AUDIENCE_CPTS and at least one valid FINESS in cpts_finess) carries CPTS in
// meta.security and one serviceType per distinct CPTS: TRE_R66 604 with the sas-servicetype-r5
// extension referencing HealthcareService/cpts-<1+FINESS> (serviceType order: modes, CPTS,
// motives). Each CPTS's HealthcareService (providedBy) and Organization (IDNST 1+FINESS, name and
// phone from response.cpts when given), id cpts-<1+FINESS> both, follow, once, the first Slot
// (and its Schedule, Practitioner, PractitionerRole) that names it. In INT_R01 answers the CPTS
// audience is left out (JDV_J165 has no CPTS) and CPTS-only slots do not appear.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "sas/host/slot_search/query.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace sas::host::slot_search {

struct BundleOptions {
  // The FHIR base as the platform calls it ("https://agenda.example.fr/sas"): fullUrl and the
  // self link start with it.
  std::string base_url;
  // Identifier.system of each place's INTRN identifier (required by FrLocationAgregateur): the
  // vendor's OID ("urn:oid:...") or URL. Empty: base_url.
  std::string place_identifier_system;
  // true: start/end with the Europe/Paris offset of the instant; false: in UTC (+00:00).
  bool paris_offsets = true;
  // Doctors who asked to be called before each orientation (docs/doctor-options.md), by
  // prefixed IDNPS, with the number to call (+33..., "" = the place's phone). Their
  // PractitionerRole carries that number first in telecom (rank 1) and says so in
  // availabilityExceptions.
  std::map<std::string, std::string, std::less<>> call_first;
};

// What the builder did, for logs and the conformance report.
struct BuildReport {
  std::size_t matches = 0;                 // Bundle.total
  std::size_t emitted = 0;                 // Slot entries (fewer than matches when _count cuts)
  std::size_t dropped_not_free = 0;        // busy or status unspecified
  std::size_t dropped_outside_window = 0;  // start before ge or after le
  std::size_t dropped_no_audience = 0;     // only the doctor's own patients, or no audience
  std::size_t dropped_invalid = 0;         // empty id, end not after start, duplicate id, place without address
  std::size_t dropped_not_requested = 0;   // unknown place/practitioner, not asked for, bad national id
  // CPTS search only: open to CPTS only, but naming no valid FINESS (so to nobody).
  std::size_t dropped_cpts_without_finess = 0;
  std::vector<std::string> warnings;  // data problems, each once (plugin bugs, missing address...)
};

// The Bundle as application/fhir+json, written straight into `out` (appended): no tree is built.
// What the endpoint sends; `report` says what was left out and why.
void write_search_bundle(std::string& out, const ParsedSlotQuery& query,
                         const sas::plugin::v1::SearchSlotsResponse& response, const BundleOptions& options,
                         BuildReport* report = nullptr);

// The same, as a new string.
std::string serialize_search_bundle(const ParsedSlotQuery& query, const sas::plugin::v1::SearchSlotsResponse& response,
                                    const BundleOptions& options, BuildReport* report = nullptr);

// The same Bundle parsed back into a tree, for callers that inspect it (the tests): exactly what
// is sent, nothing built aside.
boost::json::object build_search_bundle(const ParsedSlotQuery& query,
                                        const sas::plugin::v1::SearchSlotsResponse& response,
                                        const BundleOptions& options, BuildReport* report = nullptr);

}  // namespace sas::host::slot_search
