#include "sas/host/slot_search/bundle.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/element_writers.hpp"
#include "sas/host/fhir/json_writer.hpp"
#include "sas/host/fhir/searchset.hpp"
#include "sas/host/slot_search/slot_fields.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sdk/phone.hpp"

namespace sas::host::slot_search {

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
namespace ids = sas::sdk::ids;

namespace {

constexpr std::string_view kContainedLocationId = "location";
// PractitionerRole.availabilityExceptions of a doctor who asked to be called first; the number
// follows (docs/doctor-options.md).
constexpr std::string_view kCallFirstNotice = "Appeler le médecin avant toute orientation de patient";

using sas::host::text::trim;

// Ids of a CPTS's HealthcareService and Organization: stable, from the prefixed FINESS (one
// HealthcareService per CPTS, so the same id names both, in their own types).
constexpr std::string_view kCptsIdPrefix = "cpts-";

// INT_R01 binds meta.security to JDV_J165 (PUBLIC, PRO, SNP): a CPTS audience is for the
// INT_R04 answer, with its HealthcareService chain, not for this one.
unsigned individual_slot_types(const pb::Slot& slot) { return slot_types(slot) & ~unsigned{kSlotCpts}; }

struct PractitionerInfo {
  const pb::Practitioner* data = nullptr;
  std::string resource_id;
  std::string national_id;  // prefixed; empty when invalid
  std::string error;        // why national_id is empty
  bool requested = false;
  std::optional<std::string> specialties;  // JSON, written on first use
  bool emitted = false;
};

struct PlaceInfo {
  const pb::Place* data = nullptr;
  PractitionerInfo* practitioner = nullptr;  // null: unknown practitioner
  std::string resource_id;                   // Schedule and PractitionerRole
  std::string schedule_reference;            // its slots' Slot.schedule, written on first use
  bool address_complete = false;             // line, city and postal code (else no slot leaves)
  bool schedule_emitted = false;
  bool role_emitted = false;
};

// A CPTS that slots are open to (INT_R04), by prefixed FINESS.
struct CptsInfo {
  std::string finess;              // prefixed: 1 + FINESS
  const pb::Cpts* data = nullptr;  // the plugin's entry; null: the FINESS alone is known
  std::string resource_id;         // HealthcareService and Organization
  bool emitted = false;
};

struct Match {
  const pb::Slot* slot;
  PlaceInfo* place;
  Instant start;
  Instant end;
  unsigned types;
  std::string id;
  std::vector<CptsInfo*> cpts;  // CPTS search: the distinct CPTS the slot is open to, in its order
};

class Builder {
 public:
  Builder(const ParsedSlotQuery& query, const pb::SearchSlotsResponse& response, const BundleOptions& options,
          BuildReport& report, std::string& out)
      : w_(out),
        query_(query),
        response_(response),
        options_(options),
        report_(report),
        fragments_(query.cpts ? fhir::profile::kCptsSlot : fhir::profile::kSlot) {
    base_ = fhir::without_trailing_slashes(options.base_url);
    place_system_ = options.place_identifier_system.empty() ? base_ : options.place_identifier_system;
  }

  void write() {
    index();
    collect();
    // Sorted by pointer: a Match holds strings and a vector, costly to swap.
    std::vector<const Match*> sorted;
    sorted.reserve(matches_.size());
    for (const Match& m : matches_) sorted.push_back(&m);
    std::sort(sorted.begin(), sorted.end(), [](const Match* a, const Match* b) {
      return a->start != b->start ? a->start < b->start : a->id < b->id;
    });
    report_.matches = matches_.size();
    const std::size_t shown = query_.count ? std::min<std::size_t>(*query_.count, matches_.size()) : matches_.size();
    report_.emitted = shown;

    fhir::begin_searchset(w_, query_.cpts ? fhir::profile::kCptsBundle : fhir::profile::kBundle, matches_.size(),
                          self_link(query_, base_));
    for (std::size_t i = 0; i < shown; ++i) {
      const Match& m = *sorted[i];
      slot(m);
      if (query_.include_schedule) include_place(*m.place);
      // CPTS search: each HealthcareService, then its Organization (providedBy 1..1 must resolve,
      // so it comes with or without _include:iterate=HealthcareService:organization).
      for (CptsInfo* cpts : m.cpts) {
        if (cpts->emitted) continue;
        cpts->emitted = true;
        healthcare_service(*cpts);
        cpts_organization(*cpts);
      }
    }
    fhir::end_searchset(w_);
  }

 private:
  void warn(std::string message) {
    if (warned_.insert(message).second) report_.warnings.push_back(std::move(message));
  }

  // The Schedule of a place, then (with _include:iterate=Schedule:actor) its actors, each once.
  void include_place(PlaceInfo& place) {
    if (!place.schedule_emitted) {
      place.schedule_emitted = true;
      schedule(place);
    }
    if (!query_.include_actors) return;
    PractitionerInfo& practitioner = *place.practitioner;
    if (!practitioner.emitted) {
      practitioner.emitted = true;
      practitioner_resource(practitioner);
    }
    if (!place.role_emitted) {
      place.role_emitted = true;
      role(place);
    }
  }

  void index() {
    for (const auto& p : response_.practitioners()) {
      if (p.id().empty()) {
        warn("a practitioner has an empty id and is ignored");
        continue;
      }
      const auto [it, inserted] = practitioners_.try_emplace(p.id());
      if (inserted) {
        it->second.data = &p;
      } else {
        warn("practitioner id \"" + p.id() + "\" appears more than once; the first is used");
      }
    }
    for (const auto& place : response_.places()) {
      if (place.id().empty()) {
        warn("a place has an empty id and is ignored");
        continue;
      }
      const auto [it, inserted] = places_.try_emplace(place.id());
      if (inserted) {
        it->second.data = &place;
      } else {
        warn("place id \"" + place.id() + "\" appears more than once; the first is used");
      }
    }
    for (auto& [id, info] : practitioners_) {
      std::string error;
      if (auto n = ids::normalize_practitioner_id(info.data->national_id(), &error)) {
        info.national_id = std::move(n->prefixed);
        const auto& asked = query_.practitioner_ids;
        info.requested = std::find(asked.begin(), asked.end(), info.national_id) != asked.end();
      }
      info.resource_id = fhir::resource_id(id);
      info.error = std::move(error);
    }
    for (auto& [id, info] : places_) {
      info.resource_id = fhir::resource_id(id);
      info.address_complete = address_complete(info.data->address_lines(), info.data->postal_code(), info.data->city());
      const auto it = practitioners_.find(info.data->practitioner_id());
      if (it != practitioners_.end()) info.practitioner = &it->second;
    }
    if (!query_.cpts) return;
    for (const auto& c : response_.cpts()) {
      std::string error;
      const auto finess = ids::normalize_structure_id(ids::StructureIdKind::finess, c.finess(), &error);
      if (!finess) {
        warn("a CPTS entry has an invalid FINESS and is ignored: " + error);
        continue;
      }
      CptsInfo& info = cpts_info(*finess);
      if (info.data == nullptr) {
        info.data = &c;
      } else {
        warn("CPTS " + *finess + " appears more than once in the CPTS list; the first is used");
      }
    }
  }

  CptsInfo& cpts_info(const std::string& prefixed_finess) {
    const auto [it, inserted] = cpts_.try_emplace(prefixed_finess);
    if (inserted) {
      it->second.finess = prefixed_finess;
      it->second.resource_id = std::string(kCptsIdPrefix) + prefixed_finess;
    }
    return it->second;
  }

  // The distinct CPTS a slot is open to, in its order; invalid FINESS are left out with a
  // warning. Empty when the slot is not open to CPTS.
  std::vector<CptsInfo*> slot_cpts(const pb::Slot& s) {
    std::vector<CptsInfo*> out;
    const bool open_to_cpts = (slot_types(s) & kSlotCpts) != 0;
    if (!open_to_cpts) {
      if (!s.cpts_finess().empty()) {
        warn("slot \"" + s.id() + "\" names CPTS but is not open to CPTS (no CPTS audience): they are ignored");
      }
      return out;
    }
    for (const auto& raw : s.cpts_finess()) {
      std::string error;
      const auto finess = ids::normalize_structure_id(ids::StructureIdKind::finess, raw, &error);
      if (!finess) {
        warn("slot \"" + s.id() + "\": CPTS not sent: " + error);
        continue;
      }
      CptsInfo* info = &cpts_info(*finess);
      if (std::find(out.begin(), out.end(), info) == out.end()) out.push_back(info);
    }
    if (out.empty()) {
      warn("slot \"" + s.id() + "\" is open to CPTS but names no valid CPTS FINESS: not typed CPTS");
    }
    return out;
  }

  // The place of a slot, when the slot may leave: known place, known practitioner, asked for.
  PlaceInfo* owner(const pb::Slot& s) {
    const auto it = places_.find(s.place_id());
    if (it == places_.end()) {
      warn("slot \"" + s.id() + "\" refers to unknown place \"" + s.place_id() + "\"");
      return nullptr;
    }
    PlaceInfo& place = it->second;
    if (place.practitioner == nullptr) {
      warn("place \"" + place.data->id() + "\" refers to unknown practitioner \"" + place.data->practitioner_id() +
           "\"");
      return nullptr;
    }
    PractitionerInfo& p = *place.practitioner;
    if (p.national_id.empty()) {
      warn("practitioner \"" + p.data->id() + "\" has an invalid national id: " + p.error);
      return nullptr;
    }
    if (!p.requested) {
      warn("practitioner \"" + p.data->id() + "\" (" + p.national_id + ") was not asked for; the plugin returned it");
      return nullptr;
    }
    return &place;
  }

  void collect() {
    std::unordered_set<std::string> ids;
    matches_.reserve(static_cast<std::size_t>(response_.slots_size()));
    for (const auto& s : response_.slots()) {
      if (s.status() != pb::SLOT_FREE) {
        ++report_.dropped_not_free;
        continue;
      }
      // A time beyond the year 9999 (milliseconds, garbage) is outside any window.
      const auto start_at = sas::sdk::datetime::from_epoch_seconds(s.start());
      const auto end_at = sas::sdk::datetime::from_epoch_seconds(s.end());
      if (!start_at || !end_at || *start_at < query_.start_from || *start_at > query_.start_to) {
        ++report_.dropped_outside_window;
        continue;
      }
      const Instant start = *start_at;
      const Instant end = *end_at;
      unsigned types = query_.cpts ? slot_types(s) : individual_slot_types(s);
      std::vector<CptsInfo*> cpts;
      if (query_.cpts) {
        cpts = slot_cpts(s);
        if (cpts.empty() && (types & kSlotCpts) != 0) {
          types &= ~unsigned{kSlotCpts};
          if (types == 0) {
            ++report_.dropped_cpts_without_finess;
            continue;
          }
        }
      }
      if (types == 0) {
        ++report_.dropped_no_audience;
        continue;
      }
      if (s.id().empty() || end <= start) {
        ++report_.dropped_invalid;
        warn(s.id().empty() ? std::string("a slot has an empty id")
                            : "slot \"" + s.id() + "\" does not end after it starts");
        continue;
      }
      PlaceInfo* place = owner(s);
      if (place == nullptr) {
        ++report_.dropped_not_requested;
        continue;
      }
      // Its Location would break FrLocationAgregateur, and the whole Bundle with it (found by
      // fuzz/plugin_answer): the place's slots are not sent.
      const pb::Place& where = *place->data;
      if (!place->address_complete) {
        ++report_.dropped_invalid;
        warn("place \"" + where.id() +
             "\": address line, city and postal code are all required by FrLocationAgregateur: its slots are not sent");
        continue;
      }
      std::string id = fhir::resource_id(s.id());
      if (!ids.insert(id).second) {
        ++report_.dropped_invalid;
        warn("slot id \"" + s.id() + "\" appears more than once; the first is used");
        continue;
      }
      matches_.push_back(Match{&s, place, start, end, types, std::move(id), std::move(cpts)});
    }
  }

  std::string when(Instant t) const {
    return options_.paris_offsets ? sas::sdk::datetime::format_paris(t) : sas::sdk::datetime::format_utc(t);
  }

  void slot(const Match& m) {
    PractitionerInfo& p = *m.place->practitioner;
    if (!p.specialties && m.slot->specialties().empty()) {
      int invalid_codes = 0;
      p.specialties.emplace(specialties_json(p.data->specialties(), &invalid_codes));
      if (invalid_codes != 0) warn("practitioner \"" + p.data->id() + "\": " + kSpecialtyCodeSentAsText);
    }
    fhir::begin_searchset_entry(w_, base_, "Slot", m.id);
    w_.raw(fragments_.meta(m.types));
    // Modes as v3-ActCode codings, then each CPTS, then each motive as text (the IG's order).
    w_.begin_array("serviceType");
    w_.raw(fragments_.consultation_modes(*m.slot));
    for (const CptsInfo* cpts : m.cpts) cpts_service_type(*cpts);
    write_motives(w_, *m.slot);
    w_.end_array();
    if (m.slot->specialties().empty()) {
      w_.raw("specialty", *p.specialties);
    } else {
      int invalid_codes = 0;
      w_.raw("specialty", specialties_json(m.slot->specialties(), &invalid_codes));
      if (invalid_codes != 0) warn("slot \"" + m.slot->id() + "\": " + kSpecialtyCodeSentAsText);
    }
    w_.raw(fragments_.appointment_type(m.slot->walk_in()));
    w_.raw(schedule_reference(*m.place));
    w_.string("status", "free");
    w_.string("start", when(m.start));
    w_.string("end", when(m.end));
    w_.string("comment", trim(m.slot->booking_url()));
    fhir::end_searchset_entry(w_, "match");
  }

  // "schedule": {"reference": "Schedule/<place>"}, as members: written once per place.
  std::string_view schedule_reference(PlaceInfo& place) {
    if (place.schedule_reference.empty()) {
      fhir::JsonWriter w(place.schedule_reference);
      w.begin_object();
      fhir::write_reference(w, "schedule", "Schedule", place.resource_id);
      w.end_object();
    }
    return fhir::JsonWriter::members_of(place.schedule_reference);
  }

  void schedule(const PlaceInfo& place) {
    fhir::begin_searchset_entry(w_, base_, "Schedule", place.resource_id, fhir::profile::kSchedule);
    w_.begin_array("actor");
    fhir::write_reference(w_, {}, "Practitioner", place.practitioner->resource_id);
    fhir::write_reference(w_, {}, "PractitionerRole", place.resource_id);
    w_.end_array();
    fhir::end_searchset_entry(w_, "include");
  }

  void practitioner_resource(const PractitionerInfo& p) {
    fhir::begin_searchset_entry(w_, base_, "Practitioner", p.resource_id, fhir::profile::kPractitioner);
    w_.begin_array("identifier");
    fhir::write_identifier(w_, {}, fhir::kIdentifierTypeSystem, fhir::code::kIdnps, fhir::kPractitionerIdSystem,
                           p.national_id);
    w_.end_array();
    w_.begin_array("name");
    w_.begin_object();
    w_.string("family", trim(p.data->family_name()));
    w_.begin_array("given");
    for (const auto& g : p.data->given_names()) w_.string(trim(g));
    w_.end_array();
    const bool named = w_.end_object();
    w_.end_array();
    if (!named) warn("practitioner \"" + p.data->id() + "\" has no name");
    fhir::end_searchset_entry(w_, "include");
  }

  // FINESS, else SIRET, else RPPS-rang; invalid stored values are skipped with a warning.
  std::optional<std::string> structure_id(const pb::Place& place) {
    const std::pair<ids::StructureIdKind, const std::string*> candidates[] = {
        {ids::StructureIdKind::finess, &place.finess()},
        {ids::StructureIdKind::siret, &place.siret()},
        {ids::StructureIdKind::rpps_rang, &place.rpps_rang()}};
    for (const auto& [kind, raw] : candidates) {
      if (trim(*raw).empty()) continue;
      std::string error;
      if (auto id = ids::normalize_structure_id(kind, *raw, &error)) return id;
      warn("place \"" + place.id() + "\": " + error);
    }
    warn("place \"" + place.id() + "\" has no valid FINESS, SIRET or RPPS-rang: organization omitted");
    return std::nullopt;
  }

  std::optional<std::string> phone(const PlaceInfo& place) {
    for (const std::string* raw : {&place.data->phone(), &place.practitioner->data->phone()}) {
      if (trim(*raw).empty()) continue;
      std::string error;
      if (auto p = sas::sdk::phone::to_plus33(*raw, &error)) return p;
      warn("place \"" + place.data->id() + "\": phone not sent: " + error);
    }
    return std::nullopt;
  }

  // Contained in its PractitionerRole.
  void location(const pb::Place& place) {
    w_.begin_object();
    w_.string("resourceType", "Location");
    w_.string("id", kContainedLocationId);
    fhir::begin_meta(w_, fhir::profile::kLocation);
    w_.end_object();
    w_.begin_array("identifier");
    fhir::write_identifier(w_, {}, fhir::kLocationIdentifierTypeSystem, fhir::code::kIntrn, place_system_, place.id());
    w_.end_array();
    w_.string("name", trim(place.name()));
    // FrLocationAgregateur allows one address line: several vendor lines are joined.
    // Complete: a place without an address line, city and postal code sends no slot (collect).
    write_address(w_, place.address_lines(), place.postal_code(), place.city());
    w_.end_object();
  }

  void role(const PlaceInfo& place) {
    fhir::begin_searchset_entry(w_, base_, "PractitionerRole", place.resource_id, fhir::profile::kPractitionerRole);
    w_.begin_array("contained");
    location(*place.data);
    w_.end_array();
    fhir::write_reference(w_, "practitioner", "Practitioner", place.practitioner->resource_id);
    if (auto structure = structure_id(*place.data)) {
      w_.begin_object("organization");
      fhir::write_identifier(w_, "identifier", fhir::kIdentifierTypeSystem, fhir::code::kIdnst,
                             fhir::kStructureIdSystem, *structure);
      w_.end_object();
    }
    w_.begin_array("location");
    fhir::write_contained_reference(w_, {}, kContainedLocationId);
    w_.end_array();
    const auto place_phone = phone(place);
    const auto call_first = options_.call_first.find(place.practitioner->national_id);
    if (call_first == options_.call_first.end()) {
      if (place_phone) {
        w_.begin_array("telecom");
        fhir::write_phone_contact(w_, {}, *place_phone);
        w_.end_array();
      }
      fhir::end_searchset_entry(w_, "include");
      return;
    }
    // The doctor wants a call before each orientation: the number to call comes first.
    const std::string& call = call_first->second.empty() ? place_phone.value_or("") : call_first->second;
    w_.begin_array("telecom");
    if (!call.empty()) fhir::write_phone_contact(w_, {}, call, 1);
    if (place_phone && *place_phone != call) fhir::write_phone_contact(w_, {}, *place_phone);
    w_.end_array();
    w_.string("availabilityExceptions",
              call.empty() ? std::string(kCallFirstNotice) + "." : std::string(kCallFirstNotice) + " : " + call + ".");
    fhir::end_searchset_entry(w_, "include");
  }

  // serviceType of a slot open to one CPTS: TRE_R66 604, with the R5 serviceType reference to
  // the CPTS's HealthcareService (sas-cpts-slot-aggregator, slice referencecpts).
  void cpts_service_type(const CptsInfo& cpts) {
    w_.begin_object();
    w_.begin_array("extension");
    w_.begin_object();
    w_.string("url", fhir::extension::kSlotServiceTypeR5);
    fhir::write_reference(w_, "valueReference", "HealthcareService", cpts.resource_id);
    w_.end_object();
    w_.end_array();
    w_.begin_array("coding");
    fhir::write_coding(w_, {}, fhir::kCategorieEtablissementSystem, fhir::code::kCategorieCpts);
    w_.end_array();
    w_.end_object();
  }

  void healthcare_service(const CptsInfo& cpts) {
    fhir::begin_searchset_entry(w_, base_, "HealthcareService", cpts.resource_id,
                                fhir::profile::kCptsHealthcareService);
    fhir::write_reference(w_, "providedBy", "Organization", cpts.resource_id);
    fhir::end_searchset_entry(w_, "include");
  }

  void cpts_organization(const CptsInfo& cpts) {
    fhir::begin_searchset_entry(w_, base_, "Organization", cpts.resource_id, fhir::profile::kCptsOrganization);
    w_.begin_array("identifier");
    fhir::write_identifier(w_, {}, fhir::kFrCoreIdentifierTypeSystem, fhir::code::kIdnst, fhir::kStructureIdSystem,
                           cpts.finess);
    w_.end_array();
    if (cpts.data == nullptr) {
      warn("CPTS " + cpts.finess + " is named by slots but not in the plugin's CPTS list: sent with its FINESS alone");
    } else {
      w_.string("name", trim(cpts.data->name()));
      if (!trim(cpts.data->phone()).empty()) {
        std::string error;
        if (auto phone = sas::sdk::phone::to_plus33(cpts.data->phone(), &error)) {
          w_.begin_array("telecom");
          fhir::write_phone_contact(w_, {}, *phone);
          w_.end_array();
        } else {
          warn("CPTS " + cpts.finess + ": phone not sent: " + error);
        }
      }
    }
    fhir::end_searchset_entry(w_, "include");
  }

  fhir::JsonWriter w_;  // the answer, written as it is built
  const ParsedSlotQuery& query_;
  const pb::SearchSlotsResponse& response_;
  const BundleOptions& options_;
  BuildReport& report_;
  SlotFragments fragments_;
  std::string base_;
  std::string place_system_;
  std::unordered_map<std::string_view, PractitionerInfo> practitioners_;
  std::unordered_map<std::string_view, PlaceInfo> places_;
  std::unordered_map<std::string, CptsInfo> cpts_;  // by prefixed FINESS; nodes stay put
  std::vector<Match> matches_;
  std::set<std::string> warned_;
};

}  // namespace

void write_search_bundle(std::string& out, const ParsedSlotQuery& query, const pb::SearchSlotsResponse& response,
                         const BundleOptions& options, BuildReport* report) {
  BuildReport local;
  BuildReport& built = report != nullptr ? *report : local;
  built = BuildReport{};
  Builder(query, response, options, built, out).write();
}

std::string serialize_search_bundle(const ParsedSlotQuery& query, const pb::SearchSlotsResponse& response,
                                    const BundleOptions& options, BuildReport* report) {
  std::string out;
  // About 1 KB per slot with its includes: one allocation for most answers.
  out.reserve(1024 * static_cast<std::size_t>(response.slots_size()) + 1024);
  write_search_bundle(out, query, response, options, report);
  return out;
}

json::object build_search_bundle(const ParsedSlotQuery& query, const pb::SearchSlotsResponse& response,
                                 const BundleOptions& options, BuildReport* report) {
  return json::parse(serialize_search_bundle(query, response, options, report)).as_object();
}

}  // namespace sas::host::slot_search
