// GET [base]/metadata: consistent with the IG's SAS-GestionnaireAgenda-PsIndiv statement.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/slot_search/capability.hpp"
#include "sas_test/support.hpp"

namespace ss = sas::host::slot_search;
namespace json = boost::json;

namespace {

const json::object* resource(const json::object& cs, std::string_view type) {
  for (const auto& r : cs.at("rest").as_array()[0].at("resource").as_array()) {
    if (r.at("type").as_string() == type) return &r.as_object();
  }
  return nullptr;
}

json::object official() {
  const auto path = sas::test::ig_dir() / "CapabilityStatement-SAS-GestionnaireAgenda-PsIndiv.json";
  return json::parse(sas::test::read_file(path)).as_object();
}

}  // namespace

TEST(Capability, Shape) {
  ss::CapabilityOptions o;
  o.base_url = "https://vendor.example/fhir";
  o.software_version = "1.2.3";
  o.publisher = "Vendor";
  o.date = "2026-01-01";
  const auto cs = ss::build_capability_statement(o);
  EXPECT_EQ(sas::test::bundle::empty_paths(cs), std::vector<std::string>{});
  EXPECT_EQ(cs.at("resourceType").as_string(), "CapabilityStatement");
  EXPECT_EQ(cs.at("status").as_string(), "active");
  EXPECT_EQ(cs.at("kind").as_string(), "instance");
  EXPECT_EQ(cs.at("date").as_string(), "2026-01-01");
  EXPECT_EQ(cs.at("fhirVersion").as_string(), "4.0.1");
  EXPECT_EQ(cs.at("software").at("version").as_string(), "1.2.3");
  EXPECT_EQ(cs.at("implementation").at("url").as_string(), "https://vendor.example/fhir");
  const auto& formats = cs.at("format").as_array();
  EXPECT_NE(std::find(formats.begin(), formats.end(), json::value("application/fhir+json")), formats.end());
  EXPECT_EQ(std::find(formats.begin(), formats.end(), json::value("xml")), formats.end());
  EXPECT_EQ(cs.at("instantiates").as_array()[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv");
  EXPECT_EQ(cs.at("rest").as_array()[0].at("mode").as_string(), "server");

  const auto* slot = resource(cs, "Slot");
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(json::serialize(slot->at("interaction")), R"([{"code":"search-type"}])");
  std::set<std::string> params;
  for (const auto& p : slot->at("searchParam").as_array()) params.insert(std::string(p.at("name").as_string()));
  EXPECT_EQ(params, (std::set<std::string>{"start", "status", "schedule"}));
  for (const char* type : {"Schedule", "Practitioner", "PractitionerRole"}) EXPECT_NE(resource(cs, type), nullptr);
}

TEST(Capability, DefaultDateIsToday) {
  const auto cs = ss::build_capability_statement({});
  const std::string date(cs.at("date").as_string());
  EXPECT_EQ(date.size(), 10u);
  EXPECT_EQ(cs.if_contains("publisher"), nullptr);
  EXPECT_EQ(sas::test::bundle::empty_paths(cs), std::vector<std::string>{});
}

TEST(Capability, AgreesWithTheIgStatement) {
  const auto ig = official();
  const auto cs = ss::build_capability_statement({});
  EXPECT_EQ(cs.at("fhirVersion"), ig.at("fhirVersion"));
  EXPECT_EQ(cs.at("implementationGuide"), ig.at("implementationGuide"));
  EXPECT_EQ(cs.at("instantiates").as_array()[0], ig.at("url"));
  for (const auto& r : ig.at("rest").as_array()[0].at("resource").as_array()) {
    const std::string type(r.at("type").as_string());
    SCOPED_TRACE(type);
    const auto* ours = resource(cs, type);
    ASSERT_NE(ours, nullptr);
    EXPECT_EQ(ours->at("profile"), r.at("profile"));
    if (const auto* includes = r.as_object().if_contains("searchInclude")) {
      EXPECT_EQ(ours->at("searchInclude"), *includes);
    }
    // The IG's start parameter is the one we declare.
    if (type == "Slot") {
      bool found = false;
      for (const auto& p : ours->at("searchParam").as_array()) {
        found = found || p.at("definition") == r.at("searchParam").as_array()[0].at("definition");
      }
      EXPECT_TRUE(found);
    }
  }
}
