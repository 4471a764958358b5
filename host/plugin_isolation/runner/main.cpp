// sas-plugin-runner: one plugin, loaded with the host's own loader, in a process of its own.
// Started by sas-host (--plugin-isolation process) with its socket on fd 3; not a command for
// people. docs/plugins/isolation.md.
//
//   sas-plugin-runner --plugin PATH [--address-space-mb N] [--cpu-seconds N] [--parent PID]
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <sas/host/plugin_loader/plugin.hpp>
#include <stop_token>
#include <string>
#include <thread>

#include "../src/frame.hpp"

namespace wire = sas::host::plugin_isolation::wire;
namespace loader = sas::host::plugin_loader;
namespace v1 = sas::plugin::v1;

namespace {

// The largest request the host sends (a PluginRequest or a HostResponse is small; a settings
// history may not be): bounded all the same.
constexpr std::size_t kMaxIncoming = std::size_t{64} << 20;

void fail(const std::string& message) {
  const std::string line = "sas-plugin-runner: " + message + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  std::_Exit(2);
}

// Answers the plugin waits for (host calls and clock reads), by the runner's own call id.
class Waiters {
 public:
  struct Answer {
    bool done = false;
    int32_t status = 0;
    int64_t value = 0;
    std::string payload;
  };
  uint64_t open() {
    std::lock_guard lock(mutex_);
    const uint64_t id = ++next_;
    answers_[id];
    return id;
  }
  void fulfil(uint64_t id, int32_t status, int64_t value, std::string payload) {
    std::lock_guard lock(mutex_);
    auto it = answers_.find(id);
    if (it == answers_.end()) return;
    it->second = Answer{true, status, value, std::move(payload)};
    changed_.notify_all();
  }
  // Waits for the answer; none when the host went away.
  std::optional<Answer> take(uint64_t id) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || answers_[id].done; });
    auto node = answers_.extract(id);
    if (!node.mapped().done) return std::nullopt;
    return std::move(node.mapped());
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, Answer> answers_;
  uint64_t next_ = 0;
  bool closed_ = false;
};

struct Runner {
  wire::Writer writer{wire::kRunnerFd};
  Waiters waiters;
  std::atomic<loader::PluginInstance*> plugin{nullptr};  // set once loaded; main keeps it alive
  std::mutex calls_mutex;
  std::map<uint64_t, std::stop_source> calls;  // invokes in flight, by the host's call id

  // Registers the call before its thread starts, so that a cancel read meanwhile finds it.
  std::stop_token open_call(uint64_t id) {
    std::lock_guard lock(calls_mutex);
    return calls[id].get_token();
  }

  void invoke(wire::Frame frame, std::stop_token stop) {
    const uint64_t id = frame.header.call_id;
    const auto deadline = frame.header.a == 0
                              ? std::chrono::system_clock::time_point{}
                              : std::chrono::system_clock::time_point(std::chrono::microseconds(frame.header.a));
    // The answer goes on the wire straight from the plugin's buffer.
    const loader::CallResult result =
        plugin.load()->call_bytes(frame.payload, deadline, stop, [&](std::string_view answer) {
          writer.send(wire::Kind::result, id, SAS_OK, 0, 0, answer);
          return loader::CallResult{};
        });
    {
      std::lock_guard lock(calls_mutex);
      calls.erase(id);
    }
    if (!result.ok()) writer.send(wire::Kind::result, id, result.status, 0, 0, result.message);
  }

  void cancel(uint64_t id) {
    std::lock_guard lock(calls_mutex);
    if (auto it = calls.find(id); it != calls.end()) it->second.request_stop();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string plugin_path;
  uint64_t address_space_mb = 0;
  uint64_t cpu_seconds = 0;
  pid_t parent = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) fail("option " + arg + " needs a value (this program is started by sas-host)");
    const std::string value = argv[++i];
    try {
      if (arg == "--plugin") {
        plugin_path = value;
      } else if (arg == "--address-space-mb") {
        address_space_mb = std::stoull(value);
      } else if (arg == "--cpu-seconds") {
        cpu_seconds = std::stoull(value);
      } else if (arg == "--parent") {
        parent = static_cast<pid_t>(std::stol(value));
      } else {
        fail("unknown option " + arg);
      }
    } catch (const std::exception&) {
      fail("option " + arg + ": not a number: " + value);
    }
  }
  if (plugin_path.empty()) fail("--plugin is required (this program is started by sas-host)");
  // Die with the host, even if it is killed outright.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent != 0 && ::getppid() != parent) return 0;
  if (address_space_mb > 0) {
    const rlimit limit{address_space_mb << 20, address_space_mb << 20};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) fail("cannot set RLIMIT_AS");
  }
  if (cpu_seconds > 0) {
    // The hard limit a little above the soft one: the kernel sends SIGXCPU at the soft limit, and
    // SIGKILL only at the hard one, so that the host's log says which limit ended the runner.
    const rlimit limit{cpu_seconds, cpu_seconds + 2};
    if (::setrlimit(RLIMIT_CPU, &limit) != 0) fail("cannot set RLIMIT_CPU");
  }
  ::signal(SIGPIPE, SIG_IGN);
  // Not inherited by what the plugin executes: the host must see this socket close when we go.
  ::fcntl(wire::kRunnerFd, F_SETFD, FD_CLOEXEC);

  wire::Frame frame;
  if (wire::read_frame(wire::kRunnerFd, kMaxIncoming, frame).status != wire::ReadStatus::ok ||
      frame.kind() != wire::Kind::init) {
    fail("no init frame on fd 3 (this program is started by sas-host)");
  }
  auto runner = std::make_shared<Runner>();
  Runner& r = *runner;
  loader::CallLimits limits;
  limits.max_answer_bytes = static_cast<std::size_t>(frame.header.a);
  const bool host_clock = frame.header.b == 1;

  // The host's services, each one a frame: the plugin cannot tell it is not in the host.
  loader::HostServices services;
  services.log = [&r](int32_t level, std::string_view message) {
    r.writer.send(wire::Kind::log, 0, 0, level, 0, message);
  };
  if (host_clock) {
    services.now = [&r] {
      const uint64_t id = r.waiters.open();
      r.writer.send(wire::Kind::now, id, 0, 0, 0, {});
      auto answer = r.waiters.take(id);
      if (!answer) return std::chrono::system_clock::now();
      return std::chrono::system_clock::time_point(std::chrono::microseconds(answer->value));
    };
  }
  services.handle_request = [&r](const v1::HostRequest& request, v1::HostResponse& response) {
    std::string bytes;
    if (!request.SerializeToString(&bytes)) return loader::CallResult{SAS_ERR_INTERNAL, "request not serializable"};
    const uint64_t id = r.waiters.open();
    if (!r.writer.send(wire::Kind::host_call, id, 0, 0, 0, bytes)) {
      // The host is gone: the reader ends this process at once.
      return loader::CallResult{SAS_ERR_UNAVAILABLE, "the host went away"};
    }
    auto answer = r.waiters.take(id);
    if (!answer) return loader::CallResult{SAS_ERR_UNAVAILABLE, "the host went away"};
    if (answer->status != SAS_OK) return loader::CallResult{answer->status, std::move(answer->payload)};
    if (!response.ParseFromString(answer->payload))
      return loader::CallResult{SAS_ERR_INTERNAL, "the host's answer is not a HostResponse"};
    return loader::CallResult{};
  };

  // Host calls from init itself need the reader running: it starts first.
  std::atomic<bool> shutting_down{false};
  std::thread reader([runner, &shutting_down] {
    Runner& self = *runner;
    wire::Frame in;
    for (;;) {
      const auto read = wire::read_frame(wire::kRunnerFd, kMaxIncoming, in);
      if (read.status != wire::ReadStatus::ok) break;
      switch (in.kind()) {
        case wire::Kind::invoke:
          if (self.plugin.load() == nullptr) break;
          std::thread([runner, stop = self.open_call(in.header.call_id), frame = std::move(in)]() mutable {
            runner->invoke(std::move(frame), std::move(stop));
          }).detach();
          in = wire::Frame{};
          break;
        case wire::Kind::cancel:
          self.cancel(in.header.call_id);
          break;
        case wire::Kind::host_result:
          self.waiters.fulfil(in.header.call_id, in.header.status, 0, std::move(in.payload));
          break;
        case wire::Kind::now_result:
          self.waiters.fulfil(in.header.call_id, 0, in.header.a, {});
          break;
        case wire::Kind::shutdown:
          // On a thread of its own: the plugin's shutdown may wait for its threads, which may be
          // waiting for host-call answers that this reader must keep reading.
          if (!shutting_down.exchange(true)) {
            std::thread([runner] {
              if (auto* plugin = runner->plugin.load()) plugin->shutdown_within(std::chrono::seconds(10));
              runner->writer.send(wire::Kind::bye, 0, 0, 0, 0, {});
              std::_Exit(0);
            }).detach();
          }
          break;
        default:
          break;  // a kind only a newer host sends: ignored
      }
    }
    // The host is gone (or spoke nonsense): nothing to answer to.
    self.waiters.close();
    std::_Exit(shutting_down ? 0 : 3);
  });

  std::shared_ptr<loader::PluginInstance> plugin;
  try {
    plugin = loader::PluginInstance::load(plugin_path, frame.payload, std::move(services), limits);
  } catch (const loader::PluginError& e) {
    r.writer.send(wire::Kind::ready, 0, e.code(), 0, 0, e.what());
    std::_Exit(1);
  } catch (const std::exception& e) {
    r.writer.send(wire::Kind::ready, 0, SAS_ERR_INTERNAL, 0, 0, e.what());
    std::_Exit(1);
  }
  r.plugin = plugin.get();
  r.writer.send(wire::Kind::ready, 0, SAS_OK, plugin->abi_version(), plugin->free_threaded() ? 1 : 0, {});
  reader.join();  // never returns: the reader ends the process
  return 0;
}
