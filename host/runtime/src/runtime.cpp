#include <sas/host/runtime/runtime.hpp>

#include <sas/host/appointment_notifications/host_calls.hpp>
#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/billing/host_calls.hpp>
#include <sas/host/billing/rules.hpp>
#include <sas/host/billing/service.hpp>
#include <sas/host/doctor_settings/host_calls.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/host/store/store.hpp>
#include <stdexcept>

namespace sas::host::runtime {

namespace {

// The log sink, or nothing.
void say(const RuntimeOptions& options, std::string_view line) {
  if (options.log) options.log(line);
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
    rt->store_ = std::make_shared<const store::Store>(store::open(*o.store));
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
          std::make_shared<const billing::BillingService>(load_rules(o.billing_rules), rt->store_->consultations));
    } catch (const billing::BillingError& e) {
      if (!o.billing_rules.empty()) throw;
      rt->no_billing_ = e.what();
      say(o, "warning: consultations cannot be judged: " + rt->no_billing_);
    }
    // INT_R03: the outbox (fed by plugins and sas-host appointment-event) and its delivery.
    rt->outbox_ = std::make_shared<appointment_notifications::Outbox>(rt->store_->outbox);
    if (o.delivery) {
      appointment_notifications::DeliveryOptions d = *o.delivery;
      if (!d.log) d.log = o.log;
      rt->delivery_ = std::make_unique<appointment_notifications::Delivery>(rt->store_->outbox, d);
      rt->outbox_->on_committed([raw = rt->delivery_.get()] { raw->wake(); });
      rt->delivery_->start();
      say(o, "delivering appointment notifications to " + d.base);
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
  if (o.plugin_log) services.log = o.plugin_log;
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
    if (!isolation.log) isolation.log = o.log;
    rt->plugin_ =
        plugin_isolation::IsolatedPlugin::start(o.plugin, o.plugin_config, std::move(services), std::move(isolation));
  } else {
    rt->plugin_ = plugin_loader::PluginInstance::load(o.plugin, o.plugin_config, std::move(services), o.plugin_limits);
  }
  if (rt->billing_) rt->billing_->attach(rt->plugin_);
  if (o.endpoint) {
    (void)rt->open_endpoint(*o.endpoint);
  } else {
    slot_search::SearchServiceOptions search;
    search.plugin_deadline = o.search_deadline;
    search.settings = rt->settings_;
    search.log = o.log;
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
  endpoint.log = options_.log;
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
  {
    std::lock_guard lock(endpoint_mutex_);
    admin.plugin_deadline = plugin_deadline_;
  }
  admin.log = options_.log;
  return admin;
}

void Runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (billing_) billing_->stop();
  if (delivery_) delivery_->stop();
  if (plugin_) plugin_->shutdown();
}

}  // namespace sas::host::runtime
