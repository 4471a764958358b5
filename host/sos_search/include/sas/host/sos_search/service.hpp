// The SOS Médecins slot search as one service: the only path from a search request to its
// answer, for the FHIR endpoint (GET [base]/Schedule) and `sas-host search --sos`.
//
//   request target --parse_sos_query--> ParsedSosQuery --plugin (deadline, stop)--> answer
//     --serialize_sos_bundle (with a report)
//
// Offered only when the plugin's manifest declares the flow "sos-search" and the plugin speaks
// ABI 1.5 or later (PluginRequest.search_sos_slots); otherwise every search is answered 404
// not-supported saying so, and /metadata does not declare the SOS statement.
// A failure at any step is a fhir::HttpError: a bad query its 4xx, a plugin failure the host's
// one mapping (fhir/plugin_failure.hpp). The Bundle builder's warnings about the vendor's data go
// to the log, each distinct one once per service.
// Doctor settings and publication rules do not apply: the platform names associations, not
// practitioners, and an SOS slot is the association's (docs/sos-search.md).
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sas/host/fhir/operation_outcome.hpp>
#include <sas/host/fhir/searchset.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/server/https_server.hpp>
#include <sas/host/sos_search/bundle.hpp>
#include <sas/host/sos_search/query.hpp>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>

namespace sas::host::sos_search {

// The manifest flow a plugin declares to answer this search.
inline constexpr std::string_view kFlow = "sos-search";

struct SosSearchServiceOptions {
  // The FHIR base as the platform calls it: fullUrls and the self link start with it.
  std::string base_url;
  // Identifier system of each Location's INTRN identifier (SosBundleOptions).
  std::string place_identifier_system;
  // Time the plugin gets for one call when the caller gives no deadline.
  std::chrono::milliseconds plugin_deadline{4000};
  // Where the Bundle warnings and plugin failures go, one line each; none when empty.
  std::function<void(std::string_view)> log;
};

// What one search gave. On failure only `error` is set.
struct SosSearchResult {
  std::optional<fhir::HttpError> error;
  std::string bundle;     // the searchset Bundle, application/fhir+json
  SosBuildReport report;  // what the builder dropped and why, its warnings
  bool ok() const { return !error.has_value(); }
};

class SosSearchService {
 public:
  using Deadline = std::chrono::system_clock::time_point;

  SosSearchService(std::shared_ptr<plugin_loader::Plugin> plugin, SosSearchServiceOptions options);

  // Whether the plugin offers this search; when not, unsupported_reason() says why.
  bool supported() const { return unsupported_reason_.empty(); }
  const std::string& unsupported_reason() const { return unsupported_reason_; }

  // The whole search from a raw request target ("/Schedule?...", as parse_sos_query takes it).
  // `answer` receives the plugin's answer (the caller owns it, so that it can live in an arena).
  // A default deadline is now + plugin_deadline. Thread-safe.
  SosSearchResult search(std::string_view target, sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                         std::stop_token stop = {}) const;
  SosSearchResult search(const ParsedSosQuery& query, sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                         std::stop_token stop = {}) const;

  // GET [base]/Schedule?...: the Bundle or an OperationOutcome, within the request's deadline
  // (now + plugin_deadline) and stopped by its stop token. Never throws.
  server::Response handle(const server::Request& request) const;

  // The plugin call alone, with the host's status mapping; nullopt on success (and then
  // `answer` holds a SearchSosSlotsResponse).
  std::optional<fhir::HttpError> call_plugin(const sas::plugin::v1::SearchSosSlotsRequest& request,
                                             sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                                             std::stop_token stop = {}) const;

  const SosSearchServiceOptions& options() const { return options_; }

 private:
  fhir::HttpError not_offered() const;

  std::shared_ptr<plugin_loader::Plugin> plugin_;
  SosSearchServiceOptions options_;
  std::string unsupported_reason_;
  // Each distinct warning about the agenda's data is logged once.
  mutable fhir::WarningsLoggedOnce warnings_;
};

}  // namespace sas::host::sos_search
