// Publication rules: how a doctor whose agenda has no notion of SNP slots types or hides what
// SAS sees. Four kinds (docs/doctor-options.md has the JSON form):
//   snp-motives      slots offering one of these motives are SNP-only (regulators only);
//   public-also-snp  every public slot is also offered to SAS as SNP;
//   snp-hours        slots starting on these days between `from` and `to` (Europe/Paris) are
//                    SNP-only;
//   hide-motives     these motives are never published: they are taken off the slot, and a
//                    slot left with no motive is not published.
// Precedence: hide-motives, then the SNP-only kinds, then public-also-snp. A rule never
// publishes a slot the agenda keeps to the doctor's own patients, nor a busy one.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/doctor_settings/repository.hpp>

namespace sas::host::doctor_settings {

class RuleError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class RuleKind { snp_motives, public_also_snp, snp_hours, hide_motives };

struct Rule {
  int64_t id = 0;  // 0 until stored
  std::string practitioner;
  RuleKind kind = RuleKind::snp_motives;
  std::vector<std::string> motives;      // snp-motives, hide-motives: as given (trimmed); matched case-insensitively
  std::vector<std::string> motive_keys;  // motive_key() of each, computed once
  unsigned weekdays = 0;                 // snp-hours: bit 1 << (ISO day - 1), Monday = bit 0
  int from_minute = 0;                   // snp-hours: [from, to) in minutes after local midnight
  int to_minute = 0;
  std::string note;  // the doctor's own words, optional
};

std::string_view kind_name(RuleKind kind);

// How motives compare: trimmed, ASCII letters lower-cased ("Urgence " matches "urgence").
std::string motive_key(std::string_view motive);

// The JSON form, e.g. {"kind":"snp-hours","days":["mon","tue"],"from":"17:00","to":"19:00"}.
// Refuses unknown keys, missing or ill-typed ones, empty motives, days out of range, from >= to;
// the RuleError message names the key.
Rule parse_rule(const boost::json::value& json, const std::string& practitioner);
boost::json::object to_json(const Rule& rule);  // with "id" when stored

// Why `candidate` cannot be added next to the practitioner's `active` rules (nullopt: it can):
// the same motive reserved and hidden, a motive already in another rule of the same kind, a
// second public-also-snp, or snp-hours overlapping another on a common day. The message names
// the other rule's id.
std::optional<std::string> conflict(const std::vector<Rule>& active, const Rule& candidate);

// Stored rows back to rules (rows whose JSON no longer parses are reported in `errors`).
std::vector<Rule> rules_from_records(const std::vector<PublicationRuleRecord>& records,
                                     std::vector<std::string>* errors = nullptr);

}  // namespace sas::host::doctor_settings
