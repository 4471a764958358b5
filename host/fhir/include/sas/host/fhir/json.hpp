// Serialisation to application/fhir+json and format negotiation.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace sas::host::fhir {

// True for "", [], {} and null: what FHIR forbids ("no empty elements").
bool is_empty(const boost::json::value& v);

// Removes, recursively, every member or array item that is empty once its own content has
// been pruned. Numbers and booleans (total: 0, active: false) are kept. Arrays keep their
// order. The top-level value itself is never removed.
void prune_empty(boost::json::value& v);
void prune_empty(boost::json::object& obj);

// prune_empty then compact JSON (UTF-8). The one way the host writes FHIR JSON.
std::string serialize(boost::json::value v);
std::string serialize(boost::json::object obj);

// Compact JSON with every double in plain decimal notation, at most six decimals (227.958333,
// 365) instead of Boost.JSON's exponent form (2.27958333E2): for JSON people and scripts read
// (the admin API, the CLI). No pruning: not for FHIR resources.
std::string serialize_plain(const boost::json::value& v);

// What a `_format` value or one media range of an Accept header asks for.
enum class Format {
  json,         // json, application/json, application/fhir+json, text/json (parameters ignored)
  xml,          // xml, application/xml, application/fhir+xml, text/xml: never produced here
  any,          // */*, application/*: JSON will do
  unsupported,  // anything else (turtle, text/html, ...)
};
Format classify_format(std::string_view value);

// Whether an Accept header lets us answer application/fhir+json: true when it is empty or when
// any of its media ranges is json or a wildcard (q=0 ranges are refusals and are skipped).
bool accept_allows_json(std::string_view accept_header);

}  // namespace sas::host::fhir
