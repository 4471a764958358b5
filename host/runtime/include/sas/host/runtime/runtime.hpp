// The host, assembled in one place: configuration → plugin → store → services → router of host
// calls. Used by `sas-host serve`, the subcommands that load a plugin (`search`, `rules explain`),
// `sas-conformance plugin` and the tests; each keeps only its own front (listeners, option
// parsing, printing). docs/architecture.md, "The runtime".
//
// Build order: the store; the flows over it (billing with its rule file, the INT_R03 outbox and
// its delivery, doctor settings); the router of host calls with each flow's handlers; the plugin,
// loaded with the router as its plugin_loader::HostServices::handle_request; billing's apply_billing_decision
// attached to the plugin; the FHIR endpoint (now, or later with open_endpoint once the base URL
// is known). stop() undoes it: billing host calls, delivery, plugin (the caller stops its
// servers first).
//
// The Store is used here and nowhere else in the assembly: each flow gets what it needs of it.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/appointment_notifications/delivery.hpp>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/logging/logger.hpp>
#include <sas/host/metrics/registry.hpp>
#include <sas/host/plugin_isolation/isolated_plugin.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/runtime/host_call_router.hpp>
#include <string>
#include <string_view>

namespace sas::host {
namespace fhir_server {
class FhirEndpoint;
}
namespace store {
struct Store;
}
namespace appointment_notifications {
class Outbox;
}
namespace billing {
class HostCalls;
class RuleBook;
}  // namespace billing
namespace doctor_settings {
class Service;
}
namespace slot_search {
class SearchService;
}
}  // namespace sas::host

namespace sas::host::runtime {

// What the FHIR endpoint (INT_R01 search, INT_R02 accounts, /metadata) needs besides the runtime.
struct EndpointOptions {
  // The FHIR base as the platform calls it (absolute URL); fullUrls and self links start with it.
  std::string base_url;
  // Identifier system of consultation places (the vendor's OID or URL); empty: the base URL.
  std::string place_identifier_system;
  // Time the plugin gets for one call.
  std::chrono::milliseconds plugin_deadline{4000};
};

struct RuntimeOptions {
  std::filesystem::path plugin;  // the plugin library (.so)
  std::string plugin_config;     // passed verbatim to its init
  // Where the plugin's code runs: none, in this process (the default and the fastest); else in
  // runner processes (docs/plugins/isolation.md).
  std::optional<plugin_isolation::IsolationOptions> isolation;
  // What the host accepts from the plugin, in either mode (isolation's max_answer_bytes follows it).
  plugin_loader::CallLimits plugin_limits;

  // The host's own state ("sqlite:PATH"). None: no doctor settings, outbox, billing nor account
  // audit, and no host call is answered (every one is SAS_ERR_UNIMPLEMENTED).
  std::optional<std::string> store;
  // Whether the flows answer the plugin's host calls (they need a store). False: the tools that
  // only read the agenda (`sas-host search`, `rules explain`) load the plugin without handlers,
  // so that it records nothing in their store.
  bool answer_host_calls = true;
  // The SNP / MRT rule file; empty: share/sas/billing/rules.json of this installation, whose
  // absence only disables billing (report_consultation answers SAS_ERR_UNAVAILABLE with the
  // reason) with a warning in the log. A file given that cannot be read is an error.
  std::string billing_rules;
  // Doctors with no setting recorded: published or withheld.
  doctor_settings::PublicationPolicy publication;
  // INT_R03 delivery to the platform; none: notifications stay in the outbox.
  std::optional<appointment_notifications::DeliveryOptions> delivery;
  // The FHIR endpoint, built with the runtime; none: open_endpoint later (a base URL known only
  // once the listener is bound), or no endpoint at all.
  std::optional<EndpointOptions> endpoint;
  // The search service of a runtime without endpoint (tools), when `endpoint` is none.
  std::chrono::milliseconds search_deadline{4000};

  // The host's own lines (without a "sas-host: " prefix); none: silent.
  std::function<void(std::string_view)> log;
  // The host's log (sas-host serve): when set, instead of `log`, each part's lines under its
  // component and level: runtime (its own lines, each at its level), delivery, search and
  // plugin-runner (warning: their lines are retries, failures, data warnings and runner deaths),
  // accounts and admin (info: one line per INT_R02 or admin request), billing (error).
  std::optional<logging::Logger> logger;
  // The plugin's log lines (plugin_loader::HostServices::log); none: stderr.
  std::function<void(int32_t level, std::string_view message)> plugin_log;
  // What time it is, for the plugin and the doctor settings; none: the system clock.
  std::function<std::chrono::system_clock::time_point()> now;
  // Wraps the router before the plugin sees it (e.g. a recorder of every host call, for the
  // conformance suite); none: the router itself.
  std::function<HostCallHandler(HostCallHandler)> wrap_host_calls;
  // The process's metrics (docs/operations.md, "Monitor"); none: nothing measured. When set, the
  // plugin and the store's repositories are measured (measured.hpp), and the families read at
  // scrape time are registered: the outbox's counts and oldest pending age, delivery attempts,
  // the plugin's identity and (process isolation) its runners, deaths and restarts.
  std::shared_ptr<metrics::Registry> metrics;
};

// The rule file at `path`, or share/sas/billing/rules.json of this installation when empty.
// Throws billing::BillingError.
std::shared_ptr<const billing::RuleBook> load_rules(const std::string& path);

class Runtime {
 public:
  // Builds everything and loads the plugin. Throws (plugin_loader::PluginError, StoreError, BillingError for a
  // --rules file that cannot be used, std::invalid_argument for a bad endpoint base URL).
  static std::unique_ptr<Runtime> build(RuntimeOptions options);
  ~Runtime();  // stop()
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The plugin behind the interface every flow takes, in this process or in runner processes.
  const std::shared_ptr<plugin_loader::Plugin>& plugin() const { return plugin_; }
  const HostCallRouter& host_calls() const { return *router_; }
  // "plugin NAME VERSION loaded (ABI M.N), store URL ready", for the front's log.
  std::string describe() const;

  // The FHIR endpoint: built once, by build() (RuntimeOptions::endpoint) or here. Throws
  // std::logic_error when it exists already.
  std::shared_ptr<const fhir_server::FhirEndpoint> open_endpoint(const EndpointOptions& options);
  std::shared_ptr<const fhir_server::FhirEndpoint> endpoint() const;  // null before it is opened
  // The INT_R01 search path: the endpoint's, or (without endpoint) the runtime's own.
  const slot_search::SearchService& search() const;

  // Null without a store.
  const std::shared_ptr<doctor_settings::Service>& doctor_settings() const { return settings_; }
  const std::shared_ptr<appointment_notifications::Outbox>& outbox() const { return outbox_; }
  // Null without a store, or when the shipped rule file is missing (billing_unavailable() says why).
  const std::shared_ptr<billing::HostCalls>& billing() const { return billing_; }
  const std::string& billing_unavailable() const { return no_billing_; }
  appointment_notifications::Delivery* delivery() const { return delivery_.get(); }

  // What the admin API uses (settings, outbox, consultations, plugin, deadline, log, and the readiness checks
  // "plugin" and "store"); the caller adds the token.
  admin_api::AdminEndpointOptions admin_options() const;
  // /readyz's checks of the runtime: "plugin" (initialised and not shut down; process isolation:
  // at least one runner ready) and, with a store, "store" (answers a trivial query).
  std::vector<admin_api::ReadinessCheck> readiness_checks() const;

  // Billing host calls (queued decisions delivered), delivery, then the plugin. Idempotent.
  // Stop the servers that call into the runtime first.
  void stop();

 private:
  Runtime() = default;
  void register_metrics(metrics::Registry& registry);  // RuntimeOptions::metrics

  RuntimeOptions options_;
  std::shared_ptr<const store::Store> store_;  // one repository per flow
  std::shared_ptr<doctor_settings::Service> settings_;
  std::shared_ptr<appointment_notifications::Outbox> outbox_;
  std::shared_ptr<billing::HostCalls> billing_;
  std::string no_billing_;
  std::unique_ptr<appointment_notifications::Delivery> delivery_;
  std::shared_ptr<HostCallRouter> router_;  // shared with the plugin's handle_request
  std::shared_ptr<plugin_loader::Plugin> plugin_;
  mutable std::mutex endpoint_mutex_;
  std::shared_ptr<const fhir_server::FhirEndpoint> endpoint_;
  std::shared_ptr<const slot_search::SearchService> search_;  // without endpoint
  std::chrono::milliseconds plugin_deadline_{4000};
  std::atomic<bool> stopped_{false};
};

}  // namespace sas::host::runtime
