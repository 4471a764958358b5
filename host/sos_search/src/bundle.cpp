#include "sas/host/sos_search/bundle.hpp"

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
#include "sas/host/fhir/element_writers.hpp"
#include "sas/host/fhir/json_writer.hpp"
#include "sas/host/fhir/searchset.hpp"
#include "sas/host/slot_search/slot_fields.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sdk/phone.hpp"

namespace sas::host::sos_search {

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
namespace ids = sas::sdk::ids;
namespace fields = sas::host::slot_search;
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
          SosBuildReport& report, std::string& out)
      : w_(out), query_(query), response_(response), options_(options), report_(report) {
    base_ = fhir::without_trailing_slashes(options.base_url);
    place_system_ = options.place_identifier_system.empty() ? base_ : options.place_identifier_system;
  }

  void write() {
    index();
    collect();
    report_.matches = matches_.size();
    keep();
    report_.emitted = matches_.size();

    fhir::begin_searchset(w_, fhir::profile::kSosBundle, report_.matches, self_link(query_, base_));
    std::set<std::string, std::less<>> organizations;
    for (const Match& m : matches_) {
      if (query_.include_slots) slot(m);
      PlaceInfo& place = *m.place;
      if (!place.schedule_emitted) {
        place.schedule_emitted = true;
        ++report_.schedules;
        schedule(place);
      }
      if (!query_.include_locations) continue;
      if (!place.location_emitted) {
        place.location_emitted = true;
        location(place);
      }
      // Iterated from the Locations: only with them.
      if (query_.include_organizations && organizations.insert(place.siret).second) organization(place);
    }
    fhir::end_searchset(w_);
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

  std::string when(sas::sdk::datetime::Instant t) const {
    return options_.paris_offsets ? sas::sdk::datetime::format_paris(t) : sas::sdk::datetime::format_utc(t);
  }

  void slot(const Match& m) {
    fhir::begin_searchset_entry(w_, base_, "Slot", m.id);
    w_.raw(fragments_.meta(m.types));
    w_.begin_array("serviceType");
    w_.raw(fragments_.consultation_modes(*m.slot));
    fields::write_motives(w_, *m.slot);
    w_.end_array();
    // No practitioner is named in this search: only the slot's own specialties can be sent.
    int invalid_codes = 0;
    w_.raw("specialty", fields::specialties_json(m.slot->specialties(), &invalid_codes));
    if (invalid_codes != 0) warn("slot \"" + m.slot->id() + "\": " + fields::kSpecialtyCodeSentAsText);
    w_.raw(fragments_.appointment_type(m.slot->walk_in()));
    fhir::write_reference(w_, "schedule", "Schedule", m.place->resource_id);
    w_.string("status", "free");
    w_.string("start", when(m.start));
    w_.string("end", when(m.end));
    w_.string("comment", trim(m.slot->booking_url()));
    fhir::end_searchset_entry(w_, "include");
  }

  void schedule(const PlaceInfo& place) {
    fhir::begin_searchset_entry(w_, base_, "Schedule", place.resource_id, fhir::profile::kSosSchedule);
    w_.begin_array("actor");
    fhir::write_reference(w_, {}, "Location", place.resource_id);
    w_.end_array();
    fhir::end_searchset_entry(w_, "match");
  }

  // hoursOfOperation: each opening as the agenda gives it, days in the week's order, times as
  // FHIR times; what cannot be read is left out with a warning, never guessed.
  void hours(const pb::SosPlace& place) {
    w_.begin_array("hoursOfOperation");
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
      if (std::find(open.begin(), open.end(), true) == open.end()) {
        warn("place \"" + place.id() + "\": an opening without a valid day is left out");
        continue;
      }
      w_.begin_object();
      w_.begin_array("daysOfWeek");
      for (std::size_t d = 0; d < kDays.size(); ++d) {
        if (open[d]) w_.string(kDays[d]);
      }
      w_.end_array();
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
        w_.boolean("allDay", true);
      } else {
        if (opening_time) w_.string("openingTime", *opening_time);
        if (closing_time) w_.string("closingTime", *closing_time);
      }
      w_.end_object();
    }
    w_.end_array();
  }

  void location(const PlaceInfo& info) {
    const pb::SosPlace& place = *info.data;
    fhir::begin_searchset_entry(w_, base_, "Location", info.resource_id, fhir::profile::kSosLocation);
    w_.begin_array("identifier");
    fhir::write_identifier(w_, {}, fhir::kLocationIdentifierTypeSystem, fhir::code::kIntrn, place_system_, place.id());
    w_.end_array();
    if (trim(place.name()).empty()) warn("place \"" + place.id() + "\" has no name (required by the SOS Location)");
    w_.string("name", trim(place.name()));
    if (!trim(place.phone()).empty()) {
      std::string error;
      if (auto phone = sas::sdk::phone::to_plus33(place.phone(), &error)) {
        w_.begin_array("telecom");
        fhir::write_phone_contact(w_, {}, *phone);
        w_.end_array();
      } else {
        warn("place \"" + place.id() + "\": phone not sent: " + error);
      }
    }
    if (!fields::address_complete(place.address_lines(), place.postal_code(), place.city())) {
      warn("place \"" + place.id() +
           "\": address line, city and postal code are all required by the SOS Location profile");
    }
    fields::write_address(w_, place.address_lines(), place.postal_code(), place.city());
    fhir::write_reference(w_, "managingOrganization", "Organization", info.siret);
    hours(place);
    fhir::end_searchset_entry(w_, "include");
  }

  void organization(const PlaceInfo& place) {
    fhir::begin_searchset_entry(w_, base_, "Organization", place.siret, fhir::profile::kSosOrganization);
    // The profile pins the type's system to fr-location-identifier-type (not fr-v2-0203, which
    // INT_R01's organization references use).
    w_.begin_array("identifier");
    fhir::write_identifier(w_, {}, fhir::kLocationIdentifierTypeSystem, fhir::code::kIdnst, fhir::kStructureIdSystem,
                           place.siret);
    w_.end_array();
    const std::string_view name = place.association != nullptr ? trim(place.association->data->name()) : "";
    if (name.empty()) warn("association " + place.siret + " has no name in the agenda's answer: sent without one");
    w_.string("name", name);
    fhir::end_searchset_entry(w_, "include");
  }

  fhir::JsonWriter w_;  // the answer, written as it is built
  const ParsedSosQuery& query_;
  const pb::SearchSosSlotsResponse& response_;
  const SosBundleOptions& options_;
  SosBuildReport& report_;
  fields::SlotFragments fragments_{fhir::profile::kSosSlot};
  std::string base_;
  std::string place_system_;
  std::unordered_map<std::string, AssociationInfo> associations_;  // by prefixed SIRET
  std::unordered_map<std::string_view, PlaceInfo> places_;
  std::vector<Match> matches_;
  std::set<std::string> warned_;
};

}  // namespace

void write_sos_bundle(std::string& out, const ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response,
                      const SosBundleOptions& options, SosBuildReport* report) {
  SosBuildReport local;
  SosBuildReport& built = report != nullptr ? *report : local;
  built = SosBuildReport{};
  Builder(query, response, options, built, out).write();
}

std::string serialize_sos_bundle(const ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response,
                                 const SosBundleOptions& options, SosBuildReport* report) {
  std::string out;
  out.reserve(1024 * static_cast<std::size_t>(response.slots_size()) + 2048);
  write_sos_bundle(out, query, response, options, report);
  return out;
}

json::object build_sos_bundle(const ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response,
                              const SosBundleOptions& options, SosBuildReport* report) {
  return json::parse(serialize_sos_bundle(query, response, options, report)).as_object();
}

}  // namespace sas::host::sos_search
