// The SOS Médecins search from the command line: `sas-host search --sos` (the endpoint's own
// search path, without HTTP), and the platform simulator, `sas-sim gen-agenda` (SOS data),
// `sas-sim search --sos` and `sas-sim load --sos-share`, against the real sas-host over mutual TLS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "agenda_db.hpp"
#include "e2e_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sim/sos_agenda_generator.hpp"
#include "sas_test/support.hpp"
#include "sos_agenda.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using sas::test::bin;
using sas::test::run;
using testing::HasSubstr;

constexpr const char* kFrom = "2023-08-18T09:00:00+02:00";
constexpr const char* kTo = "2023-08-20T08:00:00+02:00";

class SosTools : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("sos-tools"));
    sas::e2e::write_pki(*dir_ / "pki");
    sas::e2e::write_sos_agenda_db(sas::test::sos::example_sos_agenda(), *dir_ / "example.db");
    // A generated agenda from today on, for load.
    auto gen = run({bin("sas-sim"), "gen-agenda", "--out", (*dir_ / "generated.db").string(), "--practitioners", "10",
                    "--days", "3", "--sos-associations", "3"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    generated_ = new json::object(json::parse(gen.out).as_object());
    sas::e2e::HostOptions options;
    options.agenda = *dir_ / "example.db";
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    host_ = new sas::e2e::Host(options);
    options.agenda = *dir_ / "generated.db";
    generated_host_ = new sas::e2e::Host(options);
  }
  static void TearDownTestSuite() {
    delete host_;
    delete generated_host_;
    delete generated_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    host_ = generated_host_ = nullptr;
    generated_ = nullptr;
    dir_ = nullptr;
  }
  static std::vector<std::string> tls() {
    const fs::path pki = *dir_ / "pki";
    return {"--cert", (pki / "client.pem").string(), "--key", (pki / "client-key.pem").string(),
            "--ca",   (pki / "ca.pem").string()};
  }
  static std::vector<std::string> host_search(const std::string& plugin, const std::string& config,
                                              const std::string& sirets) {
    return {bin("sas-host").string(),
            "search",
            "--plugin",
            plugin,
            "--plugin-config",
            config,
            "--sos",
            sirets,
            "--from",
            kFrom,
            "--to",
            kTo};
  }

  static inline fs::path* dir_ = nullptr;
  static inline json::object* generated_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
  static inline sas::e2e::Host* generated_host_ = nullptr;
};

TEST_F(SosTools, HostSearchPrintsTheBundleThePlatformWouldGet) {
  auto argv = host_search(sas::test::plugin("sas-sqlite-agenda").string(), "db=" + (*dir_ / "example.db").string(),
                          "334173748400020,392080466300010");
  argv.push_back("--bundle");
  const auto r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bundle = json::parse(r.out).as_object();
  EXPECT_EQ(bundle.at("total").as_int64(), 4);
  EXPECT_EQ(bundle.at("entry").as_array().size(), 12u);
  EXPECT_EQ(bundle.at("meta").at("profile").as_array()[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator");
  // The summary names the associations and what was left out, and why.
  const auto summary = run(host_search(sas::test::plugin("sas-sqlite-agenda").string(),
                                       "db=" + (*dir_ / "example.db").string(), "34173748400020,392080466300010"));
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("4 in the answer at 3 place(s)"));
  EXPECT_THAT(summary.out, HasSubstr("SOS Médecins de Rennes"));
  EXPECT_THAT(summary.out, HasSubstr("left out, neither PUBLIC nor SNP: 1"));
}

// A generated agenda's every association at once, over its three days: the Bundle the endpoint
// would send is valid against sas-sos-bundle-aggregator and every SOS profile.
TEST_F(SosTools, HostSearchOnAGeneratedAgendaIsValidAgainstTheProfiles) {
  std::string sirets;
  for (const auto& s : sas::sim::sos_association_sirets(*dir_ / "generated.db"))
    sirets += (sirets.empty() ? "" : ",") + s;
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::vector<std::string> argv = {bin("sas-host").string(),
                                   "search",
                                   "--plugin",
                                   sas::test::plugin("sas-sqlite-agenda").string(),
                                   "--plugin-config",
                                   "db=" + (*dir_ / "generated.db").string(),
                                   "--sos",
                                   sirets,
                                   "--from",
                                   sas::sdk::datetime::format_paris(now - std::chrono::hours(24)),
                                   "--to",
                                   sas::sdk::datetime::format_paris(now + std::chrono::hours(96)),
                                   "--bundle"};
  const auto r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bundle = json::parse(r.out);
  ASSERT_GT(bundle.at("total").as_int64(), 0);
  const auto profiles = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  std::string report;
  for (const auto& issue : profiles.validate_bundle(bundle)) report += sas::conformance::to_string(issue) + "\n";
  EXPECT_EQ(report, "");
}

TEST_F(SosTools, HostSearchRefusals) {
  const std::string plugin = sas::test::plugin("sas-sqlite-agenda").string();
  const std::string config = "db=" + (*dir_ / "example.db").string();
  const auto bad = run(host_search(plugin, config, "3341737484"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("SIRET must be 14 digits"));
  std::string many;
  for (int i = 0; i < 26; ++i) many += (i ? "," : "") + std::to_string(31000000000000LL + i);
  EXPECT_EQ(run(host_search(plugin, config, many)).exit_code, 2);
  const auto refused = run(host_search(sas::test::test_plugin("template_agenda").string(), "", "334173748400020"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("does not declare the flow sos-search"));
  EXPECT_THAT(refused.err, HasSubstr("HTTP 404"));
}

TEST_F(SosTools, SimSearchSendsTheIgQueryAndSummarises) {
  std::vector<std::string> argv = {bin("sas-sim").string(), "search", "--base", host_->base()};
  for (const auto& a : tls()) argv.push_back(a);
  for (const auto& a : {"--sos", "334173748400020, 392080466300010", "--from", kFrom, "--to", kTo}) argv.push_back(a);
  const auto r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << host_->output();
  EXPECT_THAT(r.out, HasSubstr("HTTP 200, total 4 free slot(s), 3 consultation place(s)"));
  EXPECT_THAT(r.out, HasSubstr("SOS Médecins Lorient et agglomération (SIRET 392080466300010)"));
  EXPECT_THAT(r.out, HasSubstr("Centre de consultation Rennes Nord, 320 avenue Général Georges Patton, 35700 RENNES"));
  EXPECT_THAT(r.out, HasSubstr("open tue,wed,thu,fri,sat,sun 08:00:00-19:00:00"));
  EXPECT_THAT(r.out, HasSubstr("2023-08-18 09:00  PUBLIC,SNP  AMB,VR"));
  // The raw answer is the Bundle as sent; a refusal prints the OperationOutcome and fails.
  argv.push_back("--raw");
  const auto raw = run(argv);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(json::parse(raw.out).at("total").as_int64(), 4);
  std::vector<std::string> typo = {bin("sas-sim").string(), "search", "--base", host_->base()};
  for (const auto& a : tls()) typo.push_back(a);
  for (const auto& a : {"--sos", "3341737484", "--from", kFrom, "--to", kTo}) typo.push_back(a);
  const auto refused = run(typo);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("HTTP 400"));
  EXPECT_THAT(refused.err, HasSubstr("invalid association identifier"));
}

TEST_F(SosTools, GenAgendaWritesSosAssociationsAndLoadMixesSosSearches) {
  EXPECT_EQ(generated_->at("sos_associations").as_int64(), 3);
  EXPECT_GT(generated_->at("sos_places").as_int64(), 2);
  EXPECT_GT(generated_->at("sos_free_slots").as_int64(), 0);
  EXPECT_EQ(sas::sim::sos_association_sirets(*dir_ / "generated.db").size(), 3u);
  std::vector<std::string> argv = {bin("sas-sim").string(), "load",     "--base",
                                   generated_host_->base(), "--agenda", (*dir_ / "generated.db").string()};
  for (const auto& a : tls()) argv.push_back(a);
  for (const auto& a : {"--duration", "1", "--concurrency", "2", "--practitioners-per-search", "2", "--sos-share", "50",
                        "--sos-per-search", "2"}) {
    argv.push_back(a);
  }
  const auto r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stats = json::parse(r.out).as_object();
  EXPECT_EQ(stats.at("errors").as_int64(), 0) << r.out;
  EXPECT_GT(stats.at("sos_requests").as_int64(), 0) << r.out;
  EXPECT_LT(stats.at("sos_requests").as_int64(), stats.at("requests").as_int64()) << r.out;
  // More SIRETs per search than the agenda has: refused before any request.
  argv.back() = "4";
  EXPECT_EQ(run(argv).exit_code, 2);
}

}  // namespace
