#include "serve_config.hpp"

#include <boost/url/parse.hpp>
#include <cstdint>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/panel/assets.hpp>
#include <stdexcept>
#include <system_error>

namespace sas::host::cli {

namespace po = sas::cli::po;

namespace {

// "HOST:PORT" or "[v6]:PORT".
std::pair<std::string, uint16_t> split_listen(const std::string& listen, const std::string& flag) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw po::error(flag + " '" + listen + "': expected HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw po::error(flag + " '" + listen + "': the port must be a number from 0 to 65535");
  }
  return {host, static_cast<uint16_t>(port)};
}

bool given(const po::variables_map& v, const char* key) { return v.count(key) != 0U; }

// A number of `key` within [low, high], else a problem naming the key and the range.
template <class T>
T bounded(const po::variables_map& v, ServeConfig& c, const char* key, T low, T high) {
  const T value = v[key].as<T>();
  if (value < low || value > high) {
    c.problems.push_back({key, std::string("--") + key + " " + std::to_string(value) + ": expected " +
                                   std::to_string(low) + " to " + std::to_string(high)});
  }
  return value;
}

// What a peer may send and how slowly (docs/reliability.md, "Limits"): the connection, target,
// header and time limits of both listeners, and the FHIR listener's body limits by route.
void read_limits(const po::variables_map& v, ServeConfig& c) {
  server::ServerConfig& config = c.fhir;
  const auto ms = [&](const char* key) { return std::chrono::milliseconds(bounded<unsigned>(v, c, key, 100, 600000)); };
  // The default follows a smaller max-connections; a value given must fit within it.
  const char* per_client = "max-connections-per-client";
  config.max_connections_per_client =
      v[per_client].defaulted()
          ? std::min(v[per_client].as<std::size_t>(), std::max<std::size_t>(1, config.max_connections))
          : bounded<std::size_t>(v, c, per_client, 1, std::max<std::size_t>(1, config.max_connections));
  config.max_target_bytes = bounded<std::size_t>(v, c, "max-target-bytes", 1024, 1 << 20);
  config.max_header_bytes = bounded<std::size_t>(v, c, "max-header-bytes", 1024, 1 << 20);
  config.max_header_fields = bounded<std::size_t>(v, c, "max-header-fields", 8, 10000);
  config.handshake_timeout = ms("handshake-timeout-ms");
  config.idle_timeout = ms("idle-timeout-ms");
  config.header_timeout = ms("header-timeout-ms");
  config.body_timeout = ms("body-timeout-ms");
  // INT_R02 writes, and whatever else comes with a body (answered 404 or 405); the searches and
  // the CapabilityStatement are GET routes that take no body.
  config.max_body_bytes = bounded<std::size_t>(v, c, "max-body-bytes", 4096, std::size_t{64} << 20);
  for (const auto route : {fhir_server::route::kSlotSearch, fhir_server::route::kCptsSearch,
                           fhir_server::route::kSosSearch, fhir_server::route::kMetadata})
    config.route_body_limits.emplace(route, 0);
}

// The listener keys: HOST:PORT, the TLS material, the client allow-list.
void read_fhir_listener(const po::variables_map& v, ServeConfig& c) {
  auto problem = [&](const char* key, std::string message) { c.problems.push_back({key, std::move(message)}); };
  server::ServerConfig& config = c.fhir;
  try {
    std::tie(config.host, config.port) = split_listen(v["listen"].as<std::string>(), "--listen");
  } catch (const po::error& e) {
    problem("listen", e.what());
  }
  const bool plain = v["allow-plain-http"].as<bool>();
  for (const char* key : {"tls-cert", "tls-key", "client-ca"}) {
    if (!given(v, key) && !plain) {
      problem(key, std::string("--") + key + " is required (mutual TLS); --allow-plain-http is for development");
    }
  }
  if (given(v, "tls-cert")) config.cert_file = v["tls-cert"].as<std::string>();
  if (given(v, "tls-key")) config.key_file = v["tls-key"].as<std::string>();
  if (given(v, "client-ca")) config.client_ca_file = v["client-ca"].as<std::string>();
  if (given(v, "client-crl")) config.crl_file = v["client-crl"].as<std::string>();
  if (given(v, "allow-client-subject")) {
    config.allowed_subjects = v["allow-client-subject"].as<std::vector<std::string>>();
  }
  config.allow_plain_http = plain;
  config.max_connections = v["max-connections"].as<size_t>();
  config.request_deadline = std::chrono::milliseconds(v["request-deadline-ms"].as<unsigned>());
  config.render_error = fhir::render_server_error;  // the platform gets OperationOutcomes
  read_limits(v, c);
  if (!config.cert_file.empty() && config.allowed_subjects.empty()) {
    problem("allow-client-subject", "--allow-client-subject is required: with none, every client is refused");
  }
}

void read_publication(const po::variables_map& v, ServeConfig& c) {
  if (const auto& unset = v["unset-doctors"].as<std::string>(); unset == "withhold") {
    c.runtime.publication.publish_unset = false;
  } else if (unset != "publish") {
    c.problems.push_back({"unset-doctors", "--unset-doctors '" + unset + "': expected publish or withhold"});
  }
}

// The log's format (docs/operations.md, "Logs").
void read_log_format(const po::variables_map& v, ServeConfig& c) {
  const std::string& name = v["log-format"].as<std::string>();
  if (const auto format = logging::parse_format(name)) {
    c.log_format = *format;
  } else {
    c.problems.push_back({"log-format", "--log-format '" + name + "': expected json or text"});
  }
}

// INT_R03: sas-base enables delivery, which needs the three files of its mutual TLS.
void read_delivery(const po::variables_map& v, ServeConfig& c) {
  if (!given(v, "sas-base")) return;
  appointment_notifications::DeliveryOptions d;
  d.base = v["sas-base"].as<std::string>();
  for (const auto& [key, file] :
       {std::pair{"sas-cert", &d.cert_file}, std::pair{"sas-key", &d.key_file}, std::pair{"sas-ca", &d.ca_file}}) {
    if (!given(v, key)) {
      c.problems.push_back(
          {key, std::string("--") + key + " is required with --sas-base (mutual TLS to the platform)"});
      continue;
    }
    *file = v[key].as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*file, ec)) {
      c.problems.push_back({key, std::string("--") + key + " " + *file + ": no such file"});
    }
  }
  d.connections = v["sas-connections"].as<unsigned>();
  d.batch = v["sas-batch"].as<std::size_t>();
  d.timeout = std::chrono::milliseconds(v["sas-timeout-ms"].as<unsigned>());
  d.retry_base = std::chrono::milliseconds(v["sas-retry-base-ms"].as<unsigned>());
  d.retry_max = std::chrono::milliseconds(v["sas-retry-max-ms"].as<unsigned>());
  d.poll = std::chrono::milliseconds(v["sas-poll-ms"].as<unsigned>());
  c.runtime.delivery = std::move(d);
}

// The doctor's panel on the admin listener (docs/doctor-panel.md): the key of its tokens, their
// longest life, the origins that may frame it. Throws po::error, `key` naming the key at fault.
void read_panel(const po::variables_map& v, ServeConfig& c, const char*& key) {
  if (!given(v, "panel-key-file")) {
    for (const char* other : {"panel-token-max-ttl-s", "panel-frame-ancestors"}) {
      key = other;
      if (given(v, key)) throw po::error(std::string("--") + key + " needs --panel-key-file (the panel is off)");
    }
    return;
  }
  key = "panel-key-file";
  c.panel_key_file = v["panel-key-file"].as<std::string>();
  c.panel_key = admin_api::read_token_file(c.panel_key_file, "--panel-key-file");
  // One secret per use: whoever holds the admin or metrics token must not mint panel tokens.
  if (c.panel_key == c.admin_token)
    throw po::error("--panel-key-file holds the admin token: give the panel a key of its own");
  if (c.panel_key == c.metrics_token)
    throw po::error("--panel-key-file holds the metrics token: give the panel a key of its own");
  key = "panel-token-max-ttl-s";
  if (given(v, key)) {
    const unsigned ttl = v["panel-token-max-ttl-s"].as<unsigned>();
    if (ttl < 60 || ttl > 86400)
      throw po::error("--panel-token-max-ttl-s " + std::to_string(ttl) + ": expected 60 to 86400 seconds");
    c.panel_token_max_ttl = std::chrono::seconds(ttl);
  }
  key = "panel-frame-ancestors";
  try {
    c.panel_frame_ancestors =
        panel::parse_frame_ancestors(given(v, "panel-frame-ancestors") ? v["panel-frame-ancestors"].as<std::string>()
                                                                       : std::string(panel::kDefaultFrameAncestors));
  } catch (const std::invalid_argument& e) {
    throw po::error(std::string("--") + e.what());
  }
}

// The admin API: its own listener, same TLS material; a token, an allow-list, or both.
void read_admin(const po::variables_map& v, ServeConfig& c) {
  if (!given(v, "admin-listen")) {
    for (const char* key : {"admin-token-file", "admin-allow-client-subject", "metrics-token-file", "panel-key-file",
                            "panel-token-max-ttl-s", "panel-frame-ancestors"}) {
      if (given(v, key)) {
        c.problems.push_back({key, std::string("--") + key + " needs --admin-listen (the admin API is off)"});
      }
    }
    return;
  }
  // The first refusal ends the section: what follows depends on it.
  const char* key = "admin-listen";
  try {
    server::ServerConfig admin = c.fhir;
    std::tie(admin.host, admin.port) = split_listen(v["admin-listen"].as<std::string>(), "--admin-listen");
    const server::ServerConfig& fhir = c.fhir;
    if (fhir.cert_file.empty() || fhir.key_file.empty() || fhir.client_ca_file.empty())
      throw po::error("--admin-listen needs --tls-cert, --tls-key and --client-ca (the admin API is HTTPS only)");
    admin.allow_plain_http = false;
    admin.require_client_certificate = false;  // a token client needs none
    admin.allowed_subjects.clear();
    admin.render_error = admin_api::render_error;  // the admin API's own JSON errors
    // Settings and rules are small; a batch of appointment events may not be (admin_api::route_of's
    // label of POST /admin/v1/appointment-events).
    admin.route_body_limits.clear();
    admin.max_body_bytes = bounded<std::size_t>(v, c, "admin-max-body-bytes", 1024, std::size_t{64} << 20);
    admin.route_body_limits.emplace(
        "appointment_events", bounded<std::size_t>(v, c, "admin-max-events-body-bytes", 1024, std::size_t{64} << 20));
    key = "admin-allow-client-subject";
    if (given(v, key)) admin.allowed_subjects = v[key].as<std::vector<std::string>>();
    for (const auto& subject : admin.allowed_subjects) {
      try {
        server::AllowedSubject::parse(subject);
      } catch (const std::invalid_argument& e) {
        throw po::error(std::string("--admin-allow-client-subject: ") + e.what());
      }
    }
    key = "admin-token-file";
    if (given(v, key)) {
      c.admin_token_file = v[key].as<std::string>();
      c.admin_token = admin_api::read_token_file(c.admin_token_file, "--admin-token-file");
    }
    key = "metrics-token-file";
    if (given(v, key)) {
      c.metrics_token_file = v[key].as<std::string>();
      c.metrics_token = admin_api::read_token_file(c.metrics_token_file, "--metrics-token-file");
      if (c.metrics_token == c.admin_token)
        throw po::error("--metrics-token-file holds the admin token: give Prometheus a token of its own");
    }
    read_panel(v, c, key);
    key = "admin-listen";
    if (c.admin_token.empty() && admin.allowed_subjects.empty() && c.panel_key.empty())
      throw po::error(
          "--admin-listen needs --admin-token-file, --admin-allow-client-subject or --panel-key-file: with none, "
          "nobody could use the admin API");
    admin.worker_threads = 2;
    c.admin = std::move(admin);
  } catch (const std::exception& e) {
    c.problems.push_back({key, e.what()});
  }
}

// Where the plugin's code runs (docs/plugins/isolation.md), and what the host accepts from it.
void read_plugin(const po::variables_map& v, ServeConfig& c) {
  auto problem = [&](const char* key, std::string message) { c.problems.push_back({key, std::move(message)}); };
  runtime::RuntimeOptions& r = c.runtime;
  r.plugin = v["plugin"].as<std::string>();
  r.plugin_config = v["plugin-config"].as<std::string>();
  if (const auto& mode = v["plugin-isolation"].as<std::string>(); mode == "process") {
    plugin_isolation::IsolationOptions& isolation = r.isolation.emplace();
    isolation.runners = static_cast<int>(v["plugin-runners"].as<unsigned>());
    if (isolation.runners < 1 || isolation.runners > 64) {
      problem("plugin-runners", "--plugin-runners " + std::to_string(isolation.runners) + ": expected 1 to 64");
    }
    if (given(v, "plugin-runner")) isolation.runner = v["plugin-runner"].as<std::string>();
    if (given(v, "plugin-workdir")) {
      isolation.workdir = v["plugin-workdir"].as<std::string>();
      std::error_code ec;
      if (!std::filesystem::is_directory(isolation.workdir, ec)) {
        problem("plugin-workdir", "--plugin-workdir " + isolation.workdir.string() + ": no such directory");
      }
    }
    isolation.memory_limit_mb = v["plugin-memory-limit-mb"].as<uint64_t>();
    isolation.address_space_mb = v["plugin-address-space-mb"].as<uint64_t>();
    isolation.cpu_seconds = v["plugin-cpu-seconds"].as<uint64_t>();
    isolation.kill_after = std::chrono::milliseconds(v["plugin-kill-after-ms"].as<unsigned>());
    isolation.restart_max = std::chrono::milliseconds(v["plugin-restart-max-ms"].as<unsigned>());
  } else if (mode != "in-process") {
    problem("plugin-isolation", "--plugin-isolation '" + mode + "': expected in-process or process");
  } else {
    for (const char* key : {"plugin-runner", "plugin-workdir"}) {
      if (given(v, key)) problem(key, std::string("--") + key + " needs --plugin-isolation process");
    }
  }
  r.plugin_limits.max_answer_bytes = v["plugin-max-answer-bytes"].as<std::size_t>();
  if (r.plugin_limits.max_answer_bytes < 1024 || r.plugin_limits.max_answer_bytes > (std::size_t{1} << 31)) {
    problem("plugin-max-answer-bytes", "--plugin-max-answer-bytes must be from 1024 to 2147483648");
  }
}

// Checked here rather than when the listener or the endpoint is built, after the plugin is
// loaded: a typo is named before anything starts.
void read_late_checked(const po::variables_map& v, ServeConfig& c) {
  for (const auto& subject : c.fhir.allowed_subjects) {
    try {
      server::AllowedSubject::parse(subject);
    } catch (const std::invalid_argument& e) {
      c.problems.push_back({"allow-client-subject", std::string("--allow-client-subject: ") + e.what()});
    }
  }
  if (given(v, "base-url")) {
    c.endpoint.base_url = v["base-url"].as<std::string>();
    // The same test as the FHIR endpoint's.
    if (!boost::urls::parse_absolute_uri(c.endpoint.base_url)) {
      c.problems.push_back({"base-url", "--base-url '" + c.endpoint.base_url + "' is not an absolute URL"});
    }
  }
}

}  // namespace

po::options_description serve_options() {
  po::options_description options("serve options (each is also a key of the --config file)");
  options.add_options()("config", po::value<std::string>(), "config file of `key = value` lines")(
      "plugin", po::value<std::string>()->required(), "plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin")(
      "store", po::value<std::string>()->default_value("sqlite:sas-host.db"), "the host's own state: sqlite:PATH")(
      "rules", po::value<std::string>()->default_value(""),
      "SNP / MRT rule file (default: share/sas/billing/rules.json of this installation)")(
      "listen", po::value<std::string>()->default_value("127.0.0.1:8443"), "HOST:PORT to listen on (port 0: any)")(
      "base-url", po::value<std::string>(), "the FHIR base the platform calls (default: https://LISTEN)")(
      "tls-cert", po::value<std::string>(), "server certificate chain (PEM)")(
      "tls-key", po::value<std::string>(), "server private key (PEM)")("client-ca", po::value<std::string>(),
                                                                       "CA bundle for client certificates (PEM)")(
      "client-crl", po::value<std::string>(), "certificate revocation list(s) (PEM); reloaded when it changes")(
      "allow-client-subject", po::value<std::vector<std::string>>()->composing(),
      "allowed client subject, e.g. CN=sas.sante.fr,OU=SAS (repeatable)")("allow-plain-http", po::bool_switch(),
                                                                          "DEVELOPMENT ONLY: also accept plain HTTP")(
      "max-connections", po::value<size_t>()->default_value(256),
      "concurrent connections beyond which new ones are closed")(
      "request-deadline-ms", po::value<unsigned>()->default_value(5000),
      "time to answer one request (the platform gives up at 7000)")(
      "max-connections-per-client", po::value<size_t>()->default_value(64),
      "concurrent connections from one IP address beyond which its new ones are closed (both listeners)")(
      "max-target-bytes", po::value<size_t>()->default_value(8192),
      "longest request target (path and query) accepted; longer: 414 (both listeners)")(
      "max-header-bytes", po::value<size_t>()->default_value(16384),
      "largest header fields of a request, in all; larger: 431 (both listeners)")(
      "max-header-fields", po::value<size_t>()->default_value(100),
      "most header fields in a request; more: 431 (both listeners)")(
      "max-body-bytes", po::value<size_t>()->default_value(65536),
      "largest request body on the FHIR listener (INT_R02 accounts); larger: 413. Searches take none")(
      "handshake-timeout-ms", po::value<unsigned>()->default_value(5000),
      "time from a connection's accept to the end of its TLS handshake (both listeners)")(
      "idle-timeout-ms", po::value<unsigned>()->default_value(15000),
      "time a connection may wait for a request without sending a byte of one (both listeners)")(
      "header-timeout-ms", po::value<unsigned>()->default_value(10000),
      "time from a request's first byte to the end of its header fields; later: 408 (both listeners)")(
      "body-timeout-ms", po::value<unsigned>()->default_value(10000),
      "time from the end of a request's header fields to its body's last byte; later: 408 (both listeners)")(
      "place-identifier-system", po::value<std::string>()->default_value(""),
      "identifier system (your OID or URL) of consultation places; default: the base URL")(
      "sas-base", po::value<std::string>(),
      "INT_R03: the SAS platform's FHIR base for appointment notifications (enables delivery)")(
      "sas-cert", po::value<std::string>(), "INT_R03: your client certificate for the platform (PEM)")(
      "sas-key", po::value<std::string>(), "INT_R03: its private key (PEM)")(
      "sas-ca", po::value<std::string>(), "INT_R03: CA bundle that signed the platform's certificate (PEM)")(
      "sas-connections", po::value<unsigned>()->default_value(8), "INT_R03: parallel deliveries")(
      "sas-batch", po::value<std::size_t>()->default_value(128), "INT_R03: notifications claimed per round")(
      "sas-timeout-ms", po::value<unsigned>()->default_value(10000), "INT_R03: time for one delivery request")(
      "sas-retry-base-ms", po::value<unsigned>()->default_value(500),
      "INT_R03: first retry delay (doubled each time, with jitter, up to --sas-retry-max-ms)")(
      "sas-retry-max-ms", po::value<unsigned>()->default_value(300000), "INT_R03: back-off ceiling")(
      "sas-poll-ms", po::value<unsigned>()->default_value(1000),
      "INT_R03: how often to look for events written by another process (sas-host appointment-event)")(
      "unset-doctors", po::value<std::string>()->default_value("publish"),
      "doctors with no volunteer/visible setting recorded: publish (the platform only asks about doctors who "
      "connected their agenda) or withhold")(
      "log-format", po::value<std::string>()->default_value("json"),
      "json (one JSON object per line on stderr, for journald and log shippers) or text (human lines)");
  // Where the plugin's code runs (docs/plugins/isolation.md).
  options.add_options()("plugin-isolation", po::value<std::string>()->default_value("in-process"),
                        "in-process (the default, the fastest) or process (runner processes: a crash, hang or leak of "
                        "the plugin costs one search, not the host)")(
      "plugin-runners", po::value<unsigned>()->default_value(2), "process isolation: runner processes")(
      "plugin-runner", po::value<std::string>(),
      "process isolation: the runner executable (default: lib/sas/sas-plugin-runner of this installation)")(
      "plugin-workdir", po::value<std::string>(), "process isolation: the runners' working directory")(
      "plugin-memory-limit-mb", po::value<uint64_t>()->default_value(0),
      "process isolation: resident memory (MiB) above which a runner is replaced; 0: none")(
      "plugin-address-space-mb", po::value<uint64_t>()->default_value(0),
      "process isolation: RLIMIT_AS of each runner (MiB); 0: none")(
      "plugin-cpu-seconds", po::value<uint64_t>()->default_value(0),
      "process isolation: RLIMIT_CPU of each runner (seconds of CPU in its life); 0: none")(
      "plugin-kill-after-ms", po::value<unsigned>()->default_value(1000),
      "process isolation: a call still running this long after its deadline gets its runner killed and replaced")(
      "plugin-restart-max-ms", po::value<unsigned>()->default_value(30000),
      "process isolation: ceiling of the restart back-off of a runner that keeps dying")(
      "plugin-max-answer-bytes", po::value<std::size_t>()->default_value(std::size_t{64} << 20),
      "largest plugin answer accepted, in either mode (a larger one: HTTP 502)");
  // The local admin API (docs/admin-api.md), on its own listener.
  options.add_options()("admin-listen", po::value<std::string>(),
                        "HOST:PORT of the admin API (JSON over HTTPS, port 0: any); off when not given")(
      "admin-token-file", po::value<std::string>(),
      "admin API bearer token: a file (mode 600) holding at least 32 characters")(
      "admin-allow-client-subject", po::value<std::vector<std::string>>()->composing(),
      "admin API client certificate subject, e.g. CN=backoffice,OU=ADMIN (repeatable)")(
      "admin-max-body-bytes", po::value<size_t>()->default_value(65536),
      "largest request body on the admin listener (settings, rules); larger: 413")(
      "admin-max-events-body-bytes", po::value<size_t>()->default_value(std::size_t{1} << 20),
      "largest body of POST /admin/v1/appointment-events (a batch of events); larger: 413")(
      "metrics-token-file", po::value<std::string>(),
      "read-only bearer token accepted on the admin listener's /metrics only (a Prometheus server's): a file "
      "(mode 600) holding at least 32 characters");
  // The doctor's panel (docs/doctor-panel.md), on the admin listener.
  options.add_options()("panel-key-file", po::value<std::string>(),
                        "the doctor's panel: the HMAC-SHA256 key of its tokens (JWT HS256), a file (mode 600) holding "
                        "at least 32 characters; the panel is off without it")(
      "panel-token-max-ttl-s", po::value<unsigned>(),
      "the longest life (exp - iat) of a panel token, 60 to 86400 seconds (default 3600)")(
      "panel-frame-ancestors", po::value<std::string>(),
      "the origins allowed to frame the panel, space-separated https://HOST[:PORT] (default 'none')");
  return options;
}

ServeConfig read_serve_config(const po::variables_map& v) {
  ServeConfig c;
  // In the order serve has always checked them: its first refusal stays the same.
  read_fhir_listener(v, c);
  read_publication(v, c);
  read_delivery(v, c);
  read_admin(v, c);
  read_plugin(v, c);
  read_late_checked(v, c);
  read_log_format(v, c);
  c.runtime.store = v["store"].as<std::string>();
  c.runtime.billing_rules = v["rules"].as<std::string>();
  c.endpoint.place_identifier_system = v["place-identifier-system"].as<std::string>();
  c.endpoint.plugin_deadline = c.fhir.request_deadline - std::chrono::milliseconds(500);
  return c;
}

}  // namespace sas::host::cli
