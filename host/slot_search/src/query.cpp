#include "sas/host/slot_search/query.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <boost/url/pct_string_view.hpp>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/sdk/ids.hpp"

namespace sas::host::slot_search {

namespace fhir = sas::host::fhir;
namespace dt = sas::sdk::datetime;
using fhir::Issue;
using fhir::Severity;

namespace {

using sas::host::text::is_blank;

using sas::host::text::trim;

// Identifier tokens: a '+' around them is a form-encoded space (never part of an id or system).
std::string_view trim_token(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '+')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '+')) s.remove_suffix(1);
  return s;
}

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

// The received query made a valid URI component: '|' -> %7C, ' ' -> %20, etc.; existing
// escapes and the '+' of offsets are kept as sent.
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
std::optional<Instant> parse_plain_date(std::string_view v, bool upper) {
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

// One `start` bound, without its prefix.
std::optional<Instant> parse_bound(std::string_view value, bool upper, std::string& error) {
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

struct Parser {
  std::vector<Issue> issues;
  std::optional<Issue> not_acceptable;  // _format: answered with 406, before anything else
  ParsedSlotQuery out;
  std::optional<Instant> ge, le;
  bool bad_start = false;
  bool seen_status = false;
  bool bad_status = false;
  bool seen_identifier = false;
  bool seen_count = false;
  bool seen_format = false;

  void fail(std::string_view code, std::string diagnostics, std::string_view expression) {
    issues.push_back(Issue{Severity::error, std::string(code), std::move(diagnostics), {std::string(expression)}});
  }

  void start(std::string_view value) {
    const std::string_view v = trim(value);
    const std::string_view prefix = v.substr(0, 2);
    const bool is_ge = prefix == "ge";
    if (!is_ge && prefix != "le") {
      bad_start = true;
      fail(fhir::issue_type::kNotSupported,
           "start: only the prefixes ge and le are supported (start=geDATE&start=leDATE), got \"" + std::string(v) +
               "\"",
           param::kStart);
      return;
    }
    std::optional<Instant>& slot = is_ge ? ge : le;
    if (slot) {
      bad_start = true;
      fail(fhir::issue_type::kInvalid, "start=" + std::string(prefix) + " given more than once", param::kStart);
      return;
    }
    std::string error;
    auto t = parse_bound(v.substr(2), !is_ge, error);
    if (!t) {
      bad_start = true;
      fail(fhir::issue_type::kInvalid, "start=" + std::string(prefix) + ": " + error, param::kStart);
      return;
    }
    slot = t;
  }

  void status(std::string_view value) {
    seen_status = true;
    if (trim(value) != "free") {
      bad_status = true;
      fail(fhir::issue_type::kNotSupported,
           "status: only status=free is supported, got \"" + std::string(trim(value)) + "\"", param::kStatus);
    }
  }

  void identifiers(std::string_view value) {
    const auto expr = param::kPractitionerIdentifier;
    if (seen_identifier) {
      fail(fhir::issue_type::kInvalid,
           std::string(expr) + " given more than once; send one comma-separated list of 1 to 25 identifiers", expr);
      return;
    }
    seen_identifier = true;
    std::size_t tokens = 0;
    std::size_t pos = 0;
    while (pos <= value.size()) {
      const auto comma = std::min(value.find(',', pos), value.size());
      const std::string_view token = trim_token(value.substr(pos, comma - pos));
      pos = comma + 1;
      if (token.empty()) continue;
      ++tokens;
      std::string_view id = token;
      if (const auto bar = token.find('|'); bar != std::string_view::npos) {
        const std::string_view system = trim_token(token.substr(0, bar));
        id = trim_token(token.substr(bar + 1));
        if (system != fhir::kPractitionerIdSystem) {
          fail(fhir::issue_type::kNotSupported,
               "identifier system must be " + std::string(fhir::kPractitionerIdSystem) + " (RPPS/ADELI), got \"" +
                   std::string(system) + "\"",
               expr);
          continue;
        }
      }
      std::string error;
      const auto normalized = sas::sdk::ids::normalize_practitioner_id(id, &error);
      if (!normalized) {
        fail(fhir::issue_type::kInvalid, "invalid practitioner identifier \"" + std::string(id) + "\": " + error, expr);
        continue;
      }
      auto& ids = out.practitioner_ids;
      if (std::find(ids.begin(), ids.end(), normalized->prefixed) == ids.end()) ids.push_back(normalized->prefixed);
    }
    if (tokens == 0) {
      fail(fhir::issue_type::kRequired, std::string(expr) + " has no identifier; 1 to 25 are required", expr);
    } else if (tokens > kMaxPractitioners) {
      fail(fhir::issue_type::kInvalid,
           std::string(expr) + ": at most " + std::to_string(kMaxPractitioners) + " identifiers per search, got " +
               std::to_string(tokens),
           expr);
    }
  }

  void include(std::string_view key, std::string_view value) {
    const std::string_view v = trim(value);
    if (v == include::kSlotSchedule) {
      out.include_schedule = true;
    } else if (v == include::kScheduleActor) {
      out.include_actors = true;
    } else {
      fail(fhir::issue_type::kNotSupported,
           std::string(key) + "=" + std::string(v) + " is not supported; supported: " + std::string(param::kInclude) +
               "=" + std::string(include::kSlotSchedule) + ", " + std::string(param::kIncludeIterate) + "=" +
               std::string(include::kScheduleActor),
           key);
    }
  }

  void count(std::string_view value) {
    const std::string_view v = trim(value);
    if (seen_count) {
      fail(fhir::issue_type::kInvalid, "_count given more than once", param::kCount);
      return;
    }
    seen_count = true;
    const bool digits =
        !v.empty() && v.size() <= 9 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      fail(fhir::issue_type::kInvalid, "_count must be a non-negative integer, got \"" + std::string(v) + "\"",
           param::kCount);
      return;
    }
    std::uint32_t n = 0;
    for (const char c : v) n = n * 10 + static_cast<std::uint32_t>(c - '0');
    out.count = n;
  }

  void format(std::string_view value) {
    if (seen_format) {
      fail(fhir::issue_type::kInvalid, "_format given more than once", param::kFormat);
      return;
    }
    seen_format = true;
    const auto f = fhir::classify_format(value);
    if (f == fhir::Format::json || f == fhir::Format::any) return;
    not_acceptable = Issue{
        Severity::error,
        std::string(fhir::issue_type::kNotSupported),
        "_format=" + std::string(trim(value)) + ": this server only produces application/fhir+json (_format=json)",
        {std::string(param::kFormat)}};
  }

  void parameter(std::string_view key, std::string_view value) {
    if (key == param::kStart) {
      start(value);
    } else if (key == param::kStatus) {
      status(value);
    } else if (key == param::kPractitionerIdentifier) {
      identifiers(value);
    } else if (key == param::kInclude || key == param::kIncludeIterate) {
      include(key, value);
    } else if (key == param::kCount) {
      count(value);
    } else if (key == param::kFormat) {
      format(value);
    } else if (key == param::kPretty || key == param::kTotal) {
      // Presentation only: accepted, no effect on the answer's content.
    } else {
      fail(fhir::issue_type::kNotSupported,
           "unknown or unsupported search parameter \"" + std::string(key) +
               "\"; supported: start (ge, le), status, schedule.actor:Practitioner.identifier, _include, "
               "_include:iterate, _count, _format",
           key);
    }
  }

  void finish() {
    if (!bad_start) {
      if (!ge) fail(fhir::issue_type::kRequired, "start=geDATE is required (beginning of the window)", param::kStart);
      if (!le) fail(fhir::issue_type::kRequired, "start=leDATE is required (end of the window)", param::kStart);
      if (ge && le && *le < *ge) {
        fail(fhir::issue_type::kInvalid,
             "start: the le bound (" + dt::format_utc(*le) + ") is before the ge bound (" + dt::format_utc(*ge) + ")",
             param::kStart);
      }
    }
    if (!seen_status) fail(fhir::issue_type::kRequired, "status=free is required", param::kStatus);
    if (!seen_identifier) {
      fail(fhir::issue_type::kRequired,
           std::string(param::kPractitionerIdentifier) + " is required (1 to 25 practitioner identifiers)",
           param::kPractitionerIdentifier);
    }
    if (ge) out.start_from = *ge;
    if (le) out.start_to = *le;
  }
};

}  // namespace

QueryResult parse_slot_query(std::string_view request_target) {
  if (const auto hash = request_target.find('#'); hash != std::string_view::npos) {
    request_target = request_target.substr(0, hash);
  }
  const auto question = request_target.find('?');
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : request_target.substr(question + 1);

  Parser p;
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
      p.fail(fhir::issue_type::kInvalid,
             "malformed percent-encoding in parameter name \"" + std::string(raw_key) + "\"", raw_key);
      continue;
    }
    const auto value = pct_decode(raw_value);
    if (!value) {
      p.fail(fhir::issue_type::kInvalid,
             "malformed percent-encoding in the value of " + *key + ": \"" + std::string(raw_value) + "\"", *key);
      continue;
    }
    p.parameter(trim(*key), *value);
  }

  if (p.not_acceptable) return fhir::http_error(406, {*p.not_acceptable});
  p.finish();
  if (!p.issues.empty()) return fhir::http_error(400, p.issues);
  p.out.query = reencode_query(query);
  return std::move(p.out);
}

sas::plugin::v1::SearchSlotsRequest to_plugin_request(const ParsedSlotQuery& query) {
  sas::plugin::v1::SearchSlotsRequest request;
  for (const auto& id : query.practitioner_ids) request.add_practitioner_national_ids(id);
  using std::chrono::seconds;
  request.set_start_from(std::chrono::ceil<seconds>(query.start_from).time_since_epoch().count());
  request.set_start_to(std::chrono::floor<seconds>(query.start_to).time_since_epoch().count());
  return request;
}

std::string slot_query_target(const std::vector<std::string>& practitioner_ids, std::string_view start_ge,
                              std::string_view start_le) {
  auto encode_plus = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '+' ? std::string("%2B") : std::string(1, c);
    return out;
  };
  std::string target = "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + encode_plus(start_ge) +
                       "&start=le" + encode_plus(start_le) + "&" + std::string(param::kPractitionerIdentifier) + "=";
  for (std::size_t i = 0; i < practitioner_ids.size(); ++i) {
    if (i != 0) target += ',';
    target += std::string(sas::sdk::ids::kPractitionerSystem) + "|" + practitioner_ids[i];
  }
  return target + "&status=free";
}

std::string self_link(const ParsedSlotQuery& query, std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string link(base_url);
  link += "/Slot";
  if (!query.query.empty()) link.append("?").append(query.query);
  return link;
}

}  // namespace sas::host::slot_search
