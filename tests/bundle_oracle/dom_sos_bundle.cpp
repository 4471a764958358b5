#include "bundle_oracle/dom_sos_bundle.hpp"
#include "bundle_oracle/dom_slot_fields.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sdk/phone.hpp"

namespace sas::test::oracle {

using sas::host::sos_search::ParsedSosQuery;
using sas::host::sos_search::self_link;
using sas::host::sos_search::SosBuildReport;
using sas::host::sos_search::SosBundleOptions;

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
namespace ids = sas::sdk::ids;
// fields: sas::test::oracle::fields, the Slot elements as they were built (dom_slot_fields.hpp).
using sas::host::text::trim;

namespace {

// The slot types of this search: JDV sas-sos-valueset-typecreneau holds PUBLIC and SNP only.
constexpr unsigned kSosTypes = fields::kSlotPublic | fields::kSlotSnp;

constexpr std::array<std::string_view, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// "8:00", "08:00" or "08:00:00" as the FHIR time "08:00:00"; "24:00" (a closing at midnight) as
// "23:59:59", the last second FHIR can say. nullopt for anything else.
std::optional<std::string> fhir_time(std::string_view raw) {
  const std::string_view t = trim(raw);
  std::vector<int> parts;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t colon = std::min(t.find(':', pos), t.size());
    const std::string_view part = t.substr(pos, colon - pos);
    const bool digits = std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    // Hours in one or two digits, minutes and seconds in two.
    if (!digits || part.empty() || part.size() > 2 || (!parts.empty() && part.size() != 2)) return std::nullopt;
    parts.push_back(std::stoi(std::string(part)));
    if (colon == t.size()) break;
    pos = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  parts.resize(3, 0);
  if (parts[0] == 24 && parts[1] == 0 && parts[2] == 0) return std::string("23:59:59");
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
  // Each part is 0..59 here: two digits each, written without a format string.
  std::string out;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i != 0) out += ':';
    out += static_cast<char>('0' + parts[i] / 10);
    out += static_cast<char>('0' + parts[i] % 10);
  }
  return out;
}

struct AssociationInfo {
  const pb::SosAssociation* data = nullptr;
};

struct PlaceInfo {
  const pb::SosPlace* data = nullptr;
  std::string siret;                 // the association's, prefixed; empty when invalid
  std::string error;                 // why siret is empty
  std::size_t association_rank = 0;  // position of its association in the request
  bool requested = false;
  const AssociationInfo* association = nullptr;  // null: the answer does not name it
  std::string resource_id;                       // Schedule and Location
  sas::sdk::datetime::Instant first_kept{sas::sdk::datetime::Instant::max()};
  bool schedule_emitted = false;
  bool location_emitted = false;
};

struct Match {
  const pb::Slot* slot;
  PlaceInfo* place;
  sas::sdk::datetime::Instant start;
  sas::sdk::datetime::Instant end;
  unsigned types;
  std::string id;
};

class Builder {
 public:
  Builder(const ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response, const SosBundleOptions& options,
          SosBuildReport& report, json::storage_ptr storage)
      : sp_(std::move(storage)), query_(query), response_(response), options_(options), report_(report) {
    base_ = options.base_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    place_system_ = options.place_identifier_system.empty() ? base_ : options.place_identifier_system;
  }

  json::object build() {
    index();
    collect();
    report_.matches = matches_.size();
    keep();
    report_.emitted = matches_.size();

    json::array entries(sp_);
    entries.reserve(matches_.size() * 2);
    std::set<std::string, std::less<>> organizations;
    for (const Match& m : matches_) {
      if (query_.include_slots) entries.emplace_back(entry("Slot", m.id, slot(m), "include"));
      PlaceInfo& place = *m.place;
      if (!place.schedule_emitted) {
        place.schedule_emitted = true;
        ++report_.schedules;
        entries.emplace_back(entry("Schedule", place.resource_id, schedule(place), "match"));
      }
      if (!query_.include_locations) continue;
      if (!place.location_emitted) {
        place.location_emitted = true;
        entries.emplace_back(entry("Location", place.resource_id, location(place), "include"));
      }
      // Iterated from the Locations: only with them.
      if (query_.include_organizations && organizations.insert(place.siret).second) {
        entries.emplace_back(entry("Organization", place.siret, organization(place), "include"));
      }
    }

    json::object bundle(sp_);
    bundle.reserve(6);
    bundle["resourceType"] = "Bundle";
    bundle["meta"] = fhir::meta(fhir::profile::kSosBundle, json::array(sp_), sp_);
    bundle["type"] = "searchset";
    bundle["total"] = static_cast<std::int64_t>(report_.matches);
    json::object self(sp_);
    self["relation"] = "self";
    self["url"] = self_link(query_, base_);
    json::array links(sp_);
    links.emplace_back(std::move(self));
    bundle["link"] = std::move(links);
    fhir::put(bundle, "entry", std::move(entries));
    return bundle;
  }

 private:
  void warn(std::string message) {
    if (warned_.insert(message).second) report_.warnings.push_back(std::move(message));
  }

  void index() {
    for (const auto& a : response_.associations()) {
      std::string error;
      auto siret = ids::normalize_structure_id(ids::StructureIdKind::siret, a.siret(), &error);
      if (!siret) {
        warn("association \"" + a.name() + "\": " + error);
        continue;
      }
      if (!associations_.try_emplace(*siret, AssociationInfo{&a}).second) {
        warn("association " + *siret + " appears more than once; the first is used");
      }
    }
    for (const auto& place : response_.places()) {
      if (place.id().empty()) {
        warn("a place has an empty id and is ignored");
        continue;
      }
      const auto [it, inserted] = places_.try_emplace(place.id());
      if (!inserted) {
        warn("place id \"" + place.id() + "\" appears more than once; the first is used");
        continue;
      }
      PlaceInfo& info = it->second;
      info.data = &place;
      info.resource_id = fhir::resource_id(place.id());
      if (auto siret =
              ids::normalize_structure_id(ids::StructureIdKind::siret, place.association_siret(), &info.error)) {
        info.siret = std::move(*siret);
        const auto& asked = query_.association_sirets;
        const auto at = std::find(asked.begin(), asked.end(), info.siret);
        info.requested = at != asked.end();
        info.association_rank = static_cast<std::size_t>(at - asked.begin());
        if (const auto a = associations_.find(info.siret); a != associations_.end()) info.association = &a->second;
      }
    }
  }

  // The place of a slot, when the slot may leave: known place of an association asked for.
  PlaceInfo* owner(const pb::Slot& s) {
    const auto it = places_.find(s.place_id());
    if (it == places_.end()) {
      ++report_.dropped_unknown_place;
      warn("slot \"" + s.id() + "\" refers to unknown place \"" + s.place_id() + "\"");
      return nullptr;
    }
    PlaceInfo& place = it->second;
    if (place.siret.empty()) {
      ++report_.dropped_not_requested;
      warn("place \"" + place.data->id() + "\" has an invalid association SIRET: " + place.error);
      return nullptr;
    }
    if (!place.requested) {
      ++report_.dropped_not_requested;
      warn("place \"" + place.data->id() + "\" belongs to association " + place.siret +
           ", which was not asked for; the plugin returned it");
      return nullptr;
    }
    return &place;
  }

  void collect() {
    std::unordered_set<std::string> seen;
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
      const sas::sdk::datetime::Instant start = *start_at;
      const sas::sdk::datetime::Instant end = *end_at;
      const unsigned types = fields::slot_types(s) & kSosTypes;
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
      if (place == nullptr) continue;
      std::string id = fhir::resource_id(s.id());
      if (!seen.insert(id).second) {
        ++report_.dropped_duplicate;
        warn("slot id \"" + s.id() + "\" appears more than once; the first is used");
        continue;
      }
      matches_.push_back(Match{&s, place, start, end, types, std::move(id)});
    }
  }

  // _count: the earliest slots over all places; then the example's order.
  void keep() {
    const auto by_start = [](const Match& a, const Match& b) {
      return a.start != b.start ? a.start < b.start : a.id < b.id;
    };
    std::sort(matches_.begin(), matches_.end(), by_start);
    if (query_.count && *query_.count < matches_.size()) {
      matches_.erase(matches_.begin() + static_cast<std::ptrdiff_t>(*query_.count), matches_.end());
    }
    for (const Match& m : matches_) m.place->first_kept = std::min(m.place->first_kept, m.start);
    std::stable_sort(matches_.begin(), matches_.end(), [](const Match& a, const Match& b) {
      const PlaceInfo& pa = *a.place;
      const PlaceInfo& pb = *b.place;
      if (pa.association_rank != pb.association_rank) return pa.association_rank < pb.association_rank;
      if (&pa != &pb) {
        if (pa.first_kept != pb.first_kept) return pa.first_kept < pb.first_kept;
        return pa.data->id() < pb.data->id();
      }
      return false;  // already by start, then id
    });
  }

  json::object entry(std::string_view type, std::string_view id, json::object resource, std::string_view mode) const {
    return fields::searchset_entry(base_, type, id, std::move(resource), mode, sp_);
  }

  std::string when(sas::sdk::datetime::Instant t) const {
    return options_.paris_offsets ? sas::sdk::datetime::format_paris(t) : sas::sdk::datetime::format_utc(t);
  }

  json::object slot(const Match& m) {
    json::object r(sp_);
    r.reserve(12);
    r["resourceType"] = "Slot";
    r["id"] = m.id;
    r["meta"] = fhir::meta(fhir::profile::kSosSlot, fields::security_labels(m.types, sp_), sp_);
    json::array service_types(sp_);
    fields::append_consultation_modes(service_types, *m.slot, sp_);
    fields::append_motives(service_types, *m.slot, sp_);
    fhir::put(r, "serviceType", std::move(service_types));
    // No practitioner is named in this search: only the slot's own specialties can be sent.
    int invalid_codes = 0;
    fhir::put(r, "specialty", fields::specialties(m.slot->specialties(), sp_, &invalid_codes));
    if (invalid_codes != 0) warn("slot \"" + m.slot->id() + "\": " + fields::kSpecialtyCodeSentAsText);
    r["appointmentType"] = fields::appointment_type(m.slot->walk_in(), sp_);
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
    r["meta"] = fhir::meta(fhir::profile::kSosSchedule, json::array(sp_), sp_);
    r["actor"] = one(fhir::reference("Location", place.resource_id, sp_));
    return r;
  }

  // hoursOfOperation: each opening as the agenda gives it, days in the week's order, times as
  // FHIR times; what cannot be read is left out with a warning, never guessed.
  json::array hours(const pb::SosPlace& place) {
    json::array out(sp_);
    for (const auto& opening : place.opening_hours()) {
      std::array<bool, kDays.size()> open{};
      for (const auto& raw : opening.days()) {
        std::string day(trim(raw));
        std::transform(day.begin(), day.end(), day.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto at = std::find(kDays.begin(), kDays.end(), day);
        if (at == kDays.end()) {
          warn("place \"" + place.id() + "\": opening day \"" + raw + "\" is not one of mon..sun; left out");
          continue;
        }
        open[static_cast<std::size_t>(at - kDays.begin())] = true;
      }
      json::array days(sp_);
      for (std::size_t d = 0; d < kDays.size(); ++d) {
        if (open[d]) days.emplace_back(kDays[d]);
      }
      if (days.empty()) {
        warn("place \"" + place.id() + "\": an opening without a valid day is left out");
        continue;
      }
      json::object h(sp_);
      h["daysOfWeek"] = std::move(days);
      const std::string_view open_text = trim(opening.opening_time());
      const std::string_view close_text = trim(opening.closing_time());
      const auto opening_time = fhir_time(open_text);
      const auto closing_time = fhir_time(close_text);
      if (!open_text.empty() && !opening_time) {
        warn("place \"" + place.id() + "\": opening time \"" + std::string(open_text) + "\" is not HH:MM; left out");
      }
      if (!close_text.empty() && !closing_time) {
        warn("place \"" + place.id() + "\": closing time \"" + std::string(close_text) + "\" is not HH:MM; left out");
      }
      if (opening_time == "00:00:00" && closing_time == "23:59:59") {
        h["allDay"] = true;
      } else {
        if (opening_time) h["openingTime"] = *opening_time;
        if (closing_time) h["closingTime"] = *closing_time;
      }
      out.emplace_back(std::move(h));
    }
    return out;
  }

  json::object location(const PlaceInfo& info) {
    const pb::SosPlace& place = *info.data;
    json::object r(sp_);
    r["resourceType"] = "Location";
    r["id"] = info.resource_id;
    r["meta"] = fhir::meta(fhir::profile::kSosLocation, json::array(sp_), sp_);
    r["identifier"] =
        one(fhir::identifier(fhir::kLocationIdentifierTypeSystem, fhir::code::kIntrn, place_system_, place.id(), sp_));
    if (trim(place.name()).empty()) warn("place \"" + place.id() + "\" has no name (required by the SOS Location)");
    fhir::put(r, "name", trim(place.name()));
    if (!trim(place.phone()).empty()) {
      std::string error;
      if (auto phone = sas::sdk::phone::to_plus33(place.phone(), &error)) {
        r["telecom"] = one(fhir::phone_contact(*phone, sp_));
      } else {
        warn("place \"" + place.id() + "\": phone not sent: " + error);
      }
    }
    bool complete = false;
    json::object where = fields::address(place.address_lines(), place.postal_code(), place.city(), sp_, &complete);
    if (!complete) {
      warn("place \"" + place.id() +
           "\": address line, city and postal code are all required by the SOS Location profile");
    }
    fhir::put(r, "address", std::move(where));
    r["managingOrganization"] = fhir::reference("Organization", info.siret, sp_);
    fhir::put(r, "hoursOfOperation", hours(place));
    return r;
  }

  json::object organization(const PlaceInfo& place) {
    json::object r(sp_);
    r["resourceType"] = "Organization";
    r["id"] = place.siret;
    r["meta"] = fhir::meta(fhir::profile::kSosOrganization, json::array(sp_), sp_);
    // The profile pins the type's system to fr-location-identifier-type (not fr-v2-0203, which
    // fhir::structure_national_identifier uses for INT_R01's organization references).
    r["identifier"] = one(fhir::identifier(fhir::kLocationIdentifierTypeSystem, fhir::code::kIdnst,
                                           fhir::kStructureIdSystem, place.siret, sp_));
    const std::string_view name = place.association != nullptr ? trim(place.association->data->name()) : "";
    if (name.empty()) warn("association " + place.siret + " has no name in the agenda's answer: sent without one");
    fhir::put(r, "name", name);
    return r;
  }

  // [item], in the bundle's storage.
  json::array one(json::value item) const { return fields::single(std::move(item), sp_); }

  json::storage_ptr sp_;  // every element of the bundle lives here
  const ParsedSosQuery& query_;
  const pb::SearchSosSlotsResponse& response_;
  const SosBundleOptions& options_;
  SosBuildReport& report_;
  std::string base_;
  std::string place_system_;
  std::unordered_map<std::string, AssociationInfo> associations_;  // by prefixed SIRET
  std::unordered_map<std::string_view, PlaceInfo> places_;
  std::vector<Match> matches_;
  std::set<std::string> warned_;
};

}  // namespace

std::string dom_sos_bundle(const ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response,
                           const SosBundleOptions& options, SosBuildReport* report) {
  SosBuildReport local;
  SosBuildReport& out = report != nullptr ? *report : local;
  out = SosBuildReport{};
  json::monotonic_resource resource(64 * 1024);
  Builder builder(query, response, options, out, json::storage_ptr(&resource));
  return fhir::serialize(builder.build());
}

}  // namespace sas::test::oracle
