#include <sas/host/runtime/runtime.hpp>

#include <sas/host/appointment_notifications/host_calls.hpp>
#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/billing/host_calls.hpp>
#include <sas/host/billing/rules.hpp>
#include <sas/host/billing/service.hpp>
#include <sas/host/doctor_settings/host_calls.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/runtime/measured.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/host/store/store.hpp>
#include <stdexcept>

namespace sas::host::runtime {

namespace {

using logging::Level;

// The runtime's own lines: to the logger at their level, else to the log sink, or nowhere.
void say(const RuntimeOptions& options, Level level, std::string_view line) {
  if (options.logger) {
    options.logger->log(level, "runtime", line);
  } else if (options.log) {
    options.log(line);
  }
}

// A part's log sink: its component and level in the logger, else the one log sink.
std::function<void(std::string_view)> sink_of(const RuntimeOptions& options, std::string_view component, Level level) {
  if (options.logger) return options.logger->sink(std::string(component), level);
  return options.log;
}

Level plugin_level(int32_t level) {
  switch (level) {
    case SAS_LOG_DEBUG:
      return Level::debug;
    case SAS_LOG_INFO:
      return Level::info;
    case SAS_LOG_WARNING:
      return Level::warning;
    default:
      return Level::error;
  }
}

// The plugin's lines in the logger: component plugin, its level, its name. Their text is the
// vendor's: the host cannot vouch for what it holds.
std::function<void(int32_t, std::string_view)> plugin_sink(const logging::Logger& logger, std::string name) {
  return [logger, fields = logging::Fields{{"plugin", std::move(name)}}](int32_t level, std::string_view message) {
    logger.log(plugin_level(level), "plugin", message, fields);
  };
}

}  // namespace

std::shared_ptr<const billing::RuleBook> load_rules(const std::string& path) {
  std::filesystem::path file = path;
  if (file.empty()) {
    std::error_code ec;
    const auto executable = std::filesystem::read_symlink("/proc/self/exe", ec);
    file = billing::default_rules_path(executable);
  }
  return std::make_shared<const billing::RuleBook>(billing::RuleBook::load(file));
}

std::unique_ptr<Runtime> Runtime::build(RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->options_ = std::move(options);
  const RuntimeOptions& o = rt->options_;
  rt->router_ = std::make_shared<HostCallRouter>();
  if (o.store) {
    store::Store opened = store::open(*o.store);
    if (o.metrics) opened = measure_store(std::move(opened), *o.metrics);
    rt->store_ = std::make_shared<const store::Store>(std::move(opened));
    // Doctor settings and publication rules: applied to every search, changed through the admin
    // API, the CLI and the plugin's host calls (docs/doctor-options.md).
    rt->settings_ = o.now
                        ? std::make_shared<doctor_settings::Service>(rt->store_->doctor_settings, o.publication, o.now)
                        : std::make_shared<doctor_settings::Service>(rt->store_->doctor_settings, o.publication);
  }
  if (rt->store_ && o.answer_host_calls) {
    // Consultations the plugin reports (ABI 1.2 host calls) are judged and recorded here. Without
    // a rule file given, a missing shipped one does not stop the other flows: report_consultation
    // then answers SAS_ERR_UNAVAILABLE with the reason.
    try {
      rt->billing_ = std::make_shared<billing::HostCalls>(
          std::make_shared<const billing::BillingService>(load_rules(o.billing_rules), rt->store_->consultations),
          sink_of(o, "billing", Level::error));
    } catch (const billing::BillingError& e) {
      if (!o.billing_rules.empty()) throw;
      rt->no_billing_ = e.what();
      say(o, Level::warning, "warning: consultations cannot be judged: " + rt->no_billing_);
    }
    // INT_R03: the outbox (fed by plugins and sas-host appointment-event) and its delivery.
    rt->outbox_ = std::make_shared<appointment_notifications::Outbox>(rt->store_->outbox);
    if (o.delivery) {
      appointment_notifications::DeliveryOptions d = *o.delivery;
      if (!d.log) d.log = sink_of(o, "delivery", Level::warning);
      rt->delivery_ = std::make_unique<appointment_notifications::Delivery>(rt->store_->outbox, d);
      rt->outbox_->on_committed([raw = rt->delivery_.get()] { raw->wake(); });
      rt->delivery_->start();
      say(o, Level::info, "delivering appointment notifications to " + d.base);
    }

    // The plugin's host calls, one handler per HostRequest case, each registered by its flow.
    HostCallRouter& router = *rt->router_;
    if (rt->billing_) {
      router.on(v1::HostRequest::kReportConsultation,
                [calls = rt->billing_](const v1::HostRequest& request, v1::HostResponse& response) {
                  return calls->handle(request, response);
                });
    } else {
      router.on(v1::HostRequest::kReportConsultation,
                [reason = rt->no_billing_](const v1::HostRequest&, v1::HostResponse&) {
                  return plugin_loader::CallResult{SAS_ERR_UNAVAILABLE, "no SNP / MRT rule file: " + reason};
                });
    }
    router.on(v1::HostRequest::kAppointmentEvent,
              [outbox = rt->outbox_](const v1::HostRequest& request, v1::HostResponse& response) {
                return appointment_notifications::report_appointment_event(*outbox, request, response);
              });
    // ABI 1.4: the plugin's doctor settings calls, recorded as made through the plugin, by its
    // name unless the request says who (the manifest is read from the file, without running any
    // code).
    auto settings_calls = std::make_shared<const doctor_settings::HostCalls>(
        rt->settings_, plugin_loader::inspect_plugin_file(o.plugin).name);
    router.on({v1::HostRequest::kGetDoctorSettings, v1::HostRequest::kSetDoctorSettings,
               v1::HostRequest::kListPublicationRules, v1::HostRequest::kAddPublicationRule,
               v1::HostRequest::kRemovePublicationRule, v1::HostRequest::kExplainPublication},
              [settings_calls](const v1::HostRequest& request, v1::HostResponse& response) {
                return settings_calls->handle(request, response);
              });
  }

  plugin_loader::HostServices services;
  if (o.plugin_log) {
    services.log = o.plugin_log;
  } else if (o.logger) {
    services.log = plugin_sink(*o.logger, plugin_loader::inspect_plugin_file(o.plugin).name);
  }
  if (o.now) services.now = o.now;
  HostCallHandler handler = [router = std::shared_ptr<const HostCallRouter>(rt->router_)](
                                const v1::HostRequest& request, v1::HostResponse& response) {
    return router->handle(request, response);
  };
  if (o.wrap_host_calls) handler = o.wrap_host_calls(std::move(handler));
  // A runtime that answers nothing lends the plugin no handler at all, as a bare loader does.
  if (!rt->router_->methods().empty() || o.wrap_host_calls) services.handle_request = std::move(handler);
  if (o.isolation) {
    plugin_isolation::IsolationOptions isolation = *o.isolation;
    isolation.max_answer_bytes = o.plugin_limits.max_answer_bytes;
    if (!isolation.log) isolation.log = sink_of(o, "plugin-runner", Level::warning);
    rt->plugin_ =
        plugin_isolation::IsolatedPlugin::start(o.plugin, o.plugin_config, std::move(services), std::move(isolation));
  } else {
    rt->plugin_ = plugin_loader::PluginInstance::load(o.plugin, o.plugin_config, std::move(services), o.plugin_limits);
  }
  if (o.metrics) {
    // Before any flow takes it: every call of every flow is measured.
    rt->plugin_ = std::make_shared<MeasuredPlugin>(rt->plugin_, *o.metrics);
    rt->register_metrics(*o.metrics);
  }
  if (rt->billing_) rt->billing_->attach(rt->plugin_);
  if (o.endpoint) {
    (void)rt->open_endpoint(*o.endpoint);
  } else {
    slot_search::SearchServiceOptions search;
    search.plugin_deadline = o.search_deadline;
    search.settings = rt->settings_;
    search.log = sink_of(o, "search", Level::warning);
    rt->plugin_deadline_ = o.search_deadline;
    rt->search_ = std::make_shared<const slot_search::SearchService>(rt->plugin_, std::move(search));
  }
  return rt;
}

Runtime::~Runtime() { stop(); }

std::string Runtime::describe() const {
  std::string line = "plugin " + plugin_->manifest().name + " " + plugin_->manifest().version + " loaded (ABI " +
                     std::to_string(SAS_ABI_VERSION_MAJOR_OF(plugin_->abi_version())) + "." +
                     std::to_string(SAS_ABI_VERSION_MINOR_OF(plugin_->abi_version())) + ", " + plugin_->isolation() +
                     ")";
  if (store_) line += ", store " + store_->url + " ready";
  return line;
}

std::shared_ptr<const fhir_server::FhirEndpoint> Runtime::open_endpoint(const EndpointOptions& options) {
  std::lock_guard lock(endpoint_mutex_);
  if (endpoint_) throw std::logic_error("the runtime's FHIR endpoint is open already");
  fhir_server::FhirEndpointOptions endpoint;
  endpoint.base_url = options.base_url;
  endpoint.place_identifier_system = options.place_identifier_system;
  endpoint.plugin_deadline = options.plugin_deadline;
  if (store_) endpoint.account_audit = store_->account_audit;
  endpoint.settings = settings_;
  endpoint.log = sink_of(options_, "search", Level::warning);
  endpoint.accounts_log = sink_of(options_, "accounts", Level::info);
  endpoint_ = std::make_shared<const fhir_server::FhirEndpoint>(plugin_, std::move(endpoint));
  plugin_deadline_ = options.plugin_deadline;
  return endpoint_;
}

std::shared_ptr<const fhir_server::FhirEndpoint> Runtime::endpoint() const {
  std::lock_guard lock(endpoint_mutex_);
  return endpoint_;
}

const slot_search::SearchService& Runtime::search() const {
  std::lock_guard lock(endpoint_mutex_);
  if (endpoint_) return endpoint_->search();
  if (search_) return *search_;
  throw std::logic_error("the runtime has no search service before its endpoint is opened");
}

admin_api::AdminEndpointOptions Runtime::admin_options() const {
  admin_api::AdminEndpointOptions admin;
  admin.settings = settings_;
  admin.outbox = outbox_;
  admin.plugin = plugin_;
  if (store_) admin.consultations = store_->consultations;
  {
    std::lock_guard lock(endpoint_mutex_);
    admin.plugin_deadline = plugin_deadline_;
  }
  admin.log = sink_of(options_, "admin", Level::info);
  admin.readiness = readiness_checks();
  return admin;
}

std::vector<admin_api::ReadinessCheck> Runtime::readiness_checks() const {
  std::vector<admin_api::ReadinessCheck> checks;
  checks.push_back(
      {"plugin", [this]() -> std::optional<std::string> {
         if (stopped_) return "the plugin is shut down";
         const auto* isolated = dynamic_cast<const plugin_isolation::IsolatedPlugin*>(&plugin_->innermost());
         if (isolated == nullptr) return std::nullopt;  // loaded and initialised by build()
         const auto status = isolated->status();
         for (const auto& runner : status.runners) {
           if (runner.state == "ready") return std::nullopt;
         }
         return "no plugin runner is ready (" + std::to_string(status.runners.size()) + " runners, none ready)";
       }});
  if (store_) {
    // The log says why, once per failure (a probe every few seconds would repeat it).
    auto failing = std::make_shared<std::atomic<bool>>(false);
    checks.push_back({"store", [this, failing]() -> std::optional<std::string> {
                        try {
                          (void)store_->doctor_settings->version();  // one cheap query
                          if (failing->exchange(false))
                            say(options_, Level::info, "readiness: the store answers again");
                          return std::nullopt;
                        } catch (const std::exception& e) {
                          if (!failing->exchange(true))
                            say(options_, Level::error,
                                std::string("readiness: the store does not answer: ") + e.what());
                          return "the store does not answer";
                        }
                      }});
  }
  return checks;
}

void Runtime::register_metrics(metrics::Registry& registry) {
  using metrics::Sample;
  using metrics::Type;
  const auto& manifest = plugin_->manifest();
  const std::string abi = std::to_string(SAS_ABI_VERSION_MAJOR_OF(plugin_->abi_version())) + "." +
                          std::to_string(SAS_ABI_VERSION_MINOR_OF(plugin_->abi_version()));
  registry
      .gauge("sas_plugin_info", "The plugin loaded: 1, its identity in the labels",
             {"name", "version", "abi", "isolation"})
      .with({manifest.name, manifest.version, abi, plugin_->isolation()})
      .set(1);
  if (store_ && outbox_) {
    // One query for the three families of a scrape (renders are serialized by the registry).
    auto cache = std::make_shared<std::optional<appointment_notifications::OutboxCounts>>();
    registry.before_render([cache] { cache->reset(); });
    auto counts = [cache, repository = store_->outbox] {
      if (!*cache) *cache = repository->counts();  // throws StoreError: no sample, and asked again
      return **cache;
    };
    registry.callback(Type::gauge, "sas_outbox_notifications", "INT_R03 outbox rows by state", {"state"}, [counts] {
      const auto c = counts();
      return std::vector<Sample>{{{"pending"}, static_cast<double>(c.pending)},
                                 {{"delivered"}, static_cast<double>(c.delivered)},
                                 {{"dead"}, static_cast<double>(c.dead)}};
    });
    registry.callback(Type::gauge, "sas_outbox_blocked_notifications",
                      "Pending INT_R03 notifications held back behind a dead letter of their appointment", {},
                      [counts] {
                        return std::vector<Sample>{{{}, static_cast<double>(counts().blocked)}};
                      });
    registry.callback(Type::gauge, "sas_outbox_oldest_pending_age_seconds",
                      "Age of the oldest pending INT_R03 notification (since it was reported); 0 when none", {},
                      [counts, now = options_.now] {
                        const auto c = counts();
                        double age = 0;
                        if (c.oldest_pending) {
                          const auto t = now ? now() : std::chrono::system_clock::now();
                          age = std::max(0.0, std::chrono::duration<double>(t - *c.oldest_pending).count());
                        }
                        return std::vector<Sample>{{{}, age}};
                      });
    registry.callback(Type::counter, "sas_outbox_delivery_attempts_total",
                      "INT_R03 delivery attempts by this process, by outcome (delivered, retry, dead)", {"outcome"},
                      [delivery = delivery_.get()] {
                        const auto stats = delivery ? delivery->stats() : appointment_notifications::DeliveryStats{};
                        return std::vector<Sample>{{{"delivered"}, static_cast<double>(stats.delivered)},
                                                   {{"retry"}, static_cast<double>(stats.retried)},
                                                   {{"dead"}, static_cast<double>(stats.dead)}};
                      });
  }
  if (const auto* isolated = dynamic_cast<const plugin_isolation::IsolatedPlugin*>(&plugin_->innermost())) {
    registry.callback(Type::counter, "sas_plugin_runner_restarts_total",
                      "Plugin runner processes started after the first ones (process isolation)", {}, [isolated] {
                        return std::vector<Sample>{{{}, static_cast<double>(isolated->status().restarts_total)}};
                      });
    registry.callback(Type::counter, "sas_plugin_runner_deaths_total",
                      "Plugin runner processes that ended unexpectedly (crash, kill after a deadline...)", {},
                      [isolated] {
                        return std::vector<Sample>{{{}, static_cast<double>(isolated->status().deaths_total)}};
                      });
    registry.callback(Type::gauge, "sas_plugin_runners", "Plugin runner processes by state", {"state"}, [isolated] {
      std::map<std::string, double> by_state{
          {"starting", 0}, {"ready", 0}, {"draining", 0}, {"restarting", 0}, {"stopped", 0}};
      for (const auto& runner : isolated->status().runners) by_state[runner.state] += 1;
      std::vector<Sample> samples;
      for (const auto& [state, count] : by_state) samples.push_back({{state}, count});
      return samples;
    });
  }
}

void Runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (billing_) billing_->stop();
  if (delivery_) delivery_->stop();
  if (plugin_) plugin_->shutdown();
}

}  // namespace sas::host::runtime
