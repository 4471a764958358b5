#include "sas/sdk/ids.hpp"

#include <algorithm>
#include <utility>

namespace sas::sdk::ids {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// Strips surrounding whitespace; an id with whitespace inside is refused because
// "8 1000..." could equally be a typo or two ids glued together.
std::optional<std::string_view> trimmed(std::string_view raw, std::string* error) {
  const auto first = std::find_if_not(raw.begin(), raw.end(), is_space);
  const auto last = std::find_if_not(raw.rbegin(), raw.rend(), is_space).base();
  if (first >= last) {
    set_error(error, "empty identifier");
    return std::nullopt;
  }
  const std::string_view s(&*first, static_cast<std::size_t>(last - first));
  if (std::any_of(s.begin(), s.end(), is_space)) {
    set_error(error, "identifier contains whitespace: \"" + std::string(s) + "\"");
    return std::nullopt;
  }
  return s;
}

// 9 characters, all digits except that a Corsican department may put "2A"/"2B" first
// (ADELI and FINESS both start with the department). Lower case is accepted and upper-cased.
std::optional<std::string> department_coded_9(std::string_view s) {
  if (s.size() != 9 || !all_digits(s.substr(2))) return std::nullopt;
  std::string out(s);
  if (all_digits(s.substr(0, 2))) return out;
  if (s[0] == '2' && (s[1] == 'A' || s[1] == 'B' || s[1] == 'a' || s[1] == 'b')) {
    out[1] = static_cast<char>(s[1] & ~0x20);  // ASCII upper case
    return out;
  }
  return std::nullopt;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::optional<PractitionerId> normalize_practitioner_id(std::string_view raw, std::string* error) {
  const auto s = trimmed(raw, error);
  if (!s) return std::nullopt;
  switch (s->size()) {
    case 11:
      if (all_digits(*s)) return PractitionerId{PractitionerIdKind::rpps, std::string(*s), "8" + std::string(*s)};
      set_error(error, "11-character id must be an RPPS of 11 digits: " + quoted(*s));
      return std::nullopt;
    case 12:
      if ((*s)[0] == '8' && all_digits(*s)) {
        return PractitionerId{PractitionerIdKind::rpps, std::string(s->substr(1)), std::string(*s)};
      }
      set_error(error, "12-character id must be '8' followed by an 11-digit RPPS: " + quoted(*s));
      return std::nullopt;
    case 9:
      if (auto adeli = department_coded_9(*s)) return PractitionerId{PractitionerIdKind::adeli, *adeli, "0" + *adeli};
      set_error(error, "9-character id must be an ADELI (digits, or 2A/2B then digits): " + quoted(*s));
      return std::nullopt;
    case 10:
      if ((*s)[0] == '0') {
        if (auto adeli = department_coded_9(s->substr(1))) {
          return PractitionerId{PractitionerIdKind::adeli, *adeli, "0" + *adeli};
        }
      }
      set_error(error, "10-character id must be '0' followed by a 9-character ADELI: " + quoted(*s));
      return std::nullopt;
    default:
      set_error(error, "practitioner id must have 9 or 10 (ADELI) or 11 or 12 (RPPS) characters, got " +
                           std::to_string(s->size()) + ": " + quoted(*s));
      return std::nullopt;
  }
}

std::vector<std::string> stored_forms(std::string_view prefixed) {
  const auto id = normalize_practitioner_id(prefixed);
  if (!id) return {};
  // Only a prefixed input qualifies: an unprefixed one would make the caller look up the
  // wrong pair without noticing.
  const auto s = trimmed(prefixed, nullptr);
  if (!s || s->size() != id->prefixed.size()) return {};
  return {id->prefixed, id->unprefixed};
}

std::vector<std::string> stored_siret_forms(std::string_view prefixed) {
  const auto s = trimmed(prefixed, nullptr);
  if (!s || s->size() != 15 || (*s)[0] != '3' || !all_digits(*s)) return {};
  return {std::string(*s), std::string(s->substr(1))};
}

std::optional<std::string> normalize_structure_id(StructureIdKind kind, std::string_view raw, std::string* error) {
  const auto s = trimmed(raw, error);
  if (!s) return std::nullopt;
  switch (kind) {
    case StructureIdKind::finess:
      if (auto f = department_coded_9(*s)) return "1" + *f;
      if (s->size() == 10 && (*s)[0] == '1') {
        if (auto f = department_coded_9(s->substr(1))) return "1" + *f;
      }
      set_error(error, "FINESS must be 9 characters (digits, or 2A/2B then digits), optionally prefixed by '1': " +
                           quoted(*s));
      return std::nullopt;
    case StructureIdKind::siret:
      if (all_digits(*s)) {
        if (s->size() == 14) return "3" + std::string(*s);
        if (s->size() == 15 && (*s)[0] == '3') return std::string(*s);
      }
      set_error(error, "SIRET must be 14 digits, optionally prefixed by '3': " + quoted(*s));
      return std::nullopt;
    case StructureIdKind::rpps_rang:
      // RPPS (11 digits) plus a rang of up to 3 digits; the exact rang width is not pinned
      // down, so 11 to 14 digits are accepted. 12 to 14 digits starting with '4' overlap with
      // "prefixed"; they are read as prefixed because an RPPS never starts with 4 (they start
      // with 1) and the guide's example is prefixed.
      if (all_digits(*s)) {
        if ((*s)[0] == '4' && s->size() >= 12 && s->size() <= 15) return std::string(*s);
        if (s->size() >= 11 && s->size() <= 14) return "4" + std::string(*s);
      }
      set_error(error, "RPPS-rang must be 11 to 14 digits, optionally prefixed by '4': " + quoted(*s));
      return std::nullopt;
  }
  set_error(error, "unknown structure id kind");
  return std::nullopt;
}

bool has_valid_check_digit(std::string_view unprefixed_digits) {
  const std::size_t n = unprefixed_digits.size();
  if (n != 9 && n != 11 && n != 14) return false;
  std::string digits(unprefixed_digits);
  // FINESS rule: a Corsican department counts as 20 (2A) or 21 (2B) in the key.
  if (n == 9 && digits[0] == '2' && (digits[1] == 'A' || digits[1] == 'B')) digits[1] = digits[1] == 'A' ? '0' : '1';
  if (!all_digits(digits)) return false;
  int sum = 0;
  bool twice = false;  // Luhn: double every second digit from the right, check digit excluded
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

}  // namespace sas::sdk::ids
