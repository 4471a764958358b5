#include <boost/dll/shared_library.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sas/host/plugin_loader/plugin.hpp>
#include <stop_token>
#include <type_traits>
#include <unordered_map>

namespace sas::host::plugin_loader {

namespace v1 = sas::plugin::v1;

// One dlopen'ed library and the identity read from its file before it was opened.
class LoadedLibrary {
 public:
  LoadedLibrary(const std::filesystem::path& path, PluginManifest manifest)
      : manifest_(std::move(manifest)),
        library_(boost::dll::fs::path(path.string()),
                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local) {}
  const PluginManifest& manifest() const { return manifest_; }
  sas_plugin_negotiate_fn entry() const {
    return library_.get<sas_status(const sas_negotiate_offer*, sas_negotiate_answer*)>(SAS_PLUGIN_ENTRY_SYMBOL);
  }

 private:
  PluginManifest manifest_;
  boost::dll::shared_library library_;
};

namespace {

// A serving process never unloads plugin code: some thread, log line or static in the
// plugin could still refer to it, and unloading buys nothing. Intentionally never freed.
std::shared_ptr<LoadedLibrary> open_library(const std::filesystem::path& path) {
  static auto* mutex = new std::mutex;
  static auto* libraries = new std::unordered_map<std::string, std::shared_ptr<LoadedLibrary>>;
  PluginManifest manifest = inspect_plugin_file(path);  // throws before any plugin code runs
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(path, ec).string();
  std::lock_guard lock(*mutex);
  if (auto it = libraries->find(key); it != libraries->end()) return it->second;
  try {
    auto library = std::make_shared<LoadedLibrary>(path, std::move(manifest));
    libraries->emplace(key, library);
    return library;
  } catch (const std::exception& e) {
    throw PluginError(SAS_ERR_INVALID_ARGUMENT, path.string() + ": cannot be loaded: " + e.what());
  }
}

// The ABI context of one call, with what is_cancelled reads behind it. Standard layout with the
// C struct first, so the plugin's `const sas_call_context*` converts back to it.
struct CancellableContext {
  sas_call_context abi;
  const std::stop_token* stop;
};
static_assert(std::is_standard_layout_v<CancellableContext>);

// Non-zero once the call's stop token is triggered (the request's deadline passed or its client
// went away) or its deadline passed.
int32_t is_cancelled(const sas_call_context* context) {
  const auto* call = reinterpret_cast<const CancellableContext*>(context);
  if (call->stop != nullptr && call->stop->stop_requested()) return 1;
  if (context->deadline_unix_micros == 0) return 0;
  const auto now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return now.count() >= context->deadline_unix_micros ? 1 : 0;
}

// Bytes the host hands the plugin (call_host's response): malloc'd here, freed by free_host_bytes.
void put_host_bytes(sas_bytes* out, const std::string& bytes) {
  *out = sas_bytes{nullptr, 0};
  if (bytes.empty()) return;
  auto* buffer = static_cast<uint8_t*>(std::malloc(bytes.size()));
  if (buffer == nullptr) return;
  std::memcpy(buffer, bytes.data(), bytes.size());
  *out = sas_bytes{buffer, bytes.size()};
}

void free_host_bytes(sas_bytes* bytes) {
  if (bytes == nullptr) return;
  std::free(bytes->data);
  bytes->data = nullptr;
  bytes->size = 0;
}

std::string version_text(uint32_t v) {
  return std::to_string(SAS_ABI_VERSION_MAJOR_OF(v)) + "." + std::to_string(SAS_ABI_VERSION_MINOR_OF(v));
}

}  // namespace

const char* log_level_name(int32_t level) {
  switch (level) {
    case SAS_LOG_DEBUG:
      return "debug";
    case SAS_LOG_INFO:
      return "info";
    case SAS_LOG_WARNING:
      return "warning";
    default:
      return "error";
  }
}

std::function<void(int32_t level, std::string_view message)> stderr_plugin_log(std::string plugin_name) {
  return [plugin = std::move(plugin_name)](int32_t level, std::string_view message) {
    // One write per line (see sas-host's own log).
    std::string line = "[plugin " + plugin + "] " + log_level_name(level) + ": ";
    line.append(message);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

CallResult answer_host_call(const HostServices& services, std::string_view request_bytes, std::string& response_bytes) {
  try {
    v1::HostRequest request;
    if (request_bytes.size() > static_cast<size_t>(INT32_MAX) ||
        !request.ParseFromArray(request_bytes.data(), static_cast<int>(request_bytes.size()))) {
      return {SAS_ERR_INVALID_ARGUMENT, "request is not a valid sas.plugin.v1.HostRequest"};
    }
    if (request.method_case() == v1::HostRequest::METHOD_NOT_SET) {
      return {SAS_ERR_UNIMPLEMENTED, "unknown host method (HostRequest field not known to this host)"};
    }
    if (!services.handle_request) return {SAS_ERR_UNIMPLEMENTED, "this host does not answer host calls here"};
    v1::HostResponse response;
    CallResult result = services.handle_request(request, response);
    if (!result.ok()) return result;
    if (!response.SerializeToString(&response_bytes)) return {SAS_ERR_INTERNAL, "host response not serializable"};
    return {};
  } catch (const std::exception& e) {
    return {SAS_ERR_INTERNAL, std::string("host call failed: ") + e.what()};
  } catch (...) {
    return {SAS_ERR_INTERNAL, "host call failed"};
  }
}

// What the plugin's host_api points into; its address must not move while the plugin lives.
struct PluginInstance::Shared {
  HostServices services;
  sas_host_api api{};
  std::string plugin_name;
};

namespace {

// sas_host_api.call_host: answer_host_call, with the bytes handed over in host memory. No
// exception crosses back into the plugin.
sas_status call_host(void* context, const uint8_t* request_data, size_t request_size, sas_bytes* response_out) {
  if (response_out == nullptr) return SAS_ERR_INVALID_ARGUMENT;
  *response_out = sas_bytes{nullptr, 0};
  auto* self = static_cast<PluginInstance::Shared*>(context);
  if (self == nullptr) return SAS_ERR_INVALID_ARGUMENT;
  std::string out;
  const CallResult result = answer_host_call(
      self->services, std::string_view(reinterpret_cast<const char*>(request_data), request_size), out);
  put_host_bytes(response_out, result.ok() ? out : result.message);
  return result.status;
}

}  // namespace

std::shared_ptr<PluginInstance> PluginInstance::load(const std::filesystem::path& path, const std::string& config,
                                                     HostServices services, CallLimits limits) {
  auto library = open_library(path);
  const std::string where = path.string() + ": ";
  const std::string name = library->manifest().name;

  sas_negotiate_offer offer{sizeof(sas_negotiate_offer), SAS_ABI_VERSION,
                            SAS_ABI_MAKE_VERSION(SAS_ABI_VERSION_MAJOR, 0)};
  sas_negotiate_answer answer{};
  answer.struct_size = sizeof(answer);
  sas_status status = library->entry()(&offer, &answer);
  answer.message[sizeof(answer.message) - 1] = '\0';
  if (status == SAS_ERR_INCOMPATIBLE_VERSION) {
    throw PluginError(status, where + "incompatible ABI: " + answer.message);
  }
  if (status != SAS_OK) {
    throw PluginError(status, where + "negotiation failed with " + status_name(status) + ": " + answer.message);
  }
  if (SAS_ABI_VERSION_MAJOR_OF(answer.abi_version) != SAS_ABI_VERSION_MAJOR ||
      answer.abi_version < offer.host_version_oldest || answer.abi_version > offer.host_version_newest) {
    throw PluginError(SAS_ERR_INCOMPATIBLE_VERSION, where + "incompatible ABI: plugin chose " +
                                                        version_text(answer.abi_version) + ", this host speaks " +
                                                        version_text(offer.host_version_oldest) + " to " +
                                                        version_text(offer.host_version_newest));
  }
  const sas_plugin_api* api = answer.api;
  if (api == nullptr) throw PluginError(SAS_ERR_INVALID_ARGUMENT, where + "negotiation returned no function table");
  if (api->struct_size < SAS_PLUGIN_API_MIN_SIZE_1_0) {
    throw PluginError(SAS_ERR_INCOMPATIBLE_VERSION,
                      where + "function table too small: " + std::to_string(api->struct_size) + " bytes, ABI " +
                          version_text(answer.abi_version) + " needs at least " +
                          std::to_string(SAS_PLUGIN_API_MIN_SIZE_1_0));
  }
  if (api->init == nullptr || api->invoke == nullptr || api->free_bytes == nullptr || api->shutdown == nullptr ||
      api->destroy == nullptr) {
    throw PluginError(SAS_ERR_INVALID_ARGUMENT, where + "function table has a null entry");
  }
  if (api->threading != SAS_THREADING_SERIALIZED && api->threading != SAS_THREADING_FREE_THREADED) {
    throw PluginError(SAS_ERR_INVALID_ARGUMENT, where + "unknown threading model " + std::to_string(api->threading));
  }

  std::shared_ptr<PluginInstance> instance(new PluginInstance());
  instance->library_ = library;
  instance->api_ = api;
  instance->abi_version_ = answer.abi_version;
  instance->free_threaded_ = api->threading == SAS_THREADING_FREE_THREADED;
  instance->limits_ = limits;
  instance->shared_ = std::make_unique<Shared>();
  Shared& shared = *instance->shared_;
  shared.plugin_name = name;
  shared.services = std::move(services);
  if (!shared.services.log) shared.services.log = stderr_plugin_log(name);
  if (!shared.services.now) shared.services.now = [] { return std::chrono::system_clock::now(); };
  shared.api.struct_size = sizeof(sas_host_api);
  shared.api.abi_version = answer.abi_version;
  shared.api.host_context = &shared;
  shared.api.log = [](void* context, int32_t level, const char* message, size_t size) {
    auto* self = static_cast<Shared*>(context);
    self->services.log(level, std::string_view(message == nullptr ? "" : message, message == nullptr ? 0 : size));
  };
  shared.api.now_unix_micros = [](void* context) -> int64_t {
    auto* self = static_cast<Shared*>(context);
    return std::chrono::duration_cast<std::chrono::microseconds>(self->services.now().time_since_epoch()).count();
  };
  shared.api.call_host = &call_host;
  shared.api.free_bytes = &free_host_bytes;

  sas_bytes error{nullptr, 0};
  sas_plugin_instance* handle = nullptr;
  status = api->init(&shared.api, config.data(), config.size(), &handle, &error);
  std::string reason(error.data == nullptr ? "" : reinterpret_cast<const char*>(error.data), error.size);
  api->free_bytes(&error);
  if (status != SAS_OK || handle == nullptr) {
    if (handle != nullptr) api->destroy(handle);
    throw PluginError(status == SAS_OK ? SAS_ERR_INIT_FAILED : status,
                      where + "plugin '" + name + "' failed to initialise (" + status_name(status) +
                          "): " + (reason.empty() ? "no reason given" : reason));
  }
  instance->handle_ = handle;
  return instance;
}

PluginInstance::~PluginInstance() {
  shutdown();
  if (handle_ != nullptr) api_->destroy(handle_);
}

const PluginManifest& PluginInstance::manifest() const { return library_->manifest(); }

void PluginInstance::shutdown_within(std::chrono::milliseconds wait) {
  {
    std::unique_lock lock(calls_mutex_);
    if (handle_ == nullptr || shut_down_) return;
    shut_down_ = true;
    if (!calls_done_.wait_for(lock, wait, [this] { return calls_in_flight_ == 0; })) {
      shared_->services.log(SAS_LOG_ERROR, std::to_string(calls_in_flight_) + " call(s) still running after " +
                                               std::to_string(wait.count()) + " ms; shutting the plugin down anyway");
    }
  }
  std::lock_guard serial(serial_);  // a serialized plugin never sees shutdown during a call
  api_->shutdown(handle_);
}

CallResult PluginInstance::call(const v1::PluginRequest& request, v1::PluginResponse& response,
                                std::chrono::system_clock::time_point deadline, std::stop_token stop) {
  std::string request_bytes;
  if (!request.SerializeToString(&request_bytes)) return {SAS_ERR_INTERNAL, "request could not be serialized"};
  // Parsed straight from the plugin's buffer, before it goes back to the plugin.
  return invoke(request_bytes, deadline, std::move(stop), [&](std::string_view answer) {
    if (response.ParseFromArray(answer.data(), static_cast<int>(answer.size()))) return CallResult{};
    return CallResult{SAS_ERR_INTERNAL,
                      "plugin '" + manifest().name + "' returned bytes that are not a PluginResponse"};
  });
}

CallResult PluginInstance::invoke(std::string_view request, std::chrono::system_clock::time_point deadline,
                                  std::stop_token stop, const std::function<CallResult(std::string_view)>& accept) {
  {
    std::lock_guard lock(calls_mutex_);
    if (shut_down_) return {SAS_ERR_UNAVAILABLE, "plugin is shut down"};
    ++calls_in_flight_;
  }
  struct InFlight {
    PluginInstance& self;
    ~InFlight() {
      std::lock_guard lock(self.calls_mutex_);
      if (--self.calls_in_flight_ == 0) self.calls_done_.notify_all();
    }
  } in_flight{*this};

  CancellableContext call{};
  call.stop = &stop;
  sas_call_context& context = call.abi;
  context.struct_size = sizeof(context);
  context.deadline_unix_micros =
      deadline == std::chrono::system_clock::time_point{}
          ? 0
          : std::chrono::duration_cast<std::chrono::microseconds>(deadline.time_since_epoch()).count();
  context.is_cancelled = &is_cancelled;

  sas_bytes out{nullptr, 0};
  sas_status status;
  {
    std::unique_lock lock(serial_, std::defer_lock);
    if (!free_threaded_) lock.lock();
    status = api_->invoke(handle_, reinterpret_cast<const uint8_t*>(request.data()), request.size(), &context, &out);
  }
  CallResult result{status, {}};
  if (status == SAS_OK) {
    if (out.size > limits_.max_answer_bytes || out.size > static_cast<size_t>(INT32_MAX)) {
      result = {SAS_ERR_INTERNAL, "plugin '" + manifest().name + "' answered " + std::to_string(out.size) +
                                      " bytes, more than plugin-max-answer-bytes (" +
                                      std::to_string(limits_.max_answer_bytes) + ")"};
    } else {
      try {
        result = accept(std::string_view(out.data == nullptr ? "" : reinterpret_cast<const char*>(out.data), out.size));
      } catch (const std::exception& e) {  // e.g. no memory for the copy: the plugin's bytes still go back
        result = {SAS_ERR_INTERNAL, std::string("the plugin's answer could not be taken: ") + e.what()};
      }
    }
  } else {
    result.message.assign(out.data == nullptr ? "" : reinterpret_cast<const char*>(out.data), out.size);
    if (result.message.empty()) result.message = status_name(status);
  }
  api_->free_bytes(&out);
  return result;
}

}  // namespace sas::host::plugin_loader
