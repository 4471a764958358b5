#include "sas/sdk/phone.hpp"

#include <algorithm>
#include <utility>

namespace sas::sdk::phone {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<std::string> fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

// Removes the separators people type between digit groups. UTF-8 no-break spaces (U+00A0,
// U+202F) are included because agendas copied from office documents carry them.
std::string without_separators(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == ' ' || c == '\t' || c == '.' || c == '-') continue;
    if (raw.substr(i, 2) == "\xC2\xA0") {
      i += 1;
      continue;
    }
    if (raw.substr(i, 3) == "\xE2\x80\xAF") {
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The "(0)" in "+33 (0)1 23 45 67 89" is the national trunk prefix, written for readers
// dialling from France; it is dropped only right after the country code.
void drop_trunk_zero(std::string& s) {
  const auto pos = s.find("(0)");
  if (pos == std::string::npos) return;
  std::string before = s.substr(0, pos);
  std::erase_if(before, [](char c) { return c == '(' || c == ')'; });
  if (before == "+33" || before == "0033" || before == "33") s.erase(pos, 3);
}

// The character at s[i] as written: its whole UTF-8 sequence, since one byte of it would make
// the message (and the JSON error that carries it) invalid UTF-8 (found by fuzz/admin_settings);
// U+FFFD for a byte that starts no sequence.
std::string character_at(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t length = lead < 0x80           ? 1
                             : (lead >> 5) == 0x6  ? 2
                             : (lead >> 4) == 0xE  ? 3
                             : (lead >> 3) == 0x1E ? 4
                                                   : 0;
  if (length == 0 || s.size() - i < length) return "\xEF\xBF\xBD";
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return "\xEF\xBF\xBD";
  }
  return std::string(s.substr(i, length));
}

}  // namespace

std::optional<std::string> to_plus33(std::string_view raw, std::string* error) {
  std::string s = without_separators(raw);
  if (s.empty()) return fail(error, "empty phone number");
  drop_trunk_zero(s);
  std::erase_if(s, [](char c) { return c == '(' || c == ')'; });

  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_digit(s[i])) continue;
    if (s[i] == '+' && i == 0) continue;
    return fail(error,
                "unexpected character '" + character_at(s, i) + "' in phone number \"" + std::string(raw) + "\"");
  }
  if (s == "+") return fail(error, "phone number has no digits");

  std::string_view national;  // the 9 digits after the trunk 0 or the country code
  const std::string_view v = s;
  if (v[0] == '+') {
    if (!v.starts_with("+33")) return fail(error, "not a French number (country code must be +33): \"" + s + "\"");
    national = v.substr(3);
  } else if (v.starts_with("0033")) {
    national = v.substr(4);
  } else if (v.starts_with("00")) {
    return fail(error, "not a French number (international prefix must be 0033): \"" + s + "\"");
  } else if (v[0] == '0') {
    if (v.size() != 10) {
      return fail(error,
                  "a French number starting with 0 has 10 digits, got " + std::to_string(v.size()) + ": \"" + s + "\"");
    }
    national = v.substr(1);
  } else if (v.starts_with("33") && v.size() == 11) {
    national = v.substr(2);
  } else {
    return fail(error, "expected 10 digits starting with 0, or 33/+33/0033 then 9 digits: \"" + s + "\"");
  }

  if (!national.empty() && national[0] == '0') {
    return fail(error, "the digit after 0 or 33 must be 1 to 9 (the trunk 0 is not repeated): \"" + s + "\"");
  }
  if (national.size() != 9) {
    return fail(error, "country code 33 must be followed by 9 digits, got " + std::to_string(national.size()) + ": \"" +
                           s + "\"");
  }
  return "+33" + std::string(national);
}

}  // namespace sas::sdk::phone
