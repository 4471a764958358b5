// A plugin hosted in runner processes (`sas-plugin-runner`): the same .so, loaded by the same
// loader, spoken to with the same protobuf messages over a Unix socket pair, so that a plugin
// that crashes, hangs or leaks costs one search, not the host. docs/plugins/isolation.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sas/host/plugin_loader/plugin.hpp>
#include <string>
#include <vector>

namespace sas::host::plugin_isolation {

// How one runner process ended, as the host saw it.
struct RunnerExit {
  int runner = 0;  // index in the pool, from 1
  int pid = 0;
  int signal = 0;         // the signal that killed it, 0 when it exited
  int exit_code = -1;     // its exit status, -1 when a signal killed it
  std::string reason;     // "killed by signal 11 (SIGSEGV)", "killed: a call overran its deadline", ...
  int calls_lost = 0;     // calls in flight that got SAS_ERR_UNAVAILABLE because of it
  bool expected = false;  // the host stopped it (shutdown, memory recycle) rather than it dying
  std::chrono::system_clock::time_point at;
};

struct IsolationOptions {
  // The runner executable; empty: lib/sas/sas-plugin-runner of this installation (beside bin/).
  std::filesystem::path runner;
  // Runner processes; calls go to the least busy one that is ready.
  int runners = 2;
  // The runners' working directory; empty: the host's.
  std::filesystem::path workdir;
  // Hard limits set in each runner (0: none): RLIMIT_AS in MiB and RLIMIT_CPU in seconds.
  uint64_t address_space_mb = 0;
  uint64_t cpu_seconds = 0;
  // Resident memory above which a runner is recycled (drained, stopped, replaced); 0: none.
  uint64_t memory_limit_mb = 0;
  // A call still running this long after its deadline gets its runner killed and replaced.
  std::chrono::milliseconds kill_after{1000};
  // Restart back-off after a death: first delay, doubled per death in a row, capped. A runner
  // that stayed up for `healthy_after` resets the series.
  std::chrono::milliseconds restart_base{100};
  std::chrono::milliseconds restart_max{30000};
  std::chrono::milliseconds healthy_after{10000};
  // The largest PluginResponse accepted (bytes); the runner refuses a larger one before sending
  // it, and the host refuses any frame larger than this plus its header.
  std::size_t max_answer_bytes = 64u << 20;
  // The host's own lines about its runners (started, died, restarting); none: silent.
  std::function<void(std::string_view)> log;
  // Called (from the runner's reader thread) each time a runner ends, expected or not; it must
  // not call back into the plugin (shutdown, call).
  std::function<void(const RunnerExit&)> on_exit;
};

// What an operator (admin API) and the metrics see of the pool.
struct RunnerState {
  int runner = 0;
  int pid = 0;        // 0 while not running
  std::string state;  // "starting", "ready", "draining", "restarting", "stopped"
  int calls_in_flight = 0;
  uint64_t calls_total = 0;
  uint64_t rss_bytes = 0;
  std::chrono::system_clock::time_point started_at;
};

struct PoolStatus {
  std::vector<RunnerState> runners;
  uint64_t deaths_total = 0;             // unexpected ends
  uint64_t restarts_total = 0;           // runners started after the first ones
  std::vector<RunnerExit> recent_exits;  // the last 20, newest last
};

class IsolatedPlugin final : public plugin_loader::Plugin {
 public:
  // Inspects the file in this process (no plugin code runs here), starts the runners and waits
  // for each one's handshake. Throws plugin_loader::PluginError with the first runner's reason
  // when no runner could load the plugin (the same message an in-process load would give); a
  // runner that fails while another started is restarted with back-off.
  static std::shared_ptr<IsolatedPlugin> start(const std::filesystem::path& plugin, const std::string& config,
                                               plugin_loader::HostServices services, IsolationOptions options);
  ~IsolatedPlugin() override;
  IsolatedPlugin(const IsolatedPlugin&) = delete;
  IsolatedPlugin& operator=(const IsolatedPlugin&) = delete;

  const plugin_loader::PluginManifest& manifest() const override;
  uint32_t abi_version() const override;
  bool free_threaded() const override;
  plugin_loader::CallResult call(const sas::plugin::v1::PluginRequest& request,
                                 sas::plugin::v1::PluginResponse& response,
                                 std::chrono::system_clock::time_point deadline = {},
                                 std::stop_token stop = {}) override;
  void shutdown() override;
  const char* isolation() const override { return "process"; }

  PoolStatus status() const;

  class Pool;  // isolated_plugin.cpp

 private:
  explicit IsolatedPlugin(std::shared_ptr<Pool> pool);
  std::shared_ptr<Pool> pool_;
};

// The runner executable of this installation: lib/sas/sas-plugin-runner beside bin/.
std::filesystem::path default_runner_path();

}  // namespace sas::host::plugin_isolation
