// The C side of a plugin built with the SDK: turns sas_plugin_api calls into AgendaPlugin
// virtual calls. Every path out of here is a status code; no exception escapes.
#include <atomic>
#include <sas/sdk/plugin.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

namespace sas::sdk {

void Host::log(LogLevel level, std::string_view message) const {
  if (api_ != nullptr && api_->log != nullptr) {
    api_->log(api_->host_context, static_cast<int32_t>(level), message.data(), message.size());
  }
}

std::chrono::system_clock::time_point Host::now() const {
  if (api_ != nullptr && api_->now_unix_micros != nullptr) {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(api_->now_unix_micros(api_->host_context)));
  }
  return std::chrono::system_clock::now();
}

bool Host::has_host_calls() const {
  return api_ != nullptr && api_->struct_size >= SAS_HOST_API_MIN_SIZE_1_2 && api_->call_host != nullptr &&
         api_->free_bytes != nullptr;
}

bool Host::has_appointment_events() const {
  return has_host_calls() && api_->abi_version >= SAS_ABI_MAKE_VERSION(1, 3);
}

bool Host::has_doctor_settings() const { return has_host_calls() && api_->abi_version >= SAS_ABI_MAKE_VERSION(1, 4); }

Status Host::call(const v1::HostRequest& request, v1::HostResponse& response) const {
  if (!has_host_calls()) return Status::unimplemented("the host is older than ABI 1.2: no host calls");
  std::string bytes;
  if (!request.SerializeToString(&bytes)) return Status::internal("host request could not be serialized");
  sas_bytes out{nullptr, 0};
  const sas_status status =
      api_->call_host(api_->host_context, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out);
  // The host's bytes go back to the host's free_bytes, whatever happens below.
  std::unique_ptr<sas_bytes, void (*)(sas_bytes*)> owned(&out, api_->free_bytes);
  if (status != SAS_OK) {
    std::string message(out.data == nullptr ? "" : reinterpret_cast<const char*>(out.data), out.size);
    if (message.empty()) message = "host call failed with status " + std::to_string(status);
    switch (status) {
      case SAS_ERR_INVALID_ARGUMENT:
        return Status::invalid_argument(message);
      case SAS_ERR_NOT_FOUND:
        return Status::not_found(message);
      case SAS_ERR_UNIMPLEMENTED:
        return Status::unimplemented(message);
      case SAS_ERR_UNAVAILABLE:
        return Status::unavailable(message);
      default:
        return Status::internal(message);
    }
  }
  if (out.size > static_cast<size_t>(INT32_MAX) || !response.ParseFromArray(out.data, static_cast<int>(out.size))) {
    return Status::internal("the host answered bytes that are not a HostResponse");
  }
  return Status::ok();
}

Status Host::report_consultation(const v1::Consultation& consultation, v1::ReportConsultationResponse& response) const {
  v1::HostRequest request;
  *request.mutable_report_consultation()->mutable_consultation() = consultation;
  v1::HostResponse answer;
  Status status = call(request, answer);
  if (!status.is_ok()) return status;
  if (!answer.has_report_consultation()) return Status::internal("the host answered another method");
  response = std::move(*answer.mutable_report_consultation());
  return Status::ok();
}

Status Host::report_appointment_event(const v1::AppointmentEvent& event, v1::AppointmentEventResponse& response) const {
  if (!has_appointment_events()) return Status::unimplemented("the host is older than ABI 1.3: no appointment events");
  v1::HostRequest request;
  *request.mutable_appointment_event()->mutable_event() = event;
  v1::HostResponse answer;
  Status status = call(request, answer);
  if (!status.is_ok()) return status;
  if (!answer.has_appointment_event()) return Status::internal("the host answered another method");
  response = std::move(*answer.mutable_appointment_event());
  return Status::ok();
}

Status Host::call_doctor_settings(const v1::HostRequest& request, v1::HostResponse::ResultCase expected,
                                  v1::HostResponse& response) const {
  if (!has_doctor_settings()) return Status::unimplemented("the host is older than ABI 1.4: no doctor settings");
  Status status = call(request, response);
  if (!status.is_ok()) return status;
  if (response.result_case() != expected) return Status::internal("the host answered another method");
  return Status::ok();
}

Status Host::get_doctor_settings(const v1::GetDoctorSettingsRequest& request,
                                 v1::GetDoctorSettingsResponse& response) const {
  v1::HostRequest message;
  *message.mutable_get_doctor_settings() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kGetDoctorSettings, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_get_doctor_settings());
  return status;
}

Status Host::set_doctor_settings(const v1::SetDoctorSettingsRequest& request,
                                 v1::SetDoctorSettingsResponse& response) const {
  v1::HostRequest message;
  *message.mutable_set_doctor_settings() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kSetDoctorSettings, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_set_doctor_settings());
  return status;
}

Status Host::list_publication_rules(const v1::ListPublicationRulesRequest& request,
                                    v1::ListPublicationRulesResponse& response) const {
  v1::HostRequest message;
  *message.mutable_list_publication_rules() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kListPublicationRules, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_list_publication_rules());
  return status;
}

Status Host::add_publication_rule(const v1::AddPublicationRuleRequest& request,
                                  v1::AddPublicationRuleResponse& response) const {
  v1::HostRequest message;
  *message.mutable_add_publication_rule() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kAddPublicationRule, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_add_publication_rule());
  return status;
}

Status Host::remove_publication_rule(const v1::RemovePublicationRuleRequest& request,
                                     v1::RemovePublicationRuleResponse& response) const {
  v1::HostRequest message;
  *message.mutable_remove_publication_rule() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kRemovePublicationRule, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_remove_publication_rule());
  return status;
}

Status Host::explain_publication(const v1::ExplainPublicationRequest& request,
                                 v1::ExplainPublicationResponse& response) const {
  v1::HostRequest message;
  *message.mutable_explain_publication() = request;
  v1::HostResponse answer;
  Status status = call_doctor_settings(message, v1::HostResponse::kExplainPublication, answer);
  if (status.is_ok()) response = std::move(*answer.mutable_explain_publication());
  return status;
}

bool CallContext::should_stop() const {
  if (context_ == nullptr) return false;
  if (context_->is_cancelled != nullptr && context_->is_cancelled(context_) != 0) return true;
  if (context_->deadline_unix_micros != 0) {
    auto now =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return now >= context_->deadline_unix_micros;
  }
  return false;
}

Status AgendaPlugin::search_slots(const v1::SearchSlotsRequest&, v1::SearchSlotsResponse&, const CallContext&) {
  return Status::unimplemented("this plugin does not implement slot search");
}

Status AgendaPlugin::write_regulator_account(const v1::WriteRegulatorAccountRequest&,
                                             v1::WriteRegulatorAccountResponse&, const CallContext&) {
  return Status::unimplemented("this plugin does not implement regulator accounts (INT_R02)");
}

Status AgendaPlugin::apply_billing_decision(const v1::ApplyBillingDecisionRequest&, v1::ApplyBillingDecisionResponse&,
                                            const CallContext&) {
  return Status::unimplemented("this plugin does not implement billing decisions (sas-billing)");
}

Status AgendaPlugin::search_sos_slots(const v1::SearchSosSlotsRequest&, v1::SearchSosSlotsResponse&,
                                      const CallContext&) {
  return Status::unimplemented("this plugin does not implement the SOS Médecins search (sos-search)");
}

}  // namespace sas::sdk

// The instance handle the C boundary sees.
struct sas_plugin_instance {
  sas_plugin_instance(std::unique_ptr<sas::sdk::AgendaPlugin> p, sas::sdk::Host h) : plugin(std::move(p)), host(h) {}
  std::unique_ptr<sas::sdk::AgendaPlugin> plugin;
  sas::sdk::Host host;
  std::atomic<bool> shut_down{false};  // read by every call, on any of the host's threads
};

namespace sas::sdk::detail {
namespace {

PluginFactory g_factory = nullptr;

// Copies text into plugin-allocated bytes that the host releases with free_bytes.
void put_bytes(sas_bytes* out, const void* data, size_t size) {
  if (out == nullptr) return;
  out->data = nullptr;
  out->size = 0;
  if (size == 0) return;
  auto* buffer = static_cast<uint8_t*>(std::malloc(size));
  if (buffer == nullptr) return;
  std::memcpy(buffer, data, size);
  out->data = buffer;
  out->size = size;
}

void put_text(sas_bytes* out, std::string_view text) { put_bytes(out, text.data(), text.size()); }

sas_status plugin_init(const sas_host_api* host, const char* config, size_t config_size, sas_plugin_instance** instance,
                       sas_bytes* error) {
  if (instance == nullptr) return SAS_ERR_INVALID_ARGUMENT;
  *instance = nullptr;
  try {
    auto handle = std::make_unique<sas_plugin_instance>(g_factory(), Host(host));
    Status status = handle->plugin->init(std::string_view(config == nullptr ? "" : config, config_size), handle->host);
    if (!status.is_ok()) {
      put_text(error, status.message());
      handle->plugin->shutdown();
      return status.code() == SAS_ERR_INTERNAL ? SAS_ERR_INTERNAL : SAS_ERR_INIT_FAILED;
    }
    *instance = handle.release();
    return SAS_OK;
  } catch (const std::exception& e) {
    put_text(error, std::string("plugin init threw: ") + e.what());
  } catch (...) {
    put_text(error, "plugin init threw a non-standard exception");
  }
  return SAS_ERR_INIT_FAILED;
}

sas_status dispatch(AgendaPlugin& plugin, const v1::PluginRequest& request, v1::PluginResponse& response,
                    const CallContext& context, std::string& error) {
  Status status;
  switch (request.method_case()) {
    case v1::PluginRequest::kSearchSlots:
      status = plugin.search_slots(request.search_slots(), *response.mutable_search_slots(), context);
      break;
    case v1::PluginRequest::kWriteRegulatorAccount:
      status = plugin.write_regulator_account(request.write_regulator_account(),
                                              *response.mutable_write_regulator_account(), context);
      break;
    case v1::PluginRequest::kApplyBillingDecision:
      status = plugin.apply_billing_decision(request.apply_billing_decision(),
                                             *response.mutable_apply_billing_decision(), context);
      break;
    case v1::PluginRequest::kSearchSosSlots:
      status = plugin.search_sos_slots(request.search_sos_slots(), *response.mutable_search_sos_slots(), context);
      break;
    case v1::PluginRequest::METHOD_NOT_SET:
    default:
      error = "unknown method (request field " + std::to_string(static_cast<int>(request.method_case())) +
              "): the host is newer than this plugin";
      return SAS_ERR_UNIMPLEMENTED;
  }
  if (!status.is_ok()) {
    error = status.message();
    return status.code() == SAS_OK ? SAS_ERR_INTERNAL : status.code();
  }
  return SAS_OK;
}

sas_status plugin_invoke(sas_plugin_instance* instance, const uint8_t* request_data, size_t request_size,
                         const sas_call_context* context, sas_bytes* response_out) {
  if (response_out != nullptr) *response_out = sas_bytes{nullptr, 0};
  if (instance == nullptr || instance->shut_down || response_out == nullptr) return SAS_ERR_INVALID_ARGUMENT;
  try {
    // One arena per call: a search answer is hundreds of small messages, freed at once.
    google::protobuf::Arena arena;
    auto& request = *google::protobuf::Arena::CreateMessage<v1::PluginRequest>(&arena);
    if (request_size > static_cast<size_t>(INT32_MAX) ||
        !request.ParseFromArray(request_data, static_cast<int>(request_size))) {
      put_text(response_out, "request is not a valid sas.plugin.v1.PluginRequest");
      return SAS_ERR_INVALID_ARGUMENT;
    }
    auto& response = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
    std::string error;
    sas_status status = dispatch(*instance->plugin, request, response, CallContext(context), error);
    if (status != SAS_OK) {
      put_text(response_out, error);
      return status;
    }
    // Serialized straight into the buffer the host will release with free_bytes.
    const size_t size = response.ByteSizeLong();
    if (size > static_cast<size_t>(INT32_MAX)) {
      put_text(response_out, "response exceeds 2 GiB");
      return SAS_ERR_INTERNAL;
    }
    auto* buffer = static_cast<uint8_t*>(std::malloc(size == 0 ? 1 : size));
    if (buffer == nullptr) return SAS_ERR_INTERNAL;
    response.SerializeWithCachedSizesToArray(buffer);
    *response_out = sas_bytes{buffer, size};
    return SAS_OK;
  } catch (const std::bad_alloc&) {
    // malloc, no exception: a short text usually still fits after a large allocation failed.
    put_text(response_out, "the plugin ran out of memory (std::bad_alloc)");
    return SAS_ERR_INTERNAL;
  } catch (const std::exception& e) {
    put_text(response_out, std::string("plugin threw: ") + e.what());
  } catch (...) {
    put_text(response_out, "plugin threw a non-standard exception");
  }
  return SAS_ERR_INTERNAL;
}

void plugin_free_bytes(sas_bytes* bytes) {
  if (bytes == nullptr) return;
  std::free(bytes->data);
  bytes->data = nullptr;
  bytes->size = 0;
}

void plugin_shutdown(sas_plugin_instance* instance) {
  if (instance == nullptr || instance->shut_down.exchange(true)) return;
  try {
    instance->plugin->shutdown();
  } catch (...) {
    instance->host.log(LogLevel::error, "plugin shutdown threw; ignored");
  }
}

void plugin_destroy(sas_plugin_instance* instance) {
  if (instance == nullptr) return;
  plugin_shutdown(instance);
  try {
    delete instance;
  } catch (...) {
  }
}

sas_plugin_api make_api(uint32_t threading) {
  sas_plugin_api api{};
  api.struct_size = sizeof(sas_plugin_api);
  api.abi_version = SAS_ABI_VERSION;
  api.threading = threading;
  api.init = &plugin_init;
  api.invoke = &plugin_invoke;
  api.free_bytes = &plugin_free_bytes;
  api.shutdown = &plugin_shutdown;
  api.destroy = &plugin_destroy;
  return api;
}

void refuse(sas_negotiate_answer* answer, const std::string& message) {
  // Write only what fits in the host's answer structure.
  if (answer->struct_size >= offsetof(sas_negotiate_answer, message) + sizeof(answer->message)) {
    std::snprintf(answer->message, sizeof(answer->message), "%s", message.c_str());
  }
}

}  // namespace

sas_status negotiate(const sas_negotiate_offer* offer, sas_negotiate_answer* answer, PluginFactory factory,
                     uint32_t threading) {
  if (offer == nullptr || answer == nullptr || offer->struct_size < sizeof(sas_negotiate_offer) ||
      answer->struct_size < offsetof(sas_negotiate_answer, message)) {
    return SAS_ERR_INVALID_ARGUMENT;
  }
  const uint32_t host_major = SAS_ABI_VERSION_MAJOR_OF(offer->host_version_newest);
  const uint32_t oldest_major = SAS_ABI_VERSION_MAJOR_OF(offer->host_version_oldest);
  if (host_major < SAS_ABI_VERSION_MAJOR || oldest_major > SAS_ABI_VERSION_MAJOR) {
    refuse(answer, "plugin speaks ABI " + std::to_string(SAS_ABI_VERSION_MAJOR) + "." +
                       std::to_string(SAS_ABI_VERSION_MINOR) + ", host offers " + std::to_string(oldest_major) +
                       ".x to " + std::to_string(host_major) + "." +
                       std::to_string(SAS_ABI_VERSION_MINOR_OF(offer->host_version_newest)));
    return SAS_ERR_INCOMPATIBLE_VERSION;
  }
  // Same major: speak the older of the two minors, so a newer plugin runs on an older host.
  uint32_t minor = SAS_ABI_VERSION_MINOR;
  if (host_major == SAS_ABI_VERSION_MAJOR) {
    minor = std::min<uint32_t>(minor, SAS_ABI_VERSION_MINOR_OF(offer->host_version_newest));
  }
  static const sas_plugin_api serialized_api = make_api(SAS_THREADING_SERIALIZED);
  static const sas_plugin_api free_threaded_api = make_api(SAS_THREADING_FREE_THREADED);
  g_factory = factory;
  answer->abi_version = SAS_ABI_MAKE_VERSION(SAS_ABI_VERSION_MAJOR, minor);
  answer->api = threading == SAS_THREADING_FREE_THREADED ? &free_threaded_api : &serialized_api;
  return SAS_OK;
}

}  // namespace sas::sdk::detail
