#include "sas/sdk/datetime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace dt = sas::sdk::datetime;
using dt::Instant;
using std::chrono::milliseconds;

namespace {

// Expected instants are written as Unix milliseconds (computed outside this code base) or
// built from std::chrono's calendar, not from the library under test.
Instant ms(long long unix_ms) { return Instant{milliseconds{unix_ms}}; }

constexpr long long kHour = 3'600'000;
constexpr long long kMinute = 60'000;

Instant utc(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0, int milli = 0) {
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
  return Instant{day} + std::chrono::hours{hh} + std::chrono::minutes{mm} + std::chrono::seconds{ss} +
         milliseconds{milli};
}

std::chrono::local_time<milliseconds> local(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0, int milli = 0) {
  const std::chrono::local_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
  return std::chrono::local_time<milliseconds>{day} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
         std::chrono::seconds{ss} + milliseconds{milli};
}

void expect_parse(const std::string& text, Instant expected) {
  SCOPED_TRACE("input \"" + text + "\"");
  std::string error;
  const auto t = dt::parse_fhir(text, &error);
  ASSERT_TRUE(t.has_value()) << error;
  EXPECT_EQ(t->time_since_epoch().count(), expected.time_since_epoch().count());
}

void expect_rejected(const std::string& text) {
  SCOPED_TRACE("input \"" + text + "\"");
  std::string error;
  EXPECT_FALSE(dt::parse_fhir(text, &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(dt::parse_fhir(text).has_value());
}

}  // namespace

TEST(ParseFhir, GuideExamples) {
  expect_parse("2021-11-04T14:19:35.760+00:00", ms(1636035575760));
  expect_parse("2021-11-04T14:19:35Z", ms(1636035575000));
  expect_parse("2021-11-04T15:19:35+01:00", ms(1636035575000));
}

TEST(ParseFhir, Offsets) {
  expect_parse("2021-11-04T14:19:35.760Z", ms(1636035575760));
  expect_parse("2021-11-04T09:19:35.760-05:00", ms(1636035575760));
  expect_parse("2021-11-04T19:49:35.760+05:30", ms(1636035575760));
  expect_parse("2021-11-04T14:19:35.760-00:00", ms(1636035575760));
  expect_parse("2021-11-05T04:19:35.760+14:00", ms(1636035575760));
  expect_parse("2021-11-04T00:19:35.760-14:00", ms(1636035575760));
  // An offset moving the instant to another day and month.
  expect_parse("2021-12-01T00:30:00+01:00", utc(2021, 11, 30, 23, 30));
}

TEST(ParseFhir, FractionDigits) {
  const long long base = 1636035575000;
  expect_parse("2021-11-04T14:19:35.7Z", ms(base + 700));
  expect_parse("2021-11-04T14:19:35.76Z", ms(base + 760));
  expect_parse("2021-11-04T14:19:35.760Z", ms(base + 760));
  expect_parse("2021-11-04T14:19:35.001Z", ms(base + 1));
  expect_parse("2021-11-04T14:19:35.0009Z", ms(base));  // truncated, not rounded
  expect_parse("2021-11-04T14:19:35.9999Z", ms(base + 999));
  expect_parse("2021-11-04T14:19:35.123456789Z", ms(base + 123));
  expect_parse("2021-11-04T14:19:35.000000000+00:00", ms(base));
}

TEST(ParseFhir, CalendarBoundaries) {
  expect_parse("2024-02-29T12:00:00Z", ms(1709208000000));       // leap year
  expect_parse("2000-02-29T00:00:00Z", utc(2000, 2, 29, 0, 0));  // divisible by 400
  expect_parse("2026-12-31T23:59:59.999Z", utc(2026, 12, 31, 23, 59, 59, 999));
  expect_parse("2026-01-01T00:00:00+01:00", utc(2025, 12, 31, 23, 0));
  expect_parse("1969-12-31T23:59:59.999Z", ms(-1));
}

TEST(ParseFhir, DstDaysWithExplicitOffsets) {
  expect_parse("2026-03-29T03:00:00+02:00", ms(1774746000000));
  expect_parse("2026-03-29T01:59:59.999+01:00", ms(1774746000000 - 1));
  expect_parse("2026-10-25T02:30:00+02:00", ms(1792890000000 - 30 * kMinute));
  expect_parse("2026-10-25T02:30:00+01:00", ms(1792890000000 + 30 * kMinute));
}

TEST(ParseFhir, RejectsInvalidDates) {
  expect_rejected("2026-02-30T10:00:00Z");
  expect_rejected("2023-02-29T10:00:00Z");  // not a leap year
  expect_rejected("2100-02-29T10:00:00Z");  // century, not a leap year
  expect_rejected("2026-04-31T10:00:00Z");
  expect_rejected("2026-13-01T10:00:00Z");
  expect_rejected("2026-00-10T10:00:00Z");
  expect_rejected("2026-01-00T10:00:00Z");
}

TEST(ParseFhir, RejectsInvalidTimes) {
  expect_rejected("2026-01-10T24:00:00Z");
  expect_rejected("2026-01-10T25:00:00Z");
  expect_rejected("2026-01-10T10:60:00Z");
  expect_rejected("2026-01-10T10:00:61Z");
}

TEST(ParseFhir, RejectsMissingOrBadOffset) {
  expect_rejected("2021-11-04T14:19:35");
  expect_rejected("2021-11-04T14:19:35.760");
  expect_rejected("2021-11-04T14:19:35 01:00");  // '+' turned into a space by URL decoding
  expect_rejected("2021-11-04T14:19:35.760 00:00");
  expect_rejected("2021-11-04T14:19:35+0100");
  expect_rejected("2021-11-04T14:19:35+01");
  expect_rejected("2021-11-04T14:19:35+1:00");
  expect_rejected("2021-11-04T14:19:35+14:01");
  expect_rejected("2021-11-04T14:19:35-14:30");
  expect_rejected("2021-11-04T14:19:35+15:00");
  expect_rejected("2021-11-04T14:19:35+01:60");
  expect_rejected("2021-11-04T14:19:35%2B01:00");  // still URL-encoded
}

TEST(ParseFhir, RejectsMalformedText) {
  expect_rejected("");
  expect_rejected("2021-11-04");
  expect_rejected("2021-11");
  expect_rejected("2021");
  expect_rejected("21-11-04T14:19:35Z");
  expect_rejected("2021-1-04T14:19:35Z");
  expect_rejected("2021/11/04T14:19:35Z");
  expect_rejected("2021-11-04 14:19:35Z");
  expect_rejected("2021-11-04T14:19Z");
  expect_rejected("2021-11-04T14:19:35.Z");            // empty fraction
  expect_rejected("2021-11-04T14:19:35.1234567890Z");  // 10 fraction digits
  expect_rejected("2021-11-04T14:19:35ZZ");
  expect_rejected("2021-11-04T14:19:35+01:00 ");
  expect_rejected("2021-11-04T14:19:35+01:00x");
  expect_rejected("2021-11-04T14:19:3aZ");
}

TEST(FormatParis, WinterAndSummer) {
  EXPECT_EQ(dt::format_paris(ms(1768478400000)), "2026-01-15T13:00:00.000+01:00");
  EXPECT_EQ(dt::format_paris(ms(1784116800000)), "2026-07-15T14:00:00.000+02:00");
  EXPECT_EQ(dt::format_paris(ms(1768478400000), false), "2026-01-15T13:00:00+01:00");
  EXPECT_EQ(dt::format_paris(ms(1784116800000), false), "2026-07-15T14:00:00+02:00");
}

TEST(FormatParis, SpringForward20260329) {
  const long long switch_ms = 1774746000000;  // 2026-03-29T01:00:00Z
  EXPECT_EQ(dt::format_paris(ms(switch_ms - 1)), "2026-03-29T01:59:59.999+01:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms)), "2026-03-29T03:00:00.000+02:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms + 30 * kMinute)), "2026-03-29T03:30:00.000+02:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms - kHour)), "2026-03-29T01:00:00.000+01:00");
  EXPECT_EQ(dt::format_paris(utc(2026, 3, 28, 23, 30)), "2026-03-29T00:30:00.000+01:00");
}

TEST(FormatParis, FallBack20261025) {
  const long long switch_ms = 1792890000000;  // 2026-10-25T01:00:00Z
  EXPECT_EQ(dt::format_paris(ms(switch_ms - 30 * kMinute)), "2026-10-25T02:30:00.000+02:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms - 1)), "2026-10-25T02:59:59.999+02:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms)), "2026-10-25T02:00:00.000+01:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms + 30 * kMinute)), "2026-10-25T02:30:00.000+01:00");
  EXPECT_EQ(dt::format_paris(ms(switch_ms + 2 * kHour)), "2026-10-25T04:00:00.000+01:00");
}

TEST(FormatParis, DateRollovers) {
  EXPECT_EQ(dt::format_paris(utc(2024, 2, 29, 23, 30)), "2024-03-01T00:30:00.000+01:00");
  EXPECT_EQ(dt::format_paris(utc(2024, 2, 28, 23, 30)), "2024-02-29T00:30:00.000+01:00");
  EXPECT_EQ(dt::format_paris(utc(2025, 12, 31, 23, 0)), "2026-01-01T00:00:00.000+01:00");
  EXPECT_EQ(dt::format_paris(utc(2026, 6, 30, 22, 0, 0, 5)), "2026-07-01T00:00:00.005+02:00");
}

TEST(FormatParis, WithoutMillisDropsTheFraction) {
  EXPECT_EQ(dt::format_paris(utc(2026, 1, 15, 12, 0, 7, 999), false), "2026-01-15T13:00:07+01:00");
}

TEST(FormatUtc, Examples) {
  EXPECT_EQ(dt::format_utc(ms(1636102800000)), "2021-11-05T09:00:00.000+00:00");
  EXPECT_EQ(dt::format_utc(ms(1636102800000), false), "2021-11-05T09:00:00+00:00");
  EXPECT_EQ(dt::format_utc(ms(1636035575760)), "2021-11-04T14:19:35.760+00:00");
  EXPECT_EQ(dt::format_utc(ms(1784116800000)), "2026-07-15T12:00:00.000+00:00");  // no DST in UTC
  EXPECT_EQ(dt::format_utc(ms(0)), "1970-01-01T00:00:00.000+00:00");
  EXPECT_EQ(dt::format_utc(ms(-1)), "1969-12-31T23:59:59.999+00:00");
  EXPECT_EQ(dt::format_utc(utc(2024, 2, 29, 7, 5, 9, 42)), "2024-02-29T07:05:09.042+00:00");
}

TEST(Format, RoundTripsThroughParse) {
  // Every 37 minutes over 2026 (crosses both transitions at varied minutes), with millis.
  for (Instant t = utc(2026, 1, 1, 0, 0, 0, 123); t < utc(2027, 1, 1, 0, 0); t += std::chrono::minutes{37}) {
    const std::string paris = dt::format_paris(t);
    const auto back = dt::parse_fhir(paris);
    ASSERT_TRUE(back.has_value()) << paris;
    ASSERT_EQ(*back, t) << paris;
    const auto back_utc = dt::parse_fhir(dt::format_utc(t));
    ASSERT_TRUE(back_utc.has_value());
    ASSERT_EQ(*back_utc, t);
  }
}

TEST(FromParisLocal, OrdinaryTimes) {
  EXPECT_EQ(dt::from_paris_local(local(2026, 1, 15, 13, 0)), ms(1768478400000));
  EXPECT_EQ(dt::from_paris_local(local(2026, 7, 15, 14, 0)), ms(1784116800000));
  EXPECT_EQ(dt::from_paris_local(local(2024, 2, 29, 9, 15, 0, 250)), utc(2024, 2, 29, 8, 15, 0, 250));
}

TEST(FromParisLocal, SpringGapMovesForward) {
  const long long switch_ms = 1774746000000;  // 01:00Z = 02:00 CET = 03:00 CEST
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 1, 59, 59, 999)), ms(switch_ms - 1));
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 2, 0)), ms(switch_ms));
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 2, 30)), ms(switch_ms + 30 * kMinute));  // = 03:30 CEST
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 2, 59, 59, 999)), ms(switch_ms + kHour - 1));
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 3, 0)), ms(switch_ms));
  EXPECT_EQ(dt::from_paris_local(local(2026, 3, 29, 3, 30)), ms(switch_ms + 30 * kMinute));
  EXPECT_EQ(dt::format_paris(dt::from_paris_local(local(2026, 3, 29, 2, 30))), "2026-03-29T03:30:00.000+02:00");
}

TEST(FromParisLocal, AutumnRepeatPicksEarlier) {
  const long long switch_ms = 1792890000000;  // 01:00Z = 03:00 CEST = 02:00 CET
  EXPECT_EQ(dt::from_paris_local(local(2026, 10, 25, 1, 59)), ms(switch_ms - kHour - kMinute));
  EXPECT_EQ(dt::from_paris_local(local(2026, 10, 25, 2, 0)), ms(switch_ms - kHour));
  EXPECT_EQ(dt::from_paris_local(local(2026, 10, 25, 2, 30)), ms(switch_ms - 30 * kMinute));
  EXPECT_EQ(dt::from_paris_local(local(2026, 10, 25, 2, 59, 59, 999)), ms(switch_ms - 1));
  EXPECT_EQ(dt::from_paris_local(local(2026, 10, 25, 3, 0)), ms(switch_ms + kHour));
  EXPECT_EQ(dt::format_paris(dt::from_paris_local(local(2026, 10, 25, 2, 30))), "2026-10-25T02:30:00.000+02:00");
}

TEST(ToParisLocal, Transitions) {
  const long long spring = 1774746000000;
  const long long autumn = 1792890000000;
  EXPECT_EQ(dt::to_paris_local(ms(spring - 1)), local(2026, 3, 29, 1, 59, 59, 999));
  EXPECT_EQ(dt::to_paris_local(ms(spring)), local(2026, 3, 29, 3, 0));
  EXPECT_EQ(dt::to_paris_local(ms(autumn - 30 * kMinute)), local(2026, 10, 25, 2, 30));
  EXPECT_EQ(dt::to_paris_local(ms(autumn + 30 * kMinute)), local(2026, 10, 25, 2, 30));
  EXPECT_EQ(dt::to_paris_local(ms(1768478400000)), local(2026, 1, 15, 13, 0));
  EXPECT_EQ(dt::to_paris_local(ms(1784116800000)), local(2026, 7, 15, 14, 0));
}

TEST(ToParisLocal, RoundTripExceptInTheGap) {
  const auto gap_begin = local(2026, 3, 29, 2, 0);
  const auto gap_end = local(2026, 3, 29, 3, 0);
  int in_gap = 0;
  for (auto l = local(2026, 1, 1, 0, 0); l < local(2027, 1, 1, 0, 0); l += std::chrono::minutes{53}) {
    const Instant t = dt::from_paris_local(l);
    if (l >= gap_begin && l < gap_end) {
      ++in_gap;  // a wall-clock time that does not exist comes back one hour later
      ASSERT_EQ(dt::to_paris_local(t), l + std::chrono::hours{1}) << dt::format_paris(t);
    } else {
      ASSERT_EQ(dt::to_paris_local(t), l) << dt::format_paris(t);
    }
  }
  EXPECT_EQ(in_gap, 1);  // the 53-minute step lands once in the missing hour (02:51)
}

TEST(FormatParis, ConcurrentCallersAgree) {
  // Threads start together so the first lookup of the zone and the per-thread cache race.
  const Instant winter = ms(1768478400000);
  const Instant summer = ms(1784116800000);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (std::size_t i = 0; i < failures.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 2000; ++k) {
        const bool w = (k + static_cast<int>(i)) % 2 == 0;
        const std::string s = dt::format_paris(w ? winter : summer);
        if (s != (w ? "2026-01-15T13:00:00.000+01:00" : "2026-07-15T14:00:00.000+02:00")) ++failures[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

namespace {

TEST(FromEpochSeconds, TheYears1970To9999AndNothingThatWouldOverflow) {
  EXPECT_EQ(dt::from_epoch_seconds(0), Instant{});
  EXPECT_EQ(dt::format_utc(*dt::from_epoch_seconds(1662300000), false), "2022-09-04T14:00:00+00:00");
  EXPECT_EQ(dt::format_utc(*dt::from_epoch_seconds(dt::kLastEpochSecond), false), "9999-12-31T23:59:59+00:00");
  EXPECT_EQ(dt::from_epoch_seconds(dt::kLastEpochSecond + 1), std::nullopt);
  EXPECT_EQ(dt::from_epoch_seconds(1662300000000), std::nullopt);  // milliseconds
  EXPECT_EQ(dt::from_epoch_seconds(std::numeric_limits<int64_t>::max()), std::nullopt);
  EXPECT_EQ(dt::from_epoch_seconds(-1), std::nullopt);
  EXPECT_EQ(dt::from_epoch_seconds(std::numeric_limits<int64_t>::min()), std::nullopt);
}

}  // namespace
