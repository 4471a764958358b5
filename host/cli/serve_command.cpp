// sas-host serve: build the host (host/runtime: store, flows, plugin), serve the SAS FHIR endpoint over mutual TLS
// until SIGINT/SIGTERM. SIGHUP reloads the TLS material (a changed CRL is also picked up by
// itself).
#include <malloc.h>
#include <signal.h>

#include <cerrno>
#include <iostream>
#include <optional>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/logging/access_log.hpp>
#include <sas/host/logging/logger.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/server/https_server.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "serve_config.hpp"
#include "serve_monitoring.hpp"
#include "systemd_notify.hpp"

namespace sas::host::cli {

namespace {

constexpr timespec kMemoryTrimInterval{60, 0};

using logging::Level;

// The log of `sas-host serve` (docs/operations.md, "Logs"): JSON lines by default, with the
// journald priority prefix when stderr is the journal; text: the lines of earlier versions.
logging::Logger serve_logger(logging::Format format) {
  logging::LoggerOptions options;
  options.format = format;
  options.syslog_prefix = format == logging::Format::json && logging::stderr_is_journal();
  return logging::Logger(std::move(options));
}

// A listener's lines: the server's diagnostics (refused certificates, timeouts, reloads) and one
// access line per answer, each with the listener's name ("fhir" or "admin").
void log_listener(server::ServerConfig& config, const logging::Logger& logger, const std::string& listener) {
  config.log = logger.sink("server", Level::warning, {{"listener", listener}});
  config.on_exchange = logging::access_log(logger, listener);
}

}  // namespace

using sas::cli::parse_options;

namespace {

// serve(), once its logger exists (set in `started_logger`).
int serve_with(const Args& args, std::optional<logging::Logger>& started_logger) {
  int exit_code = 0;
  auto vm = parse_options("sas-host serve", "[--config FILE] --plugin PATH --tls-cert F --tls-key F --client-ca F ...",
                          serve_options(), args, exit_code, nullptr, "config");
  if (!vm) return exit_code;
  ServeConfig serve_config = read_serve_config(*vm);
  if (!serve_config.problems.empty()) {
    std::cerr << "sas-host serve: " << serve_config.problems.front().message << "\n";
    return 2;
  }
  const logging::Logger& logger = started_logger.emplace(serve_logger(serve_config.log_format));
  const auto notify_log = logger.sink("server", Level::warning);  // a failed sd_notify
  server::ServerConfig& config = serve_config.fhir;
  log_listener(config, logger, "fhir");
  std::optional<server::ServerConfig>& admin_config = serve_config.admin;
  if (admin_config) log_listener(*admin_config, logger, "admin");

  // Metrics (docs/operations.md, "Monitor"): one registry for the process; the listeners observed.
  Monitoring monitoring;
  monitoring.observe_listeners(serve_config);

  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The host, assembled by the runtime: store, flows, router of host calls, plugin.
  runtime::RuntimeOptions runtime_options = std::move(serve_config.runtime);
  runtime_options.logger = logger;
  runtime_options.metrics = monitoring.registry();
  std::unique_ptr<runtime::Runtime> host = runtime::Runtime::build(std::move(runtime_options));
  logger.info("runtime", host->describe(),
              {{"plugin", host->plugin()->manifest().name},
               {"plugin_version", host->plugin()->manifest().version},
               {"isolation", host->plugin()->isolation()}});

  // The endpoint needs the base URL, which with port 0 is only known once bound.
  std::shared_ptr<const fhir_server::FhirEndpoint> endpoint;
  server::HttpsServer server(config, [&endpoint](const server::Request& request) {
    auto ready = std::atomic_load(&endpoint);
    if (ready) return ready->handle(request);
    server::Response starting;
    starting.status = 503;
    starting.content_type.clear();
    return starting;
  });
  server.start();
  monitoring.listening("fhir", server, config);
  const std::string scheme = config.cert_file.empty() ? "http" : "https";
  const std::string listening = scheme + "://" + config.host + ":" + std::to_string(server.port());
  runtime::EndpointOptions endpoint_options = serve_config.endpoint;
  if (endpoint_options.base_url.empty()) endpoint_options.base_url = listening;
  std::atomic_store(&endpoint, host->open_endpoint(endpoint_options));
  logger.info("server", "listening on " + listening + " (FHIR base " + endpoint_options.base_url + ")",
              {{"listener", "fhir"},
               {"url", listening},
               {"host", config.host},
               {"port", server.port()},
               {"fhir_base", endpoint_options.base_url}});

  // The admin API (docs/admin-api.md), started once everything it uses is ready.
  std::unique_ptr<server::HttpsServer> admin_server;
  if (admin_config) {
    admin_api::AdminEndpointOptions admin_options = host->admin_options();
    admin_options.token = serve_config.admin_token;
    admin_options.metrics_token = serve_config.metrics_token;
    admin_options.panel_key = serve_config.panel_key;
    admin_options.panel_token_max_ttl = serve_config.panel_token_max_ttl;
    admin_options.panel_frame_ancestors = serve_config.panel_frame_ancestors;
    monitoring.serve(admin_options);
    auto admin = std::make_shared<const admin_api::AdminEndpoint>(std::move(admin_options));
    admin_server = std::make_unique<server::HttpsServer>(
        *admin_config, [admin](const server::Request& request) { return admin->handle(request); });
    admin_server->start();
    monitoring.listening("admin", *admin_server, *admin_config);
    const std::string admin_url = "https://" + admin_config->host + ":" + std::to_string(admin_server->port());
    logger.info(
        "server", "admin API listening on " + admin_url,
        {{"listener", "admin"}, {"url", admin_url}, {"host", admin_config->host}, {"port", admin_server->port()}});
  }
  const std::string serving = "serving " + listening +
                              (admin_server ? " (admin API on port " + std::to_string(admin_server->port()) + ")" : "");
  systemd_notify::ready(serving, notify_log);  // Type=notify: every listener accepts connections now

  for (;;) {
    const int signal_number = sigtimedwait(&signals, nullptr, &kMemoryTrimInterval);
    if (signal_number < 0) {
      // main.cpp keeps freed memory in the heap for the next answers; give back once a minute
      // what none used, so that the resident size follows the load (docs/reliability.md, "Soak").
      if (errno == EAGAIN) malloc_trim(0);
      continue;
    }
    if (signal_number == SIGHUP) {
      systemd_notify::reloading(notify_log);
      const bool reloaded = server.reload_tls();
      logger.log(reloaded ? Level::info : Level::error, "server",
                 std::string("SIGHUP: TLS material ") + (reloaded ? "reloaded" : "NOT reloaded (kept)"),
                 {{"signal", "SIGHUP"}, {"reloaded", reloaded}});
      if (admin_server) admin_server->reload_tls();
      systemd_notify::ready(serving, notify_log);
      continue;
    }
    systemd_notify::stopping(notify_log);
    logger.info("server", "stopping on signal " + std::to_string(signal_number), {{"signal", signal_number}});
    break;
  }
  server.stop();
  if (admin_server) admin_server->stop();
  host->stop();  // billing host calls, delivery, plugin
  return 0;
}

}  // namespace

int serve(const Args& args) {
  std::optional<logging::Logger> logger;
  try {
    return serve_with(args, logger);
  } catch (const std::exception& e) {
    if (!logger) throw;
    // The plugin, the store, a port: what stops the start, in the log where operators look.
    logger->error("runtime", std::string("cannot serve: ") + e.what());
    return 1;
  }
}

}  // namespace sas::host::cli
