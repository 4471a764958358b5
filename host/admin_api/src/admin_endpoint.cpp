#include "sas/host/admin_api/admin_endpoint.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <google/protobuf/arena.h>
#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sas/host/appointment_notifications/event.hpp>
#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/billing/consultation_ledger.hpp>
#include <sas/host/billing/service.hpp>
#include <sas/host/doctor_settings/documents.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/metrics/registry.hpp>
#include <sas/host/panel/assets.hpp>
#include <sas/host/plugin_isolation/isolated_plugin.hpp>
#include <sas/host/plugin_loader/manifest.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/host/store/error.hpp>
#include <sas/host/text/text.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/panel_token.hpp>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sas::host::admin_api {

namespace json = boost::json;
namespace ds = doctor_settings;
namespace v1 = sas::plugin::v1;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// An answer other than success, thrown from inside a route.
class Refusal : public std::runtime_error {
 public:
  Refusal(int status, const std::string& message, Headers headers = {})
      : std::runtime_error(message), status_(status), headers_(std::move(headers)) {}
  int status() const { return status_; }
  const Headers& headers() const { return headers_; }

 private:
  int status_;
  Headers headers_;
};

using sas::host::fhir::json_response;

server::Response error_response(int status, std::string_view message, Headers headers = {}) {
  server::Response response =
      json_response(status, json::object{{"error", json::object{{"status", status}, {"message", message}}}});
  response.headers = std::move(headers);
  return response;
}

using sas::host::text::is_blank;

using sas::host::text::trim;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// The token of `Authorization: Bearer TOKEN`, if the header has that form.
std::optional<std::string_view> bearer_token(const server::Request& request) {
  const auto header = request.header("Authorization");
  if (!header) return std::nullopt;
  std::string_view value = trim(*header);
  if (value.size() < 7 || !iequals(value.substr(0, 6), "Bearer") || !is_blank(value[6])) return std::nullopt;
  return trim(value.substr(7));
}

bool same_token(std::string_view presented, const std::string& expected) {
  return !expected.empty() && presented.size() == expected.size() &&
         CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

// The query's parameters, percent-decoded ('+' kept: it is the offset sign of a dateTime).
class Params {
 public:
  Params(const boost::urls::url_view& url, std::initializer_list<std::string_view> allowed) {
    boost::urls::encoding_opts opts;
    opts.space_as_plus = false;
    for (const auto& param : url.params(opts)) {
      std::string key = param.key;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string expected;
        for (std::string_view a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
        throw Refusal(400, "unknown parameter '" + key + "'" +
                               (expected.empty() ? ": this route takes none" : "; this route takes " + expected));
      }
      if (values_.count(key) != 0U) throw Refusal(400, "parameter '" + key + "' given twice");
      values_[key] = param.value;
    }
  }
  std::optional<std::string> get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  std::string required(const std::string& key) const {
    auto value = get(key);
    if (!value || value->empty()) throw Refusal(400, "parameter '" + key + "' is required");
    return *value;
  }

 private:
  std::map<std::string, std::string> values_;
};

json::value parse_body(const server::Request& request, bool object_only) {
  if (trim(request.body).empty()) throw Refusal(400, "the request body is empty: a JSON object is expected");
  boost::system::error_code ec;
  json::value value = json::parse(request.body, ec);
  if (ec) throw Refusal(400, "the request body is not JSON: " + ec.message());
  if (object_only && !value.is_object()) throw Refusal(400, "the request body must be a JSON object");
  return value;
}

// Takes "changed_by" out of a request object: the actor's name, if given.
std::optional<std::string> take_changed_by(json::object& body) {
  const auto it = body.find("changed_by");
  if (it == body.end()) return std::nullopt;
  if (!it->value().is_string() || trim(it->value().get_string()).empty())
    throw Refusal(400, "changed_by: expected a non-empty string (who made the change)");
  std::string by(trim(it->value().get_string()));
  body.erase(it);
  return by;
}

void require_method(const server::Request& request, std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), request.method) != allowed.end()) return;
  std::string allow;
  for (std::string_view a : allowed) allow += (allow.empty() ? "" : ", ") + std::string(a);
  throw Refusal(405, "method " + request.method + " not allowed here; allowed: " + allow, {{"Allow", allow}});
}

int64_t parse_rule_id(std::string_view text) {
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw Refusal(400, "rule id '" + std::string(text) + "': expected a positive integer");
  return id;
}

int parse_year(const std::string& text) {
  int year = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), year);
  if (ec != std::errc() || end != text.data() + text.size() || year < 2000 || year > 2100)
    throw Refusal(400, "parameter 'year' '" + text + "': expected a year such as 2026");
  return year;
}

std::string instant_or_empty(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? ds::format_instant(*t) : std::string();
}

// The Paris day a report bound names, for a file name: the day itself, or the day of the
// instant (of the last millisecond before it for an exclusive end).
std::string day_of_bound(const std::string& given, billing::Instant bound, bool end) {
  if (given.size() == 10) return given;
  return sas::sdk::datetime::format_paris(end ? bound - std::chrono::milliseconds(1) : bound, false).substr(0, 10);
}

// The longest period of GET .../consultations: a year, leap or not, and its first day again.
constexpr auto kLongestReport = std::chrono::days(367);

// GET .../consultations: the SNP / MRT report of `sas-host report snp` (docs/billing.md, "The
// report"), by the same code, as JSON or CSV.
server::Response consultations_report(billing::ConsultationLedger* ledger, const boost::urls::url_view& url,
                                      const std::string& practitioner) {
  Params params(url, {"from", "to", "format"});
  const std::string from_text = params.required("from");
  const std::string to_text = params.required("to");
  const std::string format = params.get("format").value_or("json");
  if (format != "json" && format != "csv")
    throw Refusal(400, "parameter 'format' '" + format + "': expected json or csv");
  std::string error;
  const auto from = billing::parse_report_bound(from_text, false, &error);
  if (!from)
    throw Refusal(400, "parameter 'from' '" + from_text + "': " + error + " (expected a day YYYY-MM-DD or a dateTime)");
  const auto to = billing::parse_report_bound(to_text, true, &error);
  if (!to)
    throw Refusal(400, "parameter 'to' '" + to_text + "': " + error + " (expected a day YYYY-MM-DD or a dateTime)");
  if (*to <= *from) throw Refusal(400, "parameter 'to' must not be before 'from'");
  if (*to - *from > kLongestReport) throw Refusal(400, "the period from..to is limited to a year");
  if (ledger == nullptr) throw Refusal(503, "this host has no consultations store");
  const billing::ReportOptions options{practitioner, *from, *to};
  server::Response response;
  if (format == "csv") {
    response.content_type = "text/csv; charset=utf-8";
    response.body = billing::report_csv(*ledger, options);
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"sas-consultations-" + practitioner +
                                                             "-" + day_of_bound(from_text, *from, false) + "-" +
                                                             day_of_bound(to_text, *to, true) + ".csv\"");
  } else {
    response.content_type = "application/json";
    response.body = billing::report_json(*ledger, options);
  }
  return response;
}

// A panel token's view of the admin API: the routes the panel uses, for its practitioner only
// (docs/doctor-panel.md, "Access"); `rest` is the path after /admin/v1/.
bool panel_route(const std::vector<std::string>& rest) {
  if (rest.size() == 2 && rest[0] == "panel" && rest[1] == "session") return true;
  if (rest.size() == 2 && rest[0] == "reports" && rest[1] == "forfait") return true;
  if (rest.size() < 3 || rest[0] != "practitioners") return false;
  const std::string& what = rest[2];
  if (rest.size() == 3) return what == "settings" || what == "rules" || what == "explain" || what == "consultations";
  return rest.size() == 4 && ((what == "settings" && rest[3] == "history") || what == "rules");
}

const char* const kPanelRoutes =
    "a panel token is accepted only on the panel's routes: settings, settings/history, rules, explain and "
    "consultations of its practitioner, reports/forfait?practitioner= its practitioner, and panel/session";

}  // namespace

// Who asks. `client` is what the log line says; `by` and `source` are what a change records.
struct AdminEndpoint::Caller {
  std::string client;
  std::string by;
  std::string source = "admin-api";
  std::optional<sas::sdk::panel_token::PanelClaims> panel;  // a panel token's claims
  bool panel_answer = false;  // a /panel file or a panel token's request: the panel's headers
  bool static_file = false;   // a /panel file (cached differently from the API)

  // A panel token acts for its practitioner only.
  void may_act_for(const std::string& practitioner) const {
    if (panel && practitioner != panel->practitioner)
      throw Refusal(403, "this panel token is for practitioner " + panel->practitioner +
                             " only: it cannot read or change " + practitioner);
  }
  // Who a change is recorded as: `given` (a body's or query's changed_by) or the caller. A panel
  // token's changes are its subject's, whatever the page sends.
  std::string changed_by(const std::optional<std::string>& given) const {
    if (!panel) return given.value_or(by);
    if (given && *given != panel->subject)
      throw Refusal(400, "changed_by: with a panel token, changes are recorded as the token's subject '" +
                             panel->subject + "'; leave changed_by out");
    return panel->subject;
  }
};

std::string read_token_file(const std::filesystem::path& file, std::string_view flag) {
  const std::string name = std::string(flag) + " " + file.string();
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw std::invalid_argument(name + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::invalid_argument(name + ": not a regular file");
  if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::invalid_argument(name + ": readable or writable by group or others (mode " + mode +
                                "); the token file must be private: chmod 600");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument(name + ": cannot read");
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string token(trim(content));
  for (char c : token) {
    if (c <= ' ' || c > '~') throw std::invalid_argument(name + ": the token must be printable ASCII without spaces");
  }
  if (token.size() < kMinTokenLength)
    throw std::invalid_argument(name + ": the token has " + std::to_string(token.size()) + " characters; at least " +
                                std::to_string(kMinTokenLength) + " are required (e.g. openssl rand -hex 32)");
  return token;
}

server::Response render_error(int status, std::string_view message) { return error_response(status, message); }

std::string route_of(std::string_view method, std::string_view target) {
  (void)method;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == kMetricsPath) return "metrics";
  if (path == kHealthPath) return "healthz";
  if (path == kReadyPath) return "readyz";
  if (path == "/panel" || path.starts_with(panel::kPrefix)) return "panel";
  std::string_view rest = path;
  const std::string prefix = std::string(kPrefix) + "/";
  if (rest.substr(0, prefix.size()) != prefix) return "other";
  rest.remove_prefix(prefix.size());
  std::vector<std::string_view> segments;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    segments.push_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (segments.size() >= 3 && segments[0] == "practitioners") {
    if (segments[2] == "settings") return segments.size() == 4 ? "settings_history" : "settings";
    if (segments[2] == "rules") return "rules";
    if (segments[2] == "explain") return "explain";
    if (segments[2] == "consultations") return "consultations";
    return "other";
  }
  if (segments.size() == 2 && segments[0] == "reports" && segments[1] == "forfait") return "forfait_report";
  if (segments.size() == 1 && segments[0] == "appointment-events") return "appointment_events";
  if (segments.size() == 1 && segments[0] == "outbox") return "outbox";
  if (segments.size() == 1 && segments[0] == "plugin") return "plugin";
  if (segments.size() == 2 && segments[0] == "panel" && segments[1] == "session") return "panel_session";
  return "other";
}

json::object plugin_document(const plugin_loader::Plugin& plugin) {
  const auto abi = plugin.abi_version();
  json::object answer{
      {"name", plugin.manifest().name},
      {"version", plugin.manifest().version},
      {"abi", std::to_string(SAS_ABI_VERSION_MAJOR_OF(abi)) + "." + std::to_string(SAS_ABI_VERSION_MINOR_OF(abi))},
      {"isolation", plugin.isolation()}};
  json::array runners;
  json::array exits;
  uint64_t deaths = 0;
  uint64_t restarts = 0;
  if (const auto* isolated = dynamic_cast<const plugin_isolation::IsolatedPlugin*>(&plugin.innermost())) {
    const plugin_isolation::PoolStatus status = isolated->status();
    for (const auto& r : status.runners) {
      runners.push_back(json::object{
          {"runner", r.runner},
          {"pid", r.pid},
          {"state", r.state},
          {"calls_in_flight", r.calls_in_flight},
          {"calls_total", r.calls_total},
          {"rss_bytes", r.rss_bytes},
          {"started_at", r.pid == 0 ? json::value(nullptr) : json::value(instant_or_empty(r.started_at))}});
    }
    for (const auto& e : status.recent_exits) {
      exits.push_back(json::object{{"runner", e.runner},
                                   {"pid", e.pid},
                                   {"signal", e.signal},
                                   {"exit_code", e.exit_code},
                                   {"reason", e.reason},
                                   {"calls_lost", e.calls_lost},
                                   {"expected", e.expected},
                                   {"at", instant_or_empty(e.at)}});
    }
    deaths = status.deaths_total;
    restarts = status.restarts_total;
  }
  answer["runners"] = std::move(runners);
  answer["deaths_total"] = deaths;
  answer["restarts_total"] = restarts;
  answer["recent_exits"] = std::move(exits);
  return answer;
}

AdminEndpoint::AdminEndpoint(AdminEndpointOptions options) : options_(std::move(options)) {
  if (!options_.settings) throw std::invalid_argument("AdminEndpoint: no doctor settings service");
  if (!options_.outbox) throw std::invalid_argument("AdminEndpoint: no outbox");
  if (options_.plugin) {
    slot_search::SearchServiceOptions search;
    search.plugin_deadline = options_.plugin_deadline;
    search.log = options_.log;
    search_ = std::make_shared<const slot_search::SearchService>(options_.plugin, std::move(search));
  }
}

server::Response AdminEndpoint::readiness() const {
  json::object failing;
  json::array passing;
  for (const auto& check : options_.readiness) {
    std::optional<std::string> problem;
    try {
      problem = check.check();
    } catch (const std::exception&) {
      problem = "the check failed";
    }
    if (problem) {
      failing[check.name] = *problem;
    } else {
      passing.emplace_back(check.name);
    }
  }
  if (failing.empty()) return json_response(200, json::object{{"status", "ready"}, {"checks", std::move(passing)}});
  return json_response(
      503, json::object{{"status", "not ready"}, {"failing", std::move(failing)}, {"passing", std::move(passing)}});
}

server::Response AdminEndpoint::handle(const server::Request& request) const {
  Caller caller;
  server::Response response;
  try {
    response = route(request, caller);
  } catch (const Refusal& e) {
    response = error_response(e.status(), e.what(), e.headers());
  } catch (const appointment_notifications::InvalidEvent& e) {
    response = error_response(400, std::string("invalid appointment event: ") + e.what());
  } catch (const ds::SettingsError& e) {
    response = error_response(400, e.what());
  } catch (const ds::RuleError& e) {
    response = error_response(400, e.what());
  } catch (const ds::NotFound& e) {
    response = error_response(404, e.what());
  } catch (const store::StoreError& e) {
    response = error_response(503, std::string("the host's store is unavailable: ") + e.what());
  } catch (const std::exception& e) {
    response = error_response(500, std::string("internal error: ") + e.what());
  }
  if (caller.panel_answer) {
    for (auto& header : panel::security_headers(options_.panel_frame_ancestors, !caller.static_file))
      response.headers.push_back(std::move(header));
  }
  if (options_.log) {
    const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    options_.log("admin API: " + request.method + " " + std::string(path) + " " + std::to_string(response.status) +
                 " client " + (caller.client.empty() ? "(unauthenticated)" : caller.client) + " from " +
                 request.remote);
  }
  return response;
}

AdminEndpoint::Caller AdminEndpoint::panel_caller(std::string_view token) const {
  namespace pt = sas::sdk::panel_token;
  pt::TokenRefusal refusal;
  auto claims =
      pt::verify_panel_token(options_.panel_key, token, pt::Clock::now(), options_.panel_token_max_ttl, &refusal);
  if (!claims) {
    // Which of the two, so that the page can say "ask your agenda again" rather than "forged";
    // the reason never holds the token.
    const bool expired = refusal.kind == pt::TokenRefusal::Kind::expired;
    throw Refusal(401,
                  expired ? "the panel token has expired: the agenda must open the panel again with a new one"
                          : "the panel token is invalid: " + refusal.reason,
                  {{"WWW-Authenticate", std::string(R"(Bearer realm="sas-host panel", error="invalid_token", )") +
                                            (expired ? R"(error_description="the token has expired")"
                                                     : R"(error_description="the token is invalid")")}});
  }
  Caller caller;
  caller.client = "panel:" + claims->subject + " for " + claims->practitioner;
  caller.by = claims->subject;
  caller.source = "panel";
  caller.panel = std::move(claims);
  caller.panel_answer = true;
  return caller;
}

server::Response AdminEndpoint::route(const server::Request& request, Caller& caller) const {
  const std::string_view target_path = std::string_view(request.target).substr(0, request.target.find('?'));
  // Health, for a supervisor or a balancer: no authentication, nothing but the checks' names.
  if (target_path == kHealthPath) {
    require_method(request, {"GET", "HEAD"});
    server::Response response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "ok\n";
    return response;
  }
  if (target_path == kReadyPath) {
    require_method(request, {"GET", "HEAD"});
    return readiness();
  }
  // The panel's files: no identity needed (they hold no data; the page sends its token to the
  // API), and only when the panel is on.
  if (target_path == "/panel" || target_path.starts_with(panel::kPrefix)) {
    if (options_.panel_key.empty())
      throw Refusal(404, "this host serves no doctor's panel (panel-key-file is not set)");
    caller.panel_answer = true;
    caller.static_file = true;
    require_method(request, {"GET", "HEAD"});
    if (target_path == "/panel") {
      server::Response moved;
      moved.status = 308;
      moved.content_type.clear();
      moved.headers.emplace_back("Location", std::string(panel::kPrefix));
      return moved;
    }
    const auto asset = panel::find_asset(target_path);
    if (!asset) throw Refusal(404, "no such file of the doctor's panel: " + std::string(target_path));
    server::Response file;
    file.content_type = std::string(asset->content_type);
    file.body = std::string(asset->bytes);
    return file;
  }

  // Who is asking: a certificate on the admin allow-list, else the bearer token, else (GET
  // /metrics only) the metrics token, else a panel token (a JWT: two dots).
  if (!request.client.cn.empty()) {
    caller.client = "CN=" + request.client.cn + ",OU=" + request.client.ou;
    caller.by = request.client.cn;
  } else if (auto token = bearer_token(request); token && same_token(*token, options_.token)) {
    caller.client = "token";
    caller.by = "token";
  } else if (token && same_token(*token, options_.metrics_token)) {
    caller.client = "metrics token";
    if (target_path != kMetricsPath)
      throw Refusal(403, "the metrics token is accepted on " + std::string(kMetricsPath) + " only");
  } else if (token && !options_.panel_key.empty() && std::count(token->begin(), token->end(), '.') == 2) {
    caller.panel_answer = true;
    caller = panel_caller(*token);
    if (target_path == kMetricsPath) throw Refusal(403, kPanelRoutes);
  } else {
    const bool presented = request.header("Authorization").has_value();
    throw Refusal(401,
                  presented ? "the Authorization header does not carry a valid bearer token"
                            : "authentication required: Authorization: Bearer TOKEN, or a client certificate on "
                              "the admin allow-list",
                  {{"WWW-Authenticate", presented ? R"(Bearer realm="sas-host admin", error="invalid_token")"
                                                  : R"(Bearer realm="sas-host admin")"}});
  }

  if (target_path == kMetricsPath) {
    require_method(request, {"GET"});
    if (!options_.metrics) throw Refusal(404, "no metrics in this host");
    server::Response response;
    response.content_type = std::string(metrics::kContentType);
    response.body = options_.metrics();
    return response;
  }

  const auto parsed = boost::urls::parse_origin_form(request.target);
  if (parsed.has_error()) throw Refusal(400, "malformed request target: " + request.target);
  const boost::urls::url_view url = *parsed;
  std::vector<std::string> segments;
  for (const auto& segment : url.segments()) segments.push_back(segment);
  if (!segments.empty() && segments.back().empty()) segments.pop_back();
  const std::string path(url.path());
  const bool admin_path = segments.size() >= 3 && segments[0] == "admin" && segments[1] == "v1";
  const std::vector<std::string> rest(admin_path ? segments.begin() + 2 : segments.end(), segments.end());
  if (caller.panel && (!admin_path || !panel_route(rest))) throw Refusal(403, kPanelRoutes);
  if (!admin_path) throw Refusal(404, "no such admin route: " + path);
  auto& service = *options_.settings;

  if (rest.size() >= 3 && rest[0] == "practitioners") {
    const std::string& what = rest[2];
    const bool known =
        (rest.size() == 3 && (what == "settings" || what == "rules" || what == "explain" || what == "consultations")) ||
        (rest.size() == 4 && ((what == "settings" && rest[3] == "history") || what == "rules"));
    if (!known) throw Refusal(404, "no such admin route: " + path);
    const std::string practitioner = ds::normalize_practitioner(rest[1], "practitioner id");
    caller.may_act_for(practitioner);
    if (rest.size() == 3 && what == "settings") {
      require_method(request, {"GET", "PATCH"});
      if (request.method == "GET") {
        Params params(url, {});
        return json_response(200, ds::to_json(service.get(practitioner)));
      }
      Params params(url, {});
      json::value body = parse_body(request, true);
      json::object& object = body.as_object();
      const ds::Actor actor{caller.changed_by(take_changed_by(object)), caller.source};
      std::optional<ds::Clock::time_point> effective_at;
      if (auto it = object.find("effective_at"); it != object.end()) {
        if (!it->value().is_string())
          throw Refusal(400, "effective_at: expected a FHIR dateTime with an offset, e.g. 2026-03-01T09:00:00+01:00");
        effective_at = ds::parse_instant(it->value().get_string(), "effective_at");
        object.erase(it);
      }
      const ds::SettingsPatch patch = ds::patch_from_json(body);
      return json_response(200, ds::to_json(service.set(practitioner, patch, actor, effective_at)));
    }
    if (rest.size() == 4 && what == "settings" && rest[3] == "history") {
      require_method(request, {"GET"});
      Params params(url, {});
      return json_response(200, ds::history_document(practitioner, service.history(practitioner)));
    }
    if (rest.size() == 3 && what == "rules") {
      require_method(request, {"GET", "POST"});
      Params params(url, {});
      if (request.method == "GET") {
        return json_response(200, ds::rules_document(practitioner, service.rules(practitioner)));
      }
      json::value body = parse_body(request, true);
      const ds::Actor actor{caller.changed_by(take_changed_by(body.as_object())), caller.source};
      ds::parse_rule(body, practitioner);  // an invalid rule: RuleError, 400
      ds::Rule rule;
      try {
        rule = service.add_rule(practitioner, body, actor);
      } catch (const ds::RuleError& e) {
        throw Refusal(409, e.what());  // valid on its own (checked above): a conflict with an active rule
      }
      server::Response response = json_response(201, ds::to_json(rule));
      response.headers.emplace_back(
          "Location", std::string(kPrefix) + "/practitioners/" + practitioner + "/rules/" + std::to_string(rule.id));
      return response;
    }
    if (rest.size() == 4 && what == "rules") {
      require_method(request, {"DELETE"});
      Params params(url, {"changed_by"});
      const int64_t id = parse_rule_id(rest[3]);
      std::optional<std::string> given;
      if (auto text = params.get("changed_by")) {
        if (trim(*text).empty()) throw Refusal(400, "parameter 'changed_by' is empty");
        given = std::string(trim(*text));
      }
      service.remove_rule(practitioner, id, ds::Actor{caller.changed_by(given), caller.source});
      server::Response response;
      response.status = 204;
      response.content_type.clear();
      return response;
    }
    if (rest.size() == 3 && what == "explain") {
      require_method(request, {"GET"});
      Params params(url, {"start", "end", "slot"});
      const auto start = ds::parse_instant(params.required("start"), "start");
      const auto end = ds::parse_instant(params.required("end"), "end");
      if (end <= start) throw Refusal(400, "parameter 'end' must be after 'start'");
      if (end - start > std::chrono::hours(24 * 31)) throw Refusal(400, "the window start..end is limited to 31 days");
      const auto slot_id = params.get("slot");
      if (!search_) throw Refusal(503, "no agenda plugin is loaded");
      google::protobuf::Arena arena;
      auto& plugin_response = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
      // The search service's plugin call: the same status and words as GET [base]/Slot.
      if (auto failure =
              search_->call_plugin(ds::explain_request(practitioner, start, end), plugin_response, {}, request.stop)) {
        throw Refusal(static_cast<int>(failure->status), sas::host::fhir::diagnostics_of(failure->outcome));
      }
      auto explained =
          ds::explain_document(*service.snapshot(), practitioner, start, end, plugin_response.search_slots(), slot_id);
      if (!explained)
        throw Refusal(404, "slot '" + *slot_id + "' is not in the agenda's answer for " + practitioner + " between " +
                               ds::format_instant(start) + " and " + ds::format_instant(end));
      return json_response(200, *explained);
    }
    if (rest.size() == 3 && what == "consultations") {
      require_method(request, {"GET"});
      return consultations_report(options_.consultations.get(), url, practitioner);
    }
    throw Refusal(404, "no such admin route: " + path);
  }
  if (rest.size() == 2 && rest[0] == "reports" && rest[1] == "forfait") {
    require_method(request, {"GET"});
    Params params(url, {"year", "format", "practitioner"});
    const int year = parse_year(params.required("year"));
    const std::string format = params.get("format").value_or("json");
    if (format != "json" && format != "csv")
      throw Refusal(400, "parameter 'format' '" + format + "': expected json or csv");
    std::string practitioner;
    if (auto given = params.get("practitioner")) practitioner = ds::normalize_practitioner(*given, "practitioner");
    if (caller.panel) {
      if (practitioner.empty())
        throw Refusal(403, "a panel token reads the forfait report of its practitioner only: add practitioner=" +
                               caller.panel->practitioner);
      caller.may_act_for(practitioner);
    }
    const auto lines = service.forfait(year, practitioner);
    if (format == "csv") {
      server::Response response;
      response.content_type = "text/csv; charset=utf-8";
      response.body = ds::to_csv(lines);
      return response;
    }
    return json_response(200, ds::forfait_document(year, lines));
  }
  if (rest.size() == 1 && rest[0] == "appointment-events") {
    require_method(request, {"POST"});
    Params params(url, {});
    const json::value body = parse_body(request, false);
    if (!body.is_object() && !body.is_array())
      throw Refusal(400, "the request body must be an event object or an array of them");
    if (body.is_array() && body.get_array().empty()) throw Refusal(400, "the array holds no event");
    std::vector<std::string> problems;
    std::vector<appointment_notifications::Event> events = appointment_notifications::events_from_json(body, &problems);
    if (!problems.empty()) {
      std::string message = "invalid appointment event: ";
      for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
      throw Refusal(400, message);
    }
    const auto reported = options_.outbox->report(std::move(events));
    json::array rows;
    for (const auto& r : reported) rows.push_back(json::object{{"outbox_id", r.outbox_id}, {"sequence", r.sequence}});
    if (body.is_object()) return json_response(201, rows.at(0));
    return json_response(201, json::object{{"reported", std::move(rows)}});
  }
  if (rest.size() == 2 && rest[0] == "panel" && rest[1] == "session") {
    require_method(request, {"GET"});
    Params params(url, {});
    if (!caller.panel)
      throw Refusal(403, "GET " + std::string(kPanelSessionPath) + " describes a panel token: call it with one");
    return json_response(200, json::object{{"practitioner", caller.panel->practitioner},
                                           {"subject", caller.panel->subject},
                                           {"expires_at", ds::format_instant(caller.panel->expires_at)}});
  }
  if (rest.size() == 1 && rest[0] == "plugin") {
    require_method(request, {"GET"});
    Params params(url, {});
    if (!options_.plugin) throw Refusal(503, "no plugin is loaded");
    return json_response(200, plugin_document(*options_.plugin));
  }
  if (rest.size() == 1 && rest[0] == "outbox") {
    require_method(request, {"GET"});
    Params params(url, {});
    auto& outbox = *options_.outbox->repository();
    const appointment_notifications::OutboxCounts counts = outbox.counts();
    json::array dead;
    for (const auto& n : outbox.rows("dead", 0, 1000)) dead.push_back(appointment_notifications::to_json(n));
    json::object answer{{"pending", counts.pending},
                        {"delivered", counts.delivered},
                        {"dead", counts.dead},
                        {"blocked", counts.blocked}};
    if (counts.oldest_pending) {
      answer["oldest_pending"] = instant_or_empty(counts.oldest_pending);
    } else {
      answer["oldest_pending"] = nullptr;
    }
    answer["dead_letters"] = std::move(dead);
    return json_response(200, answer);
  }
  throw Refusal(404, "no such admin route: " + path);
}

}  // namespace sas::host::admin_api
