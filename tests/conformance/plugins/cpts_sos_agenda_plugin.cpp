// A small agenda with CPTS and SOS Médecins data, for sas-conformance's plugin mode: the suite
// runs it through the host's own INT_R04 and SOS code and must pass it, or name its fault.
//
// Practitioners 810002673899 (stored without its 8) and 810100050075, one place each; the first
// place's slots are open to two CPTS (FINESS stored 950047225 and 1950046227), the second's to the
// first CPTS. SOS Médecins associations 34173748400020 (stored without its 3, two consultation
// places) and 392080466300010 (one place). Free slots every two hours from the window's start.
//
// --plugin-config "fault=NAME" introduces one fault the host cannot repair:
// - cpts-undescribed: the CPTS a slot is open to are not described in the answer (the host sends
//   them with their FINESS alone: R04-CPTS-008, -009);
// - cpts-one-of-two: the slots open to two CPTS name the first only (R04-CPTS-006);
// - sos-siret-as-stored: the SIRETs asked for are compared with the stored form, so that the
//   unprefixed one never matches (SOS-BUNDLE-009: a declared association missing).
#include <sas/sdk/ids.hpp>
#include <sas/sdk/plugin.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

struct Cpts {
  const char* finess;  // as stored
  const char* name;
  const char* phone;
};
constexpr Cpts kCpts[] = {{"950047225", "CPTS AXE MAJEUR", "01 02 03 04 05"},
                          {"1950046227", "CPTS VAL D OISE CENTRE", "+33139599280"}};

struct Doctor {
  const char* id;
  const char* national_id;  // as stored
  const char* family;
  const char* given;
  const char* place_id;
  const char* city;
  const char* postal_code;
  const char* line;
  const char* siret;              // the practice's structure
  std::vector<const char*> cpts;  // FINESS, as stored
};

struct SosPlace {
  const char* id;
  const char* name;
  const char* line;
  const char* city;
  const char* postal_code;
  const char* phone;
};

struct Association {
  const char* siret;  // as stored
  const char* name;
  std::vector<SosPlace> places;
};

const std::vector<Doctor>& doctors() {
  static const std::vector<Doctor> list = {
      {"dr-durand",
       "10002673899",
       "DURAND",
       "Claire",
       "lieu-durand",
       "PARIS",
       "75011",
       "12 rue des Lilas",
       "12345678000014",
       {kCpts[0].finess, kCpts[1].finess}},
      {"dr-thomas",
       "810100050075",
       "THOMAS",
       "Sébastien",
       "lieu-thomas",
       "AGEN",
       "47000",
       "1 rue Mme Delmas",
       "73282932000074",
       {kCpts[0].finess}},
  };
  return list;
}

const std::vector<Association>& associations() {
  static const std::vector<Association> list = {
      {"34173748400020",
       "SOS Médecins de Rennes",
       {{"sos-nord", "Centre de consultation Rennes Nord", "320 avenue Général Patton", "RENNES", "35700",
         "02 99 00 11 22"},
        {"sos-cleunay", "Centre de consultation Rennes Cleunay", "106 rue Eugène Pottier", "RENNES", "35000",
         "+33299334455"}}},
      {"392080466300010",
       "SOS Médecins Lorient et agglomération",
       {{"sos-lorient", "Centre de consultation Lorient", "12 impasse Royer Dubail", "LORIENT", "56100",
         "02 97 00 11 22"}}},
  };
  return list;
}

// Free slots of one place: every two hours from the window's start, 20 minutes long, the first
// 30 minutes in (so that they start inside the window whatever its bounds).
template <typename Fill>
void slots_in(const std::string& place_id, int64_t from, int64_t to, Fill fill) {
  for (int64_t start = from + 1800; start <= to; start += 7200) {
    v1::Slot slot;
    slot.set_id(place_id + "-" + std::to_string(start));
    slot.set_place_id(place_id);
    slot.set_start(start);
    slot.set_end(start + 1200);
    slot.set_status(v1::SLOT_FREE);
    slot.add_modes(v1::MODE_AT_PRACTICE);
    slot.set_booking_url("https://rdv.cpts-sos-agenda.example/" + place_id);
    fill(slot);
  }
}

class CptsSosAgendaPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host&) override {
    if (config.starts_with("fault=")) fault_ = std::string(config.substr(6));
    return Status::ok();
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext&) override {
    std::vector<std::string> cpts_named;
    for (const auto& doctor : doctors()) {
      if (!asked(request.practitioner_national_ids(), sas::sdk::ids::stored_forms, doctor.national_id)) continue;
      auto* p = response.add_practitioners();
      p->set_id(doctor.id);
      p->set_national_id(doctor.national_id);
      p->set_family_name(doctor.family);
      p->add_given_names(doctor.given);
      p->add_specialties()->set_code("SM54");
      auto* place = response.add_places();
      place->set_id(doctor.place_id);
      place->set_practitioner_id(doctor.id);
      place->add_address_lines(doctor.line);
      place->set_postal_code(doctor.postal_code);
      place->set_city(doctor.city);
      place->set_siret(doctor.siret);
      // Every other slot open to the place's CPTS; the host keeps what each search shows.
      bool open = false;
      slots_in(doctor.place_id, request.start_from(), request.start_to(), [&](v1::Slot& slot) {
        slot.add_audiences(v1::AUDIENCE_PUBLIC);
        slot.add_audiences(v1::AUDIENCE_SNP);
        slot.add_motives("Consultation");
        if ((open = !open) && !doctor.cpts.empty()) {
          slot.add_audiences(v1::AUDIENCE_CPTS);
          const std::size_t named = fault_ == "cpts-one-of-two" ? 1 : doctor.cpts.size();
          for (std::size_t i = 0; i < named; ++i) {
            slot.add_cpts_finess(doctor.cpts[i]);
            if (std::find(cpts_named.begin(), cpts_named.end(), doctor.cpts[i]) == cpts_named.end())
              cpts_named.push_back(doctor.cpts[i]);
          }
        }
        *response.add_slots() = slot;
      });
    }
    if (request.cpts_search() && fault_ != "cpts-undescribed")
      for (const auto& cpts : kCpts)
        if (std::find(cpts_named.begin(), cpts_named.end(), std::string(cpts.finess)) != cpts_named.end()) {
          auto* c = response.add_cpts();
          c->set_finess(cpts.finess);
          c->set_name(cpts.name);
          c->set_phone(cpts.phone);
        }
    return Status::ok();
  }

  Status search_sos_slots(const v1::SearchSosSlotsRequest& request, v1::SearchSosSlotsResponse& response,
                          const sas::sdk::CallContext&) override {
    for (const auto& association : associations()) {
      const bool wanted =
          fault_ == "sos-siret-as-stored"
              ? std::find(request.association_sirets().begin(), request.association_sirets().end(),
                          association.siret) != request.association_sirets().end()
              : asked(request.association_sirets(), sas::sdk::ids::stored_siret_forms, association.siret);
      if (!wanted) continue;
      auto* a = response.add_associations();
      a->set_siret(association.siret);
      a->set_name(association.name);
      for (const auto& place : association.places) {
        auto* p = response.add_places();
        p->set_id(place.id);
        p->set_association_siret(association.siret);
        p->set_name(place.name);
        p->add_address_lines(place.line);
        p->set_postal_code(place.postal_code);
        p->set_city(place.city);
        p->set_phone(place.phone);
        auto* hours = p->add_opening_hours();
        for (const char* day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) hours->add_days(day);
        hours->set_opening_time("08:00");
        hours->set_closing_time("20:00");
        slots_in(place.id, request.start_from(), request.start_to(), [&](v1::Slot& slot) {
          slot.add_audiences(v1::AUDIENCE_PUBLIC);
          slot.add_audiences(v1::AUDIENCE_SNP);
          *response.add_slots() = slot;
        });
      }
    }
    return Status::ok();
  }

 private:
  // Whether one of the prefixed ids asked for is `stored`, in any of the forms `forms` gives.
  template <typename Ids, typename Forms>
  static bool asked(const Ids& ids, Forms forms, const std::string& stored) {
    for (const auto& id : ids)
      for (const auto& form : forms(id))
        if (form == stored) return true;
    return false;
  }

  std::string fault_;
};

}  // namespace

SAS_PLUGIN(CptsSosAgendaPlugin, "cpts-sos-agenda", "sas-conformance tests", "1.0", "slot-search,cpts-search,sos-search",
           serialized)
