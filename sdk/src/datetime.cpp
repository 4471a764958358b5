#include "sas/sdk/datetime.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <utility>

namespace sas::sdk::datetime {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Looked up once (thread-safe static initialisation); the tz database never moves it.
const date::time_zone* paris() {
  static const date::time_zone* const zone = date::locate_zone("Europe/Paris");
  return zone;
}

// Slots of one search sit within a few weeks, so the offset period of the previous call
// almost always covers the next one; the cache is per thread, so it needs no lock.
seconds paris_offset(Instant t) {
  struct Period {
    date::sys_seconds begin;
    date::sys_seconds end;
    seconds offset{0};
    bool valid = false;
  };
  thread_local Period cached;
  if (cached.valid && t >= cached.begin && t < cached.end) return cached.offset;
  const date::sys_info info = paris()->get_info(t);
  cached = Period{info.begin, info.end, info.offset, true};
  return info.offset;
}

std::optional<Instant> fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool read_int(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

char* put_digits(char* p, long long v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

std::string format_with_offset(Instant t, seconds offset, bool with_millis) {
  const auto local = t + offset;
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const long long ms_of_day = (local - day).count();
  const int year = static_cast<int>(ymd.year());

  char buf[48];
  char* p = buf;
  if (year < 0 || year > 9999) {
    // Outside FHIR's range; written anyway so that the output shows what went wrong.
    const std::string y = std::to_string(year);
    for (char c : y) *p++ = c;
  } else {
    p = put_digits(p, year, 4);
  }
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  p = put_digits(p, ms_of_day / 3'600'000, 2);
  *p++ = ':';
  p = put_digits(p, ms_of_day / 60'000 % 60, 2);
  *p++ = ':';
  p = put_digits(p, ms_of_day / 1000 % 60, 2);
  if (with_millis) {
    *p++ = '.';
    p = put_digits(p, ms_of_day % 1000, 3);
  }
  // Seconds of the offset only exist before 1911 (local mean time); ±hh:mm cannot carry them.
  const long long off_min = offset.count() / 60;
  *p++ = off_min < 0 ? '-' : '+';
  const long long abs_min = off_min < 0 ? -off_min : off_min;
  p = put_digits(p, abs_min / 60, 2);
  *p++ = ':';
  p = put_digits(p, abs_min % 60, 2);
  return std::string(buf, p);
}

}  // namespace

std::optional<Instant> parse_fhir(std::string_view text, std::string* error) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_int(text, 0, 4, y) || text.size() < 5 || text[4] != '-' || !read_int(text, 5, 2, mo) || text.size() < 8 ||
      text[7] != '-' || !read_int(text, 8, 2, d)) {
    return fail(error, "expected a date-time YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm): " + quoted);
  }
  if (text.size() == 10) return fail(error, "a time and an offset are required after the date: " + quoted);
  if (text[10] != 'T' || !read_int(text, 11, 2, h) || text.size() < 14 || text[13] != ':' ||
      !read_int(text, 14, 2, mi) || text.size() < 17 || text[16] != ':' || !read_int(text, 17, 2, sec)) {
    return fail(error, "expected a date-time YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm): " + quoted);
  }
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (y == 0 || !ymd.ok()) return fail(error, "no such date: " + quoted);
  if (h > 23) return fail(error, "hour must be 00 to 23: " + quoted);
  if (mi > 59) return fail(error, "minute must be 00 to 59: " + quoted);
  if (sec > 59) return fail(error, "second must be 00 to 59 (leap seconds are not supported): " + quoted);

  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos, ++digits) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');  // truncated, not rounded
    }
    if (digits == 0 || digits > 9) return fail(error, "fraction of second must have 1 to 9 digits: " + quoted);
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }

  if (pos == text.size()) return fail(error, "missing offset (Z, +hh:mm or -hh:mm): " + quoted);
  int offset_min = 0;
  const char sign = text[pos];
  if (sign == 'Z') {
    ++pos;
  } else if (sign == '+' || sign == '-') {
    int oh = 0, om = 0;
    if (!read_int(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_int(text, pos + 4, 2, om)) {
      return fail(error, "offset must be Z, +hh:mm or -hh:mm: " + quoted);
    }
    if (om > 59 || oh * 60 + om > 14 * 60) return fail(error, "offset beyond +/-14:00: " + quoted);
    offset_min = (sign == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else if (sign == ' ') {
    return fail(error, "space where the offset sign should be (a '+' decoded from a URL as a space?): " + quoted);
  } else {
    return fail(error, "offset must be Z, +hh:mm or -hh:mm: " + quoted);
  }
  if (pos != text.size()) return fail(error, "unexpected text after the offset: " + quoted);

  return Instant{date::sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{millis} -
         minutes{offset_min};
}

std::string format_paris(Instant t, bool with_millis) { return format_with_offset(t, paris_offset(t), with_millis); }

std::string format_utc(Instant t, bool with_millis) { return format_with_offset(t, seconds{0}, with_millis); }

Instant from_paris_local(std::chrono::local_time<std::chrono::milliseconds> local) {
  const date::local_time<milliseconds> l{local.time_since_epoch()};
  const date::local_info info = paris()->get_info(l);
  // `first` is the period before the transition. For a time in the spring gap, subtracting
  // the winter offset lands the gap's length after the transition (02:30 -> 03:30 CEST); for
  // the repeated autumn hour, the summer offset gives the earlier of the two instants.
  return Instant{(l - info.first.offset).time_since_epoch()};
}

std::chrono::local_time<std::chrono::milliseconds> to_paris_local(Instant t) {
  return std::chrono::local_time<milliseconds>{(t + paris_offset(t)).time_since_epoch()};
}

}  // namespace sas::sdk::datetime
