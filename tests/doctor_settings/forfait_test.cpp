// Structure forfait (indicator 8) from a settings history. Every expected period and length here
// was computed by hand from the calendar (Europe/Paris: +01:00 in winter, +02:00 from the last
// Sunday of March, 2026-03-29, to the last Sunday of October, 2026-10-25), not from the code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sas/host/doctor_settings/forfait.hpp>
#include <sas/sdk/datetime.hpp>

namespace {

namespace ds = sas::host::doctor_settings;
using ds::Clock;
using sas::host::doctor_settings::SettingChangeRecord;

constexpr const char* kDoctor = "810002673899";

Clock::time_point at(const std::string& text) {
  std::string error;
  auto t = sas::sdk::datetime::parse_fhir(text, &error);
  if (!t) throw std::runtime_error(error);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(t->time_since_epoch()));
}

class History {
 public:
  History& change(const std::string& practitioner, const std::string& field, const std::string& value,
                  const std::string& effective_at) {
    SettingChangeRecord r;
    r.id = static_cast<int64_t>(records_.size()) + 1;
    r.practitioner = practitioner;
    r.field = field;
    r.value = value;
    r.effective_at = at(effective_at);
    r.recorded_at = r.effective_at;
    r.changed_by = "test";
    r.source = "cli";
    records_.push_back(r);
    return *this;
  }
  History& change(const std::string& field, const std::string& value, const std::string& effective_at) {
    return change(kDoctor, field, value, effective_at);
  }
  const std::vector<SettingChangeRecord>& records() const { return records_; }

 private:
  std::vector<SettingChangeRecord> records_;
};

struct Expected {
  std::string from;
  std::string to;
  double days;
};

// Hours to days of 24 h.
constexpr double h(double hours) { return hours / 24.0; }

void expect_periods(const std::vector<ds::Period>& actual, const std::vector<Expected>& expected, const char* kind) {
  ASSERT_EQ(actual.size(), expected.size()) << kind;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].from, at(expected[i].from)) << kind << " period " << i << " from";
    EXPECT_EQ(actual[i].to, at(expected[i].to)) << kind << " period " << i << " to";
    EXPECT_NEAR(std::chrono::duration<double>(actual[i].to - actual[i].from).count() / 86400.0, expected[i].days, 1e-9)
        << kind << " period " << i << " days";
  }
}

const Clock::time_point kLongAfter = at("2027-06-01T12:00:00+02:00");

TEST(Forfait, VolunteerAllYearVisibleFromMarchToOctober) {
  History history;
  history
      .change("volunteer", "true", "2025-12-01T10:00:00+01:00")  // before the year: carries in
      .change("visible", "true", "2026-03-01T00:00:00+01:00")
      .change("visible", "false", "2026-10-15T00:00:00+02:00");
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  const auto& line = lines[0];
  EXPECT_EQ(line.practitioner, kDoctor);
  EXPECT_EQ(line.year, 2026);
  expect_periods(line.volunteer, {{"2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", 365}}, "volunteer");
  // 1 March -> 15 October: 228 calendar days, one of them (29 March) 23 h long.
  expect_periods(line.visible, {{"2026-03-01T00:00:00+01:00", "2026-10-15T00:00:00+02:00", 227 + h(23)}}, "visible");
  expect_periods(line.both, {{"2026-03-01T00:00:00+01:00", "2026-10-15T00:00:00+02:00", 227 + h(23)}}, "both");
  EXPECT_NEAR(line.volunteer_days, 365, 1e-9);
  EXPECT_NEAR(line.visible_days, 227 + h(23), 1e-9);
  EXPECT_NEAR(line.both_days, 227 + h(23), 1e-9);
  EXPECT_FALSE(line.both_at_end);
}

TEST(Forfait, ChangesInSummerAndWinterTime) {
  History history;
  history.change("visible", "true", "2025-06-01T09:00:00+02:00")
      .change("volunteer", "true", "2026-01-01T00:00:00+01:00")  // exactly at the start of the year
      .change("visible", "false", "2026-07-14T18:00:00+02:00")   // summer time
      .change("visible", "true", "2026-11-02T08:30:00+01:00");   // winter time
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  const auto& line = lines[0];
  expect_periods(line.volunteer, {{"2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", 365}}, "volunteer");
  // 1 Jan -> 14 Jul 00:00 is 194 calendar days, then 18 h, less the hour lost on 29 March;
  // 2 Nov 08:30 -> 3 Nov is 15.5 h, then 59 days to 1 January (28 in November, 31 in December).
  const std::vector<Expected> visible = {{"2026-01-01T00:00:00+01:00", "2026-07-14T18:00:00+02:00", 194 + h(17)},
                                         {"2026-11-02T08:30:00+01:00", "2027-01-01T00:00:00+01:00", 59 + h(15.5)}};
  expect_periods(line.visible, visible, "visible");
  expect_periods(line.both, visible, "both");
  EXPECT_NEAR(line.visible_days, 253 + h(32.5), 1e-9);
  EXPECT_NEAR(line.both_days, 253 + h(32.5), 1e-9);
  EXPECT_TRUE(line.both_at_end);
}

TEST(Forfait, DaysAreUnitsOf24HoursAcrossTheClockChanges) {
  History history;
  history.change("visible", "true", "2020-01-01T00:00:00+01:00")
      .change("volunteer", "true", "2026-03-29T00:00:00+01:00")  // the spring day: 23 h
      .change("volunteer", "false", "2026-03-30T00:00:00+02:00")
      .change("volunteer", "true", "2026-10-25T00:00:00+02:00")  // the autumn day: 25 h
      .change("volunteer", "false", "2026-10-26T00:00:00+01:00")
      .change("volunteer", "true", "2026-03-28T12:00:00+01:00")  // Saturday noon to Monday noon: 47 h
      .change("volunteer", "false", "2026-03-30T12:00:00+02:00");
  // Records given out of order: the report orders them by effective_at. Here the Saturday
  // change precedes the Sunday ones, so volunteer runs 28 March 12:00 -> 30 March 00:00 (the
  // "true" of the 29th changes nothing), and the false of the 30th at noon changes nothing.
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  const std::vector<Expected> volunteer = {{"2026-03-28T12:00:00+01:00", "2026-03-30T00:00:00+02:00", h(35)},
                                           {"2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", h(25)}};
  expect_periods(lines[0].volunteer, volunteer, "volunteer");
  expect_periods(lines[0].both, volunteer, "both");
  EXPECT_NEAR(lines[0].both_days, h(60), 1e-9);

  History spring;
  spring.change("visible", "true", "2020-01-01T00:00:00+01:00")
      .change("volunteer", "true", "2026-03-29T00:00:00+01:00")
      .change("volunteer", "false", "2026-03-30T00:00:00+02:00");
  lines = ds::forfait_report(spring.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  expect_periods(lines[0].both, {{"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", h(23)}}, "both");
}

TEST(Forfait, ChangesAfterTheYearAreIgnored) {
  History history;
  history.change("volunteer", "true", "2026-05-01T00:00:00+02:00")
      .change("visible", "true", "2026-05-01T00:00:00+02:00")
      .change("volunteer", "false", "2027-01-01T00:00:00+01:00")  // the first instant of 2027
      .change("visible", "false", "2027-03-01T00:00:00+01:00");
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  // 1 May -> 1 January: 245 calendar days, one of them (25 October) 25 h long.
  expect_periods(lines[0].both, {{"2026-05-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00", 245 + h(1)}}, "both");
  EXPECT_TRUE(lines[0].both_at_end);

  // The next year starts with volunteer false (changed at its first instant), visible true.
  lines = ds::forfait_report(history.records(), 2027, at("2027-06-01T12:00:00+02:00"));
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_TRUE(lines[0].volunteer.empty());
  expect_periods(lines[0].visible, {{"2027-01-01T00:00:00+01:00", "2027-03-01T00:00:00+01:00", 59}}, "visible");
  EXPECT_TRUE(lines[0].both.empty());
  EXPECT_EQ(lines[0].both_days, 0);
  EXPECT_FALSE(lines[0].both_at_end);
}

TEST(Forfait, BackAndForthTheSameDayAndAtTheSameInstant) {
  History history;
  history.change("volunteer", "true", "2025-01-01T00:00:00+01:00")
      .change("visible", "true", "2026-02-01T00:00:00+01:00")
      .change("visible", "false", "2026-06-10T09:00:00+02:00")
      .change("visible", "true", "2026-06-10T17:30:00+02:00")
      .change("visible", "false", "2026-09-01T12:00:00+02:00")  // off and on at one instant
      .change("visible", "true", "2026-09-01T12:00:00+02:00")
      .change("volunteer", "false", "2026-04-01T00:00:00+02:00")  // same
      .change("volunteer", "true", "2026-04-01T00:00:00+02:00");
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 1U);
  expect_periods(lines[0].volunteer, {{"2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", 365}}, "volunteer");
  // 1 Feb -> 10 Jun 00:00: 129 calendar days, + 9 h, - the spring hour; 10 Jun 17:30 -> 11 Jun:
  // 6.5 h, then 204 days to 1 January, + the autumn hour.
  const std::vector<Expected> visible = {{"2026-02-01T00:00:00+01:00", "2026-06-10T09:00:00+02:00", 129 + h(8)},
                                         {"2026-06-10T17:30:00+02:00", "2027-01-01T00:00:00+01:00", 204 + h(7.5)}};
  expect_periods(lines[0].visible, visible, "visible");
  expect_periods(lines[0].both, visible, "both");
  EXPECT_NEAR(lines[0].both_days, 333 + h(15.5), 1e-9);
}

TEST(Forfait, AYearStillRunningIsCutAtNowAndAFutureYearIsEmpty) {
  History history;
  history.change("visible", "true", "2025-03-01T00:00:00+01:00")
      .change("volunteer", "true", "2026-03-01T00:00:00+01:00")
      .change("visible", "false", "2026-12-15T00:00:00+01:00");  // after `now`
  const auto now = at("2026-12-01T10:00:00+01:00");
  auto lines = ds::forfait_report(history.records(), 2026, now);
  ASSERT_EQ(lines.size(), 1U);
  // 1 March -> 1 December: 275 calendar days (the spring and autumn hours cancel), + 10 h.
  expect_periods(lines[0].volunteer, {{"2026-03-01T00:00:00+01:00", "2026-12-01T10:00:00+01:00", 275 + h(10)}},
                 "volunteer");
  // 1 January -> 1 December 10:00: 334 days + 10 h.
  expect_periods(lines[0].visible, {{"2026-01-01T00:00:00+01:00", "2026-12-01T10:00:00+01:00", 334 + h(10)}},
                 "visible");
  EXPECT_NEAR(lines[0].both_days, 275 + h(10), 1e-9);
  EXPECT_TRUE(lines[0].both_at_end);  // at `now`

  lines = ds::forfait_report(history.records(), 2027, now);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].year, 2027);
  EXPECT_TRUE(lines[0].volunteer.empty());
  EXPECT_TRUE(lines[0].visible.empty());
  EXPECT_TRUE(lines[0].both.empty());
  EXPECT_EQ(lines[0].visible_days, 0);
  EXPECT_FALSE(lines[0].both_at_end);
}

TEST(Forfait, OneLinePerPractitionerSortedAndFalseOrOtherFieldsHoldNothing) {
  History history;
  history.change("810000000003", "phone", "+33612345678", "2026-02-01T00:00:00+01:00")
      .change("810000000002", "volunteer", "false", "2026-02-01T00:00:00+01:00")
      .change("810000000002", "visible", "true", "2026-02-01T00:00:00+01:00")
      .change("810000000002", "consent_to_call", "true", "2026-02-01T00:00:00+01:00")
      .change("810000000001", "volunteer", "true", "2026-12-31T23:00:00+01:00")
      .change("810000000001", "visible", "true", "2026-12-31T23:30:00+01:00");
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].practitioner, "810000000001");
  EXPECT_EQ(lines[1].practitioner, "810000000002");
  EXPECT_EQ(lines[2].practitioner, "810000000003");
  expect_periods(lines[0].both, {{"2026-12-31T23:30:00+01:00", "2027-01-01T00:00:00+01:00", h(0.5)}}, "both");
  EXPECT_TRUE(lines[1].volunteer.empty());
  EXPECT_EQ(lines[1].visible.size(), 1U);
  EXPECT_TRUE(lines[1].both.empty());
  for (const auto* kind : {&lines[2].volunteer, &lines[2].visible, &lines[2].both}) EXPECT_TRUE(kind->empty());
  EXPECT_EQ(lines[2].volunteer_days + lines[2].visible_days + lines[2].both_days, 0);
  EXPECT_FALSE(lines[2].both_at_end);
}

TEST(Forfait, JsonAndCsvShapes) {
  History history;
  history.change("volunteer", "true", "2025-12-01T10:00:00+01:00")
      .change("visible", "true", "2026-03-01T00:00:00+01:00")
      .change("visible", "false", "2026-10-15T00:00:00+02:00")
      .change("810000000003", "phone", "+33612345678", "2026-02-01T00:00:00+01:00");
  auto lines = ds::forfait_report(history.records(), 2026, kLongAfter);
  ASSERT_EQ(lines.size(), 2U);
  const auto json = ds::to_json(lines[1]);
  EXPECT_EQ(json.at("practitioner").as_string(), kDoctor);
  EXPECT_EQ(json.at("year").to_number<int>(), 2026);
  ASSERT_EQ(json.at("visible").as_array().size(), 1U);
  const auto& visible = json.at("visible").as_array()[0].as_object();
  EXPECT_EQ(visible.at("from").as_string(), "2026-03-01T00:00:00+01:00");
  EXPECT_EQ(visible.at("to").as_string(), "2026-10-15T00:00:00+02:00");
  EXPECT_NEAR(visible.at("days").to_number<double>(), 227 + h(23), 1e-9);
  EXPECT_EQ(json.at("volunteer").as_array()[0].at("from").as_string(), "2026-01-01T00:00:00+01:00");
  EXPECT_EQ(json.at("volunteer").as_array()[0].at("to").as_string(), "2027-01-01T00:00:00+01:00");
  EXPECT_EQ(json.at("both").as_array().size(), 1U);
  EXPECT_NEAR(json.at("volunteer_days").to_number<double>(), 365, 1e-9);
  EXPECT_NEAR(json.at("visible_days").to_number<double>(), 227 + h(23), 1e-9);
  EXPECT_NEAR(json.at("both_days").to_number<double>(), 227 + h(23), 1e-9);
  EXPECT_EQ(json.at("both_at_end").as_bool(), false);
  EXPECT_EQ(json.size(), 9U);

  EXPECT_EQ(ds::to_csv(lines),
            "practitioner,year,kind,from,to,days\n"
            "810000000003,2026,total-volunteer,,,0\n"
            "810000000003,2026,total-visible,,,0\n"
            "810000000003,2026,total-both,,,0\n"
            "810002673899,2026,volunteer,2026-01-01T00:00:00+01:00,2027-01-01T00:00:00+01:00,365\n"
            "810002673899,2026,visible,2026-03-01T00:00:00+01:00,2026-10-15T00:00:00+02:00,227.958333\n"
            "810002673899,2026,both,2026-03-01T00:00:00+01:00,2026-10-15T00:00:00+02:00,227.958333\n"
            "810002673899,2026,total-volunteer,,,365\n"
            "810002673899,2026,total-visible,,,227.958333\n"
            "810002673899,2026,total-both,,,227.958333\n");
  EXPECT_EQ(ds::to_csv({}), "practitioner,year,kind,from,to,days\n");
}

}  // namespace
