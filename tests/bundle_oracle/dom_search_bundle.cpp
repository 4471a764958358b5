#include "bundle_oracle/dom_search_bundle.hpp"
#include "bundle_oracle/dom_slot_fields.hpp"

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
#include "sas/host/fhir/json.hpp"
#include "sas/host/slot_search/slot_fields.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sdk/phone.hpp"

namespace sas::test::oracle {

using sas::host::slot_search::address_complete;
using sas::host::slot_search::BuildReport;
using sas::host::slot_search::BundleOptions;
using sas::host::slot_search::Instant;
using sas::host::slot_search::kSlotCpts;
using sas::host::slot_search::kSlotPro;
using sas::host::slot_search::kSlotPublic;
using sas::host::slot_search::kSlotSnp;
using sas::host::slot_search::kSpecialtyCodeSentAsText;
using sas::host::slot_search::ParsedSlotQuery;
using sas::host::slot_search::self_link;
using sas::host::slot_search::slot_types;

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
namespace ids = sas::sdk::ids;
using sas::host::text::trim;
using namespace sas::test::oracle::fields;

namespace {

constexpr std::string_view kContainedLocationId = "location";
// PractitionerRole.availabilityExceptions of a doctor who asked to be called first; the number
// follows (docs/doctor-options.md).
constexpr std::string_view kCallFirstNotice = "Appeler le médecin avant toute orientation de patient";

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
  std::optional<json::array> specialties;  // built on first use, in the bundle's storage
  bool emitted = false;
};

struct PlaceInfo {
  const pb::Place* data = nullptr;
  PractitionerInfo* practitioner = nullptr;  // null: unknown practitioner
  std::string resource_id;                   // Schedule and PractitionerRole
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
          BuildReport& report, json::storage_ptr storage)
      : sp_(std::move(storage)), query_(query), response_(response), options_(options), report_(report) {
    base_ = options.base_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    place_system_ = options.place_identifier_system.empty() ? base_ : options.place_identifier_system;
  }

  json::object build() {
    index();
    collect();
    std::sort(matches_.begin(), matches_.end(),
              [](const Match& a, const Match& b) { return a.start != b.start ? a.start < b.start : a.id < b.id; });
    report_.matches = matches_.size();
    const std::size_t shown = query_.count ? std::min<std::size_t>(*query_.count, matches_.size()) : matches_.size();
    report_.emitted = shown;

    json::array entries(sp_);
    entries.reserve(shown * 2);
    for (std::size_t i = 0; i < shown; ++i) {
      const Match& m = matches_[i];
      entries.emplace_back(entry("Slot", m.id, slot(m), "match"));
      if (query_.include_schedule) include_place(*m.place, entries);
      // CPTS search: each HealthcareService, then its Organization (providedBy 1..1 must resolve,
      // so it comes with or without _include:iterate=HealthcareService:organization).
      for (CptsInfo* cpts : m.cpts) {
        if (cpts->emitted) continue;
        cpts->emitted = true;
        entries.emplace_back(entry("HealthcareService", cpts->resource_id, healthcare_service(*cpts), "include"));
        entries.emplace_back(entry("Organization", cpts->resource_id, cpts_organization(*cpts), "include"));
      }
    }

    json::object bundle(sp_);
    bundle.reserve(6);
    bundle["resourceType"] = "Bundle";
    bundle["meta"] =
        fhir::meta(query_.cpts ? fhir::profile::kCptsBundle : fhir::profile::kBundle, json::array(sp_), sp_);
    bundle["type"] = "searchset";
    bundle["total"] = static_cast<std::int64_t>(matches_.size());
    json::object self(sp_);
    self["relation"] = "self";
    self["url"] = self_link(query_, base_);
    json::array links(sp_);
    links.emplace_back(std::move(self));
    bundle["link"] = std::move(links);
    fhir::put(bundle, "entry", std::move(entries));
    // No prune here: the builders omit empties themselves (the tests check that), and
    // fhir::serialize prunes once more before anything is sent.
    return bundle;
  }

 private:
  void warn(std::string message) {
    if (warned_.insert(message).second) report_.warnings.push_back(std::move(message));
  }

  // The Schedule of a place, then (with _include:iterate=Schedule:actor) its actors, each once.
  void include_place(PlaceInfo& place, json::array& entries) {
    if (!place.schedule_emitted) {
      place.schedule_emitted = true;
      entries.emplace_back(entry("Schedule", place.resource_id, schedule(place), "include"));
    }
    if (!query_.include_actors) return;
    PractitionerInfo& practitioner = *place.practitioner;
    if (!practitioner.emitted) {
      practitioner.emitted = true;
      entries.emplace_back(
          entry("Practitioner", practitioner.resource_id, practitioner_resource(practitioner), "include"));
    }
    if (!place.role_emitted) {
      place.role_emitted = true;
      entries.emplace_back(entry("PractitionerRole", place.resource_id, role(place), "include"));
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
      if (!address_complete(where.address_lines(), where.postal_code(), where.city())) {
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

  json::object entry(std::string_view type, std::string_view id, json::object resource, std::string_view mode) const {
    return searchset_entry(base_, type, id, std::move(resource), mode, sp_);
  }

  std::string when(Instant t) const {
    return options_.paris_offsets ? sas::sdk::datetime::format_paris(t) : sas::sdk::datetime::format_utc(t);
  }

  json::object slot(const Match& m) {
    PractitionerInfo& p = *m.place->practitioner;
    if (!p.specialties && m.slot->specialties().empty()) {
      int invalid_codes = 0;
      p.specialties.emplace(specialties(p.data->specialties(), sp_, &invalid_codes));
      if (invalid_codes != 0) warn("practitioner \"" + p.data->id() + "\": " + kSpecialtyCodeSentAsText);
    }
    json::object r(sp_);
    r.reserve(12);
    r["resourceType"] = "Slot";
    r["id"] = m.id;
    r["meta"] =
        fhir::meta(query_.cpts ? fhir::profile::kCptsSlot : fhir::profile::kSlot, security_labels(m.types, sp_), sp_);
    // Modes as v3-ActCode codings, then each CPTS, then each motive as text (the IG's order).
    json::array service_types(sp_);
    append_consultation_modes(service_types, *m.slot, sp_);
    for (const CptsInfo* cpts : m.cpts) service_types.emplace_back(cpts_service_type(*cpts));
    append_motives(service_types, *m.slot, sp_);
    fhir::put(r, "serviceType", std::move(service_types));
    if (m.slot->specialties().empty()) {
      fhir::put(r, "specialty", *p.specialties);
    } else {
      int invalid_codes = 0;
      fhir::put(r, "specialty", specialties(m.slot->specialties(), sp_, &invalid_codes));
      if (invalid_codes != 0) warn("slot \"" + m.slot->id() + "\": " + kSpecialtyCodeSentAsText);
    }
    r["appointmentType"] = appointment_type(m.slot->walk_in(), sp_);
    r["schedule"] = fhir::reference("Schedule", m.place->resource_id, sp_);
    r["status"] = "free";
    r["start"] = when(m.start);
    r["end"] = when(m.end);
    fhir::put(r, "comment", trim(m.slot->booking_url()));
    return r;
  }

  json::object schedule(const PlaceInfo& place) const {
    json::object r(sp_);
    r["resourceType"] = "Schedule";
    r["id"] = place.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kSchedule, json::array(sp_), sp_);
    json::array actors(sp_);
    actors.emplace_back(fhir::reference("Practitioner", place.practitioner->resource_id, sp_));
    actors.emplace_back(fhir::reference("PractitionerRole", place.resource_id, sp_));
    r["actor"] = std::move(actors);
    return r;
  }

  json::object practitioner_resource(const PractitionerInfo& p) {
    json::object r(sp_);
    r["resourceType"] = "Practitioner";
    r["id"] = p.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kPractitioner, json::array(sp_), sp_);
    r["identifier"] = one(fhir::practitioner_national_identifier(p.national_id, sp_));
    json::object name(sp_);
    fhir::put(name, "family", trim(p.data->family_name()));
    json::array given(sp_);
    for (const auto& g : p.data->given_names()) {
      if (!trim(g).empty()) given.emplace_back(trim(g));
    }
    fhir::put(name, "given", std::move(given));
    if (name.empty()) {
      warn("practitioner \"" + p.data->id() + "\" has no name");
    } else {
      r["name"] = one(std::move(name));
    }
    return r;
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

  json::object location(const pb::Place& place) {
    json::object r(sp_);
    r["resourceType"] = "Location";
    r["id"] = kContainedLocationId;
    r["meta"] = fhir::meta(fhir::profile::kLocation, json::array(sp_), sp_);
    r["identifier"] =
        one(fhir::identifier(fhir::kLocationIdentifierTypeSystem, fhir::code::kIntrn, place_system_, place.id(), sp_));
    fhir::put(r, "name", trim(place.name()));
    // FrLocationAgregateur allows one address line: several vendor lines are joined.
    // Complete: a place without an address line, city and postal code sends no slot (collect).
    fhir::put(r, "address", address(place.address_lines(), place.postal_code(), place.city(), sp_));
    return r;
  }

  json::object role(const PlaceInfo& place) {
    json::object r(sp_);
    r["resourceType"] = "PractitionerRole";
    r["id"] = place.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kPractitionerRole, json::array(sp_), sp_);
    r["contained"] = one(location(*place.data));
    r["practitioner"] = fhir::reference("Practitioner", place.practitioner->resource_id, sp_);
    if (auto structure = structure_id(*place.data)) {
      r["organization"] = fhir::identifier_reference(fhir::structure_national_identifier(*structure, sp_), sp_);
    }
    r["location"] = one(fhir::contained_reference(kContainedLocationId, sp_));
    const auto place_phone = phone(place);
    const auto call_first = options_.call_first.find(place.practitioner->national_id);
    if (call_first == options_.call_first.end()) {
      if (place_phone) r["telecom"] = one(fhir::phone_contact(*place_phone, sp_));
      return r;
    }
    // The doctor wants a call before each orientation: the number to call comes first.
    const std::string& call = call_first->second.empty() ? place_phone.value_or("") : call_first->second;
    json::array telecom(sp_);
    if (!call.empty()) {
      json::object first = fhir::phone_contact(call, sp_);
      first["rank"] = 1;
      telecom.emplace_back(std::move(first));
    }
    if (place_phone && *place_phone != call) telecom.emplace_back(fhir::phone_contact(*place_phone, sp_));
    if (!telecom.empty()) r["telecom"] = std::move(telecom);
    r["availabilityExceptions"] =
        call.empty() ? std::string(kCallFirstNotice) + "." : std::string(kCallFirstNotice) + " : " + call + ".";
    return r;
  }

  // serviceType of a slot open to one CPTS: TRE_R66 604, with the R5 serviceType reference to
  // the CPTS's HealthcareService (sas-cpts-slot-aggregator, slice referencecpts).
  json::object cpts_service_type(const CptsInfo& cpts) const {
    json::object extension(sp_);
    extension["url"] = fhir::extension::kSlotServiceTypeR5;
    extension["valueReference"] = fhir::reference("HealthcareService", cpts.resource_id, sp_);
    json::object out(sp_);
    out["extension"] = one(std::move(extension));
    out["coding"] = one(fhir::coding(fhir::kCategorieEtablissementSystem, fhir::code::kCategorieCpts, {}, sp_));
    return out;
  }

  json::object healthcare_service(const CptsInfo& cpts) const {
    json::object r(sp_);
    r["resourceType"] = "HealthcareService";
    r["id"] = cpts.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kCptsHealthcareService, json::array(sp_), sp_);
    r["providedBy"] = fhir::reference("Organization", cpts.resource_id, sp_);
    return r;
  }

  json::object cpts_organization(const CptsInfo& cpts) {
    json::object r(sp_);
    r["resourceType"] = "Organization";
    r["id"] = cpts.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kCptsOrganization, json::array(sp_), sp_);
    r["identifier"] = one(fhir::identifier(fhir::kFrCoreIdentifierTypeSystem, fhir::code::kIdnst,
                                           fhir::kStructureIdSystem, cpts.finess, sp_));
    if (cpts.data == nullptr) {
      warn("CPTS " + cpts.finess + " is named by slots but not in the plugin's CPTS list: sent with its FINESS alone");
      return r;
    }
    fhir::put(r, "name", trim(cpts.data->name()));
    if (!trim(cpts.data->phone()).empty()) {
      std::string error;
      if (auto phone = sas::sdk::phone::to_plus33(cpts.data->phone(), &error)) {
        r["telecom"] = one(fhir::phone_contact(*phone, sp_));
      } else {
        warn("CPTS " + cpts.finess + ": phone not sent: " + error);
      }
    }
    return r;
  }

  // [item], in the bundle's storage.
  json::array one(json::value item) const { return single(std::move(item), sp_); }

  json::storage_ptr sp_;  // every element of the bundle lives here
  const ParsedSlotQuery& query_;
  const pb::SearchSlotsResponse& response_;
  const BundleOptions& options_;
  BuildReport& report_;
  std::string base_;
  std::string place_system_;
  std::unordered_map<std::string_view, PractitionerInfo> practitioners_;
  std::unordered_map<std::string_view, PlaceInfo> places_;
  std::unordered_map<std::string, CptsInfo> cpts_;  // by prefixed FINESS; nodes stay put
  std::vector<Match> matches_;
  std::set<std::string> warned_;
};

}  // namespace

std::string dom_search_bundle(const ParsedSlotQuery& query, const pb::SearchSlotsResponse& response,
                              const BundleOptions& options, BuildReport* report) {
  BuildReport local;
  BuildReport& out = report != nullptr ? *report : local;
  out = BuildReport{};
  json::monotonic_resource resource(256 * 1024);
  Builder builder(query, response, options, out, json::storage_ptr(&resource));
  return sas::host::fhir::serialize(builder.build());
}

}  // namespace sas::test::oracle
