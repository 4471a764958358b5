// INT_R01 slot search (and INT_R04, the CPTS search: the same request with the CPTS includes) as
// one service: the only path from a search request to its answer, for the FHIR endpoint, the
// admin API's explain, `sas-host search` and `sas-conformance plugin`.
//
//   request target --parse_slot_query--> ParsedSlotQuery --plugin (deadline, stop)--> answer
//     --doctor settings and rules (when configured)--> serialize_search_bundle (with a report)
//
// A failure at any step is a fhir::HttpError: a bad query its 4xx, a plugin failure the host's
// one mapping (fhir/plugin_failure.hpp). The Bundle builder's warnings about the vendor's data
// go to the log, each distinct one once per service. Log lines name the flow: "INT_R01 search" or
// "INT_R04 CPTS search".
//
// The CPTS search is offered when the plugin declares the flow `cpts-search` (kCptsSearchFlow)
// and speaks ABI 1.5 or later (SearchSlotsRequest.cpts_search); otherwise it is refused, 400
// not-supported, before the plugin is called (docs/cpts-search.md).
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sas/host/fhir/operation_outcome.hpp>
#include <sas/host/fhir/searchset.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/server/https_server.hpp>
#include <sas/host/slot_search/bundle.hpp>
#include <sas/host/slot_search/query.hpp>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>

namespace sas::host::doctor_settings {
class Service;
}

namespace sas::host::slot_search {

// The manifest flow of a plugin that answers the CPTS search (INT_R04).
inline constexpr std::string_view kCptsSearchFlow = "cpts-search";

// Whether a plugin answers the CPTS search: it declares kCptsSearchFlow and speaks ABI 1.5+.
bool offers_cpts_search(const plugin_loader::Plugin& plugin);

struct SearchServiceOptions {
  // The FHIR base as the platform calls it: fullUrls and the self link start with it.
  std::string base_url;
  // Identifier system of each place's INTRN identifier (BundleOptions).
  std::string place_identifier_system;
  // Time the plugin gets for one call when the caller gives no deadline.
  std::chrono::milliseconds plugin_deadline{4000};
  // Doctor settings and publication rules applied to every search; none: the agenda's typing.
  std::shared_ptr<doctor_settings::Service> settings;
  // Where the Bundle warnings and plugin failures go, one line each; none when empty.
  std::function<void(std::string_view)> log;
};

// What one search gave. On failure only `error` is set.
struct SearchResult {
  std::optional<fhir::HttpError> error;
  std::string bundle;             // the searchset Bundle, application/fhir+json
  BuildReport report;             // what the builder dropped and why, its warnings
  std::size_t hidden_slots = 0;   // withheld by the doctors' settings and rules
  std::size_t retyped_slots = 0;  // whose audiences a rule changed
  bool ok() const { return !error.has_value(); }
};

class SearchService {
 public:
  using Deadline = std::chrono::system_clock::time_point;

  SearchService(std::shared_ptr<plugin_loader::Plugin> plugin, SearchServiceOptions options);

  // The whole search from a raw request target ("/Slot?...", as parse_slot_query takes it).
  // `answer` receives the plugin's answer, after the settings (the caller owns it, so that it
  // can live in an arena). A default deadline is now + plugin_deadline. Thread-safe.
  SearchResult search(std::string_view target, sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                      std::stop_token stop = {}) const;
  SearchResult search(const ParsedSlotQuery& query, sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                      std::stop_token stop = {}) const;

  // GET [base]/Slot?...: the Bundle or an OperationOutcome, within the request's deadline
  // (now + plugin_deadline) and stopped by its stop token. Never throws.
  server::Response handle(const server::Request& request) const;

  // The plugin call alone, with the host's status mapping: for callers that read the agenda's
  // raw answer (the admin API's explain). nullopt on success.
  std::optional<fhir::HttpError> call_plugin(const sas::plugin::v1::SearchSlotsRequest& request,
                                             sas::plugin::v1::PluginResponse& answer, Deadline deadline = {},
                                             std::stop_token stop = {}) const;

  const SearchServiceOptions& options() const { return options_; }
  // Whether this service answers the CPTS search (offers_cpts_search of its plugin).
  bool cpts_offered() const { return cpts_offered_; }

 private:
  std::shared_ptr<plugin_loader::Plugin> plugin_;
  SearchServiceOptions options_;
  bool cpts_offered_ = false;
  // Each distinct warning about the agenda's data is logged once.
  mutable fhir::WarningsLoggedOnce warnings_;
};

}  // namespace sas::host::slot_search
