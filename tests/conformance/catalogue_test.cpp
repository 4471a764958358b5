// The suite's catalogue and resource checks against the official IG package: every official
// example passes every applicable check, and mutated copies of them (made here, never
// hand-edited files) are caught by exactly the check they break.
#include <sas/conformance/catalogue.hpp>
#include <sas/conformance/report.hpp>
#include <sas/conformance/resource_checks.hpp>
#include <sas/conformance/scenarios.hpp>
#include <sas_test/support.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace sas::conformance;

const ProfileSet& profiles() {
  static const ProfileSet set = ProfileSet::load(sas::test::ig_dir());
  return set;
}

const Catalogue& catalogue() {
  static const Catalogue cat = Catalogue::build(profiles());
  return cat;
}

json::value example(const std::string& file) {
  return json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / file));
}

std::set<std::string> failing_ids(const std::vector<Finding>& findings) {
  std::set<std::string> ids;
  for (const auto& f : findings) ids.insert(f.check_id);
  return ids;
}

std::string describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.check_id + " " + f.path + ": " + f.message + "\n";
  return out;
}

TEST(Catalogue, IdsAreUniqueAndEveryCheckIsComplete) {
  std::set<std::string> ids;
  for (const auto& c : catalogue().checks()) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_FALSE(c.title.empty()) << c.id;
    EXPECT_TRUE(c.reference.starts_with("https://")) << c.id;
    EXPECT_FALSE(c.modes.empty()) << c.id;
    EXPECT_FALSE(c.flow.empty()) << c.id;
  }
  for (int i = 1; i <= 11; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "R01-FAQ-%02d", i);
    EXPECT_NE(catalogue().find(id), nullptr) << id;
  }
}

// The severity rule (docs/certification.md): an error cites the SHALL of the IG, its FAQ or
// ANS's test kit that makes it one; anything else is a warning.
TEST(Catalogue, EveryErrorCheckCitesTheRequirementThatMakesItOne) {
  for (const auto& c : catalogue().checks()) {
    if (c.severity != Severity::error) continue;
    EXPECT_FALSE(c.citation.empty()) << c.id << " is an error without a citation";
    EXPECT_FALSE(c.citation.starts_with("warning")) << c.id << ": " << c.citation;
    const bool names_a_source =
        c.citation.find("agg-psindiv@") != std::string::npos || c.citation.find("ig_launch_") != std::string::npos ||
        c.citation.find("IG") != std::string::npos || c.citation.find("FAQ") != std::string::npos;
    EXPECT_TRUE(names_a_source) << c.id << " cites no IG page, FAQ item or ANS requirement: " << c.citation;
  }
}

// The CPTS and SOS groups: numbered, tied to their IG page, and every kit test they cite is one of
// the kit's (kit_tests()), every one of which but the tester-input one is covered.
TEST(Catalogue, CptsAndSosGroupsCiteTheirIgPageAndTheKitsTests) {
  std::set<std::string> kit_ids;
  for (const auto& t : kit_tests()) EXPECT_TRUE(kit_ids.insert(t.id).second) << t.id;
  std::map<std::string, int> per_group;
  for (const auto& c : catalogue().checks()) {
    for (const auto& r : c.requirements)
      if (r.starts_with("ig_launch_")) {
        EXPECT_TRUE(kit_ids.contains(r)) << c.id << " cites " << r << ", not a kit test";
      }
    if (c.group == "PROFILE") continue;
    if (c.flow == "INT_R04") {
      ++per_group[c.id.substr(0, c.id.rfind('-'))];
      EXPECT_THAT(c.reference, testing::HasSubstr("specifications_techniques-cpts-recherche_creneaux")) << c.id;
      EXPECT_TRUE(c.id.starts_with("R04-QUERY-") || c.id.starts_with("R04-CPTS-")) << c.id;
    }
    if (c.flow == "SOS") {
      ++per_group[c.id.substr(0, c.id.rfind('-'))];
      EXPECT_THAT(c.reference, testing::HasSubstr("specifications_techniques-sos-recherche_creneaux")) << c.id;
    }
  }
  EXPECT_EQ(per_group["R04-QUERY"], 7);
  EXPECT_EQ(per_group["R04-CPTS"], 10);
  EXPECT_EQ(per_group["SOS-QUERY"], 6);
  EXPECT_EQ(per_group["SOS-BUNDLE"], 15);
  std::vector<std::string> uncovered;
  for (const auto& [test, ids] : kit_coverage(catalogue()))
    if (ids.empty()) uncovered.push_back(test.id);
  // The kit asks the tester which slot types the solution offers; the suite has no such input.
  EXPECT_EQ(uncovered, std::vector<std::string>{"ig_launch_2:cpts_validate_slot_type"});
  for (const char* name : {"BundleAgregateurCPTS", "FrSlotAgregateurCPTS", "FrHealthcareServiceAgregateurCPTS",
                           "FrOrganizationAgregateurCPTS", "BundleAgregateurSOS", "FrSlotAgregateurSOS",
                           "FrScheduleAgregateurSOS", "FrLocationAgregateurSOS", "FrOrganizationAgregateurSOS"}) {
    int n = 0;
    for (const auto& c : catalogue().checks())
      if (c.group == "PROFILE" && c.title.starts_with(std::string(name) + ":")) {
        ++n;
        EXPECT_EQ(c.modes, "plugin endpoint") << c.id;
      }
    EXPECT_GE(n, 9) << name;
  }
  // The SOS slot types' binding is numbered by the written check, not by a generated one.
  Issue binding{"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator",
                "Slot.meta.security", "entry[0].resource.meta.security[0]", "binding", "PRO"};
  ASSERT_NE(catalogue().for_issue(binding), nullptr);
  EXPECT_EQ(catalogue().for_issue(binding)->id, "SOS-BUNDLE-005");
}

// The two checks that failed a correct vendor (issue: _count is not in the IG's
// CapabilityStatement; the platform never sends unprefixed ids) report without failing.
TEST(Catalogue, ChecksBeyondTheGuideAreWarnings) {
  for (const char* id : {"R01-QUERY-007", "R01-QUERY-008"}) {
    const Check* c = catalogue().find(id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(c->severity, Severity::warning) << id;
  }
  const auto& mapped = catalogue().find("R01-QUERY-008")->requirements;
  EXPECT_EQ(std::find(mapped.begin(), mapped.end(), "agg-psindiv@16"), mapped.end())
      << "agg-psindiv@16 is about Practitioner.identifier, not the query";
}

TEST(Verdict, OnlyErrorChecksFailTheRun) {
  sas::conformance::Run run(catalogue());
  run.ran("R01-QUERY-001");
  run.fail({"R01-QUERY-007", "R01-QUERY-007 answer", "entry", "_count=1 but more than one Slot"});
  run.fail({"R01-QUERY-008", "R01-QUERY-008 answer", "", "unprefixed ids found nothing"});
  EXPECT_TRUE(run.passed()) << "warnings alone failed the run";
  std::ostringstream summary;
  run.write_summary(summary);
  EXPECT_THAT(summary.str(), testing::HasSubstr("WARN R01-QUERY-007"));
  EXPECT_THAT(summary.str(), testing::HasSubstr("verdict: PASS"));

  run.fail({"R01-QUERY-009", "R01-QUERY-009 answer", "", "404 for an unknown practitioner"});
  EXPECT_FALSE(run.passed());
  std::ostringstream failed;
  run.write_summary(failed);
  EXPECT_THAT(failed.str(), testing::HasSubstr("FAIL R01-QUERY-009"));
  EXPECT_THAT(failed.str(), testing::HasSubstr("agg-psindiv@8"));  // the citation, with the failure
}

TEST(Catalogue, ProfileChecksAreGeneratedFromTheStructureDefinitions) {
  std::map<std::string, int> per_profile;
  for (const auto& c : catalogue().checks())
    if (c.group == "PROFILE") ++per_profile[c.profile_url];
  for (const char* name : {"BundleAgregateur", "FrSlotAgregateur", "FrScheduleAgregateur", "FrPractitionerAgregateur",
                           "FrPractitionerRoleExerciceAgregateur", "FrLocationAgregateur"})
    EXPECT_GT(per_profile[std::string("http://sas.fr/fhir/StructureDefinition/") + name], 5) << name;
  // One check per enforced constraint (but "empty", which is R01-FAQ-10), in the same order.
  const std::string slot = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur";
  std::vector<std::string> expected, actual;
  for (const auto& c : profiles().constraints(slot))
    if (c.enforced && c.kind != "empty") expected.push_back(c.element_id + "|" + c.kind);
  for (const auto& c : catalogue().checks())
    if (c.profile_url == slot) actual.push_back(c.element_id + "|" + c.constraint_kind);
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(catalogue().find("R01-PROFILE-SLOT-001")->profile_url, slot);
  // Deterministic numbering.
  const Catalogue again = Catalogue::build(profiles());
  ASSERT_EQ(again.checks().size(), catalogue().checks().size());
  for (std::size_t i = 0; i < again.checks().size(); ++i) EXPECT_EQ(again.checks()[i].id, catalogue().checks()[i].id);
}

TEST(Catalogue, CoverageOfAnsRequirements) {
  auto requirements =
      load_requirements(sas::test::ig_dir().parent_path() / "ans-test-kit" / "sas_test_kit_requirements.csv");
  ASSERT_EQ(requirements.size(), 49U);
  EXPECT_EQ(requirements.front().id, "agg-psindiv@1");
  std::size_t covered = 0;
  for (const auto& [req, ids] : coverage(catalogue(), requirements)) covered += ids.empty() ? 0 : 1;
  EXPECT_GE(covered, 40U);
}

TEST(OfficialExamples, PassEveryApplicableCheck) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(sas::test::ig_dir() / "example")) {
    const std::string name = entry.path().filename().string();
    auto findings = check_document(catalogue(), profiles(), json::parse(sas::test::read_file(entry.path())), name);
    EXPECT_TRUE(findings.empty()) << name << ":\n" << describe(findings);
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

// --- Mutation self-test ---------------------------------------------------------------------------

json::object& first(json::value& bundle, const std::string& type) {
  for (auto& e : bundle.as_object()["entry"].as_array()) {
    auto& r = e.as_object()["resource"].as_object();
    if (r["resourceType"] == type.c_str()) return r;
  }
  throw std::runtime_error("no " + type);
}

// The search whose checks judge the document.
enum class Search { slots, cpts, sos };

std::vector<Finding> check_answer(Search search, const json::value& bundle, const std::string& label,
                                  const SearchContext& context) {
  switch (search) {
    case Search::cpts:
      return check_cpts_bundle(catalogue(), profiles(), bundle, label, context);
    case Search::sos:
      return check_sos_bundle(catalogue(), profiles(), bundle, label, context);
    case Search::slots:
      break;
  }
  return check_search_bundle(catalogue(), profiles(), bundle, label, context);
}

struct Mutation {
  std::string check_id;
  std::string file;
  std::function<void(json::value&)> mutate;
  SearchContext context = {};
  Search search = Search::slots;
};

json::object& by_id(json::value& bundle, const std::string& type, const std::string& id) {
  for (auto& e : bundle.as_object()["entry"].as_array()) {
    auto& r = e.as_object()["resource"].as_object();
    if (r["resourceType"] == type.c_str() && r["id"] == id.c_str()) return r;
  }
  throw std::runtime_error("no " + type + "/" + id);
}

void remove_entry(json::value& bundle, const std::string& type, const std::string& id) {
  auto& entries = bundle.as_object()["entry"].as_array();
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    auto& r = it->as_object()["resource"].as_object();
    if (r["resourceType"] == type.c_str() && r["id"] == id.c_str()) {
      entries.erase(it);
      return;
    }
  }
  throw std::runtime_error("no " + type + "/" + id);
}

// INT_R04 and SOS mutations: of ExampleBundleCPTS1/2 (a slot open to one CPTS, to two) and of
// ExampleBundleAgregateurSOS (two associations, three places, four slots).
std::vector<Mutation> cpts_and_sos_mutations() {
  const std::string cpts1 = "Bundle-ExampleBundleCPTS1.json";
  const std::string cpts2 = "Bundle-ExampleBundleCPTS2.json";
  const std::string sos = "Bundle-ExampleBundleAgregateurSOS.json";
  const auto C = Search::cpts;
  const auto S = Search::sos;
  SearchContext two;  // the example's practitioner declared with a slot open to two CPTS
  two.cpts_two = {"810002909371"};
  SearchContext declared;  // and a second practitioner open to CPTS, not in the answer
  declared.cpts_practitioners = {"810002909371", "810101215225"};
  SearchContext window;  // the example's window is 2023-08-18 09:00 to 2023-08-20 08:00 (+02:00)
  window.from = std::chrono::sys_days(std::chrono::year{2023} / 8 / 18) + std::chrono::hours(7);
  window.to = std::chrono::sys_days(std::chrono::year{2023} / 8 / 20) + std::chrono::hours(6);
  SearchContext missing;  // a third association declared with slots
  missing.sos_declared = {"334173748400020", "392080466300010", "378901234500011"};
  SearchContext asked;  // the request named other parameters than the self link
  asked.request_target =
      "/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization"
      "&_has:Slot:schedule:start=ge2023-08-18T09:00:00+02:00&_has:Slot:schedule:start=le2023-08-20T08:00:00+02:00"
      "&_has:Slot:schedule:status=free&actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2%7C"
      "334173748400020&_count=1000";
  auto security = [](json::value& b) -> json::array& {
    return first(b, "Slot")["meta"].as_object()["security"].as_array();
  };
  return {
      {"R04-CPTS-001",
       cpts1,
       [](json::value& b) {
         by_id(b, "Organization", "ExampleOrgaCPTS1")["meta"].as_object()["profile"] =
             json::array{"http://interopsante.org/fhir/StructureDefinition/FrOrganization"};
       },
       {},
       C},
      {"R04-CPTS-002",
       cpts1,
       [](json::value& b) {  // typed CPTS, its serviceType 604 gone
         auto& st = first(b, "Slot")["serviceType"].as_array();
         st.erase(st.begin() + 1);
       },
       {},
       C},
      {"R04-CPTS-003", cpts1, [&](json::value& b) { security(b).erase(security(b).begin() + 1); }, {}, C},
      {"R04-CPTS-004", cpts1, [](json::value& b) { remove_entry(b, "Organization", "ExampleOrgaCPTS1"); }, {}, C},
      {"R04-CPTS-005",
       cpts1,
       [](json::value& b) {  // a second HealthcareService for the same CPTS
         auto& entries = b.as_object()["entry"].as_array();
         json::value extra = entries[4];
         extra.as_object()["fullUrl"] = "https://<base_URl>/HealthcareService/Again";
         extra.as_object()["resource"].as_object()["id"] = "Again";
         entries.push_back(std::move(extra));
       },
       {},
       C},
      {"R04-CPTS-006",
       cpts1,
       [](json::value& b) {  // the same CPTS twice (FAQ 11)
         auto& st = first(b, "Slot")["serviceType"].as_array();
         json::value copy = st[1];
         st.push_back(copy);
       },
       {},
       C},
      {"R04-CPTS-006", cpts2,
       [](json::value& b) {  // the slot open to two CPTS linked to one
         auto& st = first(b, "Slot")["serviceType"].as_array();
         st.erase(st.begin() + 2);
         remove_entry(b, "HealthcareService", "ExampleHealthcareServiceCPTS2");
         remove_entry(b, "Organization", "ExampleOrgaCPTS2");
       },
       two, C},
      {"R04-CPTS-007",
       cpts1,
       [](json::value& b) {
         by_id(b, "Organization", "ExampleOrgaCPTS1")["identifier"].as_array()[0].as_object()["value"] = "950047225";
       },
       {},
       C},
      {"R04-CPTS-008",
       cpts2,
       [](json::value& b) { by_id(b, "Organization", "ExampleOrgaCPTS2").erase("name"); },
       {},
       C},
      {"R04-CPTS-009",
       cpts1,
       [](json::value& b) {
         by_id(b, "Organization", "ExampleOrgaCPTS1")["telecom"].as_array()[0].as_object()["value"] = "01 02 03 04 05";
       },
       {},
       C},
      {"R04-CPTS-010", cpts1, [](json::value&) {}, declared, C},
      {"SOS-BUNDLE-001",
       sos,
       [](json::value& b) {
         by_id(b, "Organization", "ExampleOrgaSOS2")["meta"].as_object()["profile"] =
             json::array{"http://interopsante.org/fhir/StructureDefinition/FrOrganization"};
       },
       {},
       S},
      {"SOS-BUNDLE-002",
       sos,
       [](json::value& b) {
         b.as_object()["entry"].as_array()[1].as_object()["search"].as_object()["mode"] = "include";
       },
       {},
       S},
      {"SOS-BUNDLE-003", sos, [](json::value& b) { b.as_object()["total"] = 2; }, {}, S},
      {"SOS-BUNDLE-004", sos, [](json::value& b) { first(b, "Slot")["end"] = "2023-08-18T08:30:00.000+02:00"; }, {}, S},
      {"SOS-BUNDLE-004", sos,
       [](json::value& b) {
         by_id(b, "Slot", "ExampleSlotSOS2")["start"] = "2023-08-21T11:00:00.000+02:00";
         by_id(b, "Slot", "ExampleSlotSOS2")["end"] = "2023-08-21T11:30:00.000+02:00";
       },
       window, S},
      {"SOS-BUNDLE-005", sos, [&](json::value& b) { security(b)[1].as_object()["code"] = "PRO"; }, {}, S},
      {"SOS-BUNDLE-006",
       sos,
       [](json::value& b) {
         by_id(b, "Slot", "ExampleSlotSOS4")["schedule"].as_object()["reference"] = "Schedule/Gone";
       },
       {},
       S},
      {"SOS-BUNDLE-007",
       sos,
       [](json::value& b) {  // two Schedules for the place Rennes Nord
         by_id(b, "Schedule", "ExampleScheduleSOS2")["actor"].as_array()[0].as_object()["reference"] =
             "Location/1111111111";
       },
       {},
       S},
      {"SOS-BUNDLE-008", sos, [](json::value& b) { remove_entry(b, "Organization", "ExampleOrgaSOS2"); }, {}, S},
      {"SOS-BUNDLE-009",
       sos,
       [](json::value& b) {
         by_id(b, "Organization", "ExampleOrgaSOS1")["identifier"].as_array()[0].as_object()["value"] =
             "34173748400020";
       },
       {},
       S},
      {"SOS-BUNDLE-009", sos, [](json::value&) {}, missing, S},
      {"SOS-BUNDLE-010",
       sos,
       [](json::value& b) {
         auto& link = b.as_object()["link"].as_array()[0].as_object();
         link["url"] = "https://editeur.fr/Slot?status=free";
       },
       {},
       S},
      {"SOS-BUNDLE-010", sos, [](json::value&) {}, asked, S},
      {"SOS-BUNDLE-011",
       sos,
       [](json::value& b) {
         by_id(b, "Location", "2222222222")["telecom"].as_array()[0].as_object()["value"] = "02 99 00 00 00";
       },
       {},
       S},
      {"SOS-BUNDLE-012", sos, [](json::value& b) { by_id(b, "Organization", "ExampleOrgaSOS1").erase("name"); }, {}, S},
      {"SOS-BUNDLE-013", sos, [](json::value& b) { by_id(b, "Slot", "ExampleSlotSOS3").erase("comment"); }, {}, S},
      {"SOS-BUNDLE-014", sos, [](json::value& b) { by_id(b, "Location", "3333333333")["name"] = " "; }, {}, S},
      {"SOS-BUNDLE-015",
       sos,
       [](json::value& b) {
         auto& entries = b.as_object()["entry"].as_array();
         entries.push_back(entries[2]);  // Location 1111111111 again
       },
       {},
       S},
  };
}

std::vector<Mutation> written_mutations() {
  const std::string psindiv = "Bundle-ExampleBundlePSIndiv.json";
  const std::string cpts = "Bundle-ExampleBundleCPTS1.json";
  SearchContext window;
  window.from = std::chrono::sys_days(std::chrono::year{2021} / 11 / 4);
  window.to = std::chrono::sys_days(std::chrono::year{2021} / 11 / 7);
  SearchContext asked;
  asked.practitioners = {"810002673899"};
  return {
      {"R01-BUNDLE-001", psindiv, [](json::value& b) { b.as_object()["total"] = 7; }},
      {"R01-BUNDLE-002", psindiv,
       [](json::value& b) {
         b.as_object()["entry"].as_array()[1].as_object()["search"].as_object()["mode"] = "match";
       }},
      {"R01-BUNDLE-003", psindiv,
       [](json::value& b) {
         first(b, "Slot")["start"] = "2021-11-08T09:00:00.000+00:00";
         first(b, "Slot")["end"] = "2021-11-08T09:30:00.000+00:00";
       },
       window},
      {"R01-BUNDLE-004", psindiv, [](json::value& b) { first(b, "Slot")["end"] = "2021-11-05T08:00:00.000+00:00"; }},
      {"R01-BUNDLE-005", psindiv,
       [](json::value& b) {
         auto& entries = b.as_object()["entry"].as_array();
         entries.push_back(entries[2]);  // the Practitioner again
       }},
      {"R01-BUNDLE-006", psindiv, [](json::value& b) { first(b, "Slot")["comment"] = "call the practice"; }},
      {"R01-BUNDLE-007", psindiv, [](json::value& b) { first(b, "Slot")["start"] = "2021-11-05T09:00:00+00:00"; }},
      {"R01-BUNDLE-008", psindiv,
       [](json::value& b) {
         first(b, "Slot")["appointmentType"].as_object()["coding"].as_array()[0].as_object()["code"] = "EMERGENCY";
       }},
      {"R01-FAQ-01", psindiv,
       [](json::value& b) {
         first(b, "Practitioner")["identifier"].as_array()[0].as_object()["value"] = "10100050075";
       }},
      {"R01-FAQ-02", psindiv,
       [](json::value& b) {
         first(b, "Practitioner")["telecom"] =
             json::array{json::object{{"system", "phone"}, {"value", "05 53 00 00 00"}}};
       }},
      {"R01-FAQ-03", psindiv,
       [](json::value& b) {
         first(b, "Slot")["specialty"].as_array()[0] =
             json::object{{"coding", json::array{json::object{{"system", "urn:oid:1.2.3"}, {"code", "SM54"}}}}};
       }},
      {"R01-FAQ-04", psindiv,
       [](json::value& b) {
         first(b, "Slot")["meta"].as_object()["security"].as_array()[0].as_object()["code"] = "PRIVATE";
       }},
      {"R01-FAQ-05", psindiv,
       [](json::value& b) {
         auto& st = first(b, "Slot")["serviceType"].as_array();
         st = json::array{st.back()};  // the motive only
       }},
      {"R01-FAQ-06", psindiv,
       [](json::value& b) {
         // Typed CPTS without the serviceType → HealthcareService → Organization chain.
         first(b, "Slot")["meta"].as_object()["security"].as_array().push_back(
             json::object{{"system", "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"},
                          {"code", "CPTS"}});
       }},
      {"R01-FAQ-07", psindiv,
       [](json::value& b) {
         // The second place's PractitionerRole claims the other doctor.
         for (auto& e : b.as_object()["entry"].as_array()) {
           auto& r = e.as_object()["resource"].as_object();
           if (r["resourceType"] == "PractitionerRole" && r["id"] == "ExamplePractitionerRoleAgregateur2")
             r["practitioner"].as_object()["reference"] = "Practitioner/ExamplePractitioner3";
         }
       }},
      {"R01-FAQ-08", psindiv, [](json::value&) {}, asked},
      {"R01-FAQ-10", psindiv, [](json::value& b) { first(b, "Slot")["comment"] = "  "; }},
      {"R01-FAQ-11", cpts,
       [](json::value& b) {
         auto& slot = first(b, "Slot");
         auto& st = slot["serviceType"].as_array();
         json::value copy = st[1];
         st.push_back(copy);  // the same CPTS twice
       }},
  };
}

TEST(MutationSelfTest, EachWrittenCheckCatchesItsMutationAndOnlyIt) {
  std::set<std::string> covered;
  auto mutations = written_mutations();
  for (auto& m : cpts_and_sos_mutations()) mutations.push_back(std::move(m));
  for (const auto& m : mutations) {
    json::value original = example(m.file);
    // The unmutated example passes; a mutation made of the context alone (a doctor not asked for, a
    // practitioner or association declared but absent) fails it.
    const bool context_only = m.check_id == "R01-FAQ-08" || !m.context.cpts_practitioners.empty() ||
                              !m.context.cpts_two.empty() || !m.context.sos_declared.empty() ||
                              !m.context.request_target.empty();
    if (!context_only) {
      auto clean = check_answer(m.search, original, m.file, m.context);
      EXPECT_TRUE(clean.empty()) << m.check_id << " unmutated:\n" << describe(clean);
    }
    json::value mutated = original;
    m.mutate(mutated);
    auto findings = check_answer(m.search, mutated, m.file, m.context);
    EXPECT_EQ(failing_ids(findings), std::set<std::string>{m.check_id}) << m.check_id << ":\n" << describe(findings);
    covered.insert(m.check_id);
  }
  // Every written check that applies to resources has its mutation.
  for (const auto& c : catalogue().checks())
    if ((c.group == "BUNDLE" || c.group == "FAQ" || c.group == "CPTS") && c.id != "R01-FAQ-09") {
      EXPECT_TRUE(covered.contains(c.id)) << c.id << " has no mutation";
    }
}

// The official CPTS and SOS examples are judged by their search's checks (check_document routes
// them by their Bundle profile), and pass every one of them.
TEST(OfficialExamples, CptsAndSosBundlesPassEveryCheckOfTheirGroup) {
  for (const char* file : {"Bundle-ExampleBundleCPTS1.json", "Bundle-ExampleBundleCPTS2.json"}) {
    const json::value bundle = example(file);
    EXPECT_EQ(describe(check_document(catalogue(), profiles(), bundle, file)), "") << file;
    SearchContext context;  // and as the answer to the search the example stands for
    context.practitioners = {"810002909371"};
    context.cpts_practitioners = {"810002909371"};
    if (std::string(file).find("CPTS2") != std::string::npos) context.cpts_two = {"810002909371"};
    EXPECT_EQ(describe(check_cpts_bundle(catalogue(), profiles(), bundle, file, context)), "") << file;
  }
  const auto ids = cpts_bundle_check_ids(catalogue());
  for (const char* id : {"R04-CPTS-001", "R04-CPTS-010", "R04-PROFILE-SERVICE-010", "R01-FAQ-01", "R01-BUNDLE-001",
                         "R01-PROFILE-ROLE-001"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  for (const char* id : {"R01-FAQ-06", "R01-FAQ-11", "R01-PROFILE-BUNDLE-001", "R01-PROFILE-SLOT-001"})
    EXPECT_EQ(std::find(ids.begin(), ids.end(), id), ids.end()) << id << ": the CPTS checks judge that part";
  const std::string sos = "Bundle-ExampleBundleAgregateurSOS.json";
  EXPECT_EQ(describe(check_document(catalogue(), profiles(), example(sos), sos)), "");
  SearchContext asked;  // the search of its self link
  asked.from = std::chrono::sys_days(std::chrono::year{2023} / 8 / 18) + std::chrono::hours(7);
  asked.to = std::chrono::sys_days(std::chrono::year{2023} / 8 / 20) + std::chrono::hours(6);
  asked.sirets = {"334173748400020", "392080466300010"};
  asked.sos_declared = asked.sirets;
  asked.count_given = true;
  asked.request_target = sos_query({"334173748400020", "392080466300010"}, *asked.from, *asked.to,
                                   QueryForm{.bar = "%7C", .plus = "+", .millis = false, .count = 1000});
  EXPECT_EQ(describe(check_sos_bundle(catalogue(), profiles(), example(sos), sos, asked)), "");
}

// What the suite sends is the platform's query: the SOS one byte for byte as the IG example's self
// link, the CPTS one with the parameters of the IG page.
TEST(Queries, AreThePlatformsQueries) {
  const Instant from = std::chrono::sys_days(std::chrono::year{2023} / 8 / 18) + std::chrono::hours(7);
  const Instant to = std::chrono::sys_days(std::chrono::year{2023} / 8 / 20) + std::chrono::hours(6);
  const auto link = example("Bundle-ExampleBundleAgregateurSOS.json").at("link").at(0).at("url").as_string();
  EXPECT_EQ("https://editeur.fr" + sos_query({"334173748400020", "392080466300010"}, from, to,
                                             QueryForm{.bar = "%7C", .plus = "+", .millis = false, .count = 1000}),
            std::string(link));
  const Instant cpts_from =
      std::chrono::sys_days(std::chrono::year{2024} / 6 / 12) + std::chrono::hours(14) + std::chrono::minutes(20);
  EXPECT_EQ(cpts_query({"810002909371"}, cpts_from, cpts_from + std::chrono::hours(1)),
            "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference"
            "&_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:00.000%2B02:00"
            "&start=le2024-06-12T17:20:00.000%2B02:00&schedule.actor:Practitioner.identifier="
            "urn:oid:1.2.250.1.71.4.2.1|810002909371&status=free");
  EXPECT_EQ(siret_with_key("3417374840002"), "334173748400020");
}

// Profile checks: the test derives a mutation from the constraint itself and the profile's
// snapshot (never from the check it expects), applies it to a copy of an official example that
// declares the profile, and expects exactly that check. The instance of an element is found by
// walking its snapshot id through the JSON, matching slices by their discriminators.

struct Segment {
  std::string name;   // "serviceType", "value[x]"
  std::string slice;  // "TypeConsultation", ""
};

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  std::string part;
  for (char ch : s) {
    if (ch == c) {
      out.push_back(part);
      part.clear();
    } else {
      part += ch;
    }
  }
  out.push_back(part);
  return out;
}

std::vector<Segment> segments(const std::string& element_id) {
  std::vector<Segment> out;
  for (const auto& part : split(element_id, '.')) {
    auto colon = part.find(':');
    out.push_back(colon == std::string::npos ? Segment{part, ""}
                                             : Segment{part.substr(0, colon), part.substr(colon + 1)});
  }
  return out;
}

std::string parent_id(const std::string& element_id) { return element_id.substr(0, element_id.rfind('.')); }

const ElementDefinition* element(const StructureDefinition& sd, std::string_view id) {
  for (const auto& e : sd.elements)
    if (e.id == id) return &e;
  return nullptr;
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string strip_version(std::string_view url) { return std::string(url.substr(0, url.find('|'))); }

bool contains_pattern(const json::value& v, const json::value& pattern) {
  if (pattern.is_object()) {
    if (!v.is_object()) return false;
    for (const auto& kv : pattern.as_object()) {
      const auto* x = v.as_object().if_contains(kv.key());
      if (!x || !contains_pattern(*x, kv.value())) return false;
    }
    return true;
  }
  if (pattern.is_array()) {
    if (!v.is_array()) return false;
    for (const auto& p : pattern.as_array())
      if (std::none_of(v.as_array().begin(), v.as_array().end(),
                       [&](const json::value& i) { return contains_pattern(i, p); }))
        return false;
    return true;
  }
  return v == pattern;
}

bool has_value(const ElementDefinition& el, const json::value& v) {
  if (el.fixed) return v == *el.fixed;
  if (el.pattern) return contains_pattern(v, *el.pattern);
  return false;
}

std::vector<const json::value*> collect(const json::value& from, const std::vector<std::string>& path) {
  std::vector<const json::value*> cur{&from};
  for (const auto& key : path) {
    std::vector<const json::value*> next;
    for (const auto* v : cur) {
      const auto* child = v->is_object() ? v->as_object().if_contains(key) : nullptr;
      if (child && child->is_array())
        for (const auto& i : child->as_array()) next.push_back(&i);
      else if (child)
        next.push_back(child);
    }
    cur = std::move(next);
  }
  return cur;
}

bool in_value_set(const std::string& value_set, const json::value& v) {
  if (v.is_object() && v.as_object().contains("coding")) {
    const auto& codings = v.as_object().at("coding");
    return codings.is_array() && std::any_of(codings.as_array().begin(), codings.as_array().end(),
                                             [&](const json::value& c) { return in_value_set(value_set, c); });
  }
  if (!v.is_object()) return false;
  const auto* system = v.as_object().if_contains("system");
  const auto* code = v.as_object().if_contains("code");
  return system && code && system->is_string() && code->is_string() &&
         profiles().value_set_contains(value_set, system->as_string(), code->as_string()).value_or(false);
}

// Whether `item` (a value of the sliced element `sliced_id`) belongs to the slice `slice_id`, by
// the slicing's discriminators.
bool in_slice(const StructureDefinition& sd, const std::string& sliced_id, const std::string& slice_id,
              const json::value& item) {
  const auto* sliced = element(sd, sliced_id);
  const auto* slice = element(sd, slice_id);
  if (!sliced || !slice || !sliced->slicing || sliced->slicing->discriminators.empty()) return false;
  for (const auto& d : sliced->slicing->discriminators) {
    const bool self = d.path == "$this";
    const auto values = collect(item, self ? std::vector<std::string>{} : split(d.path, '.'));
    const auto* target = self ? slice : element(sd, slice_id + "." + d.path);
    bool ok = false;
    if (d.type == "value" || d.type == "pattern") {
      if (target && (target->fixed || target->pattern)) {
        ok = std::any_of(values.begin(), values.end(), [&](const json::value* v) { return has_value(*target, *v); });
      } else if (d.path == "url" && !slice->types.empty() && !slice->types[0].profiles.empty()) {
        const std::string url = strip_version(slice->types[0].profiles[0]);
        ok = std::any_of(values.begin(), values.end(),
                         [&](const json::value* v) { return v->is_string() && v->as_string() == url; });
      } else if (target && target->binding && target->binding->strength == "required" &&
                 profiles().value_set_contains(target->binding->value_set, "", "").has_value()) {
        ok = std::any_of(values.begin(), values.end(),
                         [&](const json::value* v) { return in_value_set(target->binding->value_set, *v); });
      } else if (self) {  // what the slice's descendants fix
        for (const auto& e : sd.elements) {
          if (!e.id.starts_with(slice_id + ".") || (!e.fixed && !e.pattern) ||
              e.id.find(':', slice_id.size()) != std::string::npos)
            continue;
          auto found = collect(item, split(e.id.substr(slice_id.size() + 1), '.'));
          ok = std::any_of(found.begin(), found.end(), [&](const json::value* v) { return has_value(e, *v); });
          if (!ok) break;
        }
      }
    } else if ((d.type == "type" || d.type == "profile") && target && !target->types.empty() && !values.empty() &&
               values[0]->is_object()) {
      const auto& r = values[0]->as_object();
      const auto* rt = r.if_contains("resourceType");
      ok = rt && rt->is_string() && rt->as_string() == target->types[0].code;
      if (ok && d.type == "profile" && !target->types[0].profiles.empty()) {
        const auto* meta = r.if_contains("meta");
        const auto* list = meta && meta->is_object() ? meta->as_object().if_contains("profile") : nullptr;
        const std::string want = strip_version(target->types[0].profiles[0]);
        ok = list && list->is_array() && std::any_of(list->as_array().begin(), list->as_array().end(), [&](auto& p) {
               return p.is_string() && strip_version(p.as_string()) == want;
             });
      }
    }
    if (!ok) return false;
  }
  return true;
}

// The JSON key of element segment `seg` in `o` ("" when a choice element has no value there).
std::string key_for(const json::object& o, const Segment& seg) {
  if (!seg.name.ends_with("[x]")) return seg.name;
  const std::string base = seg.name.substr(0, seg.name.size() - 3);
  if (!seg.slice.empty() && seg.slice.starts_with(base)) return seg.slice;
  for (const auto& kv : o)
    if (kv.key().size() > base.size() && kv.key().starts_with(base) &&
        std::isupper(static_cast<unsigned char>(kv.key()[base.size()])))
      return std::string(kv.key());
  return "";
}

// Where an element lives: each instance of its parent, the key, and the matching values there
// (indices in the JSON array, {0} for a single value).
struct Site {
  json::object* parent;
  std::string key;
  std::vector<std::size_t> matched;
  json::value& at(std::size_t i) const {
    auto& v = parent->at(key);
    return v.is_array() ? v.as_array()[matched[i]] : v;
  }
};

// unsliced_last: also at the last segment, only the values in none of its slices.
std::vector<Site> locate(json::object& resource, const StructureDefinition& sd, const std::string& element_id,
                         bool unsliced_last = false) {
  const auto segs = segments(element_id);
  std::vector<json::object*> objects{&resource};
  std::string id = segs[0].name;
  std::vector<Site> sites;
  for (std::size_t i = 1; i < segs.size(); ++i) {
    const std::string plain = id + "." + segs[i].name;
    const std::string full = segs[i].slice.empty() ? plain : plain + ":" + segs[i].slice;
    const bool last = i + 1 == segs.size();
    const bool filter = !segs[i].slice.empty() && !segs[i].name.ends_with("[x]");
    // Below an unsliced element, only the items in none of its slices (the others are validated
    // against their slice's children, whose own checks number the issue).
    std::vector<std::string> slices;
    if (const auto* e = element(sd, plain); e && segs[i].slice.empty() && (!last || unsliced_last) && e->slicing)
      for (std::size_t s : e->slices) slices.push_back(sd.elements[s].id);
    std::vector<json::object*> next;
    for (auto* o : objects) {
      Site site{o, key_for(*o, segs[i]), {}};
      auto* v = site.key.empty() ? nullptr : o->if_contains(site.key);
      auto consider = [&](json::value& item, std::size_t index) {
        if (filter && !in_slice(sd, plain, full, item)) return;
        if (std::any_of(slices.begin(), slices.end(), [&](const auto& s) { return in_slice(sd, plain, s, item); }))
          return;
        site.matched.push_back(index);
        if (item.is_object()) next.push_back(&item.as_object());
      };
      if (v && v->is_array())
        for (std::size_t k = 0; k < v->as_array().size(); ++k) consider(v->as_array()[k], k);
      else if (v)
        consider(*v, 0);
      if (last) sites.push_back(site);
    }
    objects = std::move(next);
    id = full;
  }
  return sites;
}

Site* first_present(std::vector<Site>& sites) {
  for (auto& s : sites)
    if (!s.matched.empty()) return &s;
  return nullptr;
}

// A value that is valid for a type, for elements the test has to add.
std::optional<json::value> sample(const std::string& type) {
  static const std::map<std::string, json::value> samples = {
      {"string", "mutation"},
      {"markdown", "mutation"},
      {"code", "mutation"},
      {"id", "mutation"},
      {"uri", "urn:mutation"},
      {"url", "https://example.org/mutation"},
      {"canonical", "https://example.org/mutation"},
      {"boolean", true},
      {"integer", 1},
      {"positiveInt", 1},
      {"unsignedInt", 1},
      {"decimal", 1.5},
      {"date", "2021-11-05"},
      {"dateTime", "2021-11-05T09:00:00+01:00"},
      {"instant", "2021-11-05T09:00:00.000+01:00"},
      {"CodeableConcept", json::object{{"text", "mutation"}}},
      {"Coding", json::object{{"display", "mutation"}}},
      {"Reference", json::object{{"display", "mutation"}}},
      {"Identifier", json::object{{"value", "mutation"}}},
      {"Period", json::object{{"start", "2021-11-05"}}},
      {"HumanName", json::object{{"family", "mutation"}}},
      {"Address", json::object{{"city", "mutation"}}},
  };
  auto it = samples.find(type);
  if (it == samples.end()) return std::nullopt;
  return it->second;
}

std::string key_of(const ElementDefinition& el, const std::string& type) {
  const std::string name = split(el.id, '.').back().substr(0, split(el.id, '.').back().find(':'));
  return name.ends_with("[x]") ? name.substr(0, name.size() - 3) + capitalized(type) : name;
}

// A minimal valid value of an element: its fixed or pattern value, else its required children (and
// those that carry a fixed or pattern value, so that a slice is recognised), else a typed sample.
// `without` is left out (the mutation).
bool constrained(const StructureDefinition& sd, const ElementDefinition& el) {
  if (el.fixed || el.pattern) return true;
  return std::any_of(el.children.begin(), el.children.end(),
                     [&](std::size_t c) { return constrained(sd, sd.elements[c]); });
}

std::optional<json::value> minimal(const StructureDefinition& sd, const ElementDefinition& el,
                                   const std::string& without) {
  if (el.fixed) return *el.fixed;
  if (el.children.empty() && el.types.size() == 1 && el.types[0].code == "Extension") {
    // An extension the snapshot does not expand: its url (the profile's, else any) and a value.
    const auto& profiles_of = el.types[0].profiles;
    const std::string url =
        profiles_of.empty() ? std::string("https://example.org/mutation") : strip_version(profiles_of[0]);
    json::object ext{{"url", url}, {"valueString", "mutation"}};
    if (const auto* def = profiles().find(url))  // the value type the extension's definition allows
      if (const auto* value = element(*def, "Extension.value[x]"); value && !value->types.empty()) {
        auto v = sample(value->types[0].code);
        if (!v) return std::nullopt;
        ext.erase("valueString");
        ext["value" + capitalized(value->types[0].code)] = *v;
      }
    return json::value(std::move(ext));
  }
  if (el.pattern && !el.pattern->is_object()) return *el.pattern;
  if (!el.children.empty()) {
    json::object o;
    if (el.pattern) o = el.pattern->as_object();
    for (std::size_t c : el.children) {
      const auto& child = sd.elements[c];
      if (child.id == without || (child.min == 0 && !constrained(sd, child))) continue;
      if (child.types.size() != 1 && !child.fixed && !child.pattern) return std::nullopt;
      auto v = minimal(sd, child, "");
      if (!v) return std::nullopt;
      const std::string key = key_of(child, child.types.empty() ? std::string() : child.types[0].code);
      o[key] = child.repeats() ? json::value(json::array{*v}) : *v;
    }
    if (o.empty())  // no required child: the first optional one that takes a sample
      for (std::size_t c : el.children) {
        const auto& child = sd.elements[c];
        if (child.id == without || child.types.size() != 1 || child.max == std::optional<std::size_t>(0)) continue;
        const std::string name = key_of(child, child.types[0].code);
        if (name == "id" || name == "extension" || name == "modifierExtension") continue;
        if (auto v = sample(child.types[0].code)) {
          o[name] = child.repeats() ? json::value(json::array{*v}) : *v;
          break;
        }
      }
    if (o.empty()) return std::nullopt;
    return json::value(std::move(o));
  }
  if (el.pattern) return *el.pattern;
  if (el.types.size() != 1) return std::nullopt;
  return sample(el.types[0].code);
}

// Adds `value` as a new instance of `el` in `parent`.
json::value* add_value(json::object& parent, const ElementDefinition& el, json::value value) {
  const std::string key = key_of(el, el.types.empty() ? std::string() : el.types[0].code);
  if (el.repeats()) {
    auto& slot = parent[key];
    if (!slot.is_array()) slot = json::array{};
    slot.as_array().push_back(std::move(value));
    return &slot.as_array().back();
  }
  if (parent.contains(key)) return nullptr;
  parent[key] = std::move(value);
  return &parent[key];
}

// An instance of element `id` in the resource: an existing one, else one made (with its ancestors).
json::object* instance_of(json::object& resource, const StructureDefinition& sd, const std::string& id,
                          const std::string& without, bool reuse) {
  if (id.find('.') == std::string::npos) return &resource;
  if (reuse) {
    auto sites = locate(resource, sd, id, true);
    if (auto* s = first_present(sites); s && s->at(0).is_object()) return &s->at(0).as_object();
  }
  const auto* el = element(sd, id);
  if (!el) return nullptr;
  auto value = minimal(sd, *el, without);
  if (!value || !value->is_object()) return nullptr;
  auto* parent = instance_of(resource, sd, parent_id(id), "", true);
  if (!parent) return nullptr;
  auto* added = add_value(*parent, *el, std::move(*value));
  return added ? &added->as_object() : nullptr;
}

// The value no longer has (a piece of) the fixed or pattern value.
void break_value(json::value& v, const json::value& expected) {
  if (expected.is_object() && v.is_object() && !expected.as_object().empty()) {
    const auto& [key, sub] = *expected.as_object().begin();
    if (auto* x = v.as_object().if_contains(key)) break_value(*x, sub);
  } else if (expected.is_array() && v.is_array() && !expected.as_array().empty()) {
    for (auto& item : v.as_array()) break_value(item, expected.as_array()[0]);
  } else if (expected.is_string()) {
    v = std::string(expected.as_string()) + "-mutated";
  } else if (expected.is_bool()) {
    v = !expected.as_bool();
  } else if (expected.is_number()) {
    v = expected.to_number<double>() + 1;
  }
}

void break_code(json::value& v, const std::string& type) {
  if (v.is_string()) {
    v = "mutated-code";
  } else if (v.is_object() && v.as_object().contains("coding")) {
    for (auto& c : v.as_object()["coding"].as_array()) c.as_object()["code"] = "mutated-code";
  } else if (v.is_object() && type == "CodeableConcept") {
    v.as_object()["coding"] = json::array{json::object{{"system", "urn:mutation"}, {"code", "mutated-code"}}};
  } else if (v.is_object()) {
    v.as_object()["code"] = "mutated-code";
  }
}

// For an element below a slice that decides membership of the slice (its discriminator path, or a
// descendant that fixes a value of a `$this` pattern slice): the nearest repeating element between
// the slice and it, whose item is copied first so that the unmutated copy keeps the item in the
// slice. "" when the element is in the slice but nothing repeats in between; nullopt: not a
// discriminator.
std::optional<std::string> discriminator_copy_point(const StructureDefinition& sd, const std::string& element_id,
                                                    const std::string& kind) {
  const auto segs = segments(element_id);
  std::string prefix = segs[0].name;
  std::optional<std::string> slice_id, sliced_id;
  std::vector<std::string> rel;
  for (std::size_t i = 1; i < segs.size(); ++i) {
    const std::string plain = prefix + "." + segs[i].name;
    prefix = segs[i].slice.empty() ? plain : plain + ":" + segs[i].slice;
    if (!segs[i].slice.empty() && !segs[i].name.ends_with("[x]")) {
      slice_id = prefix;
      sliced_id = plain;
      rel.clear();
    } else if (slice_id) {
      rel.push_back(segs[i].name);
    }
  }
  if (!slice_id) return std::nullopt;
  const auto* sliced = element(sd, *sliced_id);
  if (!sliced || !sliced->slicing) return std::nullopt;
  const auto* el = element(sd, element_id);
  if (rel.empty()) {  // the slice itself: its own value or binding decides when the discriminator is $this
    if (kind == "cardinality" || !el) return std::nullopt;
    for (const auto& d : sliced->slicing->discriminators)
      if ((d.type == "value" || d.type == "pattern") && d.path == "$this" && (el->fixed || el->pattern || el->binding))
        return std::string();
    return std::nullopt;
  }
  std::string rel_path;
  for (const auto& r : rel) rel_path += (rel_path.empty() ? "" : ".") + r;
  bool decides = false;
  for (const auto& d : sliced->slicing->discriminators) {
    if (d.type != "value" && d.type != "pattern") continue;
    if (d.path == "$this") decides |= el && (el->fixed || el->pattern);
    decides |= d.path == rel_path || d.path.starts_with(rel_path + ".") || rel_path.starts_with(d.path + ".");
  }
  if (!decides) return std::nullopt;
  std::string id = *slice_id;
  for (const auto& r : rel) {
    id += "." + r;
    if (const auto* e = element(sd, id); e && e->repeats()) return id;
  }
  return std::string();
}

// Adds a value to an object that has none: the first optional child of `parent_el` that takes a
// sample (after a removal left the object empty, which R01-FAQ-10 would catch).
void refill(const StructureDefinition& sd, const ElementDefinition* parent_el, json::object& o,
            const std::string& removed) {
  if (!o.empty() || !parent_el) return;
  for (std::size_t c : parent_el->children) {
    const auto& child = sd.elements[c];
    if (child.id == removed || child.types.size() != 1 || child.max == std::optional<std::size_t>(0)) continue;
    const std::string name = key_of(child, child.types[0].code);
    if (name == "id" || name == "extension" || name == "modifierExtension") continue;
    if (auto v = sample(child.types[0].code)) {
      o[name] = child.repeats() ? json::value(json::array{*v}) : *v;
      return;
    }
  }
}

// Applies a mutation for `check` to `resource` (which declares the check's profile). Returns ""
// when done, else why no mutation could be made there.
std::string mutate_resource(const Check& check, const StructureDefinition& sd, json::object& resource, bool contained) {
  const std::string type(resource.at("resourceType").as_string());
  const std::string& kind = check.constraint_kind;
  if (check.element_id.find('.') == std::string::npos) {  // root rules
    auto has_own = [&](const std::string& eid) {
      return std::any_of(catalogue().checks().begin(), catalogue().checks().end(), [&](const Check& c) {
        return c.profile_url == check.profile_url && c.element_id == eid && c.constraint_kind == kind;
      });
    };
    // An extension of the resource (its meta for a Bundle) that the profile does not define.
    auto add_extension = [&](json::object ext) -> std::string {
      const bool bundle = type == "Bundle";
      const std::string owner = type + (bundle ? ".meta.extension" : ".extension");
      if (has_own(owner + ".url") || has_own(owner + ".value[x]")) return "root rule: the extension is the profile's";
      auto& target = bundle ? resource["meta"].as_object() : resource;
      auto& list = target["extension"];
      if (!list.is_array()) list = json::array{};
      list.as_array().push_back(std::move(ext));
      return "";
    };
    if (kind == "unknown-element") {
      resource["notAnElement"] = "x";
      return "";
    }
    if (kind == "type") {
      resource["id"] = 42;  // a string element sent as a number
      return "";
    }
    if (kind == "contained") {  // an unreferenced contained resource
      if (type == "Bundle") return "root rule: a Bundle has no contained resources";
      if (contained) return "root rule: the profile's resources are contained ones (their container's check)";
      auto& list = resource["contained"];
      if (!list.is_array()) list = json::array{};
      list.as_array().push_back(
          json::object{{"resourceType", type == "Location" ? "Organization" : "Location"}, {"id", "orphan"}});
      return "";
    }
    if (kind == "cardinality")  // core FHIR: Extension.url 1..1
      return add_extension(json::object{{"valueString", "no url"}});
    if (kind == "reference")  // a local reference to no contained resource
      return add_extension(json::object{{"url", "https://example.org/mutation"},
                                        {"valueReference", json::object{{"reference", "#nowhere"}}}});
    return "root rule: no definition outside the profile's own elements carries it";
  }

  const auto* el = element(sd, check.element_id);
  if (!el) return "element not in the snapshot";
  const auto copy_point = discriminator_copy_point(sd, check.element_id, kind);
  if (copy_point && copy_point->empty()) return "the element is its slice's discriminator";
  auto sites = locate(resource, sd, check.element_id);
  Site* present = first_present(sites);
  auto relocate = [&]() {
    sites = locate(resource, sd, check.element_id);
    present = first_present(sites);
  };
  // A discriminating element: copy the repeating item first, the mutation changes the original.
  auto copy_discriminating_item = [&]() {
    if (!copy_point) return;
    auto items = locate(resource, sd, *copy_point);
    if (auto* s = first_present(items); s && s->parent->at(s->key).is_array()) {
      json::value copy = s->at(0);
      s->parent->at(s->key).as_array().push_back(std::move(copy));
    }
    relocate();
  };
  // An element the examples do not carry: added (with its ancestors), with a valid value.
  auto add_element = [&]() {
    if (present) return;
    auto* parent = instance_of(resource, sd, parent_id(check.element_id), "", true);
    auto v = minimal(sd, *el, "");
    if (parent && v) add_value(*parent, *el, std::move(*v));
    relocate();
  };

  if (kind == "cardinality") {
    const bool narrowed = el->max && (!el->base_max || *el->max < *el->base_max);
    if (copy_point && *copy_point == check.element_id && !narrowed) return "the element is its slice's discriminator";
    if (el->min > 0 && present && (!copy_point || *copy_point != check.element_id)) {  // remove it
      if (copy_point) copy_discriminating_item();
      if (!present) return "the element is its slice's discriminator";
      auto& v = present->parent->at(present->key);
      if (v.is_array() && !copy_point) {
        auto& a = v.as_array();
        for (auto it = present->matched.rbegin(); it != present->matched.rend(); ++it)
          a.erase(a.begin() + static_cast<std::ptrdiff_t>(*it));
        // The slice's items gone, the sliced element keeps an item of no slice when it is required.
        const auto last = segments(check.element_id).back();
        const auto* sliced = element(sd, check.element_id.substr(0, check.element_id.rfind(':')));
        if (a.empty() && !last.slice.empty() && !last.name.ends_with("[x]") && sliced && sliced->min > 0)
          if (auto filler = minimal(sd, *sliced, "")) a.push_back(std::move(*filler));
        if (a.empty()) present->parent->erase(present->key);
      } else {
        present->parent->erase(present->key);
      }
      refill(sd, element(sd, parent_id(check.element_id)), *present->parent, check.element_id);
      return "";
    }
    if (narrowed && !present) {  // absent: made, then one more than the max
      if (*el->max > 0 && !el->repeats()) return "max of a single JSON value";
      add_element();
      if (!present) return "the element cannot be made";
    }
    if (narrowed && present) {  // one more than the max
      auto& v = present->parent->at(present->key);
      if (*el->max == 0) return "";  // made above
      if (!v.is_array()) return "max: a single JSON value";
      json::value copy = present->at(0);
      for (std::size_t n = present->matched.size(); n <= *el->max; ++n) v.as_array().push_back(copy);
      return "";
    }
    if (el->min > 0 && sites.empty()) {  // the parent is in no example: add it without the element
      if (!instance_of(resource, sd, parent_id(check.element_id), check.element_id, false))
        return "required, its parent is in no example and cannot be made";
      if (locate(resource, sd, check.element_id).empty())
        return "required, every instance of its parent is in a slice (whose own check numbers it)";
      return "";
    }
    return "the element is in no example";
  }
  add_element();
  if (!present) return "the element is in no example and cannot be made";
  if (kind == "fixed" || kind == "pattern") {
    copy_discriminating_item();
    break_value(present->at(0), kind == "fixed" ? *el->fixed : *el->pattern);
    return "";
  }
  if (kind == "binding") {
    copy_discriminating_item();
    break_code(present->at(0), el->types.empty() ? std::string() : el->types[0].code);
    return "";
  }
  if (kind == "reference") {
    auto& v = present->at(0);
    if (!v.is_object()) return "the reference is not an object";
    v.as_object()["reference"] = "Basic/mutation";  // a type none of the target profiles has
    return "";
  }
  if (kind == "slicing") {  // a value that matches no slice of the closed slicing
    const std::string base = split(check.element_id, '.').back();
    if (!base.ends_with("[x]")) return "closed slicing of a non-choice element";
    present->parent->erase(present->key);
    (*present->parent)[base.substr(0, base.size() - 3) + "String"] = "mutation";
    return "";
  }
  return "no mutation for this kind";
}

// The resources of the document (entries and contained) that declare `profile`.
std::vector<json::object*> declaring(json::value& document, const std::string& profile) {
  std::vector<json::object*> out;
  auto declares = [&](json::object& r) {
    auto* meta = r.if_contains("meta");
    auto* list = meta && meta->is_object() ? meta->as_object().if_contains("profile") : nullptr;
    if (list && list->is_array())
      for (auto& p : list->as_array())
        if (p.is_string() && p.as_string() == profile) return true;
    return false;
  };
  auto visit = [&](json::object& r) {
    if (declares(r)) out.push_back(&r);
    if (auto* contained = r.if_contains("contained"); contained && contained->is_array())
      for (auto& c : contained->as_array())
        if (declares(c.as_object())) out.push_back(&c.as_object());
  };
  visit(document.as_object());
  if (auto* entries = document.as_object().if_contains("entry"); entries && entries->is_array())
    for (auto& e : entries->as_array())
      if (auto* r = e.as_object().if_contains("resource"); r && r->is_object()) visit(r->as_object());
  return out;
}

std::set<const json::object*> contained_resources(json::value& document) {
  std::set<const json::object*> out;
  auto visit = [&](json::object& r) {
    if (auto* list = r.if_contains("contained"); list && list->is_array())
      for (auto& c : list->as_array())
        if (c.is_object()) out.insert(&c.as_object());
  };
  visit(document.as_object());
  if (auto* entries = document.as_object().if_contains("entry"); entries && entries->is_array())
    for (auto& e : entries->as_array())
      if (auto* r = e.as_object().if_contains("resource"); r && r->is_object()) visit(r->as_object());
  return out;
}

// Mutates the first resource of the document where a mutation for `check` can be made; "" when
// done, else why not (the last reason).
std::string mutate_for(const Check& check, json::value& document) {
  const auto* sd = profiles().find(check.profile_url);
  if (!sd) return "profile not loaded";
  std::string reason = "no example declares the profile";
  for (json::object* resource : declaring(document, check.profile_url)) {
    json::object copy = *resource;
    reason = mutate_resource(check, *sd, copy, contained_resources(document).contains(resource));
    if (reason.empty()) {
      *resource = std::move(copy);
      return "";
    }
  }
  return reason;
}

TEST(MutationSelfTest, GeneratedProfileMutationsAreCaughtByTheirCheck) {
  // The search Bundle first, then every other official example, in name order.
  std::vector<std::pair<std::string, json::value>> examples;
  examples.emplace_back("Bundle-ExampleBundlePSIndiv.json", example("Bundle-ExampleBundlePSIndiv.json"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(sas::test::ig_dir() / "example"))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names)
    if (name != examples.front().first) examples.emplace_back(name, example(name));
  // Checks whose generated mutation is caught by another check only (it must still fail), each
  // with the reason why. None today: a mutation that would take an item out of its slice is made
  // on the original beside an unmutated copy of the item (discriminator_copy_point), and a removal
  // that would leave an empty object or array refills it (refill, the filler item of a slice).
  static const std::set<std::string> caught_elsewhere = {};
  int generated = 0, exact = 0, profile_checks = 0;
  std::map<std::string, std::string> not_generated;  // reason -> ids
  std::string not_exact;
  for (const auto& c : catalogue().checks()) {
    if (c.group != "PROFILE") continue;
    ++profile_checks;
    std::string reason;
    bool done = false, only = false;
    std::set<std::string> first_ids;
    // The first example where the mutation can be made; further ones while none is caught by the
    // check alone.
    for (const auto& [name, original] : examples) {
      json::value mutated = original;
      if (auto why = mutate_for(c, mutated); !why.empty()) {
        if (reason.empty() || why != "no example declares the profile") reason = why;
        continue;
      }
      auto findings = check_document(catalogue(), profiles(), mutated, name);
      auto ids = failing_ids(findings);
      if (!done) first_ids = ids;
      done = true;
      if (caught_elsewhere.contains(c.id)) {
        EXPECT_FALSE(ids.empty()) << c.id;
      } else {
        EXPECT_TRUE(ids.contains(c.id)) << c.id << " (" << c.title << ") on " << name
                                        << " not caught; caught: " << testing::PrintToString(ids) << "\n"
                                        << describe(findings);
      }
      if (ids == std::set<std::string>{c.id}) {
        only = true;
        break;
      }
    }
    if (!done) {
      not_generated[reason] += c.id + " ";
      continue;
    }
    ++generated;
    exact += only ? 1 : 0;
    if (!only) {
      first_ids.erase(c.id);
      std::string others;
      for (const auto& id : first_ids) others += (others.empty() ? "" : ",") + id;
      not_exact += c.id + " (with " + others + ") ";
    }
  }
  std::cout << profile_checks << " profile checks: " << generated << " mutations generated, " << exact
            << " caught by exactly their check; caught along with other checks: " << not_exact << "\n";
  for (const auto& [reason, ids] : not_generated) std::cout << "not generated (" << reason << "): " << ids << "\n";
  EXPECT_GE(generated, 380);
  EXPECT_GE(exact, 341);
}

}  // namespace
