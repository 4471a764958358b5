// sas-host serve: build the host (host/runtime: store, flows, plugin), serve the SAS FHIR endpoint over mutual TLS
// until SIGINT/SIGTERM. SIGHUP reloads the TLS material (a changed CRL is also picked up by
// itself).
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/appointment_notifications/delivery.hpp>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/server/https_server.hpp>

#include "commands.hpp"
#include "options.hpp"
#include "systemd_notify.hpp"

namespace sas::host::cli {

namespace {

// One write per line: stderr is unbuffered, so a line streamed in pieces can be read (by a log
// shipper, a supervisor or a test waiting for the port) before its end, or interleaved with
// another thread's line.
void say(std::string_view line) {
  std::string whole = "sas-host: ";
  whole += line;
  whole += '\n';
  std::cerr << whole << std::flush;
}

}  // namespace

using sas::cli::parse_options;
namespace po = sas::cli::po;

namespace {

// "HOST:PORT" or "[v6]:PORT".
std::pair<std::string, uint16_t> split_listen(const std::string& listen, const std::string& flag = "--listen") {
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

}  // namespace

int serve(const Args& args) {
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
      "connected their agenda) or withhold");
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
      "admin API client certificate subject, e.g. CN=backoffice,OU=ADMIN (repeatable)");
  int exit_code = 0;
  auto vm = parse_options("sas-host serve", "[--config FILE] --plugin PATH --tls-cert F --tls-key F --client-ca F ...",
                          options, args, exit_code, nullptr, "config");
  if (!vm) return exit_code;
  const auto& v = *vm;

  server::ServerConfig config;
  try {
    std::tie(config.host, config.port) = split_listen(v["listen"].as<std::string>());
  } catch (const po::error& e) {
    std::cerr << "sas-host serve: " << e.what() << "\n";
    return 2;
  }
  const bool plain = v["allow-plain-http"].as<bool>();
  for (const char* key : {"tls-cert", "tls-key", "client-ca"}) {
    if (v.count(key) == 0U && !plain) {
      std::cerr << "sas-host serve: --" << key << " is required (mutual TLS); --allow-plain-http is for development\n";
      return 2;
    }
  }
  if (v.count("tls-cert") != 0U) config.cert_file = v["tls-cert"].as<std::string>();
  if (v.count("tls-key") != 0U) config.key_file = v["tls-key"].as<std::string>();
  if (v.count("client-ca") != 0U) config.client_ca_file = v["client-ca"].as<std::string>();
  if (v.count("client-crl") != 0U) config.crl_file = v["client-crl"].as<std::string>();
  if (v.count("allow-client-subject") != 0U) {
    config.allowed_subjects = v["allow-client-subject"].as<std::vector<std::string>>();
  }
  config.allow_plain_http = plain;
  config.max_connections = v["max-connections"].as<size_t>();
  config.request_deadline = std::chrono::milliseconds(v["request-deadline-ms"].as<unsigned>());
  config.log = say;
  config.render_error = fhir::render_server_error;  // the platform gets OperationOutcomes
  if (!config.cert_file.empty() && config.allowed_subjects.empty()) {
    std::cerr << "sas-host serve: --allow-client-subject is required: with none, every client is refused\n";
    return 2;
  }

  doctor_settings::PublicationPolicy publication;
  if (const auto& unset = v["unset-doctors"].as<std::string>(); unset == "withhold") {
    publication.publish_unset = false;
  } else if (unset != "publish") {
    std::cerr << "sas-host serve: --unset-doctors '" << unset << "': expected publish or withhold\n";
    return 2;
  }

  const bool deliver = v.count("sas-base") != 0U;
  for (const char* key : {"sas-cert", "sas-key", "sas-ca"}) {
    if (deliver && v.count(key) == 0U) {
      std::cerr << "sas-host serve: --" << key << " is required with --sas-base (mutual TLS to the platform)\n";
      return 2;
    }
    std::error_code ec;
    if (deliver && !std::filesystem::is_regular_file(v[key].as<std::string>(), ec)) {
      std::cerr << "sas-host serve: --" << key << " " << v[key].as<std::string>() << ": no such file\n";
      return 2;
    }
  }

  // The admin API: its own listener, same TLS material; a token, an allow-list, or both.
  std::optional<server::ServerConfig> admin_config;
  std::string admin_token;
  if (v.count("admin-listen") == 0U) {
    for (const char* key : {"admin-token-file", "admin-allow-client-subject"}) {
      if (v.count(key) != 0U) {
        std::cerr << "sas-host serve: --" << key << " needs --admin-listen (the admin API is off)\n";
        return 2;
      }
    }
  } else {
    try {
      admin_config = config;
      std::tie(admin_config->host, admin_config->port) =
          split_listen(v["admin-listen"].as<std::string>(), "--admin-listen");
      if (config.cert_file.empty() || config.key_file.empty() || config.client_ca_file.empty())
        throw po::error("--admin-listen needs --tls-cert, --tls-key and --client-ca (the admin API is HTTPS only)");
      admin_config->allow_plain_http = false;
      admin_config->require_client_certificate = false;  // a token client needs none
      admin_config->allowed_subjects.clear();
      admin_config->render_error = admin_api::render_error;  // the admin API's own JSON errors
      if (v.count("admin-allow-client-subject") != 0U)
        admin_config->allowed_subjects = v["admin-allow-client-subject"].as<std::vector<std::string>>();
      for (const auto& subject : admin_config->allowed_subjects) {
        try {
          server::AllowedSubject::parse(subject);
        } catch (const std::invalid_argument& e) {
          throw po::error(std::string("--admin-allow-client-subject: ") + e.what());
        }
      }
      if (v.count("admin-token-file") != 0U)
        admin_token = admin_api::read_token_file(v["admin-token-file"].as<std::string>(), "--admin-token-file");
      if (admin_token.empty() && admin_config->allowed_subjects.empty())
        throw po::error(
            "--admin-listen needs --admin-token-file or --admin-allow-client-subject: with neither, nobody could "
            "use the admin API");
      admin_config->worker_threads = 2;
    } catch (const std::exception& e) {
      std::cerr << "sas-host serve: " << e.what() << "\n";
      return 2;
    }
  }

  std::optional<plugin_isolation::IsolationOptions> isolation;
  if (const auto& mode = v["plugin-isolation"].as<std::string>(); mode == "process") {
    isolation.emplace();
    isolation->runners = static_cast<int>(v["plugin-runners"].as<unsigned>());
    if (isolation->runners < 1 || isolation->runners > 64) {
      std::cerr << "sas-host serve: --plugin-runners " << isolation->runners << ": expected 1 to 64\n";
      return 2;
    }
    if (v.count("plugin-runner") != 0U) isolation->runner = v["plugin-runner"].as<std::string>();
    if (v.count("plugin-workdir") != 0U) {
      isolation->workdir = v["plugin-workdir"].as<std::string>();
      std::error_code ec;
      if (!std::filesystem::is_directory(isolation->workdir, ec)) {
        std::cerr << "sas-host serve: --plugin-workdir " << isolation->workdir.string() << ": no such directory\n";
        return 2;
      }
    }
    isolation->memory_limit_mb = v["plugin-memory-limit-mb"].as<uint64_t>();
    isolation->address_space_mb = v["plugin-address-space-mb"].as<uint64_t>();
    isolation->cpu_seconds = v["plugin-cpu-seconds"].as<uint64_t>();
    isolation->kill_after = std::chrono::milliseconds(v["plugin-kill-after-ms"].as<unsigned>());
    isolation->restart_max = std::chrono::milliseconds(v["plugin-restart-max-ms"].as<unsigned>());
  } else if (mode != "in-process") {
    std::cerr << "sas-host serve: --plugin-isolation '" << mode << "': expected in-process or process\n";
    return 2;
  } else {
    for (const char* key : {"plugin-runner", "plugin-workdir"}) {
      if (v.count(key) != 0U) {
        std::cerr << "sas-host serve: --" << key << " needs --plugin-isolation process\n";
        return 2;
      }
    }
  }
  if (const auto bytes = v["plugin-max-answer-bytes"].as<std::size_t>();
      bytes < 1024 || bytes > (std::size_t{1} << 31)) {
    std::cerr << "sas-host serve: --plugin-max-answer-bytes must be from 1024 to 2147483648\n";
    return 2;
  }

  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The host, assembled by the runtime: store, flows, router of host calls, plugin.
  runtime::RuntimeOptions runtime_options;
  runtime_options.plugin = v["plugin"].as<std::string>();
  runtime_options.plugin_config = v["plugin-config"].as<std::string>();
  runtime_options.isolation = std::move(isolation);
  runtime_options.plugin_limits.max_answer_bytes = v["plugin-max-answer-bytes"].as<std::size_t>();
  runtime_options.store = v["store"].as<std::string>();
  runtime_options.billing_rules = v["rules"].as<std::string>();
  runtime_options.publication = publication;
  runtime_options.log = say;
  if (deliver) {
    appointment_notifications::DeliveryOptions d;
    d.base = v["sas-base"].as<std::string>();
    d.cert_file = v["sas-cert"].as<std::string>();
    d.key_file = v["sas-key"].as<std::string>();
    d.ca_file = v["sas-ca"].as<std::string>();
    d.connections = v["sas-connections"].as<unsigned>();
    d.batch = v["sas-batch"].as<std::size_t>();
    d.timeout = std::chrono::milliseconds(v["sas-timeout-ms"].as<unsigned>());
    d.retry_base = std::chrono::milliseconds(v["sas-retry-base-ms"].as<unsigned>());
    d.retry_max = std::chrono::milliseconds(v["sas-retry-max-ms"].as<unsigned>());
    d.poll = std::chrono::milliseconds(v["sas-poll-ms"].as<unsigned>());
    runtime_options.delivery = std::move(d);
  }
  std::unique_ptr<runtime::Runtime> host = runtime::Runtime::build(std::move(runtime_options));
  say(host->describe());

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
  const std::string scheme = config.cert_file.empty() ? "http" : "https";
  const std::string listening = scheme + "://" + config.host + ":" + std::to_string(server.port());
  runtime::EndpointOptions endpoint_options;
  endpoint_options.base_url = v.count("base-url") != 0U ? v["base-url"].as<std::string>() : listening;
  endpoint_options.place_identifier_system = v["place-identifier-system"].as<std::string>();
  endpoint_options.plugin_deadline = config.request_deadline - std::chrono::milliseconds(500);
  std::atomic_store(&endpoint, host->open_endpoint(endpoint_options));
  say("listening on " + listening + " (FHIR base " + endpoint_options.base_url + ")");

  // The admin API (docs/admin-api.md), started once everything it uses is ready.
  std::unique_ptr<server::HttpsServer> admin_server;
  if (admin_config) {
    admin_api::AdminEndpointOptions admin_options = host->admin_options();
    admin_options.token = admin_token;
    auto admin = std::make_shared<const admin_api::AdminEndpoint>(std::move(admin_options));
    admin_server = std::make_unique<server::HttpsServer>(
        *admin_config, [admin](const server::Request& request) { return admin->handle(request); });
    admin_server->start();
    say("admin API listening on https://" + admin_config->host + ":" + std::to_string(admin_server->port()));
  }
  const std::string serving = "serving " + listening +
                              (admin_server ? " (admin API on port " + std::to_string(admin_server->port()) + ")" : "");
  systemd_notify::ready(serving, say);  // Type=notify: every listener accepts connections now

  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      systemd_notify::reloading(say);
      say(std::string("SIGHUP: TLS material ") + (server.reload_tls() ? "reloaded" : "NOT reloaded (kept)"));
      if (admin_server) admin_server->reload_tls();
      systemd_notify::ready(serving, say);
      continue;
    }
    systemd_notify::stopping(say);
    say("stopping on signal " + std::to_string(signal_number));
    break;
  }
  server.stop();
  if (admin_server) admin_server->stop();
  host->stop();  // billing host calls, delivery, plugin
  return 0;
}

}  // namespace sas::host::cli
