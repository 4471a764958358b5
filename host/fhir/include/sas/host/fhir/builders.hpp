// Small builders for the FHIR data types the host emits. Each one leaves out what it was given
// empty, so that no resource ever carries an empty element (an error ANS sees often);
// prune_empty() in json.hpp is the safety net behind them.
// Each takes an optional storage: give the one of the document being built (e.g. a
// monotonic_resource for a whole Bundle) so that inserting the result moves instead of copying.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace sas::host::fhir {

// Sets obj[key] = value only when value is not empty.
void put(boost::json::object& obj, std::string_view key, std::string_view value);
// Sets obj[key] = value only when value is not an empty string, array or object.
void put(boost::json::object& obj, std::string_view key, boost::json::value value);
inline void put(boost::json::object& obj, std::string_view key, const char* value) {
  put(obj, key, std::string_view(value));
}

// {"system", "code", "display"}.
boost::json::object coding(std::string_view system, std::string_view code, std::string_view display = {},
                           boost::json::storage_ptr sp = {});

// {"coding": [coding], "text"}; an empty coding is left out.
boost::json::object codeable_concept(boost::json::object coding, std::string_view text = {},
                                     boost::json::storage_ptr sp = {});
boost::json::object codeable_concept(std::string_view system, std::string_view code, std::string_view text = {},
                                     boost::json::storage_ptr sp = {});
// {"text"}: for what the vendor has only as free text.
boost::json::object codeable_text(std::string_view text, boost::json::storage_ptr sp = {});

// {"type": {"coding": [{type_system, type_code}]}, "system", "value"}.
boost::json::object identifier(std::string_view type_system, std::string_view type_code, std::string_view system,
                               std::string_view value, boost::json::storage_ptr sp = {});
// National practitioner id: type IDNPS, system urn:oid:1.2.250.1.71.4.2.1. `prefixed` must
// already be the prefixed form (8+RPPS, 0+ADELI; see sas::sdk::ids).
boost::json::object practitioner_national_identifier(std::string_view prefixed, boost::json::storage_ptr sp = {});
// National structure id: type IDNST, system urn:oid:1.2.250.1.71.4.2.2, prefixed value.
boost::json::object structure_national_identifier(std::string_view prefixed, boost::json::storage_ptr sp = {});

// {"reference": "Type/id"}.
boost::json::object reference(std::string_view resource_type, std::string_view id, boost::json::storage_ptr sp = {});
// {"reference": "#id"}: a resource contained in the referring one.
boost::json::object contained_reference(std::string_view id, boost::json::storage_ptr sp = {});
// {"identifier": identifier}: a logical reference.
boost::json::object identifier_reference(boost::json::object identifier, boost::json::storage_ptr sp = {});

// {"profile": [profile], "security": security}.
boost::json::object meta(std::string_view profile, boost::json::array security = {}, boost::json::storage_ptr sp = {});

// {"system": "phone", "value": value}; the caller normalises to +33 first.
boost::json::object phone_contact(std::string_view value, boost::json::storage_ptr sp = {});

// [A-Za-z0-9\-\.]{1,64}, the FHIR id type.
bool is_valid_id(std::string_view id);

// The FHIR code type, [^\s]+( [^\s]+)*: blank runs only as single spaces between words, and, as
// in every FHIR string, no control character.
bool is_valid_code(std::string_view code);

// A stable, valid FHIR id for a vendor id: the vendor id itself when it is already valid;
// otherwise its valid characters (at most 47) then '-' and 16 hex digits of a 64-bit hash of
// the whole vendor id, so that different vendor ids stay different. Deterministic.
std::string resource_id(std::string_view vendor_id);

// A FHIR base as links are built from it: its trailing '/'s taken off.
std::string_view without_trailing_slashes(std::string_view base);

// base + "/" + type + "/" + id, without doubling a trailing '/' of base.
std::string full_url(std::string_view base, std::string_view resource_type, std::string_view id);

}  // namespace sas::host::fhir
