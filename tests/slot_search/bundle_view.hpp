// Test helpers to walk a searchset Bundle: find entries by type, resolve references, and look
// for empty elements.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "sas/sdk/datetime.hpp"

namespace sas::test::bundle {

namespace json = boost::json;

inline std::vector<const json::object*> resources(const json::object& bundle, std::string_view type) {
  std::vector<const json::object*> out;
  if (const auto* entries = bundle.if_contains("entry")) {
    for (const auto& e : entries->as_array()) {
      const auto& r = e.at("resource").as_object();
      if (r.at("resourceType").as_string() == type) out.push_back(&r);
    }
  }
  return out;
}

inline std::size_t entry_count(const json::object& bundle) {
  const auto* entries = bundle.if_contains("entry");
  return entries == nullptr ? 0 : entries->as_array().size();
}

// The resource that a "Type/id" reference names (nullptr when absent).
inline const json::object* resolve(const json::object& bundle, std::string_view reference) {
  const auto slash = reference.find('/');
  if (slash == std::string_view::npos) return nullptr;
  const auto type = reference.substr(0, slash);
  const auto id = reference.substr(slash + 1);
  for (const auto* r : resources(bundle, type)) {
    if (r->at("id").as_string() == id) return r;
  }
  return nullptr;
}

inline std::string ref(const json::value& reference) { return std::string(reference.at("reference").as_string()); }

// Resources of one type referenced by a Schedule's actors.
inline const json::object* actor(const json::object& bundle, const json::object& schedule, std::string_view type) {
  for (const auto& a : schedule.at("actor").as_array()) {
    const std::string r = ref(a);
    if (r.starts_with(std::string(type) + "/")) return resolve(bundle, r);
  }
  return nullptr;
}

inline const json::object* contained(const json::object& resource, std::string_view local_ref) {
  if (!local_ref.starts_with("#")) return nullptr;
  const auto* c = resource.if_contains("contained");
  if (c == nullptr) return nullptr;
  for (const auto& r : c->as_array()) {
    if (r.at("id").as_string() == local_ref.substr(1)) return &r.as_object();
  }
  return nullptr;
}

inline sas::sdk::datetime::Instant instant(const json::value& v) {
  const auto t = sas::sdk::datetime::parse_fhir(std::string(v.as_string()));
  return t ? *t : sas::sdk::datetime::Instant{};
}

// Paths of every empty string, array, object or null in `v` (FHIR forbids them).
inline void empty_paths(const json::value& v, const std::string& path, std::vector<std::string>& out) {
  switch (v.kind()) {
    case json::kind::null:
      out.push_back(path + " (null)");
      break;
    case json::kind::string:
      if (v.get_string().empty()) out.push_back(path + " (\"\")");
      break;
    case json::kind::array:
      if (v.get_array().empty()) out.push_back(path + " ([])");
      for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        empty_paths(v.get_array()[i], path + "[" + std::to_string(i) + "]", out);
      }
      break;
    case json::kind::object:
      if (v.get_object().empty()) out.push_back(path + " ({})");
      for (const auto& m : v.get_object()) empty_paths(m.value(), path + "." + std::string(m.key()), out);
      break;
    default:
      break;
  }
}

inline std::vector<std::string> empty_paths(const json::value& v) {
  std::vector<std::string> out;
  empty_paths(v, "$", out);
  return out;
}

// Every "id" of a resource (not of elements) in the bundle must be a valid FHIR id.
inline bool valid_fhir_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sas::test::bundle
