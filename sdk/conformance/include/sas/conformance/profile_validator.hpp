// FHIR profile validation driven by the StructureDefinition snapshots, ValueSets and CodeSystems of
// an IG package (the SAS IG, ans.fhir.fr.sas). Nothing of the profiles is typed by hand here: a new
// IG version is a data update (point load() at the new package directory).
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sas::conformance {

// --- The parts of a StructureDefinition snapshot the validator uses --------------------------------

struct TypeRef {
  std::string code;                          // "CodeableConcept", "uri", "Reference", "Slot", ...
  std::vector<std::string> profiles;         // type.profile
  std::vector<std::string> target_profiles;  // type.targetProfile (Reference / canonical)
};

struct Discriminator {
  std::string type;  // value | pattern | type | profile | exists
  std::string path;  // "url", "coding.system", "$this", "resource", ...
};

struct Slicing {
  std::vector<Discriminator> discriminators;
  std::string rules;  // open | closed | openAtEnd
  bool ordered = false;
};

struct Binding {
  std::string strength;   // required | extensible | preferred | example
  std::string value_set;  // canonical, version suffix ("|4.0.1") stripped
};

struct ElementDefinition {
  std::string id;          // "Slot.serviceType:TypeConsultation.coding.system"
  std::string path;        // "Slot.serviceType.coding.system"
  std::string slice_name;  // "TypeConsultation" on the slice element itself
  std::size_t min = 0;
  std::optional<std::size_t> max;  // nullopt: "*"
  std::size_t base_min = 0;
  std::optional<std::size_t> base_max;  // decides array vs single value in JSON
  std::vector<TypeRef> types;
  std::optional<boost::json::value> fixed;  // fixed[x] value; fixed_key is e.g. "fixedUri"
  std::string fixed_key;
  std::optional<boost::json::value> pattern;
  std::string pattern_key;
  std::optional<Binding> binding;
  std::optional<Slicing> slicing;
  std::string content_reference;  // "#Bundle.link" (fragment only)

  // Tree built from the ids at load time (indices into StructureDefinition::elements).
  std::vector<std::size_t> children;  // non-slice children
  std::vector<std::size_t> slices;    // slices of this element

  std::string name() const;  // last path segment: "system", "value[x]"
  bool repeats() const { return !base_max || *base_max > 1; }
};

struct StructureDefinition {
  std::string url;
  std::string name;
  std::string type;  // "Slot", "Extension", ...
  std::string kind;  // resource | complex-type | ...
  std::string base_definition;
  std::vector<ElementDefinition> elements;  // snapshot order; elements[0] is the root
};

// --- Results ------------------------------------------------------------------------------------------

// One violation. kind is one of: cardinality | fixed | pattern | binding | type | empty | unknown-element
// | slicing | contained | reference | profile. (profile_url, element_id, kind) matches a Constraint below.
struct Issue {
  std::string profile_url;
  std::string element_id;  // "Slot.meta.security"
  std::string path;        // JSON path in the instance: "entry[3].resource.meta.security[0].code" ("" = root)
  std::string kind;
  std::string message;
};

// One rule the validator derives from a profile, for the conformance suite to number.
struct Constraint {
  std::string profile_url;
  std::string element_id;
  std::string kind;      // same vocabulary as Issue::kind
  std::string expected;  // "1..1", a JSON value, a value set url, ...
  bool enforced = true;  // false: derived but not checked (value set not in the package)
};

// A required binding whose value set the package does not define (e.g. core FHIR value sets).
struct SkippedBinding {
  std::string profile_url;
  std::string element_id;
  std::string value_set;
  std::string reason;
};

std::string to_string(const Issue& issue);

// --- The package ----------------------------------------------------------------------------------------

class ProfileSet {
 public:
  // Loads StructureDefinition-*.json, ValueSet-*.json and CodeSystem-*.json from ig_dir.
  // Throws std::runtime_error on an unreadable or malformed file.
  static ProfileSet load(const std::filesystem::path& ig_dir);

  const StructureDefinition* find(std::string_view profile_url) const;
  std::vector<std::string> profile_urls() const;  // every StructureDefinition url, sorted

  // nullopt when the value set is not in the package or cannot be expanded from it.
  std::optional<bool> value_set_contains(std::string_view value_set_url, std::string_view system,
                                         std::string_view code) const;

  // Validates one resource against one profile, including its contained resources (against their
  // meta.profile, else the target profile of the reference that points at them). Bundle entries are
  // only checked as far as the Bundle profile goes (slices, cardinality): use validate_bundle.
  std::vector<Issue> validate(const boost::json::value& resource, std::string_view profile_url) const;

  // The Bundle against its meta.profile, then each entry.resource against its meta.profile and the
  // profile its Bundle slice requires; relative references are resolved inside the Bundle.
  std::vector<Issue> validate_bundle(const boost::json::value& bundle) const;

  // A resource against the package profiles it declares in meta.profile (a Bundle: validate_bundle).
  std::vector<Issue> validate_declared(const boost::json::value& resource) const;

  std::vector<Constraint> constraints(std::string_view profile_url) const;
  const std::vector<SkippedBinding>& skipped_bindings() const;

 private:
  struct Data;
  std::shared_ptr<const Data> data_;
};

}  // namespace sas::conformance
