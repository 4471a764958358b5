// What of a plugin's search answer SAS may see, given each doctor's settings and rules:
// applied to the SearchSlotsResponse before the Bundle is built, and explained slot by slot
// with the same code, so that an explanation always matches what search did.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sas/plugin/v1/plugin.pb.h>
#include <boost/json.hpp>
#include <sas/host/doctor_settings/rules.hpp>
#include <sas/host/doctor_settings/settings.hpp>

namespace sas::host::doctor_settings {

// What an option that was never set means (docs/doctor-options.md): by default a doctor the
// platform asks about, with no setting recorded, is published, because the platform only asks
// about doctors who connected their agenda on sas.sante.fr. An explicit false always hides.
struct PublicationPolicy {
  bool publish_unset = true;
};

// One practitioner's settings and active rules.
struct DoctorOptions {
  Settings settings;
  std::vector<Rule> rules;
};

// Everything search needs, keyed by prefixed IDNPS; immutable once built.
struct Snapshot {
  std::map<std::string, DoctorOptions, std::less<>> doctors;
  PublicationPolicy policy;
  const DoctorOptions* find(std::string_view practitioner) const;
};

// The "call me first" notice for one practitioner's answer (FHIR: see docs/doctor-options.md).
struct CallFirst {
  std::string phone;  // +33..., "" when the doctor set none: the place's phone is the one to call
};

struct PublicationResult {
  std::map<std::string, CallFirst, std::less<>> call_first;  // by prefixed IDNPS
  std::size_t hidden_doctors = 0;                            // practitioners withheld entirely
  std::size_t hidden_slots = 0;                              // slots withheld by rules or settings
  std::size_t retyped_slots = 0;                             // slots whose audiences a rule changed
};

// Applies the snapshot to the plugin's answer in place: removes the slots (and practitioners)
// SAS must not see, rewrites audiences and motives per the rules. Slots of practitioners whose
// national id is invalid are left to the Bundle builder, which drops them.
PublicationResult apply(const Snapshot& snapshot, sas::plugin::v1::SearchSlotsResponse& response);

// Why one slot of a plugin answer is (not) published, and how it is typed: the settings, each
// rule that applied, and the Bundle builder's own checks (status, window, audiences). JSON as
// in docs/doctor-options.md ("published", "types", "motives", "steps").
boost::json::object explain(const Snapshot& snapshot, const sas::plugin::v1::SearchSlotsResponse& response,
                            const sas::plugin::v1::Slot& slot, int64_t window_start, int64_t window_end);

}  // namespace sas::host::doctor_settings
