// The SNP / MRT rules, case by case, written from the rule texts (SAS-DOMAIN.md §4, NGAP
// art. 14.1.3, CSP art. R6315-1) and not from the engine: each row states a consultation and
// the code the rules give it, with the one condition that refuses it. The public holidays are
// the official published dates, hard-coded here, not computed.
#include <gtest/gtest.h>

#include <sas/host/billing/calendar.hpp>
#include <sas/host/billing/engine.hpp>
#include <string>
#include <vector>

namespace {

using namespace sas::host::billing;
using namespace std::chrono;

const RuleBook& shipped_rules() {
  static const RuleBook book = RuleBook::load(SAS_TEST_RULES_FILE);
  return book;
}
const RuleBook& two_version_rules() {
  static const RuleBook book = RuleBook::load(SAS_TEST_TWO_VERSIONS_FILE);
  return book;
}

// "2026-11-24 10:00", Europe/Paris wall clock.
Instant paris(const std::string& text) {
  const int y = std::stoi(text.substr(0, 4));
  const unsigned mo = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  const int h = std::stoi(text.substr(11, 2));
  const int mi = std::stoi(text.substr(14, 2));
  const local_days date{year(y) / month(mo) / day(d)};
  return sas::sdk::datetime::from_paris_local(local_time<milliseconds>(date + hours(h) + minutes(mi)));
}

struct Case {
  const char* name;
  const char* consulted;  // Europe/Paris wall clock
  int delay_minutes;      // from the regulation (the regulator's booking) to the consultation
  bool medecin_traitant;
  const char* specialty;
  bool opposable;
  std::vector<std::string> codes;
  const char* region;
  int snp_before;          // SNP the doctor already billed this calendar week
  const char* expected;    // "SNP", "MRT" or "" (none)
  const char* refused_by;  // the one condition not met, "" when granted
};

// Tuesday 24 November 2026 10:00: an ordinary weekday morning; 18 h after the regulation.
constexpr const char* kWeekday = "2026-11-24 10:00";
constexpr int kDelay = 18 * 60;

std::vector<Case> cases() {
  return {
      // ---- 48 h after the regulation (inclusive) ----
      {"snp_47h59", kWeekday, 47 * 60 + 59, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"snp_48h00_exactly", kWeekday, 48 * 60, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"snp_48h01", kWeekday, 48 * 60 + 1, false, "SM54", true, {}, "", 0, "", "delay"},
      {"snp_72h", kWeekday, 72 * 60, false, "SM54", true, {}, "", 0, "", "delay"},
      {"snp_right_after_regulation", kWeekday, 0, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"snp_before_the_regulation", kWeekday, -1, false, "SM54", true, {}, "", 0, "", "delay"},
      {"mrt_47h59", kWeekday, 47 * 60 + 59, true, "SM54", true, {}, "", 0, "MRT", ""},
      {"mrt_48h01", kWeekday, 48 * 60 + 1, true, "SM54", true, {}, "", 0, "", "delay"},
      // ---- médecin traitant or not; opposable tariff for MRT only ----
      {"not_medecin_traitant_snp", kWeekday, kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"medecin_traitant_mrt", kWeekday, kDelay, true, "SM54", true, {}, "", 0, "MRT", ""},
      {"medecin_traitant_above_tariff", kWeekday, kDelay, true, "SM54", false, {}, "", 0, "", "opposable_tariff"},
      {"snp_above_tariff_still_snp", kWeekday, kDelay, false, "SM54", false, {}, "", 0, "SNP", ""},
      // ---- at most 20 SNP per doctor and calendar week ----
      {"first_snp_of_week", kWeekday, kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"20th_snp_of_week", kWeekday, kDelay, false, "SM54", true, {}, "", 19, "SNP", ""},
      {"21st_snp_of_week", kWeekday, kDelay, false, "SM54", true, {}, "", 20, "", "weekly_cap"},
      {"26th_snp_of_week", kWeekday, kDelay, false, "SM54", true, {}, "", 25, "", "weekly_cap"},
      {"mrt_has_no_weekly_cap", kWeekday, kDelay, true, "SM54", true, {}, "", 30, "MRT", ""},
      // ---- not for psychiatrists ----
      {"psychiatrist", kWeekday, kDelay, false, "SM42", true, {}, "", 0, "", "specialty"},
      {"child_psychiatrist", kWeekday, kDelay, false, "SM43", true, {}, "", 0, "", "specialty"},
      {"psychiatrist_lower_case", kWeekday, kDelay, false, "sm42", true, {}, "", 0, "", "specialty"},
      {"general_practitioner", kWeekday, kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"specialty_not_given", kWeekday, kDelay, false, "", true, {}, "", 0, "SNP", ""},
      {"psychiatrist_medecin_traitant_mrt", kWeekday, kDelay, true, "SM42", true, {}, "", 0, "MRT", ""},
      // ---- PDSA: every night 20:00-08:00 ----
      {"weekday_19h59", "2026-11-24 19:59", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"weekday_20h00", "2026-11-24 20:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"weekday_23h30", "2026-11-24 23:30", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"weekday_midnight", "2026-11-25 00:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"weekday_07h59", "2026-11-25 07:59", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"weekday_08h00", "2026-11-25 08:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"mrt_weekday_20h00", "2026-11-24 20:00", kDelay, true, "SM54", true, {}, "", 0, "", "pdsa"},
      {"mrt_weekday_07h59", "2026-11-25 07:59", kDelay, true, "SM54", true, {}, "", 0, "", "pdsa"},
      // ---- Saturday: ordinary by day, PDSA in the afternoon only where the region has it ----
      {"saturday_morning", "2026-11-28 10:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"saturday_afternoon_national", "2026-11-28 12:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"saturday_12h00_region",
       "2026-11-28 12:00",
       kDelay,
       false,
       "SM54",
       true,
       {},
       "samedi-apres-midi",
       0,
       "",
       "pdsa"},
      {"saturday_11h59_region", "2026-11-28 11:59", kDelay, false, "SM54", true, {}, "samedi-apres-midi", 0, "SNP", ""},
      {"saturday_19h59_region",
       "2026-11-28 19:59",
       kDelay,
       false,
       "SM54",
       true,
       {},
       "samedi-apres-midi",
       0,
       "",
       "pdsa"},
      {"saturday_20h00", "2026-11-28 20:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      // ---- Sundays 08:00-20:00 (and the nights around them) ----
      {"sunday_07h59", "2026-11-29 07:59", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"sunday_08h00", "2026-11-29 08:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"sunday_19h59", "2026-11-29 19:59", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"sunday_mrt", "2026-11-29 10:00", kDelay, true, "SM54", true, {}, "", 0, "", "pdsa"},
      {"monday_08h00_after_sunday", "2026-11-30 08:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      // ---- public holidays 08:00-20:00: official dates 2024-2028 ----
      {"easter_monday_2024", "2024-04-01 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"ascension_2024", "2024-05-09 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"whit_monday_2024", "2024-05-20 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"easter_monday_2025", "2025-04-21 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"ascension_2025", "2025-05-29 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"whit_monday_2025", "2025-06-09 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"easter_monday_2026", "2026-04-06 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"ascension_2026", "2026-05-14 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"whit_monday_2026", "2026-05-25 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"easter_monday_2027", "2027-03-29 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"ascension_2027", "2027-05-06 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"whit_monday_2027", "2027-05-17 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"easter_monday_2028", "2028-04-17 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"ascension_2028", "2028-05-25 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"whit_monday_2028", "2028-06-05 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"day_after_easter_monday_2026", "2026-04-07 10:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"friday_after_ascension_2026", "2026-05-15 10:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"holiday_19h59", "2026-05-14 19:59", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"bastille_day_2026", "2026-07-14 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"armistice_2026", "2026-11-11 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"christmas_2026", "2026-12-25 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"new_year_2027", "2027-01-01 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"may_8_2025", "2025-05-08 10:00", kDelay, false, "SM54", true, {}, "", 0, "", "pdsa"},
      {"mrt_on_holiday", "2026-05-14 10:00", kDelay, true, "SM54", true, {}, "", 0, "", "pdsa"},
      // ---- regional holidays: Alsace-Moselle Good Friday (3 April 2026) and 26 December ----
      {"good_friday_2026_national", "2026-04-03 10:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"good_friday_2026_alsace", "2026-04-03 10:00", kDelay, false, "SM54", true, {}, "alsace-moselle", 0, "", "pdsa"},
      {"december_26_2025_national", "2025-12-26 10:00", kDelay, false, "SM54", true, {}, "", 0, "SNP", ""},
      {"december_26_2025_alsace", "2025-12-26 10:00", kDelay, false, "SM54", true, {}, "alsace-moselle", 0, "", "pdsa"},
      {"unknown_region_is_national", "2026-04-03 10:00", kDelay, false, "SM54", true, {}, "nowhere", 0, "SNP", ""},
      // ---- codes that forbid SNP ----
      {"snp_with_g", kWeekday, kDelay, false, "SM54", true, {"G"}, "", 0, "SNP", ""},
      {"snp_with_mcg", kWeekday, kDelay, false, "SM54", true, {"G", "MCG"}, "", 0, "", "exclusions"},
      {"snp_with_mcg_lower_case", kWeekday, kDelay, false, "SM54", true, {"mcg"}, "", 0, "", "exclusions"},
      {"snp_with_mu", kWeekday, kDelay, false, "SM54", true, {"MU"}, "", 0, "", "exclusions"},
      {"snp_with_mut", kWeekday, kDelay, false, "SM54", true, {"MUT"}, "", 0, "", "exclusions"},
      {"snp_with_mcu", kWeekday, kDelay, false, "SM54", true, {"MCU"}, "", 0, "", "exclusions"},
      {"snp_with_pdsa_crn", kWeekday, kDelay, false, "SM54", true, {"CRN"}, "", 0, "", "exclusions"},
      {"snp_with_pdsa_crd", kWeekday, kDelay, false, "SM54", true, {"CRD"}, "", 0, "", "exclusions"},
      {"snp_with_complex", kWeekday, kDelay, false, "SM54", true, {"CCX"}, "", 0, "", "exclusions"},
      {"snp_with_very_complex", kWeekday, kDelay, false, "SM54", true, {"TCX"}, "", 0, "", "exclusions"},
      // ---- codes that forbid MRT ----
      {"mrt_with_g", kWeekday, kDelay, true, "SM54", true, {"G"}, "", 0, "MRT", ""},
      {"mrt_with_night", kWeekday, kDelay, true, "SM54", true, {"N"}, "", 0, "", "exclusions"},
      {"mrt_with_mid_night", kWeekday, kDelay, true, "SM54", true, {"MM"}, "", 0, "", "exclusions"},
      {"mrt_with_sunday_holiday", kWeekday, kDelay, true, "SM54", true, {"F"}, "", 0, "", "exclusions"},
      {"mrt_with_mu", kWeekday, kDelay, true, "SM54", true, {"MU"}, "", 0, "", "exclusions"},
      {"mrt_with_mcg", kWeekday, kDelay, true, "SM54", true, {"MCG"}, "", 0, "", "exclusions"},
      {"mrt_with_mut", kWeekday, kDelay, true, "SM54", true, {"MUT"}, "", 0, "", "exclusions"},
      {"mrt_with_mcu", kWeekday, kDelay, true, "SM54", true, {"MCU"}, "", 0, "", "exclusions"},
      {"mrt_with_pdsa_crn", kWeekday, kDelay, true, "SM54", true, {"CRN"}, "", 0, "", "exclusions"},
  };
}

class RulesTable : public ::testing::TestWithParam<Case> {};

TEST_P(RulesTable, GivesTheCodeTheRulesSay) {
  const Case& c = GetParam();
  Consultation consultation;
  consultation.id = c.name;
  consultation.practitioner_id = "810002673899";
  consultation.consulted_at = paris(c.consulted);
  consultation.regulated_at = consultation.consulted_at - minutes(c.delay_minutes);
  consultation.medecin_traitant = c.medecin_traitant;
  consultation.specialty = c.specialty;
  consultation.opposable_tariff = c.opposable;
  consultation.other_codes = c.codes;
  consultation.region = c.region;
  const Decision d = decide(shipped_rules(), consultation, c.snp_before);

  EXPECT_EQ(d.code, c.expected);
  std::vector<std::string> refused;
  for (const auto& reason : d.reasons) {
    if (!reason.met) refused.push_back(reason.rule);
    EXPECT_FALSE(reason.fr.empty());
    EXPECT_FALSE(reason.en.empty());
    EXPECT_FALSE(reason.reference.empty());
  }
  if (std::string(c.refused_by).empty()) {
    EXPECT_TRUE(refused.empty()) << "refused by " << (refused.empty() ? "" : refused.front());
  } else {
    EXPECT_EQ(refused, std::vector<std::string>{c.refused_by});
  }
  if (d.code == "SNP") {
    EXPECT_EQ(d.parcours_indicator, "U");
    EXPECT_EQ(d.amount_cents, 1500);
  } else if (d.code == "MRT") {
    EXPECT_EQ(d.parcours_indicator, "");
    EXPECT_EQ(d.amount_cents, 1500);
  } else {
    EXPECT_EQ(d.amount_cents, 0);
    EXPECT_EQ(d.parcours_indicator, "");
  }
  EXPECT_EQ(d.candidate, c.medecin_traitant ? "MRT" : "SNP");
}

INSTANTIATE_TEST_SUITE_P(Billing, RulesTable, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

// ---- rule-set changes by date: the made-up 2027 version pays 20 EUR, allows 25 a week and 72 h ----
struct DatedCase {
  const char* name;
  const char* consulted;
  int delay_minutes;
  bool medecin_traitant;
  int snp_before;
  const char* expected;
  int64_t amount_cents;
  const char* rule_set;
};

class RuleSetByDate : public ::testing::TestWithParam<DatedCase> {};

TEST_P(RuleSetByDate, JudgedByTheVersionInForceOnItsDate) {
  const DatedCase& c = GetParam();
  Consultation consultation;
  consultation.practitioner_id = "810002673899";
  consultation.consulted_at = paris(c.consulted);
  consultation.regulated_at = consultation.consulted_at - minutes(c.delay_minutes);
  consultation.medecin_traitant = c.medecin_traitant;
  consultation.specialty = "SM54";
  consultation.opposable_tariff = true;
  const Decision d = decide(two_version_rules(), consultation, c.snp_before);
  EXPECT_EQ(d.code, c.expected);
  EXPECT_EQ(d.amount_cents, c.amount_cents);
  EXPECT_EQ(d.rule_set, c.rule_set);
}

INSTANTIATE_TEST_SUITE_P(Billing, RuleSetByDate,
                         ::testing::ValuesIn(std::vector<DatedCase>{
                             {"last_day_of_v1", "2026-12-31 10:00", 60, false, 0, "SNP", 1500, "2023-01-snp-mrt"},
                             {"first_weekday_of_v2", "2027-01-04 10:00", 60, false, 0, "SNP", 2000, "test-2027-01"},
                             {"v1_refuses_60h", "2026-12-30 10:00", 60 * 60, false, 0, "", 0, "2023-01-snp-mrt"},
                             {"v2_accepts_60h", "2027-01-04 10:00", 60 * 60, false, 0, "SNP", 2000, "test-2027-01"},
                             {"v2_refuses_72h01", "2027-01-05 10:00", 72 * 60 + 1, false, 0, "", 0, "test-2027-01"},
                             {"v1_refuses_21st", "2026-12-30 10:00", 60, false, 20, "", 0, "2023-01-snp-mrt"},
                             {"v2_accepts_21st", "2027-01-06 10:00", 60, false, 20, "SNP", 2000, "test-2027-01"},
                             {"v2_refuses_26th", "2027-01-06 10:00", 60, false, 25, "", 0, "test-2027-01"},
                             {"v1_mrt", "2026-12-30 10:00", 60, true, 0, "MRT", 1500, "2023-01-snp-mrt"},
                             {"v2_mrt", "2027-01-06 10:00", 60, true, 0, "MRT", 1800, "test-2027-01"},
                         }),
                         [](const ::testing::TestParamInfo<DatedCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(RuleSetByDate, NoRulesBeforeTheFirstVersion) {
  Consultation consultation;
  consultation.consulted_at = paris("2022-12-31 10:00");
  consultation.regulated_at = consultation.consulted_at - hours(1);
  try {
    decide(shipped_rules(), consultation, 0);
    FAIL() << "expected BillingError";
  } catch (const BillingError& e) {
    EXPECT_NE(std::string(e.what()).find("no rule set is in force on 2022-12-31"), std::string::npos) << e.what();
  }
}

// ---- the calendar week starts on Monday 00:00 Europe/Paris ----
struct WeekCase {
  const char* time;
  const char* monday;
};

class WeekStart : public ::testing::TestWithParam<WeekCase> {};

TEST_P(WeekStart, IsMondayMidnightParis) {
  const Instant t = paris(GetParam().time);
  const local_days start = week_start(floor<minutes>(sas::sdk::datetime::to_paris_local(t)));
  const year_month_day ymd{start};
  char text[16];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  EXPECT_EQ(std::string(text), GetParam().monday);
}

INSTANTIATE_TEST_SUITE_P(Billing, WeekStart,
                         ::testing::ValuesIn(std::vector<WeekCase>{
                             {"2026-11-29 23:59", "2026-11-23"},  // Sunday, last minute of the week
                             {"2026-11-30 00:00", "2026-11-30"},  // Monday 00:00: a new week
                             {"2026-11-30 00:59", "2026-11-30"},  // still Sunday 23:59 in UTC
                             {"2026-11-24 10:00", "2026-11-23"},
                             {"2027-01-01 10:00", "2026-12-28"},  // across the year
                             {"2026-03-29 03:30", "2026-03-23"},  // the spring change, a Sunday
                         }));

// ---- Easter, computed, against the published dates ----
TEST(Holidays, EasterSundayMatchesThePublishedDates) {
  const std::vector<std::pair<int, year_month_day>> published = {
      {1818, 1818y / March / 22}, {2000, 2000y / April / 23}, {2019, 2019y / April / 21}, {2024, 2024y / March / 31},
      {2025, 2025y / April / 20}, {2026, 2026y / April / 5},  {2027, 2027y / March / 28}, {2028, 2028y / April / 16},
      {2038, 2038y / April / 25}, {2285, 2285y / March / 22}};
  for (const auto& [y, date] : published) EXPECT_EQ(easter_sunday(year(y)), date) << y;
}

TEST(Holidays, NamesTheHoliday) {
  const RuleSet& rules = shipped_rules().in_force(2026y / May / 14);
  EXPECT_EQ(holiday_on(rules, "", 2026y / May / 14), "Ascension");
  EXPECT_EQ(holiday_on(rules, "", 2026y / May / 25), "Lundi de Pentecôte");
  EXPECT_EQ(holiday_on(rules, "", 2026y / April / 6), "Lundi de Pâques");
  EXPECT_EQ(holiday_on(rules, "", 2026y / April / 3), std::nullopt);
  EXPECT_EQ(holiday_on(rules, "alsace-moselle", 2026y / April / 3), "Vendredi saint");
  EXPECT_EQ(holiday_on(rules, "", 2026y / May / 15), std::nullopt);
}

TEST(Holidays, ElevenNationalHolidaysEachYear) {
  const RuleSet& rules = shipped_rules().in_force(2026y / January / 1);
  for (int y = 2024; y <= 2040; ++y) {
    int count = 0;
    for (sys_days d{year(y) / January / 1}; d <= sys_days{year(y) / December / 31}; d += days(1)) {
      if (holiday_on(rules, "", year_month_day{d})) ++count;
    }
    EXPECT_EQ(count, 11) << y;
  }
}

TEST(Decision, ExplainsTheWeeklyCapWithTheRank) {
  Consultation consultation;
  consultation.consulted_at = paris(kWeekday);
  consultation.regulated_at = consultation.consulted_at - hours(2);
  consultation.specialty = "SM54";
  const Decision d = decide(shipped_rules(), consultation, 20);
  const Reason& cap = d.reasons.back();
  EXPECT_EQ(cap.rule, "weekly_cap");
  EXPECT_NE(cap.fr.find("21e SNP"), std::string::npos) << cap.fr;
  EXPECT_NE(cap.en.find("21st SNP"), std::string::npos) << cap.en;
  EXPECT_NE(cap.fr.find("23/11/2026"), std::string::npos) << cap.fr;
  EXPECT_EQ(cap.reference, "NGAP art. 14.1.3 (majoration SNP)");
  EXPECT_EQ(format_euros(1500), "15.00");
  EXPECT_EQ(format_euros(5), "0.05");
}

}  // namespace
