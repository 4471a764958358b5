// Our SOS Médecins bundles against the IG's profiles, with the SDK's profile validator
// (sas_fhir_validator): sas-sos-bundle-aggregator and, through it, every entry's SOS profile.
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "sas/conformance/profile_validator.hpp"
#include "sas/host/sos_search/bundle.hpp"
#include "sas/host/sos_search/query.hpp"
#include "sas_test/support.hpp"
#include "sos_agenda.hpp"
#include "sos_golden.hpp"

namespace sos = sas::host::sos_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;
using namespace sas::test::sos;

namespace {

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

std::string report(const std::vector<sas::conformance::Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += "  " + sas::conformance::to_string(i) + "\n";
  return out;
}

sos::ParsedSosQuery query(const std::string& target) {
  auto r = sos::parse_sos_query(target);
  EXPECT_TRUE(std::holds_alternative<sos::ParsedSosQuery>(r)) << target;
  return std::holds_alternative<sos::ParsedSosQuery>(r) ? std::get<sos::ParsedSosQuery>(r) : sos::ParsedSosQuery{};
}

const std::string kAll =
    "/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization"
    "&_has:Slot:schedule:start=ge2023-08-01&_has:Slot:schedule:start=le2023-08-31&_has:Slot:schedule:status=free"
    "&actor:Location.organization.identifier=334173748400020,392080466300010";

sos::SosBundleOptions options() {
  sos::SosBundleOptions o;
  o.base_url = "https://agenda.example.fr/sas";
  o.place_identifier_system = "urn:oid:1.2.250.1.999.1";
  return o;
}

// The example's agenda plus what it lacks: an SNP-only walk-in slot with motives and a
// specialty, a place open all day, another with no opening hours.
pb::SearchSosSlotsResponse full_agenda() {
  auto r = example_sos_agenda();
  auto& s = slot(r, "snp-walk-in", "2222222222", "2023-08-19T15:00:00+02:00", "2023-08-19T15:30:00+02:00",
                 {pb::AUDIENCE_SNP}, {pb::MODE_AT_PRACTICE, pb::MODE_AT_HOME});
  s.set_walk_in(true);
  s.add_motives("Fièvre");
  s.add_specialties()->set_code("SM54");
  auto& allday = place(r, "5555555555", "392080466300010", "Centre de consultation Lanester", {"1 rue du Port"},
                       "56600", "LANESTER", "02 97 00 00 00");
  hours(allday, {"sat", "sun"}, "00:00", "24:00");
  place(r, "6666666666", "392080466300010", "Centre de consultation Quimperlé", {"2 place Hervo"}, "29300",
        "QUIMPERLE");
  slot(r, "lanester", "5555555555", "2023-08-19T10:00:00+02:00", "2023-08-19T10:20:00+02:00");
  slot(r, "quimperle", "6666666666", "2023-08-19T10:00:00+02:00", "2023-08-19T10:20:00+02:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_SNP}, {pb::MODE_TELECONSULTATION});
  return r;
}

}  // namespace

// Baseline: the validator accepts the official example (otherwise the checks below mean little).
TEST(SosBundleProfiles, OfficialExampleIsValid) {
  const auto issues = profiles().validate_bundle(sas::test::sos_golden::official());
  EXPECT_TRUE(issues.empty()) << report(issues);
}

TEST(SosBundleProfiles, GoldenBundleIsValid) {
  const auto official = sas::test::sos_golden::official();
  const auto q = query(sas::test::sos_golden::official_self_link(official));
  auto o = options();
  o.place_identifier_system = kExamplePlaceSystem;
  const json::value bundle = sos::build_sos_bundle(q, example_sos_agenda(), o);
  ASSERT_EQ(bundle.at("total").as_int64(), 4);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

TEST(SosBundleProfiles, FullAgendaBundleIsValid) {
  sos::SosBuildReport built;
  const json::value bundle = sos::build_sos_bundle(query(kAll), full_agenda(), options(), &built);
  ASSERT_EQ(built.matches, 8u);  // with the example's "after-window" slot, inside this window
  ASSERT_EQ(built.schedules, 5u);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

// The one answer the profile cannot describe: nothing found. The IG's page (and FHIR) say a
// search that matches nothing is a success with total 0; sas-sos-bundle-aggregator asks for at
// least 4 entries, one of each profile. We answer the empty searchset, and the validator's only
// objections are those entry cardinalities.
TEST(SosBundleProfiles, EmptyBundleBreaksOnlyTheEntryCardinalities) {
  const json::value bundle = sos::build_sos_bundle(query(kAll), {}, options());
  ASSERT_EQ(bundle.at("total").as_int64(), 0);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_FALSE(issues.empty()) << "the profile's entry min 4 should be reported";
  for (const auto& i : issues) {
    EXPECT_EQ(i.kind, "cardinality") << sas::conformance::to_string(i);
    EXPECT_EQ(i.element_id.rfind("Bundle.entry", 0), 0u) << sas::conformance::to_string(i);
  }
}

// The validator sees what the host cannot invent: a place without its name, a Location the
// profile requires.
TEST(SosBundleProfiles, MissingPlaceNameIsReported) {
  auto r = example_sos_agenda();
  r.mutable_places(0)->clear_name();
  const json::value bundle = sos::build_sos_bundle(query(kAll), r, options());
  const auto issues = profiles().validate_bundle(bundle);
  bool name = false;
  for (const auto& i : issues) name = name || i.element_id == "Location.name";
  EXPECT_TRUE(name) << report(issues);
}
