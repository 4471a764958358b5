// The FHIR REST endpoint the SAS platform calls: routes requests under the base URL to the
// flows (INT_R01 slot search, SOS Médecins search, INT_R02 regulator accounts, /metadata) and
// turns every failure into an OperationOutcome.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/regulator_accounts/audit_repository.hpp>
#include <sas/host/server/https_server.hpp>
#include <string>
#include <string_view>

namespace sas::host {
namespace doctor_settings {
class Service;
}
namespace regulator_accounts {
class AccountEndpoint;
}
namespace slot_search {
class SearchService;
}
namespace sos_search {
class SosSearchService;
}
}  // namespace sas::host

namespace sas::host::fhir_server {

struct FhirEndpointOptions {
  // The FHIR base as the platform calls it, e.g. https://agenda.example.fr:8443/sas; its path
  // ("/sas") prefixes every route. fullUrls and self links start with it.
  std::string base_url;
  // Time the plugin gets for one call; the platform gives up at 7 s.
  std::chrono::milliseconds plugin_deadline{4000};
  // Identifier system of each place's INTRN identifier: the vendor's OID or URL.
  std::string place_identifier_system;
  // Where INT_R02 account requests are recorded; without it they are refused.
  std::shared_ptr<regulator_accounts::AccountAudit> account_audit;
  // Doctor settings and publication rules applied to every search; none: every slot the
  // plugin returns is published as the agenda typed it.
  std::shared_ptr<doctor_settings::Service> settings;
  // One line per plugin failure of a search and per distinct Bundle warning about the agenda's
  // data; none when empty.
  std::function<void(std::string_view)> log;
  // One line per INT_R02 account request; none: `log`.
  std::function<void(std::string_view)> accounts_log;
};

// Route labels of the SAS endpoint (ServerConfig::route_of: metrics and logs), a fixed set.
namespace route {
inline constexpr std::string_view kSlotSearch = "int_r01_search";       // GET [base]/Slot
inline constexpr std::string_view kCptsSearch = "int_r04_cpts_search";  // the same with the CPTS _include
inline constexpr std::string_view kSosSearch = "sos_search";            // GET [base]/Schedule
inline constexpr std::string_view kAccountCreate = "int_r02_create";    // POST [base]/Practitioner
inline constexpr std::string_view kAccountUpdate = "int_r02_update";    // PUT [base]/Practitioner...
inline constexpr std::string_view kMetadata = "metadata";               // GET [base]/metadata
inline constexpr std::string_view kOther = "other";                     // anything else (404, 405...)
}  // namespace route

// The path of a FHIR base URL ("https://h:8443/sas/" -> "/sas", "https://h" -> ""). Throws
// std::invalid_argument when it is not an absolute URL.
std::string base_path_of(std::string_view base_url);

// The route label of a request under `base_path` (base_path_of), from its method and target
// only: a method a route does not take, or a path outside the base, is "other".
std::string route_of(std::string_view base_path, std::string_view method, std::string_view target);

class FhirEndpoint {
 public:
  FhirEndpoint(std::shared_ptr<plugin_loader::Plugin> plugin, FhirEndpointOptions options);

  // Thread-safe; never throws.
  server::Response handle(const server::Request& request) const;

  // The INT_R01 search behind GET [base]/Slot (for the conformance suite's plugin mode).
  const slot_search::SearchService& search() const { return *search_; }
  // The SOS Médecins search behind GET [base]/Schedule (for `sas-host search --sos`).
  const sos_search::SosSearchService& sos_search() const { return *sos_search_; }

 private:
  server::Response practitioner(const server::Request& request, std::string_view path) const;
  server::Response metadata() const;

  std::shared_ptr<plugin_loader::Plugin> plugin_;
  std::shared_ptr<const regulator_accounts::AccountEndpoint> accounts_;
  std::shared_ptr<const slot_search::SearchService> search_;        // INT_R01
  std::shared_ptr<const sos_search::SosSearchService> sos_search_;  // SOS Médecins
  FhirEndpointOptions options_;
  std::string base_path_;  // "" or "/sas"
};

}  // namespace sas::host::fhir_server
