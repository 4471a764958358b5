// INT_R02: what the host checks in a Practitioner (profile FrPractitionerRegul) before any
// plugin sees it, and the normal form it hands over. Every refusal names the element.
//   400: not FHIR JSON (unparseable, wrong JSON types, empty values, not a Practitioner);
//   422: FHIR JSON that breaks the profile or the guide's rules (meta.source, identifiers,
//        active, name, given name, e-mail).
// docs/regulator-accounts.md lists every rule.
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <optional>
#include <sas/host/fhir/operation_outcome.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace sas::host::regulator_accounts {

struct ParsedPractitioner {
  sas::plugin::v1::RegulatorAccount account;  // what the plugin receives (account_id empty)
  std::string id;                             // Practitioner.id as sent ("" when absent)
};

// A Practitioner body turned into the account the plugin receives, or the HTTP error and
// OperationOutcome that refuse it (all the body's problems at once).
std::variant<ParsedPractitioner, fhir::HttpError> parse_practitioner(std::string_view body);

// How a request addresses an existing account.
struct AccountAddress {
  enum class Kind { national_id, sas_id, account_id };
  Kind kind = Kind::national_id;
  std::string value;  // normalised: prefixed IDNPS, lower-case UUID, or the id from the URL
};

// The query of PUT [base]/Practitioner?identifier=SYSTEM|VALUE (the text after '?', raw, with
// '|' raw or %7C). Exactly one identifier of a known system with a valid value; _format=json
// and _pretty are tolerated, anything else is refused (400; _format other than JSON: 406).
std::variant<AccountAddress, fhir::HttpError> parse_account_query(std::string_view query);

// IDNPS: RPPS or ADELI with or without prefix (returned prefixed: 8+RPPS, 0+ADELI), or the
// structure-scoped form of staff without RPPS/ADELI (digit, structure id, '/', internal id,
// e.g. 3456780581/11242343 in the guide), kept as sent.
std::optional<std::string> normalize_national_id(std::string_view value, std::string* error = nullptr);

// INTRN: a UUID (8-4-4-4-12 hex digits), returned in lower case.
std::optional<std::string> normalize_sas_id(std::string_view value, std::string* error = nullptr);

// A practical e-mail check: one '@', a local part of atext and dots (no leading, trailing or
// double dot, at most 64 bytes), a domain of at least two dot-separated labels of letters,
// digits and inner hyphens, at most 254 bytes in all. Non-ASCII (UTF-8) letters are accepted.
bool is_valid_email(std::string_view email);

}  // namespace sas::host::regulator_accounts
