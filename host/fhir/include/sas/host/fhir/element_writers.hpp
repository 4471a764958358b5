// The data types of builders.hpp, written into a JsonWriter instead of built as values: for the
// searchset Bundles, written straight into the answer. Same elements, same order, same
// omissions. `key` names the member in the open object; {} writes an item of the open array.
#pragma once

#include <string_view>

#include "sas/host/fhir/json_writer.hpp"

namespace sas::host::fhir {

// {"system", "code", "display"}.
void write_coding(JsonWriter& w, std::string_view key, std::string_view system, std::string_view code,
                  std::string_view display = {});
// {"coding": [{system, code}], "text"}; no code: no coding.
void write_codeable_concept(JsonWriter& w, std::string_view key, std::string_view system, std::string_view code,
                            std::string_view text = {});
// {"type": {"coding": [{type_system, type_code}]}, "system", "value"}.
void write_identifier(JsonWriter& w, std::string_view key, std::string_view type_system, std::string_view type_code,
                      std::string_view system, std::string_view value);
// {"reference": "Type/id"}.
void write_reference(JsonWriter& w, std::string_view key, std::string_view resource_type, std::string_view id);
// {"reference": "#id"}: a resource contained in the referring one.
void write_contained_reference(JsonWriter& w, std::string_view key, std::string_view id);
// "meta": {"profile": [profile] and what the caller adds (security)}: leaves meta open.
void begin_meta(JsonWriter& w, std::string_view profile);
// {"system": "phone", "value", "rank" when not 0}.
void write_phone_contact(JsonWriter& w, std::string_view key, std::string_view value, int rank = 0);

}  // namespace sas::host::fhir
