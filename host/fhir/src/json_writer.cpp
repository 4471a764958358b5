#include "sas/host/fhir/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sas::host::fhir {

namespace {

// Boost.JSON's escapes: the two-character forms it has, \u00XX (lower-case hex) for the other
// control characters, nothing else (not '/', not DEL, not non-ASCII bytes).
bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  switch (c) {
    case '"':
      out += '"';
      return;
    case '\\':
      out += '\\';
      return;
    case '\b':
      out += 'b';
      return;
    case '\t':
      out += 't';
      return;
    case '\n':
      out += 'n';
      return;
    case '\f':
      out += 'f';
      return;
    case '\r':
      out += 'r';
      return;
    default:
      out += "u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
  }
}

// The length of the prefix of [p, end) that needs no escape, eight bytes at a time: a byte
// below 0x20, '"' or '\\' stops it (the bit tricks of "Bit Twiddling Hacks", haszero/hasless).
std::size_t plain_prefix(const char* p, const char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const char* const start = p;
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    const std::uint64_t quote = word ^ (kOnes * '"');
    const std::uint64_t backslash = word ^ (kOnes * '\\');
    // hasless(word, 0x20) | haszero(quote) | haszero(backslash); a false alarm (a borrow) only
    // hands the rest to the byte loop below.
    const std::uint64_t flags =
        (((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHighs;
    if (flags != 0) break;
    p += 8;
  }
  while (p != end && !needs_escape(static_cast<unsigned char>(*p))) ++p;
  return static_cast<std::size_t>(p - start);
}

}  // namespace

JsonWriter::JsonWriter(std::string& out) : out_(out) {
  levels_.reserve(16);
  levels_.push_back(Level{out_.size(), false});
}

void JsonWriter::append_escaped(std::string& out, std::string_view value) {
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p != end) {
    const std::size_t plain = plain_prefix(p, end);
    out.append(p, plain);
    p += plain;
    if (p == end) break;
    append_escape(out, static_cast<unsigned char>(*p));
    ++p;
  }
}

void JsonWriter::append_quoted(std::string& out, std::string_view value) {
  out += '"';
  append_escaped(out, value);
  out += '"';
}

void JsonWriter::string(std::string_view key, std::initializer_list<std::string_view> parts) {
  if (std::all_of(parts.begin(), parts.end(), [](std::string_view part) { return part.empty(); })) return;
  separator(key);
  out_ += '"';
  for (const std::string_view part : parts) append_escaped(out_, part);
  out_ += '"';
}

void JsonWriter::number(std::string_view key, std::int64_t value) {
  separator(key);
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out_.append(digits, result.ptr);
}

void JsonWriter::boolean(std::string_view key, bool value) {
  separator(key);
  out_ += value ? "true" : "false";
}

void JsonWriter::raw(std::string_view key, std::string_view json) {
  if (json.empty()) return;
  separator(key);
  out_ += json;
}

void JsonWriter::raw(std::string_view json) { raw({}, json); }

std::string_view JsonWriter::members_of(std::string_view object_json) {
  if (object_json.size() < 2) return {};  // an empty object was not written at all
  return object_json.substr(1, object_json.size() - 2);
}

}  // namespace sas::host::fhir
