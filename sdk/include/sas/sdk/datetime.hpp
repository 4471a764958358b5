// FHIR date-times and Europe/Paris wall-clock time, from the OS time-zone database.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sas::sdk::datetime {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// The last second a time in the ABI's UTC seconds may name: 9999-12-31T23:59:59Z.
inline constexpr int64_t kLastEpochSecond = 253402300799;

// UTC seconds since the epoch (the ABI's times) as an Instant, from 1970 to the year 9999; none
// outside, where the conversion to milliseconds could overflow (a value in milliseconds, or
// garbage from a plugin).
inline std::optional<Instant> from_epoch_seconds(int64_t seconds) {
  if (seconds < 0 || seconds > kLastEpochSecond) return std::nullopt;
  return Instant(std::chrono::seconds(seconds));
}

// Parses a FHIR dateTime/instant with an offset: "2021-11-04T14:19:35.760+00:00",
// "2021-11-04T14:19:35Z", "2021-11-04T15:19:35+01:00" (milliseconds optional, 1 to 9
// fraction digits accepted and truncated to ms). A date-time without an offset is refused.
std::optional<Instant> parse_fhir(std::string_view text, std::string* error = nullptr);

// Formats an instant with the Europe/Paris offset in force at that instant:
// "2026-03-29T03:30:00.000+02:00". `with_millis` false drops the ".000".
std::string format_paris(Instant t, bool with_millis = true);

// Formats an instant in UTC: "2021-11-05T09:00:00.000+00:00".
std::string format_utc(Instant t, bool with_millis = true);

// Converts a Europe/Paris wall-clock time to an instant. For the hour that does not exist in
// spring the time is moved forward by the gap; for the repeated hour in autumn the earlier
// instant is chosen.
Instant from_paris_local(std::chrono::local_time<std::chrono::milliseconds> local);

// The Europe/Paris wall-clock time of an instant.
std::chrono::local_time<std::chrono::milliseconds> to_paris_local(Instant t);

}  // namespace sas::sdk::datetime
