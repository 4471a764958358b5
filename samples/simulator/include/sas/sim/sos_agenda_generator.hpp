// SOS Médecins data for an agenda written by generate_agenda (agenda_generator.hpp): associations,
// their fixed consultation places and the places' slots, in the sqlite-agenda schema
// (sos_association, sos_place, slot), deterministic for a seed. What real SOS agendas hold, mess
// included: SIRETs stored with and without their 3 prefix, phones in several formats, weekday
// and weekend opening hours (some all day), walk-in slots, slots open to professionals that the
// SOS search must not show, busy slots.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sas::sim {

struct SosAgendaSpec {
  int associations = 2;
  int days = 7;
  uint64_t seed = 1;
  std::chrono::year_month_day first_day{};  // Europe/Paris calendar day of the first slots
};

struct SosAgendaSummary {
  int64_t associations = 0;
  int64_t places = 0;
  int64_t slots = 0;
  int64_t free_slots = 0;
};

// Adds the associations, places and slots to the agenda database at `agenda` (which has the
// schema: generate_agenda made it). Throws on I/O errors.
SosAgendaSummary generate_sos_agenda(const std::filesystem::path& agenda, const SosAgendaSpec& spec);

// The prefixed SIRETs (3 + 14 digits) of an agenda's SOS associations, in SIRET order (for
// searches and load tests); none when the agenda has no SOS tables.
std::vector<std::string> sos_association_sirets(const std::filesystem::path& agenda);

}  // namespace sas::sim
