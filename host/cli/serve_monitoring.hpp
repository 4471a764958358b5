// sas-host serve's monitoring (docs/operations.md, "Monitor"): the process's one metrics
// registry, the listeners' observers (route labels, requests, latencies, failed handshakes),
// their connections and certificate expiry, and what the admin API serves on /metrics and
// /readyz ("tls").
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/metrics/http.hpp>
#include <sas/host/metrics/registry.hpp>
#include <sas/host/server/https_server.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "serve_config.hpp"

namespace sas::host::cli {

class Monitoring {
 public:
  // The registry with sas_build_info, the process metrics and the listeners' families.
  Monitoring();

  const std::shared_ptr<metrics::Registry>& registry() const { return registry_; }

  // Before the listener's server is built: its route labels, and its metrics observers, which
  // then call the observers already set in `config` (e.g. the access log).
  void observe(server::ServerConfig& config, const std::string& listener,
               std::function<std::string(std::string_view method, std::string_view target)> route_of);
  // Both listeners of serve: the FHIR endpoint's routes (under the --base-url path) and the
  // admin API's.
  void observe_listeners(ServeConfig& serve_config);
  // Once its server runs: sas_http_connections and its certificate's expiry. `server` must
  // outlive every scrape.
  void listening(const std::string& listener, const server::HttpsServer& server, const server::ServerConfig& config);

  // /metrics and the "tls" readiness check, added to the admin API's options.
  void serve(admin_api::AdminEndpointOptions& admin) const;

 private:
  struct Listener {
    std::string name;
    const server::HttpsServer* server = nullptr;
    std::filesystem::path cert_file;
  };
  std::vector<Listener> listeners() const;

  std::shared_ptr<metrics::Registry> registry_;
  std::shared_ptr<metrics::HttpMetrics> http_;
  mutable std::mutex mutex_;
  std::vector<Listener> listeners_;
};

}  // namespace sas::host::cli
