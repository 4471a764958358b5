// GET [base]/metadata, the SOS Médecins part: consistent with the IG's
// SAS-GestionnaireAgenda-SOS statement, merged into the host's statement without repeating a
// resource type.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/slot_search/capability.hpp"
#include "sas/host/sos_search/capability.hpp"
#include "sas_test/support.hpp"

namespace json = boost::json;

namespace {

constexpr const char* kSos =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-SOS";

json::object host_statement() {
  sas::host::slot_search::CapabilityOptions o;
  o.base_url = "https://vendor.example/fhir";
  o.date = "2026-01-01";
  auto cs = sas::host::slot_search::build_capability_statement(o);
  sas::host::sos_search::add_to_capability_statement(cs);
  return cs;
}

json::object official() {
  return json::parse(sas::test::read_file(sas::test::ig_dir() / "CapabilityStatement-SAS-GestionnaireAgenda-SOS.json"))
      .as_object();
}

std::vector<const json::object*> entries(const json::object& cs, std::string_view type) {
  std::vector<const json::object*> out;
  for (const auto& r : cs.at("rest").as_array()[0].at("resource").as_array()) {
    if (r.at("type").as_string() == type) out.push_back(&r.as_object());
  }
  return out;
}

std::set<std::string> strings(const json::object& o, std::string_view key) {
  std::set<std::string> out;
  if (const auto* a = o.if_contains(key)) {
    for (const auto& v : a->as_array()) out.insert(std::string(v.as_string()));
  }
  return out;
}

// The profiles an entry declares: profile and supportedProfile.
std::set<std::string> profiles(const json::object& entry) {
  auto out = strings(entry, "supportedProfile");
  out.insert(std::string(entry.at("profile").as_string()));
  return out;
}

}  // namespace

TEST(SosCapability, InstantiatesTheSosStatementBesidesPsIndiv) {
  const auto cs = host_statement();
  const auto instantiates = strings(cs, "instantiates");
  EXPECT_TRUE(instantiates.contains(kSos));
  EXPECT_TRUE(instantiates.contains(
      "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv"));
  EXPECT_EQ(sas::test::bundle::empty_paths(cs), std::vector<std::string>{});
}

// Every resource type of the IG's statement, with its profile; Schedule's search as the IG's.
TEST(SosCapability, EveryResourceOfTheIgStatementWithItsProfile) {
  const auto cs = host_statement();
  const auto ig = official();
  for (const auto& r : ig.at("rest").as_array()[0].at("resource").as_array()) {
    const std::string type(r.at("type").as_string());
    const auto found = entries(cs, type);
    ASSERT_EQ(found.size(), 1u) << type << ": one entry per resource type";
    EXPECT_TRUE(profiles(*found[0]).contains(std::string(r.at("profile").as_string()))) << type;
    if (type != "Schedule") continue;
    const auto& schedule = *found[0];
    for (const char* key : {"searchInclude", "searchRevInclude"}) {
      for (const auto& value : strings(r.as_object(), key)) {
        EXPECT_TRUE(strings(schedule, key).contains(value)) << key << " " << value;
      }
    }
    std::set<std::string> params;
    for (const auto& p : schedule.at("searchParam").as_array()) params.insert(std::string(p.at("name").as_string()));
    EXPECT_TRUE(params.contains("_has"));
    EXPECT_TRUE(params.contains("actor"));
    bool search_type = false;
    for (const auto& i : schedule.at("interaction").as_array()) search_type |= i.at("code") == "search-type";
    EXPECT_TRUE(search_type);
  }
}

// Added twice, or over an Organization another flow declared: still one entry per type, and
// nothing repeated inside them.
TEST(SosCapability, MergesInsteadOfRepeating) {
  auto cs = host_statement();
  auto& resources = cs["rest"].as_array()[0].as_object()["resource"].as_array();
  for (auto& r : resources) {
    if (r.at("type") == "Organization") r.as_object()["profile"] = "https://example.org/OtherOrganization";
  }
  const std::size_t before = resources.size();
  sas::host::sos_search::add_to_capability_statement(cs);
  EXPECT_EQ(cs.at("rest").as_array()[0].at("resource").as_array().size(), before);
  const auto& schedule = *entries(cs, "Schedule")[0];
  EXPECT_EQ(schedule.at("searchInclude").as_array().size(), strings(schedule, "searchInclude").size());
  std::multiset<std::string> names;
  for (const auto& p : schedule.at("searchParam").as_array()) names.insert(std::string(p.at("name").as_string()));
  EXPECT_EQ(names, (std::multiset<std::string>{"_has", "actor"})) << "INT_R01's actor documented further, not repeated";
  EXPECT_EQ(strings(cs, "instantiates").size(), cs.at("instantiates").as_array().size());
  const auto& organization = *entries(cs, "Organization")[0];
  EXPECT_TRUE(
      strings(organization, "supportedProfile")
          .contains("https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator"));
}
