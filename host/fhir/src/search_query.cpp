#include "sas/host/fhir/search_query.hpp"

#include <algorithm>
#include <chrono>

#include <boost/url/pct_string_view.hpp>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/json.hpp"
#include "sas/host/fhir/operation_outcome.hpp"

namespace sas::host::fhir {

namespace dt = sas::sdk::datetime;
using sas::host::text::is_blank;
using sas::host::text::trim;

namespace {

// Percent-decoding without the form rule '+' -> ' '. nullopt on a malformed escape.
std::optional<std::string> pct_decode(std::string_view raw) {
  const auto pv = boost::urls::make_pct_string_view(boost::urls::string_view(raw.data(), raw.size()));
  if (pv.has_error()) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = false;
  return pv->decode(opts);
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

// RFC 3986 query characters: unreserved, sub-delims, ':', '@', '/', '?', and '%' escapes.
bool is_query_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos;
}

bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// A plain date YYYY-MM-DD as the Europe/Paris day: its first or its last millisecond.
std::optional<dt::Instant> parse_plain_date(std::string_view v, bool upper) {
  int y = 0, m = 0, d = 0;
  if (v.size() != 10 || v[4] != '-' || v[7] != '-' || !read_digits(v, 0, 4, y) || !read_digits(v, 5, 2, m) ||
      !read_digits(v, 8, 2, d)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  using LocalMs = std::chrono::local_time<std::chrono::milliseconds>;
  const std::chrono::local_days day{ymd};
  if (!upper) return dt::from_paris_local(LocalMs{day.time_since_epoch()});
  const std::chrono::local_days next = day + std::chrono::days{1};
  return dt::from_paris_local(LocalMs{next.time_since_epoch()}) - std::chrono::milliseconds{1};
}

}  // namespace

std::string_view query_of(std::string_view request_target) {
  if (const auto hash = request_target.find('#'); hash != std::string_view::npos) {
    request_target = request_target.substr(0, hash);
  }
  const auto question = request_target.find('?');
  return question == std::string_view::npos ? std::string_view{} : request_target.substr(question + 1);
}

void for_each_parameter(std::string_view query,
                        const std::function<void(std::string_view key, std::string_view value)>& parameter,
                        const std::function<void(std::string message, std::string_view raw_key)>& malformed) {
  std::size_t pos = 0;
  while (pos < query.size()) {
    const auto amp = std::min(query.find('&', pos), query.size());
    const std::string_view segment = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (segment.empty()) continue;
    const auto eq = segment.find('=');
    const std::string_view raw_key = segment.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : segment.substr(eq + 1);
    const auto key = pct_decode(raw_key);
    if (!key) {
      malformed("malformed percent-encoding in parameter name \"" + std::string(raw_key) + "\"", raw_key);
      continue;
    }
    const auto value = pct_decode(raw_value);
    if (!value) {
      malformed("malformed percent-encoding in the value of " + *key + ": \"" + std::string(raw_value) + "\"", *key);
      continue;
    }
    parameter(trim(*key), *value);
  }
}

std::string reencode_query(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() + 16);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (is_query_char(c) || (c == '%' && i + 2 < raw.size() && is_hex(raw[i + 1]) && is_hex(raw[i + 2]))) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

std::string_view trim_token(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '+')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '+')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> list_tokens(std::string_view value) {
  std::vector<std::string_view> tokens;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto comma = std::min(value.find(',', pos), value.size());
    const std::string_view token = trim_token(value.substr(pos, comma - pos));
    pos = comma + 1;
    if (!token.empty()) tokens.push_back(token);
  }
  return tokens;
}

std::optional<dt::Instant> parse_window_bound(std::string_view value, bool upper, std::string& error) {
  std::string v(trim(value));
  if (v.size() == 10) {
    if (auto d = parse_plain_date(v, upper)) return d;
    error = "expected a date YYYY-MM-DD or a date-time with offset, got \"" + v + "\"";
    return std::nullopt;
  }
  // "…35.760 00:00": a '+' some client turned into a space; nothing else can sit there.
  if (v.size() > 6 && v[v.size() - 6] == ' ' && v[v.size() - 3] == ':') v[v.size() - 6] = '+';
  return dt::parse_fhir(v, &error);
}

std::optional<std::uint32_t> parse_count(std::string_view value) {
  const std::string_view v = trim(value);
  const bool digits =
      !v.empty() && v.size() <= 9 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return std::nullopt;
  std::uint32_t n = 0;
  for (const char c : v) n = n * 10 + static_cast<std::uint32_t>(c - '0');
  return n;
}

bool SearchWindow::add(std::string_view value, std::string& error, bool& not_supported) {
  not_supported = false;
  const std::string_view v = trim(value);
  const std::string_view prefix = v.substr(0, 2);
  const bool is_ge = prefix == "ge";
  if (!is_ge && prefix != "le") {
    failed_ = not_supported = true;
    error = parameter_ + ": only the prefixes ge and le are supported (" + parameter_ + "=geDATE&" + parameter_ +
            "=leDATE), got \"" + std::string(v) + "\"";
    return false;
  }
  std::optional<dt::Instant>& bound = is_ge ? ge_ : le_;
  if (bound) {
    failed_ = true;
    error = parameter_ + "=" + std::string(prefix) + " given more than once";
    return false;
  }
  std::string reason;
  auto t = parse_window_bound(v.substr(2), !is_ge, reason);
  if (!t) {
    failed_ = true;
    error = parameter_ + "=" + std::string(prefix) + ": " + reason;
    return false;
  }
  bound = t;
  return true;
}

std::vector<SearchWindow::Problem> SearchWindow::finish() const {
  std::vector<Problem> problems;
  if (failed_) return problems;  // already reported, one issue per occurrence
  if (!ge_) problems.push_back({issue_type::kRequired, parameter_ + "=geDATE is required (beginning of the window)"});
  if (!le_) problems.push_back({issue_type::kRequired, parameter_ + "=leDATE is required (end of the window)"});
  if (ge_ && le_ && *le_ < *ge_) {
    problems.push_back({issue_type::kInvalid, parameter_ + ": the le bound (" + dt::format_utc(*le_) +
                                                  ") is before the ge bound (" + dt::format_utc(*ge_) + ")"});
  }
  return problems;
}

SearchParser::SearchParser(std::string_view window_parameter, std::string_view status_parameter)
    : window_(std::string(window_parameter)), status_parameter_(status_parameter) {}

void SearchParser::fail(std::string_view issue_type, std::string diagnostics, std::string_view expression) {
  issues_.push_back(Issue{Severity::error, std::string(issue_type), std::move(diagnostics), {std::string(expression)}});
}

bool SearchParser::common_parameter(std::string_view key, std::string_view value) {
  if (key == window_.parameter()) {
    std::string error;
    bool not_supported = false;
    if (!window_.add(value, error, not_supported)) {
      fail(not_supported ? issue_type::kNotSupported : issue_type::kInvalid, std::move(error), key);
    }
  } else if (key == status_parameter_) {
    status(value);
  } else if (key == "_count") {
    count(value);
  } else if (key == "_format") {
    format(value);
  } else if (key != "_pretty" && key != "_total") {  // presentation only: no effect on the content
    return false;
  }
  return true;
}

void SearchParser::status(std::string_view value) {
  seen_status_ = true;
  if (trim(value) != "free") {
    fail(issue_type::kNotSupported,
         status_parameter_ + ": only " + status_parameter_ + "=free is supported, got \"" + std::string(trim(value)) +
             "\"",
         status_parameter_);
  }
}

void SearchParser::count(std::string_view value) {
  if (seen_count_) {
    fail(issue_type::kInvalid, "_count given more than once", "_count");
    return;
  }
  seen_count_ = true;
  count_ = parse_count(value);
  if (!count_) {
    fail(issue_type::kInvalid, "_count must be a non-negative integer, got \"" + std::string(trim(value)) + "\"",
         "_count");
  }
}

void SearchParser::format(std::string_view value) {
  if (seen_format_) {
    fail(issue_type::kInvalid, "_format given more than once", "_format");
    return;
  }
  seen_format_ = true;
  const auto f = classify_format(value);
  if (f == Format::json || f == Format::any) return;
  not_acceptable_ =
      Issue{Severity::error,
            std::string(issue_type::kNotSupported),
            "_format=" + std::string(trim(value)) + ": this server only produces application/fhir+json (_format=json)",
            {"_format"}};
}

std::optional<HttpError> SearchParser::parse(
    std::string_view query, const std::function<void(std::string_view key, std::string_view value)>& parameter,
    const std::function<void()>& finish) {
  for_each_parameter(query, parameter, [&](std::string message, std::string_view key) {
    fail(issue_type::kInvalid, std::move(message), key);
  });
  if (not_acceptable_) return http_error(406, {*not_acceptable_});
  for (auto& problem : window_.finish()) fail(problem.issue_type, std::move(problem.message), window_.parameter());
  if (!seen_status_) fail(issue_type::kRequired, status_parameter_ + "=free is required", status_parameter_);
  finish();
  if (!issues_.empty()) return http_error(400, issues_);
  return std::nullopt;
}

std::pair<std::int64_t, std::int64_t> whole_seconds(dt::Instant from, dt::Instant to) {
  using std::chrono::seconds;
  return {std::chrono::ceil<seconds>(from).time_since_epoch().count(),
          std::chrono::floor<seconds>(to).time_since_epoch().count()};
}

}  // namespace sas::host::fhir
