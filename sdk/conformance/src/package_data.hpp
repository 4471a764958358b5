// Internal: the loaded package (profiles, expanded value sets, datatype structures).
#pragma once

#include <sas/conformance/profile_validator.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sas::conformance::detail {

struct ValueSetExpansion {
  bool resolved = false;
  std::string reason;                                   // why not resolved
  std::set<std::pair<std::string, std::string>> codes;  // (system, code)
};

struct PackageData {
  std::map<std::string, StructureDefinition, std::less<>> profiles;  // by url
  // Structure of complex datatypes (Coding, Identifier, ...), gathered from the children the
  // snapshots expand (their base cardinality), so unexpanded elements still get structural checks.
  std::map<std::string, StructureDefinition, std::less<>> datatypes;  // by type code
  std::map<std::string, ValueSetExpansion, std::less<>> value_sets;   // by url (package ones only)
  std::vector<SkippedBinding> skipped;
  std::set<std::string, std::less<>> resource_types;  // types of the package's resource profiles

  const StructureDefinition* profile(std::string_view url) const;
  const ValueSetExpansion* value_set(std::string_view url) const;  // resolved ones only
  std::string profile_type(std::string_view url) const;            // "" when unknown
  bool derives_from(std::string_view url, std::string_view ancestor) const;
  bool is_resource_type(std::string_view code) const;  // "Resource" or a resource name ("Slot")
};

std::string strip_version(std::string_view canonical);
bool is_primitive_type(std::string_view code);

std::vector<Issue> validate_resource(const PackageData& pkg, const boost::json::value& resource,
                                     const StructureDefinition& profile, const std::string& base_path);
std::vector<Issue> validate_bundle(const PackageData& pkg, const boost::json::value& bundle);
std::vector<Issue> validate_declared(const PackageData& pkg, const boost::json::value& resource);

}  // namespace sas::conformance::detail
