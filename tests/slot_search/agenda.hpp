// Test helpers to write a plugin's SearchSlotsResponse by hand.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "sas/plugin/v1/plugin.pb.h"
#include "sas/sdk/datetime.hpp"

namespace sas::test::agenda {

namespace pb = sas::plugin::v1;

inline std::int64_t epoch(const char* fhir_datetime) {
  const auto t = sas::sdk::datetime::parse_fhir(fhir_datetime);
  return t ? std::chrono::floor<std::chrono::seconds>(*t).time_since_epoch().count() : 0;
}

inline pb::Practitioner& practitioner(pb::SearchSlotsResponse& r, const std::string& id, const std::string& national_id,
                                      const std::string& family, std::initializer_list<const char*> given = {}) {
  auto& p = *r.add_practitioners();
  p.set_id(id);
  p.set_national_id(national_id);
  p.set_family_name(family);
  for (const char* g : given) p.add_given_names(g);
  return p;
}

inline void specialty(pb::Practitioner& p, const std::string& code, const std::string& text = {}) {
  auto& s = *p.add_specialties();
  s.set_code(code);
  s.set_text(text);
}

// A per-slot specialty, as agendas that type each slot give it.
inline void slot_specialty(pb::Slot& slot, const std::string& code, const std::string& text = {}) {
  auto& s = *slot.add_specialties();
  s.set_code(code);
  s.set_text(text);
}

inline pb::Place& place(pb::SearchSlotsResponse& r, const std::string& id, const std::string& practitioner_id,
                        std::initializer_list<const char*> lines, const std::string& postal_code,
                        const std::string& city) {
  auto& p = *r.add_places();
  p.set_id(id);
  p.set_practitioner_id(practitioner_id);
  for (const char* l : lines) p.add_address_lines(l);
  p.set_postal_code(postal_code);
  p.set_city(city);
  return p;
}

inline pb::Slot& slot(pb::SearchSlotsResponse& r, const std::string& id, const std::string& place_id, const char* start,
                      const char* end, std::initializer_list<pb::Audience> audiences = {pb::AUDIENCE_PUBLIC}) {
  auto& s = *r.add_slots();
  s.set_id(id);
  s.set_place_id(place_id);
  s.set_start(epoch(start));
  s.set_end(epoch(end));
  s.set_status(pb::SLOT_FREE);
  for (const auto a : audiences) s.add_audiences(a);
  return s;
}

}  // namespace sas::test::agenda
