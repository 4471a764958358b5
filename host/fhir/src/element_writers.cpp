#include "sas/host/fhir/element_writers.hpp"

#include <string>

#include "sas/host/fhir/builders.hpp"

namespace sas::host::fhir {

void write_coding(JsonWriter& w, std::string_view key, std::string_view system, std::string_view code,
                  std::string_view display) {
  w.begin_object(key);
  w.string("system", system);
  w.string("code", code);
  w.string("display", display);
  w.end_object();
}

void write_codeable_concept(JsonWriter& w, std::string_view key, std::string_view system, std::string_view code,
                            std::string_view text) {
  w.begin_object(key);
  if (!code.empty()) {
    w.begin_array("coding");
    write_coding(w, {}, system, code);
    w.end_array();
  }
  w.string("text", text);
  w.end_object();
}

void write_identifier(JsonWriter& w, std::string_view key, std::string_view type_system, std::string_view type_code,
                      std::string_view system, std::string_view value) {
  w.begin_object(key);
  write_codeable_concept(w, "type", type_system, type_code);
  w.string("system", system);
  w.string("value", value);
  w.end_object();
}

void write_reference(JsonWriter& w, std::string_view key, std::string_view resource_type, std::string_view id) {
  w.begin_object(key);
  if (!resource_type.empty() && !id.empty()) w.string("reference", {resource_type, "/", id});
  w.end_object();
}

void write_contained_reference(JsonWriter& w, std::string_view key, std::string_view id) {
  w.begin_object(key);
  if (!id.empty()) w.string("reference", {"#", id});
  w.end_object();
}

void begin_meta(JsonWriter& w, std::string_view profile) {
  w.begin_object("meta");
  w.begin_array("profile");
  w.string(profile);
  w.end_array();
}

void write_phone_contact(JsonWriter& w, std::string_view key, std::string_view value, int rank) {
  w.begin_object(key);
  if (!value.empty()) {
    w.string("system", "phone");
    w.string("value", value);
  }
  if (rank != 0) w.number("rank", rank);
  w.end_object();
}

}  // namespace sas::host::fhir
