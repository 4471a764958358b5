// A plugin response (sas.plugin.v1.SearchSlotsResponse or SearchSosSlotsResponse, as the tests
// write agendas by hand) written as rows of the sqlite-agenda reference schema, so that the real
// plugin reads it back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sas/plugin/v1/plugin.pb.h"

namespace sas::e2e {

struct AgendaDbReport {
  // slot.id is INTEGER in the schema: the agenda's string slot ids, numbered 1, 2, ... in order.
  std::map<std::string, int64_t> slot_ids;
  // What the schema cannot hold and was therefore not written, one line each (e.g. the label of
  // a coded per-slot specialty: slot.specialties holds one code OR one text per line).
  std::vector<std::string> lost;
};

// Creates `path` (replacing any file there) with sas::sqlite_agenda::schema_sql() and the rows.
// Lists go as the schema says: given names, address lines, motives and specialties one per line;
// audiences, modes and a slot's CPTS FINESS as comma-separated values; agenda.cpts as rows of the
// cpts table; empty strings as NULL. Throws on SQLite errors.
AgendaDbReport write_agenda_db(const sas::plugin::v1::SearchSlotsResponse& agenda, const std::filesystem::path& path);

// The same for an SOS Médecins agenda (sas.plugin.v1.SearchSosSlotsResponse): sos_association,
// sos_place (opening hours one per line, "tue,wed 08:00-19:00") and the places' slots in slot,
// numbered 1, 2, ... in order (slot_ids).
AgendaDbReport write_sos_agenda_db(const sas::plugin::v1::SearchSosSlotsResponse& agenda,
                                   const std::filesystem::path& path);

// Adds a doctor of the tests' hand-made agendas: practitioner `id` (national id `national_id`,
// unprefixed as agendas store it; given name Jeanne, general medicine SM54) and one complete
// place of theirs in Paris, "place-<id>".
void add_paris_doctor(sas::plugin::v1::SearchSlotsResponse& agenda, const std::string& id,
                      const std::string& national_id, const std::string& family_name);

}  // namespace sas::e2e
