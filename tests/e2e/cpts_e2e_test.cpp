// INT_R04, the CPTS search, end to end: the agendas behind the IG's Bundle-ExampleBundleCPTS1 and
// CPTS2 (tests/slot_search/cpts_example_agenda.hpp, distractors included) written to sqlite-agenda
// files, served by the real `sas-host serve` with the real reference plugin, searched over mutual
// TLS with each example's OWN query (its self link, only the base replaced) and with the IG's
// written request: the official Bundle by the comparisons of the in-process golden test
// (golden_cpts_compare.hpp), valid against the CPTS profiles. INT_R01 on the same agenda still
// leaves CPTS-only slots out; /metadata declares the CPTS search; a doctor's settings and rules,
// changed through the admin API, apply to CPTS slots.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sas_test/host_log.hpp>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>

#include "agenda_db.hpp"
#include "bundle_view.hpp"
#include "cpts_example_agenda.hpp"
#include "e2e_support.hpp"
#include "golden_cpts_compare.hpp"
#include "sas/conformance/profile_validator.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace golden = sas::test::golden;
namespace golden_cpts = sas::test::golden_cpts;
namespace bv = sas::test::bundle;
namespace agenda = sas::test::agenda;

constexpr const char* kOfficialBase = "http://hapi.fhir.org/baseR4";
constexpr const char* kToken = "0123456789abcdef0123456789abcdef-cpts";

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

void expect_valid(const json::object& bundle) {
  std::string text;
  for (const auto& issue : profiles().validate_bundle(bundle)) text += "  " + sas::conformance::to_string(issue) + "\n";
  EXPECT_EQ(text, "");
}

// The query of an example's self link, on another base.
std::string example_query(const json::object& official) {
  const std::string self = golden::official_self_link(official);
  EXPECT_EQ(self.rfind(kOfficialBase, 0), 0U) << self;
  return self.substr(std::string(kOfficialBase).size());
}

// One example's agenda in a sqlite-agenda file, served by the real host with the reference plugin.
struct Served {
  explicit Served(int example, std::vector<std::string> extra_arguments = {}) {
    dir = sas::test::make_temp_dir("e2e-cpts");
    sas::e2e::write_pki(dir / "pki");
    written = sas::e2e::write_agenda_db(agenda::cpts_example_agenda(example), dir / "agenda.db");
    sas::e2e::HostOptions options;
    options.agenda = dir / "agenda.db";
    options.pki = dir / "pki";
    options.work = dir;
    options.place_identifier_system = agenda::kCptsExamplePlaceSystem;
    options.extra_arguments = std::move(extra_arguments);
    host = std::make_unique<sas::e2e::Host>(options);
    client = std::make_unique<sas::e2e::Client>(dir / "pki");
  }
  ~Served() {
    client.reset();
    host.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  json::object get(const std::string& target) {
    const auto r = client->get(host->base() + target);
    EXPECT_EQ(r.status, 200) << r.describe() << "\n" << host->output();
    EXPECT_THAT(r.content_type, testing::StartsWith("application/fhir+json"));
    return r.status == 200 ? r.json() : json::object();
  }

  // The agenda's name of a Slot of the answer (slot.id is INTEGER in the schema).
  std::string name_of(const json::object& slot) const {
    const std::string id(slot.at("id").as_string());
    for (const auto& [name, row] : written.slot_ids) {
      if (std::to_string(row) == id) return name;
    }
    return "<" + id + ">";
  }
  std::set<std::string> slot_names(const json::object& bundle) const {
    std::set<std::string> out;
    for (const auto* s : bv::resources(bundle, "Slot")) out.insert(name_of(*s));
    return out;
  }

  fs::path dir;
  sas::e2e::AgendaDbReport written;
  std::unique_ptr<sas::e2e::Host> host;
  std::unique_ptr<sas::e2e::Client> client;
};

// Both examples' hosts, started once for the suite.
class CptsE2e : public testing::TestWithParam<int> {
 protected:
  static void TearDownTestSuite() { served_.clear(); }
  Served& served() {
    auto& s = served_[GetParam()];
    if (!s) s = std::make_unique<Served>(GetParam());
    return *s;
  }
  json::object official() const { return golden_cpts::official(GetParam()); }

  static inline std::map<int, std::unique_ptr<Served>> served_;
};

std::string search_target(std::initializer_list<const char*> practitioners, bool cpts) {
  std::vector<std::string> ids(practitioners.begin(), practitioners.end());
  return "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2024-06-12T16:00:00.000%2B02:00"
         "&start=le2024-06-12T18:00:00.000%2B02:00&schedule.actor:Practitioner.identifier=" +
         sas::e2e::identifier_list(ids) + "&status=free" +
         (cpts ? "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization" : "");
}

std::vector<std::string> security(const json::object& slot) {
  std::vector<std::string> codes;
  for (const auto& c : slot.at("meta").at("security").as_array()) codes.emplace_back(c.at("code").as_string());
  return codes;
}

TEST_P(CptsE2e, TheExamplesOwnRequestGivesTheOfficialBundle) {
  const auto expected = official();
  const auto actual = served().get(example_query(expected));
  ASSERT_FALSE(actual.empty());
  golden_cpts::expect_matches_official(expected, actual, served().host->base());
  expect_valid(actual);
  EXPECT_EQ(served().slot_names(actual), std::set<std::string>{"cpts-slot"}) << "no distractor left the agenda";
}

// The request as the IG writes it, with _include:iterate=HealthcareService:organization: the same
// Bundle but for the self link.
TEST_P(CptsE2e, TheIgsFullRequestGivesTheSameBundle) {
  const auto expected = official();
  auto with_include = served().get(example_query(expected) + "&_include:iterate=HealthcareService:organization");
  golden_cpts::expect_matches_official(expected, with_include, served().host->base());
  auto without = served().get(example_query(expected));
  with_include.erase("link");
  without.erase("link");
  EXPECT_EQ(with_include, without);
}

// The same agenda through INT_R01: the CPTS-only slot stays out, nothing says CPTS; through
// INT_R04: it is there, typed CPTS alone, its CPTS named from the plugin's cpts table.
TEST_P(CptsE2e, IntR01OnTheSameAgendaLeavesCptsOnlySlotsOut) {
  const auto individual =
      served().get(search_target({agenda::kCptsExamplePractitioner, agenda::kCptsOnlyPractitioner}, false));
  EXPECT_EQ(individual.at("meta").at("profile").as_array()[0],
            "http://sas.fr/fhir/StructureDefinition/BundleAgregateur");
  EXPECT_EQ(served().slot_names(individual), (std::set<std::string>{"cpts-slot", "other-public"}));
  EXPECT_EQ(json::serialize(individual).find("CPTS"), std::string::npos);
  EXPECT_TRUE(bv::resources(individual, "HealthcareService").empty());
  expect_valid(individual);

  const auto cpts =
      served().get(search_target({agenda::kCptsExamplePractitioner, agenda::kCptsOnlyPractitioner}, true));
  // "too-late" is after the examples' window, not this one's: open to CPTS only, it is here too.
  EXPECT_EQ(served().slot_names(cpts),
            (std::set<std::string>{"cpts-slot", "too-late", "other-public", "other-cpts-only"}));
  expect_valid(cpts);
  for (const auto* slot : bv::resources(cpts, "Slot")) {
    if (served().name_of(*slot) != "other-cpts-only") continue;
    EXPECT_EQ(security(*slot), std::vector<std::string>{"CPTS"});
    const auto& reference =
        slot->at("serviceType").as_array().back().at("extension").as_array()[0].at("valueReference");
    const auto* organization = golden_cpts::cpts_organization(cpts, reference);
    ASSERT_NE(organization, nullptr);
    EXPECT_EQ(organization->at("identifier").as_array()[0].at("value"), "1950046227");
    EXPECT_EQ(organization->at("name"), "CPTS VAL D OISE CENTRE") << "read from the plugin's cpts table";
  }
}

TEST_P(CptsE2e, MetadataDeclaresTheCptsSearch) {
  const auto r = served().client->get(served().host->base() + "/metadata");
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto statement = r.json();
  const auto& instantiates = statement.at("instantiates").as_array();
  EXPECT_NE(
      std::find(
          instantiates.begin(), instantiates.end(),
          json::value("https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-CPTS")),
      instantiates.end());
  std::set<std::string> types;
  for (const auto& resource : statement.at("rest").as_array()[0].at("resource").as_array()) {
    types.emplace(resource.at("type").as_string());
    if (resource.at("type") == "Slot") {
      const auto& includes = resource.at("searchInclude").as_array();
      EXPECT_NE(std::find(includes.begin(), includes.end(), json::value("Slot:service-type-reference")),
                includes.end());
    }
  }
  EXPECT_TRUE(types.contains("HealthcareService"));
  EXPECT_TRUE(types.contains("Organization"));
}

INSTANTIATE_TEST_SUITE_P(OfficialExamples, CptsE2e, testing::Values(1, 2),
                         [](const testing::TestParamInfo<int>& example) {
                           return "CPTS" + std::to_string(example.param);
                         });

// A doctor's settings and rules, changed through the admin API, apply to the CPTS search; the
// CPTS type is the agenda's.
class CptsSettingsE2e : public testing::Test {
 protected:
  void SetUp() override {
    const fs::path token = sas::test::make_temp_dir("e2e-cpts-token") / "admin.token";
    token_dir_ = token.parent_path();
    sas::test::write_file(token, std::string(kToken) + "\n");
    fs::permissions(token, fs::perms::owner_read | fs::perms::owner_write);
    served_ = std::make_unique<Served>(
        2, std::vector<std::string>{"--admin-listen", "127.0.0.1:0", "--admin-token-file", token.string()});
    ASSERT_TRUE(served_->host->log_contains("admin API listening on", 5000)) << served_->host->output();
    const uint16_t admin_port = sas::test::listening_port(served_->host->output(), "admin");
    ASSERT_NE(admin_port, 0) << served_->host->output();
    admin_ = "https://localhost:" + std::to_string(admin_port) + "/admin/v1";
  }
  void TearDown() override {
    served_.reset();
    std::error_code ec;
    fs::remove_all(token_dir_, ec);
  }

  sas::e2e::Response admin(const std::string& method, const std::string& path, const std::string& body) {
    sas::e2e::RequestOptions o;
    o.method = method;
    o.client = std::nullopt;
    o.accept = "application/json";
    o.headers = {"Authorization: Bearer " + std::string(kToken), "Content-Type: application/json"};
    o.body = body;
    return served_->client->get(admin_ + path, o);
  }

  fs::path token_dir_;
  std::unique_ptr<Served> served_;
  std::string admin_;
};

TEST_F(CptsSettingsE2e, RulesKeepTheCptsTypeAndAHiddenDoctorShowsNoSlot) {
  const std::string doctor = agenda::kCptsExamplePractitioner;
  const std::string target = search_target({agenda::kCptsExamplePractitioner, agenda::kCptsOnlyPractitioner}, true);
  // 12 June 2024 is a Wednesday: the example's slot starts at 16:40.
  const auto rule = admin("POST", "/practitioners/" + doctor + "/rules",
                          R"({"kind":"snp-hours","days":["wed"],"from":"16:00","to":"18:00"})");
  ASSERT_EQ(rule.status, 201) << rule.describe();
  auto bundle = served_->get(target);
  expect_valid(bundle);
  bool seen = false;
  for (const auto* slot : bv::resources(bundle, "Slot")) {
    if (served_->name_of(*slot) != "cpts-slot") continue;
    seen = true;
    EXPECT_EQ(security(*slot), (std::vector<std::string>{"SNP", "CPTS"}));
    std::vector<std::string> finess;
    for (const auto& st : slot->at("serviceType").as_array()) {
      if (const auto* ext = st.as_object().if_contains("extension")) {
        const auto* org = golden_cpts::cpts_organization(bundle, ext->as_array()[0].at("valueReference"));
        ASSERT_NE(org, nullptr);
        finess.emplace_back(org->at("identifier").as_array()[0].at("value").as_string());
      }
    }
    EXPECT_EQ(finess, (std::vector<std::string>{"1950047225", "1950046227"})) << "the chain is untouched";
  }
  EXPECT_TRUE(seen);

  const auto hide = admin("PATCH", "/practitioners/" + doctor + "/settings", R"({"visible":false})");
  ASSERT_EQ(hide.status, 200) << hide.describe();
  bundle = served_->get(target);
  EXPECT_EQ(served_->slot_names(bundle), (std::set<std::string>{"other-public", "other-cpts-only"}))
      << "no slot of the hidden doctor, CPTS ones included";
  EXPECT_EQ(bv::resources(bundle, "Practitioner").size(), 1U);
  expect_valid(bundle);
}

}  // namespace
