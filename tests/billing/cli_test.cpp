// sas-host billing explain and report snp: the shipped rule file found next to the binary, and
// bad input refused with the field or key named and nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sas/host/store/store.hpp>
#include <sas_test/support.hpp>

namespace {

namespace fs = std::filesystem;
using sas::test::bin;
using testing::HasSubstr;

class BillingCli : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("billing-cli"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name, const std::string& content) {
    sas::test::write_file(dir_ / name, content);
    return dir_ / name;
  }
  fs::path dir_;
};

constexpr const char* kGood =
    R"({"consultation_id":"c-1","practitioner":"810002673899","consulted_at":"2026-11-24T10:00:00+01:00",)"
    R"("regulated_at":"2026-11-23T16:00:00+01:00","medecin_traitant":false,"specialty":"SM54",)"
    R"("opposable_tariff":true,"other_codes":["G"]})";

TEST_F(BillingCli, ExplainUsesTheShippedRules) {
  auto r = sas::test::run({bin("sas-host"), "billing", "explain", "--json", file("c.json", kGood).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("code":"SNP","candidate":"SNP","parcours_indicator":"U","amount_euros":"15.00")"));
  EXPECT_THAT(r.out, HasSubstr("NGAP art. 14.1.3"));
  EXPECT_THAT(r.out, HasSubstr("Consultation 18 h après la régulation"));
}

TEST_F(BillingCli, AMalformedConsultationNamesTheField) {
  std::string bad = kGood;
  bad.replace(bad.find("\"medecin_traitant\":false"), 24, "\"medecin_traitant\":\"non\"");
  auto r = sas::test::run({bin("sas-host"), "billing", "explain", "--json", file("c.json", bad).string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(R"(consultation: field "medecin_traitant": expected true or false)"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(BillingCli, ABadRuleFileNamesTheKey) {
  auto rules = file("rules.json", R"({"format":"sas-billing-rules/1","versions":[{"id":"x"}]})");
  auto r = sas::test::run(
      {bin("sas-host"), "billing", "explain", "--json", file("c.json", kGood).string(), "--rules", rules.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("versions[0].effective_from: missing"));
}

TEST_F(BillingCli, ExplainWithAStoreWritesNothing) {
  const std::string url = "sqlite:" + (dir_ / "host.db").string();
  auto r =
      sas::test::run({bin("sas-host"), "billing", "explain", "--json", file("c.json", kGood).string(), "--store", url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto store = sas::host::store::open(url);
  EXPECT_EQ(store.schema_version, 5);
  EXPECT_EQ(store.consultations->count_snp_in_week("810002673899", "2026-11-23"), 0);
}

TEST_F(BillingCli, ReportChecksItsOptions) {
  const std::string url = "sqlite:" + (dir_ / "host.db").string();
  auto r = sas::test::run({bin("sas-host"), "report", "snp", "--store", url, "--practitioner", "12", "--from",
                           "2026-11-01", "--to", "2026-11-30"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--practitioner"));
  r = sas::test::run({bin("sas-host"), "report", "snp", "--store", url, "--practitioner", "810002673899", "--from",
                      "2026-11-01", "--to", "2026-11-30", "--format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--format"));
  r = sas::test::run({bin("sas-host"), "report", "snp", "--store", url, "--practitioner", "810002673899", "--from",
                      "2026-11-01", "--to", "2026-11-30", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "consultation_id,consulted_at,regulated_at,code,parcours_indicator,amount_euros,rule_set,week_start,"
            "week_snp_count,refusals_fr,refusals_en\n");
}

}  // namespace
