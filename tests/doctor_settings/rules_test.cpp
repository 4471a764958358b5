// Publication rules: the JSON form, refusals that name the key, and conflicts that name the rule.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sas/host/doctor_settings/rules.hpp"

namespace {

namespace ds = sas::host::doctor_settings;
namespace json = boost::json;

const std::string kDoctor = "810001234567";

ds::Rule rule(std::string_view text, int64_t id = 0) {
  ds::Rule r = ds::parse_rule(json::parse(text), kDoctor);
  r.id = id;
  return r;
}

// The message of the RuleError `text` raises, or "" when it parses.
std::string refusal(std::string_view text) {
  try {
    ds::parse_rule(json::parse(text), kDoctor);
    return "";
  } catch (const ds::RuleError& e) {
    return e.what();
  }
}

TEST(Rules, EachKindParsesAndRoundTrips) {
  const ds::Rule hours = rule(R"({"kind":"snp-hours","days":["mon","fri"],"from":"17:00","to":"19:30","note":"soir"})");
  EXPECT_EQ(hours.kind, ds::RuleKind::snp_hours);
  EXPECT_EQ(hours.weekdays, 0b10001U);  // Monday = bit 0, Friday = bit 4
  EXPECT_EQ(hours.from_minute, 17 * 60);
  EXPECT_EQ(hours.to_minute, 19 * 60 + 30);
  EXPECT_EQ(json::serialize(ds::to_json(hours)),
            R"({"kind":"snp-hours","days":["mon","fri"],"from":"17:00","to":"19:30","note":"soir"})");

  const ds::Rule motives = rule(R"({"kind":"snp-motives","motives":[" Urgence ","Fièvre"]})", 7);
  EXPECT_EQ(motives.motives, (std::vector<std::string>{"Urgence", "Fièvre"}));
  EXPECT_EQ(json::serialize(ds::to_json(motives)), R"({"id":7,"kind":"snp-motives","motives":["Urgence","Fièvre"]})");

  EXPECT_EQ(rule(R"({"kind":"public-also-snp"})").kind, ds::RuleKind::public_also_snp);
  EXPECT_EQ(rule(R"({"kind":"hide-motives","motives":["IVG"]})").kind, ds::RuleKind::hide_motives);
  EXPECT_EQ(rule(R"({"kind":"snp-hours","days":["sun"],"from":"00:00","to":"24:00"})").to_minute, 24 * 60);
}

TEST(Rules, RefusalsNameTheKey) {
  EXPECT_NE(refusal(R"([1])").find("JSON object"), std::string::npos);
  EXPECT_EQ(refusal(R"({"motives":["A"]})").rfind("kind:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-everything"})").rfind("kind: 'snp-everything'", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-motives"})").rfind("motives: required", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-motives","motives":[]})").rfind("motives:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-motives","motives":["  "]})").rfind("motives: a motive is empty", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-motives","motives":["A","a"]})").rfind("motives: 'a' is listed twice", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-motives","motives":[3]})").rfind("motives:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"public-also-snp","motives":["A"]})").rfind("motives: not a key", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["lun"],"from":"17:00","to":"19:00"})").rfind("days:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["mon","mon"],"from":"17:00","to":"19:00"})").rfind("days:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["mon"],"from":"17h","to":"19:00"})").rfind("from:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["mon"],"from":"17:00","to":"24:30"})").rfind("to:", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["mon"],"from":"19:00","to":"17:00"})").rfind("to: must be after", 0),
            0U);
  EXPECT_EQ(refusal(R"({"kind":"snp-hours","days":["mon"],"to":"19:00"})").rfind("from: required", 0), 0U);
  EXPECT_EQ(refusal(R"({"kind":"hide-motives","motives":["A"],"note":1})").rfind("note:", 0), 0U);
}

TEST(Rules, ConflictsNameTheOtherRule) {
  const std::vector<ds::Rule> active = {
      rule(R"({"kind":"snp-motives","motives":["Urgence"]})", 1),
      rule(R"({"kind":"hide-motives","motives":["IVG"]})", 2),
      rule(R"({"kind":"public-also-snp"})", 3),
      rule(R"({"kind":"snp-hours","days":["mon","tue"],"from":"17:00","to":"19:00"})", 4),
  };
  auto why = [&](std::string_view text) { return ds::conflict(active, rule(text)).value_or(""); };
  EXPECT_NE(why(R"({"kind":"hide-motives","motives":["urgence "]})").find("rule 1"), std::string::npos);
  EXPECT_NE(why(R"({"kind":"hide-motives","motives":["urgence"]})").find("both SNP-reserved and hidden"),
            std::string::npos);
  EXPECT_NE(why(R"({"kind":"snp-motives","motives":["ivg"]})").find("rule 2"), std::string::npos);
  EXPECT_NE(why(R"({"kind":"snp-motives","motives":["Fièvre","Urgence"]})").find("already in rule 1"),
            std::string::npos);
  EXPECT_NE(why(R"({"kind":"public-also-snp"})").find("rule 3"), std::string::npos);
  EXPECT_NE(why(R"({"kind":"snp-hours","days":["tue"],"from":"18:30","to":"20:00"})").find("overlap rule 4"),
            std::string::npos);
  // No conflict: another day, adjacent hours, another motive, another doctor.
  EXPECT_EQ(ds::conflict(active, rule(R"({"kind":"snp-hours","days":["wed"],"from":"17:00","to":"19:00"})")),
            std::nullopt);
  EXPECT_EQ(ds::conflict(active, rule(R"({"kind":"snp-hours","days":["mon"],"from":"19:00","to":"20:00"})")),
            std::nullopt);
  EXPECT_EQ(ds::conflict(active, rule(R"({"kind":"snp-motives","motives":["Fièvre"]})")), std::nullopt);
  ds::Rule other_doctor = rule(R"({"kind":"public-also-snp"})");
  other_doctor.practitioner = "810009999999";
  EXPECT_EQ(ds::conflict(active, other_doctor), std::nullopt);
}

}  // namespace
