// Compact FHIR JSON written straight into a string, for the answers too large to build as a
// Boost.JSON tree first (a 25-practitioner search is 300 to 600 KB). FHIR's "no empty elements"
// holds as it writes: an empty string is not written, and an object or array that ends empty is
// taken back out with its key, so a parent left empty by that goes too (what prune_empty does to
// a tree). The bytes are those of fhir::serialize on the same tree: same escapes, same order.
#pragma once

#include <cstddef>
#include <cstdint>
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
  void raw(std::string_view json);

  // Close the innermost object or array; false when it was empty and was taken back out.
  bool end_object();
  bool end_array();

  // A string as a JSON string literal, quotes included, escaped as Boost.JSON escapes.
  static void append_quoted(std::string& out, std::string_view value);

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

}  // namespace sas::host::fhir
