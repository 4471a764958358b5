// INT_R04, the CPTS search, in process: the official examples (golden, both forms of the
// request), the Bundle builder's CPTS rules, doctor settings and rules on CPTS slots, the
// search service's refusal when the plugin does not offer the flow, and /metadata. Every CPTS
// Bundle these tests build is validated against sas-cpts-bundle-aggregator (and the profiles
// of its entries) with the SDK's conformance validator.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "agenda.hpp"
#include "bundle_view.hpp"
#include "cpts_example_agenda.hpp"
#include "golden_cpts_compare.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/host/doctor_settings/publication.hpp"
#include "sas/host/doctor_settings/rules.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/capability.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas/host/slot_search/service.hpp"
#include "sas_test/support.hpp"

namespace ss = sas::host::slot_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;
namespace bv = sas::test::bundle;
namespace golden = sas::test::golden;
namespace golden_cpts = sas::test::golden_cpts;
namespace ds = sas::host::doctor_settings;
using namespace sas::test::agenda;

namespace {

constexpr const char* kBase = "https://vendor.example/fhir";
constexpr const char* kOfficialBase = "http://hapi.fhir.org/baseR4";
constexpr const char* kCptsProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";
constexpr const char* kAxe = "1950047225";  // CPTS AXE MAJEUR, prefixed
constexpr const char* kVal = "1950046227";  // CPTS VAL D OISE CENTRE, prefixed

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

std::string describe(const std::vector<sas::conformance::Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += "  " + sas::conformance::to_string(i) + "\n";
  return out;
}

// Every CPTS Bundle a test builds goes through here: no empty element, and valid against
// sas-cpts-bundle-aggregator and the profiles of its entries.
void expect_valid_cpts_bundle(const json::object& bundle) {
  EXPECT_EQ(bv::empty_paths(bundle), std::vector<std::string>{});
  ASSERT_EQ(bundle.at("meta").at("profile").as_array()[0].as_string(), kCptsProfile);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << describe(issues);
}

ss::ParsedSlotQuery parse(const std::string& target) {
  auto r = ss::parse_slot_query(target);
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&r)) {
    ADD_FAILURE() << "refused: " << json::serialize(e->outcome) << "\n  " << target;
    return {};
  }
  return std::get<ss::ParsedSlotQuery>(r);
}

// The IG's request (specifications_techniques-cpts-recherche_creneaux), with both includes.
std::string cpts_target(const std::string& ids, const std::string& from = "2024-06-12T16:00:00.000%2B02:00",
                        const std::string& to = "2024-06-12T18:00:00.000%2B02:00", const std::string& extra = "") {
  return "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference"
         "&_include:iterate=HealthcareService:organization&start=ge" +
         from + "&start=le" + to + "&schedule.actor:Practitioner.identifier=" + ids + "&status=free" + extra;
}

std::string ids(std::initializer_list<const char*> list) {
  std::string out;
  for (const char* id : list) out += (out.empty() ? "" : ",") + std::string("urn:oid:1.2.250.1.71.4.2.1|") + id;
  return out;
}

ss::BundleOptions options() {
  ss::BundleOptions o;
  o.base_url = kBase;
  o.place_identifier_system = kCptsExamplePlaceSystem;
  return o;
}

// A CPTS Bundle, checked (empties, profiles) before the test looks at it.
json::object build_cpts(const ss::ParsedSlotQuery& q, const pb::SearchSlotsResponse& r,
                        ss::BuildReport* report = nullptr) {
  EXPECT_TRUE(q.cpts);
  auto b = ss::build_search_bundle(q, r, options(), report);
  expect_valid_cpts_bundle(b);
  return b;
}

std::vector<std::string> security(const json::object& slot) {
  std::vector<std::string> codes;
  for (const auto& c : slot.at("meta").at("security").as_array()) codes.emplace_back(c.at("code").as_string());
  return codes;
}

const json::object& slot_by_id(const json::object& bundle, const std::string& id) {
  const auto* r = bv::resolve(bundle, "Slot/" + id);
  if (r == nullptr) throw std::runtime_error("Slot/" + id + " not in bundle");
  return *r;
}

// The prefixed FINESS of the CPTS a slot's serviceType references lead to, in order.
std::vector<std::string> cpts_of(const json::object& bundle, const json::object& slot) {
  std::vector<std::string> out;
  const auto* types = slot.if_contains("serviceType");
  if (types == nullptr) return out;
  for (const auto& st : types->as_array()) {
    const auto* ext = st.as_object().if_contains("extension");
    if (ext == nullptr) continue;
    const auto* org = golden_cpts::cpts_organization(bundle, ext->as_array()[0].at("valueReference"));
    out.emplace_back(org == nullptr ? "<broken>"
                                    : std::string(org->at("identifier").as_array()[0].at("value").as_string()));
  }
  return out;
}

bool has_warning(const ss::BuildReport& report, std::string_view part) {
  return std::any_of(report.warnings.begin(), report.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

// A practitioner with one place; slots added by the tests.
pb::SearchSlotsResponse one_doctor() {
  pb::SearchSlotsResponse r;
  auto& p = practitioner(r, "doc", "810002909371", "Foret", {"Pierre"});
  specialty(p, "SM54");
  place(r, "office", "doc", {"25 CHEMIN DE MOUNESTIE"}, "31840", "Aussonne").set_finess("310000000");
  return r;
}

pb::Slot& cpts_slot(pb::SearchSlotsResponse& r, const std::string& id, const char* start, const char* end,
                    std::initializer_list<pb::Audience> audiences, std::initializer_list<const char*> finess) {
  auto& s = slot(r, id, "office", start, end, audiences);
  s.add_modes(pb::MODE_AT_PRACTICE);
  for (const char* f : finess) s.add_cpts_finess(f);
  return s;
}

const std::string kDoc = ids({"810002909371"});

// ---- golden: the official examples ---------------------------------------------------------

class CptsGolden : public testing::TestWithParam<int> {
 protected:
  // The example's own request (its self link, only the base replaced).
  json::object build_from(const std::string& target) {
    const auto q = parse(target);
    return build_cpts(q, cpts_example_agenda(GetParam()));
  }
  std::string official_target() const {
    const std::string self = golden::official_self_link(expected_);
    EXPECT_EQ(self.rfind(kOfficialBase, 0), 0u) << self;
    return self.substr(std::string(kOfficialBase).size());
  }
  json::object expected_ = golden_cpts::official(GetParam());
};

TEST_P(CptsGolden, TheExamplesOwnRequestGivesTheOfficialBundle) {
  const std::string target = official_target();
  // The examples' self links have Slot:service-type-reference but not the organization include.
  ASSERT_NE(target.find("_include=Slot:service-type-reference"), std::string::npos);
  ASSERT_EQ(target.find("HealthcareService:organization"), std::string::npos);
  golden_cpts::expect_matches_official(expected_, build_from(target), kBase);
}

// The IG's written request, with _include:iterate=HealthcareService:organization: the same
// Bundle (only the self link, which repeats the request, differs).
TEST_P(CptsGolden, TheIgsFullRequestGivesTheSameBundle) {
  const auto q = parse(official_target());
  auto with_include = build_from(official_target() + "&_include:iterate=HealthcareService:organization");
  golden_cpts::expect_matches_official(expected_, with_include, kBase);
  auto without = ss::build_search_bundle(q, cpts_example_agenda(GetParam()), options());
  with_include.erase("link");
  without.erase("link");
  EXPECT_EQ(with_include, without);
}

TEST_P(CptsGolden, OfficialExampleIsValid) {
  const auto issues = profiles().validate_bundle(expected_);
  EXPECT_TRUE(issues.empty()) << describe(issues);
}

INSTANTIATE_TEST_SUITE_P(OfficialExamples, CptsGolden, testing::Values(1, 2),
                         [](const testing::TestParamInfo<int>& example) {
                           return "CPTS" + std::to_string(example.param);
                         });

// ---- the Bundle builder --------------------------------------------------------------------

TEST(CptsBundle, TwoCptsOnOneSlotAreTwoReferencesAndTwoChains) {
  auto r = one_doctor();
  cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_CPTS},
            {"950047225", "1950046227"});
  add_example_cpts(r);
  const auto b = build_cpts(parse(cpts_target(kDoc)), r);
  const auto& s = slot_by_id(b, "s");
  EXPECT_EQ(security(s), (std::vector<std::string>{"PUBLIC", "CPTS"}));
  EXPECT_EQ(cpts_of(b, s), (std::vector<std::string>{kAxe, kVal}));
  EXPECT_EQ(golden_cpts::entry_types(b),
            (std::vector<std::string>{"Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService",
                                      "Organization", "HealthcareService", "Organization"}));
  // Modes first, then the CPTS, each coded TRE_R66 604.
  const auto& types = s.at("serviceType").as_array();
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[0].at("coding").as_array()[0].at("code"), "AMB");
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(json::serialize(types[i].at("coding")),
              R"([{"system":"https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/)"
              R"(TRE-R66-CategorieEtablissement","code":"604"}])");
  }
  // Ids derived from the FINESS: stable from one search to the next.
  EXPECT_EQ(types[1].at("extension").as_array()[0].at("valueReference").at("reference"),
            "HealthcareService/cpts-1950047225");
  const auto* org = bv::resolve(b, "Organization/cpts-1950046227");
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(org->at("name"), "CPTS VAL D OISE CENTRE");
  EXPECT_EQ(json::serialize(org->at("telecom")), R"([{"system":"phone","value":"+33139599280"}])");
  EXPECT_EQ(json::serialize(org->at("identifier")),
            R"([{"type":{"coding":[{"system":"https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",)"
            R"("code":"IDNST"}]},"system":"urn:oid:1.2.250.1.71.4.2.2","value":"1950046227"}])");
}

TEST(CptsBundle, ServiceTypeOrderIsModesThenCptsThenMotives) {
  auto r = one_doctor();
  auto& s = cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00",
                      {pb::AUDIENCE_CPTS, pb::AUDIENCE_PUBLIC}, {"950046227", "950047225", "950046227"});
  s.add_modes(pb::MODE_TELECONSULTATION);
  s.add_motives("Visite de contrôle");
  s.add_motives("Suivi");
  add_example_cpts(r);
  const auto b = build_cpts(parse(cpts_target(kDoc)), r);
  const auto& slot = slot_by_id(b, "s");
  std::vector<std::string> shape;
  for (const auto& st : slot.at("serviceType").as_array()) {
    if (st.as_object().contains("extension")) {
      shape.emplace_back("CPTS");
    } else if (st.as_object().contains("coding")) {
      shape.emplace_back(st.at("coding").as_array()[0].at("code").as_string());
    } else {
      shape.emplace_back(st.at("text").as_string());
    }
  }
  EXPECT_EQ(shape, (std::vector<std::string>{"AMB", "VR", "CPTS", "CPTS", "Visite de contrôle", "Suivi"}));
  EXPECT_EQ(cpts_of(b, slot), (std::vector<std::string>{kVal, kAxe})) << "distinct, in the slot's order";
  EXPECT_EQ(security(slot), (std::vector<std::string>{"PUBLIC", "CPTS"})) << "canonical order, CPTS last";
}

TEST(CptsBundle, ACptsOnlySlotIsInTheCptsSearchAndNotInIntR01) {
  auto r = one_doctor();
  cpts_slot(r, "public", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_PUBLIC}, {});
  cpts_slot(r, "cpts-only", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS},
            {"950047225"});
  cpts_slot(r, "public-cpts", "2024-06-12T17:00:00+02:00", "2024-06-12T17:20:00+02:00",
            {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_SNP, pb::AUDIENCE_CPTS}, {"950047225"});
  add_example_cpts(r);

  const auto cpts = build_cpts(parse(cpts_target(kDoc)), r);
  EXPECT_EQ(cpts.at("total").as_int64(), 3);
  EXPECT_EQ(security(slot_by_id(cpts, "cpts-only")), std::vector<std::string>{"CPTS"});
  EXPECT_EQ(security(slot_by_id(cpts, "public-cpts")), (std::vector<std::string>{"PUBLIC", "SNP", "CPTS"}));
  EXPECT_EQ(security(slot_by_id(cpts, "public")), std::vector<std::string>{"PUBLIC"});
  EXPECT_EQ(slot_by_id(cpts, "public").at("meta").at("profile").as_array()[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator");

  // INT_R01 on the same agenda: the CPTS-only slot is not there, nor any CPTS type or chain.
  ss::BuildReport report;
  const std::string individual =
      "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2024-06-12T16:00:00%2B02:00"
      "&start=le2024-06-12T18:00:00%2B02:00&schedule.actor:Practitioner.identifier=" +
      kDoc + "&status=free";
  const auto b = ss::build_search_bundle(parse(individual), r, options(), &report);
  EXPECT_EQ(b.at("meta").at("profile").as_array()[0].as_string(),
            "http://sas.fr/fhir/StructureDefinition/BundleAgregateur");
  EXPECT_EQ(b.at("total").as_int64(), 2);
  EXPECT_EQ(bv::resolve(b, "Slot/cpts-only"), nullptr);
  EXPECT_EQ(security(slot_by_id(b, "public-cpts")), (std::vector<std::string>{"PUBLIC", "SNP"}));
  EXPECT_EQ(slot_by_id(b, "public-cpts").at("serviceType").as_array().size(), 1u) << "AMB only";
  EXPECT_TRUE(bv::resources(b, "HealthcareService").empty());
  EXPECT_TRUE(bv::resources(b, "Organization").empty());
  EXPECT_EQ(report.dropped_no_audience, 1u);
  const auto issues = profiles().validate_bundle(b);
  EXPECT_TRUE(issues.empty()) << describe(issues);
}

TEST(CptsBundle, InvalidFinessIsNotSentAndACptsOnlySlotWithoutAnyIsDroppedAndCounted) {
  auto r = one_doctor();
  cpts_slot(r, "one-bad", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_CPTS},
            {"95004722", "950047225"});
  cpts_slot(r, "public-all-bad", "2024-06-12T16:20:00+02:00", "2024-06-12T16:40:00+02:00",
            {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_CPTS}, {"not-a-finess"});
  cpts_slot(r, "cpts-all-bad", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS},
            {"12345"});
  cpts_slot(r, "cpts-none", "2024-06-12T17:00:00+02:00", "2024-06-12T17:20:00+02:00", {pb::AUDIENCE_CPTS}, {});
  add_example_cpts(r);
  ss::BuildReport report;
  const auto b = build_cpts(parse(cpts_target(kDoc)), r, &report);
  EXPECT_EQ(b.at("total").as_int64(), 2);
  EXPECT_EQ(cpts_of(b, slot_by_id(b, "one-bad")), std::vector<std::string>{kAxe});
  // Open to the public and to CPTS, but no CPTS is known: published as a public slot.
  EXPECT_EQ(security(slot_by_id(b, "public-all-bad")), std::vector<std::string>{"PUBLIC"});
  EXPECT_TRUE(cpts_of(b, slot_by_id(b, "public-all-bad")).empty());
  EXPECT_EQ(bv::resolve(b, "Slot/cpts-all-bad"), nullptr);
  EXPECT_EQ(bv::resolve(b, "Slot/cpts-none"), nullptr);
  EXPECT_EQ(report.dropped_cpts_without_finess, 2u);
  EXPECT_TRUE(has_warning(report, "\"95004722\"")) << "the invalid FINESS is named";
  EXPECT_TRUE(has_warning(report, "slot \"cpts-none\" is open to CPTS but names no valid CPTS FINESS"));
  EXPECT_TRUE(has_warning(report, "slot \"public-all-bad\" is open to CPTS but names no valid CPTS FINESS"));
  EXPECT_EQ(bv::resources(b, "Organization").size(), 1u);
}

TEST(CptsBundle, ACptsNamedByNoCptsEntryIsSentWithItsFinessAlone) {
  auto r = one_doctor();
  cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS},
            {"2A0000005", "950047225"});
  add_example_cpts(r);
  ss::BuildReport report;
  const auto b = build_cpts(parse(cpts_target(kDoc)), r, &report);
  EXPECT_EQ(cpts_of(b, slot_by_id(b, "s")), (std::vector<std::string>{"12A0000005", kAxe}));
  const auto* org = bv::resolve(b, "Organization/cpts-12A0000005");
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(org->if_contains("name"), nullptr);
  EXPECT_EQ(org->if_contains("telecom"), nullptr);
  EXPECT_TRUE(has_warning(report, "CPTS 12A0000005 is named by slots but not in the plugin's CPTS list"));
  // The known one keeps its name; a CPTS the slots do not name is not sent.
  EXPECT_EQ(bv::resolve(b, "Organization/cpts-1950047225")->at("name"), "CPTS AXE MAJEUR");
  EXPECT_EQ(bv::resolve(b, "Organization/cpts-1950046227"), nullptr);
}

TEST(CptsBundle, TheSameCptsOnManySlotsIsIncludedOnceAfterItsFirstSlot) {
  auto r = one_doctor();
  auto& other = place(r, "office-2", "doc", {"1 rue X"}, "95000", "Cergy");
  other.set_finess("950000000");
  cpts_slot(r, "a", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_CPTS}, {"950047225"});
  cpts_slot(r, "b", "2024-06-12T16:20:00+02:00", "2024-06-12T16:40:00+02:00", {pb::AUDIENCE_PUBLIC}, {});
  slot(r, "c", "office-2", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00",
       {pb::AUDIENCE_CPTS, pb::AUDIENCE_PROFESSIONALS})
      .add_cpts_finess("1950047225");
  cpts_slot(r, "d", "2024-06-12T17:00:00+02:00", "2024-06-12T17:20:00+02:00", {pb::AUDIENCE_CPTS},
            {"950046227", "950047225"});
  add_example_cpts(r);
  const auto b = build_cpts(parse(cpts_target(kDoc)), r);
  EXPECT_EQ(golden_cpts::entry_types(b),
            (std::vector<std::string>{"Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService",
                                      "Organization", "Slot", "Slot", "Schedule", "PractitionerRole", "Slot",
                                      "HealthcareService", "Organization"}));
  EXPECT_EQ(bv::resources(b, "HealthcareService").size(), 2u);
  for (const char* id : {"a", "c", "d"}) EXPECT_EQ(cpts_of(b, slot_by_id(b, id)).back(), kAxe) << id;
}

TEST(CptsBundle, CountCapsSlotsAndTheirChainsNotTotal) {
  auto r = one_doctor();
  cpts_slot(r, "a", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_CPTS}, {"950047225"});
  cpts_slot(r, "b", "2024-06-12T16:20:00+02:00", "2024-06-12T16:40:00+02:00", {pb::AUDIENCE_CPTS}, {"950046227"});
  add_example_cpts(r);
  ss::BuildReport report;
  const auto b = build_cpts(
      parse(cpts_target(kDoc, "2024-06-12T16:00:00.000%2B02:00", "2024-06-12T18:00:00.000%2B02:00", "&_count=1")), r,
      &report);
  EXPECT_EQ(b.at("total").as_int64(), 2);
  EXPECT_EQ(report.emitted, 1u);
  EXPECT_EQ(bv::resources(b, "Slot").size(), 1u);
  EXPECT_EQ(bv::resources(b, "HealthcareService").size(), 1u) << "only the chain of the slot shown";
  EXPECT_NE(bv::resolve(b, "Organization/cpts-1950047225"), nullptr);
}

TEST(CptsBundle, CptsNamedWithoutTheCptsAudienceAreIgnoredWithAWarning) {
  auto r = one_doctor();
  cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_PUBLIC}, {"950047225"});
  add_example_cpts(r);
  ss::BuildReport report;
  const auto b = build_cpts(parse(cpts_target(kDoc)), r, &report);
  EXPECT_EQ(security(slot_by_id(b, "s")), std::vector<std::string>{"PUBLIC"});
  EXPECT_TRUE(bv::resources(b, "HealthcareService").empty());
  EXPECT_TRUE(has_warning(report, "slot \"s\" names CPTS but is not open to CPTS"));
}

TEST(CptsBundle, BadCptsEntriesAreReported) {
  auto r = one_doctor();
  cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS}, {"950047225"});
  auto& bad = *r.add_cpts();
  bad.set_finess("95");
  auto& first = *r.add_cpts();
  first.set_finess("950047225");
  first.set_name("  CPTS AXE MAJEUR ");
  first.set_phone("12");
  auto& again = *r.add_cpts();
  again.set_finess("1950047225");
  again.set_name("Another name");
  ss::BuildReport report;
  const auto b = build_cpts(parse(cpts_target(kDoc)), r, &report);
  const auto* org = bv::resolve(b, "Organization/cpts-1950047225");
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(org->at("name"), "CPTS AXE MAJEUR") << "trimmed; the first entry wins";
  EXPECT_EQ(org->if_contains("telecom"), nullptr);
  EXPECT_TRUE(has_warning(report, "a CPTS entry has an invalid FINESS"));
  EXPECT_TRUE(has_warning(report, "CPTS 1950047225 appears more than once"));
  EXPECT_TRUE(has_warning(report, "CPTS 1950047225: phone not sent"));
}

// An empty answer is a success (FAQ error 9), with the CPTS Bundle profile. The profile wants at
// least four entries (a Slot, its Schedule, Practitioner and PractitionerRole), which no empty
// searchset can have: the validator's only complaints are those cardinalities.
TEST(CptsBundle, EmptyResultIsASuccessWithTotalZero) {
  const auto b = ss::build_search_bundle(parse(cpts_target(kDoc)), pb::SearchSlotsResponse{}, options());
  EXPECT_EQ(b.at("total").as_int64(), 0);
  EXPECT_EQ(b.at("meta").at("profile").as_array()[0].as_string(), kCptsProfile);
  EXPECT_EQ(b.if_contains("entry"), nullptr);
  const auto issues = profiles().validate_bundle(b);
  EXPECT_FALSE(issues.empty());
  for (const auto& issue : issues) {
    EXPECT_EQ(issue.element_id.rfind("Bundle.entry", 0), 0u) << sas::conformance::to_string(issue);
    EXPECT_EQ(issue.kind, "cardinality") << sas::conformance::to_string(issue);
  }
}

// ---- doctor settings and rules on CPTS slots -------------------------------------------------

ds::Snapshot snapshot_with(std::optional<bool> visible, std::vector<std::string> rules) {
  ds::Snapshot s;
  auto& doctor = s.doctors["810002909371"];
  doctor.settings.practitioner = "810002909371";
  doctor.settings.visible = visible;
  for (const auto& r : rules) doctor.rules.push_back(ds::parse_rule(json::parse(r), "810002909371"));
  return s;
}

// What SearchService does: the settings and rules on the plugin's answer, then the Bundle.
json::object published(const ds::Snapshot& snapshot, pb::SearchSlotsResponse r,
                       ds::PublicationResult* result = nullptr) {
  const auto applied = ds::apply(snapshot, r);
  if (result != nullptr) *result = applied;
  return build_cpts(parse(cpts_target(kDoc)), r);
}

// 12 June 2024 is a Wednesday.
TEST(CptsPublication, AnSnpHoursRuleRetypingAPublicCptsSlotKeepsCptsAndItsChain) {
  auto r = one_doctor();
  cpts_slot(r, "s", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_CPTS},
            {"950047225", "950046227"});
  add_example_cpts(r);
  ds::PublicationResult result;
  const auto b = published(snapshot_with(true, {R"({"kind":"snp-hours","days":["wed"],"from":"16:00","to":"18:00"})"}),
                           r, &result);
  EXPECT_EQ(result.retyped_slots, 1u);
  const auto& s = slot_by_id(b, "s");
  EXPECT_EQ(security(s), (std::vector<std::string>{"SNP", "CPTS"}));
  EXPECT_EQ(cpts_of(b, s), (std::vector<std::string>{kAxe, kVal}));
}

TEST(CptsPublication, RulesNeverAddCptsNorTypeACptsOnlySlot) {
  auto r = one_doctor();
  cpts_slot(r, "public", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_PUBLIC}, {});
  cpts_slot(r, "cpts-only", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS},
            {"950047225"});
  add_example_cpts(r);
  const auto b =
      published(snapshot_with(std::nullopt, {R"({"kind":"public-also-snp"})",
                                             R"({"kind":"snp-hours","days":["wed"],"from":"16:30","to":"18:00"})"}),
                r);
  EXPECT_EQ(security(slot_by_id(b, "public")), (std::vector<std::string>{"PUBLIC", "SNP"}));
  EXPECT_EQ(security(slot_by_id(b, "cpts-only")), std::vector<std::string>{"CPTS"}) << "not offered to SAS as SNP";
  EXPECT_EQ(cpts_of(b, slot_by_id(b, "cpts-only")), std::vector<std::string>{kAxe});
}

TEST(CptsPublication, HiddenMotivesApplyToCptsOnlySlotsToo) {
  auto r = one_doctor();
  cpts_slot(r, "ivg-only", "2024-06-12T16:00:00+02:00", "2024-06-12T16:20:00+02:00", {pb::AUDIENCE_CPTS}, {"950047225"})
      .add_motives("IVG");
  auto& mixed = cpts_slot(r, "mixed", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00", {pb::AUDIENCE_CPTS},
                          {"950047225"});
  mixed.add_motives("IVG");
  mixed.add_motives("Consultation");
  add_example_cpts(r);
  ds::PublicationResult result;
  const auto b = published(snapshot_with(true, {R"({"kind":"hide-motives","motives":["ivg"]})"}), r, &result);
  EXPECT_EQ(result.hidden_slots, 1u);
  EXPECT_EQ(bv::resolve(b, "Slot/ivg-only"), nullptr);
  const auto& s = slot_by_id(b, "mixed");
  EXPECT_EQ(s.at("serviceType").as_array().back().at("text"), "Consultation");
  EXPECT_EQ(s.at("serviceType").as_array().size(), 3u) << "AMB, the CPTS, Consultation";
}

TEST(CptsPublication, ADoctorNotVisibleToSasShowsNoSlotCptsOnesIncluded) {
  auto r = cpts_example_agenda(2);
  const auto q = parse(cpts_target(ids({kCptsExamplePractitioner})));
  ds::apply(snapshot_with(false, {}), r);
  const auto b = ss::build_search_bundle(q, r, options());
  EXPECT_EQ(b.at("total").as_int64(), 0);
  EXPECT_EQ(b.if_contains("entry"), nullptr);
}

// ---- the search service ----------------------------------------------------------------------

// A plugin in this process with the manifest a test gives it; answers the CPTS example agenda
// and records the requests it saw.
class ExamplePlugin final : public sas::host::plugin_loader::Plugin {
 public:
  ExamplePlugin(std::string flows, uint32_t abi_minor) {
    manifest_.name = "example";
    manifest_.abi_major = 1;
    manifest_.abi_minor = abi_minor;
    manifest_.flows = {};
    std::string::size_type start = 0;
    while (start <= flows.size()) {
      const auto comma = std::min(flows.find(',', start), flows.size());
      manifest_.flows.push_back(flows.substr(start, comma - start));
      start = comma + 1;
    }
    abi_ = SAS_ABI_MAKE_VERSION(1, abi_minor);
  }
  const sas::host::plugin_loader::PluginManifest& manifest() const override { return manifest_; }
  uint32_t abi_version() const override { return abi_; }
  bool free_threaded() const override { return true; }
  sas::host::plugin_loader::CallResult call(const pb::PluginRequest& request, pb::PluginResponse& response,
                                            std::chrono::system_clock::time_point, std::stop_token) override {
    std::lock_guard lock(mutex_);
    requests.push_back(request);
    *response.mutable_search_slots() = cpts_example_agenda(2);
    return {};
  }
  void shutdown() override {}
  const char* isolation() const override { return "in-process"; }

  std::vector<pb::PluginRequest> requests;

 private:
  sas::host::plugin_loader::PluginManifest manifest_;
  uint32_t abi_ = 0;
  std::mutex mutex_;
};

struct ServiceUnderTest {
  std::shared_ptr<ExamplePlugin> plugin;
  std::vector<std::string> log;
  std::unique_ptr<ss::SearchService> service;

  ServiceUnderTest(const std::string& flows, uint32_t abi_minor) {
    plugin = std::make_shared<ExamplePlugin>(flows, abi_minor);
    ss::SearchServiceOptions o;
    o.base_url = kBase;
    o.place_identifier_system = kCptsExamplePlaceSystem;
    o.log = [this](std::string_view line) { log.emplace_back(line); };
    service = std::make_unique<ss::SearchService>(plugin, std::move(o));
  }
};

TEST(CptsService, APluginThatDeclaresTheFlowIsAskedForCptsAndAnswersTheCptsBundle) {
  ServiceUnderTest t("slot-search,cpts-search", 5);
  EXPECT_TRUE(t.service->cpts_offered());
  pb::PluginResponse answer;
  const auto result = t.service->search(cpts_target(ids({kCptsExamplePractitioner})), answer);
  ASSERT_TRUE(result.ok()) << json::serialize(result.error->outcome);
  ASSERT_EQ(t.plugin->requests.size(), 1u);
  EXPECT_TRUE(t.plugin->requests[0].search_slots().cpts_search());
  const auto bundle = json::parse(result.bundle).as_object();
  expect_valid_cpts_bundle(bundle);
  EXPECT_EQ(bundle.at("total").as_int64(), 2) << "the example's slot and the CPTS-only one at 17:21";
  answer.Clear();
  const auto other = t.service->search(cpts_target(ids({kCptsExamplePractitioner, kCptsOnlyPractitioner})), answer);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(json::parse(other.bundle).at("total").as_int64(), 4);
  // The agenda's data warnings (here: the plugin over-answers, with doctors not asked for) are
  // logged under the flow's name.
  ASSERT_FALSE(t.log.empty());
  for (const auto& line : t.log) EXPECT_EQ(line.rfind("INT_R04 CPTS search: ", 0), 0u) << line;

  // INT_R01 through a service of the same plugin: not asked for CPTS, and the log says INT_R01.
  ServiceUnderTest u("slot-search,cpts-search", 5);
  answer.Clear();
  const auto individual =
      u.service->search(ss::slot_query_target({"810002909371", "810003333336", "810000000000"},
                                              "2024-06-12T16:00:00+02:00", "2024-06-12T18:00:00+02:00"),
                        answer);
  ASSERT_TRUE(individual.ok());
  ASSERT_EQ(u.plugin->requests.size(), 1u);
  EXPECT_FALSE(u.plugin->requests[0].search_slots().cpts_search());
  EXPECT_EQ(json::parse(individual.bundle).at("total").as_int64(), 2) << "the CPTS-only slots are not INT_R01's";
  ASSERT_TRUE(
      u.service
          ->search(ss::slot_query_target({"810000000000"}, "2024-06-12T16:00:00+02:00", "2024-06-12T18:00:00+02:00"),
                   answer)
          .ok());
  ASSERT_FALSE(u.log.empty());
  for (const auto& line : u.log) EXPECT_EQ(line.rfind("INT_R01 search: ", 0), 0u) << line;
}

TEST(CptsService, WithoutTheFlowACptsSearchIsRefusedBeforeThePluginIsCalled) {
  for (const auto& [flows, minor] :
       std::vector<std::pair<std::string, uint32_t>>{{"slot-search", 5}, {"slot-search,cpts-search", 4}}) {
    SCOPED_TRACE(flows + " ABI 1." + std::to_string(minor));
    ServiceUnderTest t(flows, minor);
    EXPECT_FALSE(t.service->cpts_offered());
    pb::PluginResponse answer;
    const auto result = t.service->search(cpts_target(ids({kCptsExamplePractitioner})), answer);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error->status, 400u);
    const auto& issue = result.error->outcome.at("issue").as_array()[0];
    EXPECT_EQ(issue.at("code"), "not-supported");
    EXPECT_NE(issue.at("diagnostics").as_string().find("does not offer the CPTS search (INT_R04)"), std::string::npos);
    EXPECT_EQ(issue.at("expression").as_array()[0], "_include");
    EXPECT_TRUE(t.plugin->requests.empty());
    // INT_R01 is still answered.
    EXPECT_TRUE(
        t.service
            ->search(ss::slot_query_target({"810002909371"}, "2024-06-12T16:00:00+02:00", "2024-06-12T18:00:00+02:00"),
                     answer)
            .ok());
  }
}

// ---- /metadata -----------------------------------------------------------------------------

const json::object* capability_resource(const json::object& cs, std::string_view type) {
  for (const auto& r : cs.at("rest").as_array()[0].at("resource").as_array()) {
    if (r.at("type").as_string() == type) return &r.as_object();
  }
  return nullptr;
}

TEST(CptsCapability, DeclaredOnlyWhenOfferedAndAgreesWithTheIgsCptsStatement) {
  const auto ig =
      json::parse(sas::test::read_file(sas::test::ig_dir() / "CapabilityStatement-SAS-GestionnaireAgenda-CPTS.json"))
          .as_object();
  const auto without = ss::build_capability_statement({});
  EXPECT_EQ(json::serialize(without).find("CPTS"), std::string::npos);
  EXPECT_EQ(json::serialize(without).find("service-type-reference"), std::string::npos);

  ss::CapabilityOptions o;
  o.cpts = true;
  const auto cs = ss::build_capability_statement(o);
  EXPECT_EQ(bv::empty_paths(cs), std::vector<std::string>{});
  const auto& instantiates = cs.at("instantiates").as_array();
  EXPECT_EQ(instantiates[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv");
  EXPECT_NE(std::find(instantiates.begin(), instantiates.end(), ig.at("url")), instantiates.end());
  for (const auto& r : ig.at("rest").as_array()[0].at("resource").as_array()) {
    const std::string type(r.at("type").as_string());
    SCOPED_TRACE(type);
    const auto* ours = capability_resource(cs, type);
    ASSERT_NE(ours, nullptr);
    if (type == "Slot") {
      // The IG's CPTS statement names the CPTS Slot profile; ours keeps INT_R01's as the base
      // and supports the CPTS one.
      EXPECT_EQ(ours->at("supportedProfile").as_array()[0], r.at("profile"));
      EXPECT_EQ(ours->at("searchInclude"), r.at("searchInclude"));
    } else {
      EXPECT_EQ(ours->at("profile"), r.at("profile"));
    }
  }
  const auto* service = capability_resource(cs, "HealthcareService");
  const auto* organization = capability_resource(cs, "Organization");
  ASSERT_TRUE(service && organization);
  EXPECT_EQ(service->at("profile"),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator");
  EXPECT_EQ(organization->at("profile"),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator");
}

}  // namespace
