// SOS Médecins, end to end: the real `sas-host serve` over mutual TLS.
// - GOLDEN: the agenda behind the IG's Bundle-ExampleBundleAgregateurSOS (tests/sos_search/
//   sos_agenda.hpp, distractors included) written to a sqlite-agenda file, served with the real
//   reference plugin, searched with the example's OWN query (its self link, only the origin
//   replaced), must give the official bundle by the comparisons of the in-process golden test
//   (tests/sos_search/sos_golden.hpp); /metadata then declares SAS-GestionnaireAgenda-SOS.
// - A plugin whose manifest does not declare sos-search (the vendor template): GET /Schedule is
//   refused 404 not-supported saying so, and /metadata does not declare SOS.
// Registered twice: in-process, and with the plugin in runner processes (isolated.*).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <set>
#include <string>

#include "agenda_db.hpp"
#include "e2e_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sos_agenda.hpp"
#include "sos_golden.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace golden = sas::test::sos_golden;
namespace bv = sas::test::bundle;

constexpr const char* kSos =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-SOS";

bool instantiates_sos(const json::object& statement) {
  for (const auto& i : statement.at("instantiates").as_array()) {
    if (i.as_string() == kSos) return true;
  }
  return false;
}

class SosGoldenE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("e2e-sos-golden"));
    sas::e2e::write_pki(*dir_ / "pki");
    report_ = new sas::e2e::AgendaDbReport(
        sas::e2e::write_sos_agenda_db(sas::test::sos::example_sos_agenda(), *dir_ / "agenda.db"));
    sas::e2e::HostOptions options;
    options.agenda = *dir_ / "agenda.db";
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    options.place_identifier_system = sas::test::sos::kExamplePlaceSystem;
    host_ = new sas::e2e::Host(options);

    expected_ = new json::object(golden::official());
    const std::string self = golden::official_self_link(*expected_);
    ASSERT_EQ(self.rfind(golden::kOfficialSelfBase, 0), 0U) << self;
    url_ = new std::string(host_->base() + self.substr(std::string(golden::kOfficialSelfBase).size()));
    sas::e2e::Client client(*dir_ / "pki");
    response_ = new sas::e2e::Response(client.get(*url_));
  }

  static void TearDownTestSuite() {
    delete response_;
    delete url_;
    delete expected_;
    delete host_;
    delete report_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    response_ = nullptr;
    url_ = nullptr;
    expected_ = nullptr;
    host_ = nullptr;
    report_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(response_, nullptr);
    ASSERT_EQ(response_->curl_code, 0) << response_->describe();
    ASSERT_EQ(response_->status, 200) << response_->describe() << "\n" << host_->output();
    ASSERT_THAT(response_->content_type, testing::StartsWith("application/fhir+json"));
    actual_ = response_->json();
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::e2e::AgendaDbReport* report_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
  static inline json::object* expected_ = nullptr;
  static inline std::string* url_ = nullptr;
  static inline sas::e2e::Response* response_ = nullptr;
  json::object actual_;
};

TEST_F(SosGoldenE2e, SendsTheOfficialQueryAsWritten) {
  const std::string self = golden::official_self_link(*expected_);
  EXPECT_EQ(url_->substr(url_->find("/Schedule")), self.substr(self.find("/Schedule")));
  EXPECT_NE(url_->find("%7C"), std::string::npos);
  EXPECT_NE(url_->find("+02:00"), std::string::npos);
}

TEST_F(SosGoldenE2e, BundleLevel) { golden::expect_bundle_level(*expected_, actual_, host_->base()); }

TEST_F(SosGoldenE2e, TheAnswerIsValidAgainstTheSosProfiles) {
  const auto profiles = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  std::string report;
  for (const auto& issue : profiles.validate_bundle(actual_)) report += sas::conformance::to_string(issue) + "\n";
  EXPECT_EQ(report, "");
}

TEST_F(SosGoldenE2e, SameEntriesInTheSameOrder) { golden::expect_same_entry_sequence(*expected_, actual_); }

TEST_F(SosGoldenE2e, SameResourcesEntryByEntry) { golden::expect_same_resources(*expected_, actual_); }

// The slot ids were renumbered for the INTEGER slot.id column; the distractors (busy, PRO only,
// after the window, another association's) must not be among them.
TEST_F(SosGoldenE2e, OnlyTheExamplesFourSlotsLeaveTheDatabase) {
  EXPECT_TRUE(report_->lost.empty());
  std::set<std::string> ids;
  for (const auto* s : bv::resources(actual_, "Slot")) ids.insert(std::string(s->at("id").as_string()));
  std::set<std::string> wanted;
  for (const char* id : {"creneau-1", "creneau-2", "creneau-3", "creneau-4"}) {
    wanted.insert(std::to_string(report_->slot_ids.at(id)));
  }
  EXPECT_EQ(ids, wanted);
}

// The same query with a raw '|': the very same Bundle (the self link re-encodes).
TEST_F(SosGoldenE2e, RawBarGivesTheSameBundle) {
  std::string raw = *url_;
  for (auto at = raw.find("%7C"); at != std::string::npos; at = raw.find("%7C", at)) raw.replace(at, 3, "|");
  ASSERT_NE(raw, *url_);
  sas::e2e::Client client(*dir_ / "pki");
  const auto r = client.get(raw);
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), actual_);
}

// The IG's example typo ("...4.2.27C334...") is refused, saying what it probably is.
TEST_F(SosGoldenE2e, TheIgTypoIsRefusedOverTheWire) {
  std::string typo = *url_;
  const auto at = typo.find("%7C");
  ASSERT_NE(at, std::string::npos);
  typo.replace(at, 3, "7C");
  sas::e2e::Client client(*dir_ / "pki");
  const auto r = client.get(typo);
  ASSERT_EQ(r.status, 400) << r.describe();
  const auto outcome = r.json();
  EXPECT_EQ(outcome.at("resourceType").as_string(), "OperationOutcome");
  EXPECT_THAT(std::string(outcome.at("issue").as_array()[0].at("diagnostics").as_string()),
              testing::HasSubstr("probably urn:oid:1.2.250.1.71.4.2.2|334173748400020"));
}

TEST_F(SosGoldenE2e, MetadataDeclaresTheSosStatement) {
  sas::e2e::Client client(*dir_ / "pki");
  const auto r = client.get(host_->base() + "/metadata");
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto statement = r.json();
  EXPECT_TRUE(instantiates_sos(statement));
  bool schedule_revinclude = false;
  for (const auto& resource : statement.at("rest").as_array()[0].at("resource").as_array()) {
    if (resource.at("type") != "Schedule") continue;
    for (const auto& v : resource.at("searchRevInclude").as_array()) schedule_revinclude |= v == "Slot:schedule";
  }
  EXPECT_TRUE(schedule_revinclude);
}

// The vendor template declares slot-search only.
class SosNotDeclaredE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("e2e-sos-refused"));
    sas::e2e::write_pki(*dir_ / "pki");
    sas::e2e::HostOptions options;
    options.plugin = sas::test::test_plugin("template_agenda");
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    options.base_path = "/sas";
    host_ = new sas::e2e::Host(options);
  }
  static void TearDownTestSuite() {
    delete host_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    host_ = nullptr;
    dir_ = nullptr;
  }
  static inline fs::path* dir_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
};

TEST_F(SosNotDeclaredE2e, TheSearchIsRefusedSayingWhy) {
  sas::e2e::Client client(*dir_ / "pki");
  const std::string self = golden::official_self_link(golden::official());
  const auto r = client.get(host_->base() + self.substr(std::string(golden::kOfficialSelfBase).size()));
  ASSERT_EQ(r.status, 404) << r.describe();
  ASSERT_THAT(r.content_type, testing::StartsWith("application/fhir+json"));
  const auto outcome = r.json();
  EXPECT_EQ(outcome.at("resourceType").as_string(), "OperationOutcome");
  const auto& issue = outcome.at("issue").as_array()[0];
  EXPECT_EQ(issue.at("code").as_string(), "not-supported");
  EXPECT_THAT(std::string(issue.at("diagnostics").as_string()),
              testing::HasSubstr("my-agenda does not declare the flow sos-search"));
  // The INT_R01 search of the same host still works.
  const auto slot = client.get(host_->base() +
                               "/Slot?start=ge2026-01-12T00:00:00Z&start=le2026-01-13T00:00:00Z&status=free"
                               "&schedule.actor:Practitioner.identifier=810100050075");
  EXPECT_EQ(slot.status, 200) << slot.describe();
}

TEST_F(SosNotDeclaredE2e, MetadataDoesNotDeclareSos) {
  sas::e2e::Client client(*dir_ / "pki");
  const auto r = client.get(host_->base() + "/metadata");
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto statement = r.json();
  EXPECT_FALSE(instantiates_sos(statement));
  for (const auto& resource : statement.at("rest").as_array()[0].at("resource").as_array()) {
    EXPECT_NE(resource.at("type"), "Location");
    EXPECT_FALSE(resource.as_object().contains("searchRevInclude")) << resource.at("type");
  }
}

}  // namespace
