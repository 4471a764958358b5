// A loaded plugin instance: the library stays loaded as long as any instance from it lives,
// and the plugin's declared threading model is honoured on every call.
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <sas/host/plugin_loader/manifest.hpp>
#include <stop_token>
#include <string>

namespace sas::host::plugin_loader {

struct CallResult {
  sas_status status = SAS_OK;
  std::string message;  // the plugin's (or the host's) reason when status != SAS_OK
  bool ok() const { return status == SAS_OK; }
};

// What the host lends a plugin: where its log lines go, what time it is, and (ABI 1.2) who
// answers its host calls.
struct HostServices {
  std::function<void(int32_t level, std::string_view message)> log;  // default: stderr
  std::function<std::chrono::system_clock::time_point()> now;        // default: system clock
  // sas_host_api.call_host, from any plugin thread at once; must not call back into the plugin
  // synchronously. Default: SAS_ERR_UNIMPLEMENTED for every method.
  std::function<CallResult(const sas::plugin::v1::HostRequest& request, sas::plugin::v1::HostResponse& response)>
      handle_request;
};

// One host call on serialized bytes, answered through services.handle_request: on SAS_OK
// `response` holds the HostResponse bytes, otherwise CallResult::message says why. Never throws.
CallResult answer_host_call(const HostServices& services, std::string_view request, std::string& response);

// The host's default sink of a plugin's log lines: "[plugin NAME] LEVEL: message" on stderr.
std::function<void(int32_t level, std::string_view message)> stderr_plugin_log(std::string plugin_name);
const char* log_level_name(int32_t level);  // "debug", "info", "warning", "error"

// What the host accepts from a plugin, in either isolation mode.
struct CallLimits {
  // The largest answer (serialized PluginResponse) accepted; a larger one is refused with
  // SAS_ERR_INTERNAL naming plugin-max-answer-bytes, before it is parsed.
  std::size_t max_answer_bytes = std::size_t{64} << 20;
};

class LoadedLibrary;

// What every flow holds: a plugin, wherever its code runs (PluginInstance in this process,
// plugin_isolation::IsolatedPlugin in runner processes), so that a flow never depends on how
// the plugin is hosted.
class Plugin {
 public:
  virtual ~Plugin() = default;

  virtual const PluginManifest& manifest() const = 0;
  virtual uint32_t abi_version() const = 0;
  virtual bool free_threaded() const = 0;

  // One request/response through the boundary; never throws. `deadline` bounds the plugin's
  // work and `stop` asks it to stop early (the client went away); the plugin sees either
  // through `should_stop()`.
  virtual CallResult call(const sas::plugin::v1::PluginRequest& request, sas::plugin::v1::PluginResponse& response,
                          std::chrono::system_clock::time_point deadline = {}, std::stop_token stop = {}) = 0;

  // Explicit, idempotent: later calls answer SAS_ERR_UNAVAILABLE.
  virtual void shutdown() = 0;

  // "in-process" or "process" (plugin_isolation::IsolatedPlugin).
  virtual const char* isolation() const = 0;

  // The plugin a decorator (e.g. the runtime's measured plugin) wraps, else this one: where the
  // admin API finds the runner pool of a plugin in runner processes.
  virtual const Plugin& innermost() const { return *this; }
};

// A plugin loaded into this process with Boost.DLL.
class PluginInstance final : public Plugin {
 public:
  // Inspects, loads, negotiates and initialises. Throws PluginError with a one-line reason.
  static std::shared_ptr<PluginInstance> load(const std::filesystem::path& path, const std::string& config,
                                              HostServices services = {}, CallLimits limits = {});
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const PluginManifest& manifest() const override;
  uint32_t abi_version() const override { return abi_version_; }
  bool free_threaded() const override { return free_threaded_; }
  CallResult call(const sas::plugin::v1::PluginRequest& request, sas::plugin::v1::PluginResponse& response,
                  std::chrono::system_clock::time_point deadline = {}, std::stop_token stop = {}) override;
  // The same call on serialized bytes, for the runner process (which never parses an answer):
  // on SAS_OK `accept` is given the PluginResponse bytes, in the plugin's own buffer, before they
  // go back to the plugin; otherwise CallResult::message says why.
  CallResult call_bytes(std::string_view request, std::chrono::system_clock::time_point deadline, std::stop_token stop,
                        const std::function<CallResult(std::string_view)>& accept) {
    return invoke(request, deadline, std::move(stop), accept);
  }
  const char* isolation() const override { return "in-process"; }
  // Refuses new calls, waits for the calls in flight (up to `wait`, then shuts down anyway and
  // says so in the log), then calls the plugin's shutdown. Idempotent.
  void shutdown() override { shutdown_within(std::chrono::seconds(10)); }
  void shutdown_within(std::chrono::milliseconds wait);

  struct Shared;  // what the plugin's sas_host_api points into (plugin.cpp)

 private:
  PluginInstance() = default;
  // One invoke; `accept` takes the answer's bytes (SAS_OK, within the limits) before they are freed.
  CallResult invoke(std::string_view request, std::chrono::system_clock::time_point deadline, std::stop_token stop,
                    const std::function<CallResult(std::string_view)>& accept);

  std::shared_ptr<LoadedLibrary> library_;  // keeps the code mapped while we exist
  std::unique_ptr<Shared> shared_;          // host_api and services, stable address
  const sas_plugin_api* api_ = nullptr;
  sas_plugin_instance* handle_ = nullptr;
  uint32_t abi_version_ = 0;
  bool free_threaded_ = false;
  CallLimits limits_;
  std::mutex serial_;  // taken around every call of a serialized plugin
  // Calls in flight and the shutdown flag change together, so that no call starts after
  // shutdown began and shutdown sees every call that did.
  std::mutex calls_mutex_;
  std::condition_variable calls_done_;
  int calls_in_flight_ = 0;
  bool shut_down_ = false;
};

}  // namespace sas::host::plugin_loader
