// The pieces every search request of the guide is parsed with (INT_R01/R04 on Slot, SOS on
// Schedule), read leniently because the platform sends what a strict URL parser refuses: a raw
// '|', spaces after commas, '+' in offsets. Percent escapes are decoded; '+' is never read as a
// space (in a date it is the offset sign). Each flow's parser decides which parameters it takes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sas/host/fhir/operation_outcome.hpp"
#include "sas/sdk/datetime.hpp"

namespace sas::host::fhir {

// The query string of a request target ("/Slot?a=b#f" -> "a=b"); a full URL works too.
std::string_view query_of(std::string_view request_target);

// Calls `parameter(key, value)` for each key=value of `query`, both percent-decoded, the key
// trimmed; empty segments are skipped. A malformed escape calls `malformed(message, raw_key)`
// instead.
void for_each_parameter(std::string_view query,
                        const std::function<void(std::string_view key, std::string_view value)>& parameter,
                        const std::function<void(std::string message, std::string_view raw_key)>& malformed);

// The received query made a valid URI component for a self link: '|' -> %7C, ' ' -> %20, etc.;
// existing escapes and the '+' of offsets are kept as sent.
std::string reencode_query(std::string_view raw);

// The comma-separated tokens of a list parameter, each trimmed of blanks and of the '+' a form
// encoder puts for a space; empty tokens are skipped.
std::vector<std::string_view> list_tokens(std::string_view value);
// One token trimmed the same way (e.g. each side of a `system|value`).
std::string_view trim_token(std::string_view token);

// One bound of a search window, without its ge/le prefix: a dateTime with offset (milliseconds
// optional), or a plain date YYYY-MM-DD read as the Europe/Paris day (its first millisecond, or
// its last when `upper`). A space where the offset sign should be is read as '+' (a client that
// decoded '+' as a space). nullopt with a reason in `error`.
std::optional<sas::sdk::datetime::Instant> parse_window_bound(std::string_view value, bool upper, std::string& error);

// _count: a non-negative integer of at most 9 digits; nullopt otherwise.
std::optional<std::uint32_t> parse_count(std::string_view value);

// A search window given as two parameters (start=geX&start=leX, or
// _has:Slot:schedule:start=...): collects both bounds and reports each problem once.
class SearchWindow {
 public:
  // `parameter` names the parameter in messages and issue expressions.
  explicit SearchWindow(std::string parameter) : parameter_(std::move(parameter)) {}

  // One occurrence of the parameter; false and `error` set when refused (`not_supported` tells a
  // prefix other than ge/le from a malformed value).
  bool add(std::string_view value, std::string& error, bool& not_supported);
  // After every parameter: the problems left (a missing bound: issue type `required`; le before
  // ge: `invalid`), one each.
  struct Problem {
    std::string_view issue_type;
    std::string message;
  };
  std::vector<Problem> finish() const;

  bool failed() const { return failed_; }
  sas::sdk::datetime::Instant from() const { return ge_.value_or(sas::sdk::datetime::Instant{}); }
  sas::sdk::datetime::Instant to() const { return le_.value_or(sas::sdk::datetime::Instant{}); }
  const std::string& parameter() const { return parameter_; }

 private:
  std::string parameter_;
  std::optional<sas::sdk::datetime::Instant> ge_, le_;
  bool failed_ = false;
};

// What every search parser of the guide shares: the issues it collects (all reported at once,
// each naming its parameter), the 406 of a _format other than JSON, the window, status=free, and
// the result parameters every search takes the same way (_count, _format, and _pretty and _total,
// accepted without effect on the content). A flow's parser derives from it and reads its own
// parameters.
class SearchParser {
 public:
  // The names the flow gives its window and status parameters ("start" and "status" on Slot).
  SearchParser(std::string_view window_parameter, std::string_view status_parameter);

  void fail(std::string_view issue_type, std::string diagnostics, std::string_view expression);

  // The window, status and result parameters: true when `key` was one of them (and is handled).
  bool common_parameter(std::string_view key, std::string_view value);

  // Reads each parameter of `query` (malformed escapes become issues) through `parameter`, then
  // `finish`, then checks what every search requires. The error to answer (406 for _format, else
  // 400 with every issue), or nullopt.
  std::optional<HttpError> parse(std::string_view query,
                                 const std::function<void(std::string_view key, std::string_view value)>& parameter,
                                 const std::function<void()>& finish);

  const SearchWindow& window() const { return window_; }
  const std::optional<std::uint32_t>& count() const { return count_; }

 private:
  void status(std::string_view value);
  void count(std::string_view value);
  void format(std::string_view value);

  std::vector<Issue> issues_;
  std::optional<Issue> not_acceptable_;  // _format: answered with 406, before anything else
  SearchWindow window_;
  std::string status_parameter_;
  std::optional<std::uint32_t> count_;
  bool seen_status_ = false;
  bool seen_count_ = false;
  bool seen_format_ = false;
};

// The plugin's window in whole seconds, still inclusive: ge rounded up, le down, so that no slot
// outside the requested instants is asked for.
std::pair<std::int64_t, std::int64_t> whole_seconds(sas::sdk::datetime::Instant from, sas::sdk::datetime::Instant to);

}  // namespace sas::host::fhir
