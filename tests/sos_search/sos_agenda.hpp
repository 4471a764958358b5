// Test helpers to write a plugin's SearchSosSlotsResponse by hand, and the SOS Médecins agenda
// behind the IG's official Bundle-ExampleBundleAgregateurSOS (shared by the in-process golden
// test and the end-to-end one, which writes it to SQLite for the reference plugin).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "sas/plugin/v1/plugin.pb.h"
#include "sas/sdk/datetime.hpp"

namespace sas::test::sos {

namespace pb = sas::plugin::v1;

inline std::int64_t epoch(const char* fhir_datetime) {
  const auto t = sas::sdk::datetime::parse_fhir(fhir_datetime);
  return t ? std::chrono::floor<std::chrono::seconds>(*t).time_since_epoch().count() : 0;
}

inline pb::SosAssociation& association(pb::SearchSosSlotsResponse& r, const std::string& siret,
                                       const std::string& name) {
  auto& a = *r.add_associations();
  a.set_siret(siret);
  a.set_name(name);
  return a;
}

inline pb::SosPlace& place(pb::SearchSosSlotsResponse& r, const std::string& id, const std::string& siret,
                           const std::string& name, std::initializer_list<const char*> lines,
                           const std::string& postal_code, const std::string& city, const std::string& phone = {}) {
  auto& p = *r.add_places();
  p.set_id(id);
  p.set_association_siret(siret);
  p.set_name(name);
  for (const char* l : lines) p.add_address_lines(l);
  p.set_postal_code(postal_code);
  p.set_city(city);
  p.set_phone(phone);
  return p;
}

inline pb::OpeningHours& hours(pb::SosPlace& p, std::initializer_list<const char*> days, const std::string& opening,
                               const std::string& closing) {
  auto& h = *p.add_opening_hours();
  for (const char* d : days) h.add_days(d);
  h.set_opening_time(opening);
  h.set_closing_time(closing);
  return h;
}

inline pb::Slot& slot(pb::SearchSosSlotsResponse& r, const std::string& id, const std::string& place_id,
                      const char* start, const char* end,
                      std::initializer_list<pb::Audience> audiences = {pb::AUDIENCE_PUBLIC},
                      std::initializer_list<pb::ConsultationMode> modes = {pb::MODE_AT_PRACTICE}) {
  auto& s = *r.add_slots();
  s.set_id(id);
  s.set_place_id(place_id);
  s.set_start(epoch(start));
  s.set_end(epoch(end));
  s.set_status(pb::SLOT_FREE);
  for (const auto a : audiences) s.add_audiences(a);
  for (const auto m : modes) s.add_modes(m);
  return s;
}

// The vendor's place identifier system in the official example.
inline constexpr const char* kExamplePlaceSystem = "https://editeur.com";
// A third association, which the example's query does not name.
inline constexpr const char* kOtherAssociationSiret = "35600000000048";

// The agenda of Bundle-ExampleBundleAgregateurSOS, as a vendor would store it: the Rennes
// association's SIRET unprefixed, Lorient's prefixed, phones in French formats, opening hours as
// "08:00". Distractors the host (or the plugin) must leave out: a busy slot, a slot for
// professionals only, a slot after the window, a place of an association not asked for; and
// the Cleunay slot is also open to professionals, which this search must not show.
inline pb::SearchSosSlotsResponse example_sos_agenda() {
  pb::SearchSosSlotsResponse r;
  association(r, "34173748400020", "SOS Médecins de Rennes");
  association(r, "392080466300010", "SOS Médecins Lorient et agglomération");
  association(r, kOtherAssociationSiret, "SOS Médecins Ailleurs");

  auto& nord = place(r, "1111111111", "34173748400020", "Centre de consultation Rennes Nord",
                     {"320 avenue Général Georges Patton"}, "35700", "RENNES", "01 93 24 67 89");
  hours(nord, {"tue", "wed", "thu", "fri", "sat", "sun"}, "08:00", "19:00");
  auto& cleunay = place(r, "2222222222", "34173748400020", "Centre de consultation Rennes Cleunay",
                        {"106 rue Eugène Pottier"}, "35000", "RENNES", "01.45.24.99.12");
  hours(cleunay, {"mon", "tue", "wed", "thu"}, "09:00", "21:00");
  auto& lorient = place(r, "3333333333", "392080466300010", "Centre de consultation Lorient",
                        {"12 impasse Royer Dubail"}, "56100", "LORIENT", "+33 1 39 55 59 92");
  hours(lorient, {"tue", "thu", "sat"}, "11:00", "18:00");
  place(r, "4444444444", kOtherAssociationSiret, "Centre de consultation Ailleurs", {"1 rue Ailleurs"}, "75011",
        "PARIS", "0140000000");

  slot(r, "creneau-1", "1111111111", "2023-08-18T09:00:00+02:00", "2023-08-18T09:30:00+02:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_SNP}, {pb::MODE_AT_PRACTICE, pb::MODE_TELECONSULTATION})
      .set_booking_url("http://www.editeur.com/agenda-pfg/creneau1");
  slot(r, "creneau-2", "2222222222", "2023-08-19T11:00:00+02:00", "2023-08-19T11:30:00+02:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS})
      .set_booking_url("http://www.editeur.com/agenda-pfg/creneau2");
  slot(r, "creneau-3", "3333333333", "2023-08-18T14:20:00+02:00", "2023-08-18T14:40:00+02:00", {pb::AUDIENCE_PUBLIC},
       {pb::MODE_TELECONSULTATION})
      .set_booking_url("http://www.editeur.com/agenda-pfg/creneau3");
  slot(r, "creneau-4", "3333333333", "2023-08-18T14:40:00+02:00", "2023-08-18T15:00:00+02:00")
      .set_booking_url("http://www.editeur.com/agenda-pfg/creneau4");

  slot(r, "busy", "1111111111", "2023-08-18T10:00:00+02:00", "2023-08-18T10:30:00+02:00").set_status(pb::SLOT_BUSY);
  slot(r, "pro-only", "2222222222", "2023-08-18T10:00:00+02:00", "2023-08-18T10:30:00+02:00",
       {pb::AUDIENCE_PROFESSIONALS});
  slot(r, "after-window", "3333333333", "2023-08-20T08:00:01+02:00", "2023-08-20T08:30:00+02:00");
  slot(r, "elsewhere", "4444444444", "2023-08-18T11:00:00+02:00", "2023-08-18T11:30:00+02:00");
  return r;
}

}  // namespace sas::test::sos
