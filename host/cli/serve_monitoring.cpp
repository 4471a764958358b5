#include "serve_monitoring.hpp"

#include <sas/plugin_abi.h>

#include <chrono>
#include <sas/host/certificates/certificates.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/metrics/process.hpp>

namespace sas::host::cli {

namespace {

// Every reason of server::HandshakeFailure, so that each listener's series exist from the start.
std::vector<std::string_view> handshake_failure_reasons() {
  std::vector<std::string_view> reasons;
  for (int r = static_cast<int>(server::HandshakeFailure::no_certificate);
       r <= static_cast<int>(server::HandshakeFailure::closed); ++r)
    reasons.push_back(server::to_string(static_cast<server::HandshakeFailure>(r)));
  return reasons;
}

// Every server::LimitRefusal, for the same reason.
std::vector<std::string_view> limit_names() {
  std::vector<std::string_view> limits;
  for (int l = static_cast<int>(server::LimitRefusal::target_length);
       l <= static_cast<int>(server::LimitRefusal::connections_per_client); ++l)
    limits.push_back(server::to_string(static_cast<server::LimitRefusal>(l)));
  return limits;
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The notAfter of the file's first certificate; none when it cannot be read.
std::optional<double> certificate_not_after(const std::filesystem::path& pem) {
  try {
    const auto chain = certificates::read_certificates(pem);
    return seconds_since_epoch(certificates::not_after(chain.front().get()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Monitoring::Monitoring()
    : registry_(std::make_shared<metrics::Registry>()), http_(std::make_shared<metrics::HttpMetrics>(*registry_)) {
  registry_
      ->gauge("sas_build_info", "This sas-host: 1, its version and the plugin ABI it speaks in the labels",
              {"version", "abi"})
      .with({SAS_HOST_VERSION, std::to_string(SAS_ABI_VERSION_MAJOR) + "." + std::to_string(SAS_ABI_VERSION_MINOR)})
      .set(1);
  metrics::add_process_metrics(*registry_);
  registry_->callback(metrics::Type::gauge, "sas_http_connections", "Open connections by listener", {"listener"},
                      [this] {
                        std::vector<metrics::Sample> samples;
                        for (const auto& l : listeners())
                          samples.push_back({{l.name}, static_cast<double>(l.server->active_connections())});
                        return samples;
                      });
  registry_->callback(metrics::Type::gauge, "sas_tls_certificate_expiry_timestamp_seconds",
                      "notAfter of each listener's server certificate (the file, as SIGHUP would reload it)",
                      {"listener", "file"}, [this] {
                        std::vector<metrics::Sample> samples;
                        for (const auto& l : listeners()) {
                          if (const auto not_after = certificate_not_after(l.cert_file))
                            samples.push_back({{l.name, l.cert_file.string()}, *not_after});
                        }
                        return samples;
                      });
}

void Monitoring::observe(server::ServerConfig& config, const std::string& listener,
                         std::function<std::string(std::string_view, std::string_view)> route_of) {
  config.route_of = std::move(route_of);
  http_->add_listener(listener, handshake_failure_reasons(), limit_names());
  config.on_exchange = [http = http_, listener, next = std::move(config.on_exchange)](const server::Exchange& e) {
    http->exchange(listener, e.route, e.status, e.duration);
    if (next) next(e);
  };
  config.on_handshake_failure = [http = http_, listener, next = std::move(config.on_handshake_failure)](
                                    server::HandshakeFailure reason, std::string_view remote) {
    http->handshake_failure(listener, server::to_string(reason));
    if (next) next(reason, remote);
  };
  config.on_limit_refusal = [http = http_, listener, next = std::move(config.on_limit_refusal)](
                                server::LimitRefusal limit, std::string_view remote) {
    http->limit_refusal(listener, server::to_string(limit));
    if (next) next(limit, remote);
  };
}

void Monitoring::observe_listeners(ServeConfig& serve_config) {
  std::string base_path;
  try {
    if (!serve_config.endpoint.base_url.empty()) base_path = fhir_server::base_path_of(serve_config.endpoint.base_url);
  } catch (const std::invalid_argument&) {
    // Refused with its reason when the endpoint opens.
  }
  observe(serve_config.fhir, "fhir", [base_path](std::string_view method, std::string_view target) {
    return fhir_server::route_of(base_path, method, target);
  });
  if (serve_config.admin) observe(*serve_config.admin, "admin", admin_api::route_of);
}

void Monitoring::listening(const std::string& listener, const server::HttpsServer& server,
                           const server::ServerConfig& config) {
  std::lock_guard lock(mutex_);
  listeners_.push_back({listener, &server, config.cert_file});
}

std::vector<Monitoring::Listener> Monitoring::listeners() const {
  std::lock_guard lock(mutex_);
  return listeners_;
}

void Monitoring::serve(admin_api::AdminEndpointOptions& admin) const {
  admin.metrics = [registry = registry_] { return registry->render(); };
  // A listener whose TLS material cannot be loaded does not start (and a failed SIGHUP reload
  // keeps what was loaded): up means loaded. The file must also still read and be in force, or
  // the next reload or restart would fail.
  admin.readiness.push_back({"tls", [this]() -> std::optional<std::string> {
                               const auto now = seconds_since_epoch(std::chrono::system_clock::now());
                               const auto all = listeners();
                               if (all.empty()) return "no listener is up";
                               for (const auto& l : all) {
                                 if (l.cert_file.empty()) continue;  // plain HTTP (development)
                                 const auto not_after = certificate_not_after(l.cert_file);
                                 if (!not_after) return "the " + l.name + " listener's certificate cannot be read";
                                 if (*not_after <= now) return "the " + l.name + " listener's certificate has expired";
                               }
                               return std::nullopt;
                             }});
}

}  // namespace sas::host::cli
