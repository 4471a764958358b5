// The FHIR REST endpoint the SAS platform calls: routes requests under the base URL to the
// flows (INT_R01 slot search, /metadata) and turns every failure into an OperationOutcome.
#pragma once

#include <chrono>
#include <memory>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/server/https_server.hpp>
#include <string>

namespace sas::host {

struct FhirEndpointOptions {
  // The FHIR base as the platform calls it, e.g. https://agenda.example.fr:8443/sas; its path
  // ("/sas") prefixes every route. fullUrls and self links start with it.
  std::string base_url;
  // Time the plugin gets for one call; the platform gives up at 7 s.
  std::chrono::milliseconds plugin_deadline{4000};
  // Identifier system of each place's INTRN identifier: the vendor's OID or URL.
  std::string place_identifier_system;
};

class FhirEndpoint {
 public:
  FhirEndpoint(std::shared_ptr<PluginInstance> plugin, FhirEndpointOptions options);

  // Thread-safe; never throws.
  server::Response handle(const server::Request& request) const;

 private:
  server::Response search_slots(const server::Request& request) const;
  server::Response metadata() const;

  std::shared_ptr<PluginInstance> plugin_;
  FhirEndpointOptions options_;
  std::string base_path_;  // "" or "/sas"
};

}  // namespace sas::host
