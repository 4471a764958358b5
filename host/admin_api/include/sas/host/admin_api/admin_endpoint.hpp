// The host's local admin API (docs/admin-api.md): JSON over HTTPS on its own listener, for the
// vendor's back office and operators. Doctor settings and publication rules, the explanation
// of a slot's publication, the structure forfait report, appointment events into the INT_R03
// outbox, and the outbox's counts and dead letters.
//
// Authentication (checked on every request, before routing): a client certificate on the admin
// allow-list (the HttpsServer checked it during the handshake: Request::client is set), or
// `Authorization: Bearer TOKEN` equal to the configured token, or (the doctor's panel,
// docs/doctor-panel.md) a panel token: a JWT signed with the panel key, which acts for its one
// practitioner on the panel's routes only. Anything else gets 401 with `WWW-Authenticate: Bearer`.
//
// The panel's static files (/panel/...) are served without authentication: they hold no data.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/server/https_server.hpp>

namespace sas::host {
namespace doctor_settings {
class Service;
}
namespace appointment_notifications {
class Outbox;
}
namespace slot_search {
class SearchService;
}
namespace billing {
class ConsultationLedger;
}
}  // namespace sas::host

namespace sas::host::admin_api {

inline constexpr std::string_view kPrefix = "/admin/v1";
// Outside kPrefix, where Prometheus and supervisors look for them.
inline constexpr std::string_view kMetricsPath = "/metrics";
inline constexpr std::string_view kHealthPath = "/healthz";
inline constexpr std::string_view kReadyPath = "/readyz";
// GET: the panel token's practitioner, subject and expiry (what the panel page shows first).
inline constexpr std::string_view kPanelSessionPath = "/admin/v1/panel/session";
inline constexpr std::size_t kMinTokenLength = 32;

// The bearer token of `--admin-token-file` (`flag` names it in messages): the file's content,
// trimmed. Throws std::invalid_argument naming the flag when the file cannot be read, is
// readable or writable by its group or others, or holds fewer than 32 characters, or characters
// other than printable ASCII without spaces.
std::string read_token_file(const std::filesystem::path& file, std::string_view flag = "--admin-token-file");

// The admin API's error body, {"error":{"status":N,"message":..}}: what its HttpsServer
// installs as ServerConfig::render_error, so that its own errors look like the routes' errors.
server::Response render_error(int status, std::string_view message);

// The route label of a request (ServerConfig::route_of, for metrics and logs): settings,
// settings_history, rules, explain, consultations, forfait_report, appointment_events, outbox,
// plugin, panel_session, panel (its static files), metrics, healthz, readyz or other; never a raw
// path.
std::string route_of(std::string_view method, std::string_view target);

// GET /admin/v1/plugin: the plugin's identity, isolation mode and (process mode) its runners,
// deaths and recent exits.
boost::json::object plugin_document(const plugin_loader::Plugin& plugin);

// One check of GET /readyz.
struct ReadinessCheck {
  std::string name;  // "plugin", "store", "tls"
  // nullopt: ready; else why not, in a few words. /readyz needs no authentication: never a
  // secret, a path or a connection string (the details belong in the log).
  std::function<std::optional<std::string>()> check;
};

struct AdminEndpointOptions {
  // The bearer token; empty: only certificate-authenticated clients are let in.
  std::string token;
  // A read-only bearer token, accepted on GET /metrics and nowhere else (403): what a Prometheus
  // server holds, so that it can never change a doctor's settings. Empty: none.
  std::string metrics_token;
  // GET /metrics: the Prometheus text exposition (metrics::Registry::render); none: 404.
  std::function<std::string()> metrics;
  // GET /readyz: 200 when every check passes, else 503 naming the failing ones.
  std::vector<ReadinessCheck> readiness;
  std::shared_ptr<doctor_settings::Service> settings;         // required
  std::shared_ptr<appointment_notifications::Outbox> outbox;  // required
  std::shared_ptr<plugin_loader::Plugin> plugin;              // for explain; without one, explain answers 503
  std::chrono::milliseconds plugin_deadline{4000};            // one plugin call (explain)
  // GET .../consultations (the SNP / MRT report); none: that route answers 503.
  std::shared_ptr<billing::ConsultationLedger> consultations;
  // The doctor's panel (docs/doctor-panel.md): the HMAC-SHA256 key of its tokens
  // (`panel-key-file`, at least 32 bytes). Empty: no panel, /panel/ is 404 and no panel token
  // is accepted.
  std::string panel_key;
  // The longest life (exp - iat) of a panel token accepted (`panel-token-max-ttl-s`).
  std::chrono::seconds panel_token_max_ttl{3600};
  // The CSP frame-ancestors of the panel's answers (`panel-frame-ancestors`), as
  // panel::parse_frame_ancestors normalised it.
  std::string panel_frame_ancestors = "'none'";
  // One line per request (method, path, status, client); none when empty.
  std::function<void(std::string_view)> log;
};

class AdminEndpoint {
 public:
  explicit AdminEndpoint(AdminEndpointOptions options);

  // Thread-safe; never throws: every failure is a JSON error {"error":{"status":N,"message":..}}.
  server::Response handle(const server::Request& request) const;

 private:
  struct Caller;  // who asks, as authenticated (admin_endpoint.cpp)
  server::Response route(const server::Request& request, Caller& caller) const;
  // The panel token of `token`, or a 401 (expired or invalid).
  Caller panel_caller(std::string_view token) const;
  server::Response readiness() const;  // GET /readyz

  AdminEndpointOptions options_;
  std::shared_ptr<const slot_search::SearchService> search_;  // explain's plugin call, when a plugin is set
};

}  // namespace sas::host::admin_api
