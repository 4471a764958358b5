// Compact FHIR JSON written straight into a string, for the answers too large to build as a
// Boost.JSON tree first (a 25-practitioner search is 300 to 600 KB). FHIR's "no empty elements"
// holds as it writes: an empty string is not written, and an object or array that ends empty is
// taken back out with its key, so a parent left empty by that goes too (what prune_empty does to
// a tree). The bytes are those of fhir::serialize on the same tree: same escapes, same order.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace sas::host::fhir {

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out);

  // Members of the open object. Keys are the program's own ASCII names: written unescaped.
  void string(std::string_view key, std::string_view value);  // nothing when value is empty
  // The parts joined into one string, without building it first (a fullUrl, a reference); nothing
  // when they are all empty.
  void string(std::string_view key, std::initializer_list<std::string_view> parts);
  void number(std::string_view key, std::int64_t value);
  void boolean(std::string_view key, bool value);
  void begin_object(std::string_view key);
  void begin_array(std::string_view key);
  // JSON a JsonWriter wrote before (not empty), copied as it is: a fragment written once and
  // repeated (a practitioner's specialties on each of their slots).
  void raw(std::string_view key, std::string_view json);

  // Items of the open array, or the document itself.
  void string(std::string_view value);  // nothing when value is empty
  void begin_object();
  void begin_array();
  // Without a key: items of the open array, or members of the open object ("a":1,"b":[2]), that a
  // JsonWriter wrote before, comma-separated; nothing when empty. See members_of.
  void raw(std::string_view json);

  // The members of an object a JsonWriter wrote ({"a":1,"b":2} gives "a":1,"b":2), for raw.
  static std::string_view members_of(std::string_view object_json);

  // Close the innermost object or array; false when it was empty and was taken back out.
  bool end_object();
  bool end_array();

  // A string as a JSON string literal, quotes included, escaped as Boost.JSON escapes.
  static void append_quoted(std::string& out, std::string_view value);
  // The same without the quotes.
  static void append_escaped(std::string& out, std::string_view value);

 private:
  struct Level {
    std::size_t mark;  // the output's size before this value's comma and key
    bool parent_had;   // whether the parent had items before this one
    bool has_items = false;
  };
  void open(std::string_view key, char bracket);
  bool close(char bracket);
  void separator(std::string_view key, char bracket = 0);

  std::string& out_;
  std::vector<Level> levels_;  // the document's level first: never closed
};

// The calls made tens of thousands of times per answer are inline: with the key a literal, the
// compiler sizes the copy at compile time (measured: a tenth of the Bundle's time).

inline void JsonWriter::separator(std::string_view key, char bracket) {
  Level& level = levels_.back();
  // [,]["key":][bracket] in one append: keys are the program's short names.
  char text[48];
  std::size_t n = 0;
  if (level.has_items) text[n++] = ',';
  level.has_items = true;
  if (key.size() + 5 > sizeof text) {
    out_.append(text, n).append("\"").append(key).append("\":");
    if (bracket != 0) out_ += bracket;
    return;
  }
  if (!key.empty()) {
    text[n++] = '"';
    std::memcpy(text + n, key.data(), key.size());
    n += key.size();
    text[n++] = '"';
    text[n++] = ':';
  }
  if (bracket != 0) text[n++] = bracket;
  out_.append(text, n);
}

inline void JsonWriter::open(std::string_view key, char bracket) {
  const Level level{out_.size(), levels_.back().has_items};
  separator(key, bracket);
  levels_.push_back(level);
}

inline bool JsonWriter::close(char bracket) {
  assert(levels_.size() > 1 && "end_object or end_array without its begin");
  const Level level = levels_.back();
  levels_.pop_back();
  if (!level.has_items) {
    out_.resize(level.mark);
    levels_.back().has_items = level.parent_had;
    return false;
  }
  out_ += bracket;
  return true;
}

inline void JsonWriter::string(std::string_view key, std::string_view value) {
  if (value.empty()) return;
  separator(key);
  append_quoted(out_, value);
}

inline void JsonWriter::begin_object(std::string_view key) { open(key, '{'); }
inline void JsonWriter::begin_array(std::string_view key) { open(key, '['); }
inline void JsonWriter::string(std::string_view value) { string({}, value); }
inline void JsonWriter::begin_object() { open({}, '{'); }
inline void JsonWriter::begin_array() { open({}, '['); }
inline bool JsonWriter::end_object() { return close('}'); }
inline bool JsonWriter::end_array() { return close(']'); }

}  // namespace sas::host::fhir
