// National identifiers as the SAS guide wants them, from whatever form a vendor stored.
// Practitioners: RPPS (11 digits, prefix 8) and ADELI (9 characters, prefix 0), system
// urn:oid:1.2.250.1.71.4.2.1. Structures: FINESS (9, prefix 1), SIRET (14, prefix 3),
// RPPS-rang (prefix 4), system urn:oid:1.2.250.1.71.4.2.2.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sas::sdk::ids {

inline constexpr std::string_view kPractitionerSystem = "urn:oid:1.2.250.1.71.4.2.1";
inline constexpr std::string_view kStructureSystem = "urn:oid:1.2.250.1.71.4.2.2";

enum class PractitionerIdKind { rpps, adeli };

struct PractitionerId {
  PractitionerIdKind kind;
  std::string unprefixed;  // 11 RPPS digits or 9 ADELI characters
  std::string prefixed;    // "8" + RPPS or "0" + ADELI: the form the guide sends and expects
};

// Accepts RPPS or ADELI with or without its prefix; surrounding spaces are ignored.
// Returns nullopt (and a reason in *error when given) for anything else. Does not reject a
// wrong check digit: the guide's own examples carry ids that fail it (see has_valid_check_digit).
std::optional<PractitionerId> normalize_practitioner_id(std::string_view raw, std::string* error = nullptr);

// The forms a vendor may have stored for a prefixed id: {prefixed, unprefixed}. For lookups
// that must match "whatever form the vendor stored". Empty when `prefixed` is not valid.
std::vector<std::string> stored_forms(std::string_view prefixed);

enum class StructureIdKind { finess, siret, rpps_rang };

// Returns the prefixed structure id ("1"+FINESS, "3"+SIRET, "4"+RPPS-rang) from a stored
// value with or without the prefix, or nullopt with a reason.
std::optional<std::string> normalize_structure_id(StructureIdKind kind, std::string_view raw,
                                                  std::string* error = nullptr);

// The forms a vendor may have stored for a prefixed SIRET ("3" + 14 digits): {prefixed,
// unprefixed}. Empty when `prefixed` is not one.
std::vector<std::string> stored_siret_forms(std::string_view prefixed);

// Luhn check of an unprefixed RPPS (11 digits), SIRET (14) or FINESS (9, Corsican 2A/2B
// counted as 20/21 per the FINESS rule). Advisory: use it to warn, not to refuse.
bool has_valid_check_digit(std::string_view unprefixed_digits);

}  // namespace sas::sdk::ids
