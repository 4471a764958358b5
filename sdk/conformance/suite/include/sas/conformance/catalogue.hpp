// The catalogue of the certification suite (sas-conformance): numbered checks with stable ids, each
// with a title, the IG page or FAQ item it comes from, a severity, what it needs (mode, flow) and
// what of ANS's test kit it covers: its requirements (agg-psindiv@N) and, for the CPTS and SOS
// searches, which the kit certifies with tests that no requirement names, its test ids
// ("ig_launch_2:cpts_validate_meta": option ig_launch_2 is the kit's CPTS run, ig_launch_3 its SOS one).
//
// Two sources, one catalogue:
// - the protocol, structure and FAQ checks below are written in catalogue.cpp;
// - the profile checks are generated from the IG package's StructureDefinitions through the
//   profile validator (ProfileSet::constraints): one check per enforced constraint, numbered in
//   snapshot order per profile, e.g. R01-PROFILE-SLOT-012. A new IG version is a data update.
#pragma once

#include <filesystem>
#include <map>
#include <sas/conformance/profile_validator.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sas::conformance {

enum class Severity { error, warning };
std::string_view to_string(Severity severity);

struct Check {
  std::string id;         // "R01-QUERY-007", "R01-PROFILE-SLOT-012", "TLS-003"
  std::string title;      // one line
  std::string reference;  // IG page, FAQ item or spec URL
  Severity severity = Severity::error;
  std::string modes;                      // "plugin endpoint" | "endpoint" | "files": where the suite can run it
  std::string flow;                       // "INT_R01", "INT_R02", "INT_R03", "INT_R04", "SOS", "mTLS", "performance"
  std::string group;                      // QUERY | BUNDLE | PROFILE | FAQ | CPTS | R02 | TLS | PERF
  std::vector<std::string> requirements;  // "agg-psindiv@9", "ig_launch_2:cpts_validate_meta", ...
  // What makes a failure an error: the SHALL of the IG, its FAQ or ANS's test kit it enforces
  // (quoted or paraphrased, with where). Every error check has one; a warning's says why it is
  // only a warning.
  std::string citation;
  // Profile checks only: the validator constraint this check numbers.
  std::string profile_url;
  std::string element_id;
  std::string constraint_kind;
  std::string expected;
};

// One entry of ANS's test-kit requirement list (sas_test_kit_requirements.csv).
struct Requirement {
  std::string id;  // "agg-psindiv@17"
  std::string text;
  std::string url;
  std::string not_tested_reason;  // ANS's own "Not Tested Reason" (e.g. "Not Verifiable")
};

class Catalogue {
 public:
  // The hand-written checks plus the profile checks generated from `profiles`.
  static Catalogue build(const ProfileSet& profiles);

  const std::vector<Check>& checks() const { return checks_; }
  const Check* find(std::string_view id) const;

  // The check a validator issue belongs to: a written check that claims the constraint (the SOS
  // slot types, SOS-BUNDLE-005), else the constraint with the same (profile, element, kind), else
  // the profile's root constraint of that kind. Issues of kind "empty" belong to R01-FAQ-10 (to
  // SOS-BUNDLE-014 on an SOS profile). nullptr when the profile is not in the catalogue.
  const Check* for_issue(const Issue& issue) const;

  // docs/certification.md's catalogue section (deterministic for one IG package).
  std::string markdown(const std::vector<Requirement>& requirements) const;

 private:
  std::vector<Check> checks_;
  std::map<std::string, std::size_t, std::less<>> by_id_;
  std::map<std::string, std::size_t, std::less<>> by_constraint_;  // "url|element|kind"
};

// One test of ANS's test kit (ansforge/interop-outil-fhir-sas-test-kit) that the requirement list
// does not name: the tests of the CPTS run (option ig_launch_2) and of the SOS run (ig_launch_3).
struct KitTest {
  std::string id;     // "ig_launch_2:cpts_validate_meta"
  std::string title;  // what it asserts, in our words
};
// The kit's CPTS and SOS tests, in the kit's order (a data list: the kit's code is not ours).
const std::vector<KitTest>& kit_tests();

// Reads ANS's requirement list (CSV with a header line). Throws std::runtime_error.
std::vector<Requirement> load_requirements(const std::filesystem::path& csv);

// Requirement → ids of the checks that cite it, for every requirement of the list (empty: uncovered).
std::vector<std::pair<Requirement, std::vector<std::string>>> coverage(const Catalogue& catalogue,
                                                                       const std::vector<Requirement>& requirements);
// The same for the kit's CPTS and SOS tests (kit_tests()).
std::vector<std::pair<KitTest, std::vector<std::string>>> kit_coverage(const Catalogue& catalogue);

}  // namespace sas::conformance
