// Bad input: a consultation file or a rule file that cannot be used is refused with a message
// naming the field or key.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sas/host/billing/json.hpp>
#include <sstream>
#include <string>

namespace {

using namespace sas::host::billing;

std::string shipped_text() {
  std::ifstream in(SAS_TEST_RULES_FILE);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const BillingError& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr const char* kConsultation = R"({
  "consultation_id": "c-1",
  "practitioner": "810002673899",
  "consulted_at": "2026-11-24T10:00:00+01:00",
  "regulated_at": "2026-11-23T16:00:00+01:00",
  "medecin_traitant": false,
  "specialty": "SM54",
  "opposable_tariff": true,
  "tariff_sector": "1",
  "other_codes": ["G"],
  "snp_count_this_week": 3
})";

TEST(ConsultationJson, ParsesTheDocumentedForm) {
  const Consultation c = parse_consultation(kConsultation);
  EXPECT_EQ(c.id, "c-1");
  EXPECT_EQ(c.practitioner_id, "810002673899");
  EXPECT_FALSE(c.medecin_traitant);
  EXPECT_EQ(c.other_codes, std::vector<std::string>{"G"});
  EXPECT_EQ(c.snp_count_this_week, 3);
  EXPECT_EQ(c.consulted_at - c.regulated_at, std::chrono::hours(18));
  // Round trip through the JSON form the store keeps.
  const Consultation again = consultation_from_json(consultation_to_json(c));
  EXPECT_EQ(again.consulted_at, c.consulted_at);
  EXPECT_EQ(again.practitioner_id, c.practitioner_id);
}

struct BadField {
  const char* from;
  const char* to;
  const char* message;
};

class ConsultationJsonErrors : public ::testing::TestWithParam<BadField> {};

TEST_P(ConsultationJsonErrors, NameTheField) {
  const std::string text = replace(kConsultation, GetParam().from, GetParam().to);
  EXPECT_NE(error_of([&] { parse_consultation(text); }).find(GetParam().message), std::string::npos)
      << error_of([&] { parse_consultation(text); });
}

INSTANTIATE_TEST_SUITE_P(
    Billing, ConsultationJsonErrors,
    ::testing::ValuesIn(std::vector<BadField>{
        {R"("practitioner": "810002673899",)", "", R"(field "practitioner": missing)"},
        {"810002673899", "12", R"(field "practitioner": "12")"},
        {"2026-11-24T10:00:00+01:00", "2026-11-24T10:00:00", R"(field "consulted_at")"},
        {"2026-11-23T16:00:00+01:00", "yesterday", R"(field "regulated_at")"},
        {R"("medecin_traitant": false)", R"("medecin_traitant": "no")", R"(field "medecin_traitant": expected true)"},
        {R"("opposable_tariff": true,)", "", R"(field "opposable_tariff": missing)"},
        {R"(["G"])", R"("G")", R"(field "other_codes")"},
        {R"(["G"])", R"([""])", R"(field "other_codes[0]")"},
        {R"("snp_count_this_week": 3)", R"("snp_count_this_week": -1)", R"(field "snp_count_this_week")"},
        {"{", "[", "consultation: not valid JSON"},
    }));

class RuleFileErrors : public ::testing::TestWithParam<BadField> {};

TEST_P(RuleFileErrors, NameTheKey) {
  const std::string text = replace(shipped_text(), GetParam().from, GetParam().to);
  const std::string error = error_of([&] { RuleBook::parse(text, "rules test.json"); });
  EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Billing, RuleFileErrors,
    ::testing::ValuesIn(std::vector<BadField>{
        {R"("amount_cents": 1500,)", R"("amount_cents": "15 euros",)",
         "versions[0].snp.amount_cents: expected an integer"},
        {R"("max_per_week": 20,)", "", "(no error)"},  // optional: no cap
        {R"("effective_from": "2023-01-01")", R"("effective_from": "2023-02-30")",
         "versions[0].effective_from: no such date"},
        {R"("from": "20:00")", R"("from": "8pm")", "versions[0].pdsa.nights.from: expected a time"},
        {R"x("reference": "NGAP art. 14.1.3 (majoration SNP)")x", R"("ref": "x")",
         "versions[0].snp.reference: missing"},
        {R"({"name": "Ascension", "easter_offset": 39})", R"({"name": "Ascension"})",
         "versions[0].holidays[4]: give exactly one"},
        {R"("date": "12-25")", R"("date": "12-32")", "versions[0].holidays[10].date: no such day"},
        {R"("day": "saturday")", R"("day": "samedi")", "versions[0].regions.samedi-apres-midi.pdsa[0].day"},
        {R"("format": "sas-billing-rules/1")", R"("format": "v2")", "format: expected \"sas-billing-rules/1\""},
        {R"("codes": ["MCG"])", R"("codes": [])", "versions[0].snp.exclusions[0].codes: give at least one code"},
        {"\"versions\": [", "\"versions\": 3, \"x\": [", "versions: expected an array"},
    }));

TEST(RuleFile, NotJsonAndNotThere) {
  EXPECT_NE(error_of([] { RuleBook::parse("{", "rules x.json"); }).find("rules x.json: not valid JSON"),
            std::string::npos);
  EXPECT_NE(error_of([] { RuleBook::load("/nonexistent/rules.json"); }).find("cannot read"), std::string::npos);
}

TEST(RuleFile, VersionsInDateOrder) {
  std::ifstream in(SAS_TEST_TWO_VERSIONS_FILE);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string swapped =
      replace(text.str(), R"("effective_from": "2027-01-01")", R"("effective_from": "2022-01-01")");
  EXPECT_NE(
      error_of([&] { RuleBook::parse(swapped); }).find("versions[1].effective_from: versions must be in increasing"),
      std::string::npos);
}

TEST(Decision, JsonForm) {
  const RuleBook book = RuleBook::load(SAS_TEST_RULES_FILE);
  const Consultation c = parse_consultation(kConsultation);
  const auto json = decision_to_json(decide(book, c, *c.snp_count_this_week));
  EXPECT_EQ(json.at("code").as_string(), "SNP");
  EXPECT_EQ(json.at("parcours_indicator").as_string(), "U");
  EXPECT_EQ(json.at("amount_euros").as_string(), "15.00");
  EXPECT_EQ(json.at("snp_count_this_week").as_int64(), 3);
  EXPECT_GE(json.at("reasons").as_array().size(), 6u);
}

}  // namespace
