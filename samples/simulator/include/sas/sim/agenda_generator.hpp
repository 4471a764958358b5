// Realistic agendas in the sqlite-agenda schema, of any size, deterministic for a seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sas::sim {

struct AgendaSpec {
  int practitioners = 100;
  int days = 7;
  uint64_t seed = 1;
  std::chrono::year_month_day first_day{};  // Europe/Paris calendar day of the first slots
};

struct AgendaSummary {
  int64_t practitioners = 0;
  int64_t places = 0;
  int64_t slots = 0;
  int64_t free_slots = 0;
  int64_t cpts = 0;        // named CPTS (the cpts table)
  int64_t cpts_slots = 0;  // slots open to one or two of them (free or busy)
};

// Writes a new agenda database at `out` (replacing any file there). Throws on I/O errors.
AgendaSummary generate_agenda(const std::filesystem::path& out, const AgendaSpec& spec);

// The prefixed national ids of an agenda's practitioners, in id order (for load tests). Throws
// when the agenda cannot be read.
std::vector<std::string> practitioner_ids(const std::filesystem::path& agenda);

}  // namespace sas::sim
