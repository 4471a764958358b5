#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <sas/host/plugin_isolation/isolated_plugin.hpp>
#include <thread>

#include "child_process.hpp"
#include "frame.hpp"

namespace sas::host::plugin_isolation {

namespace v1 = sas::plugin::v1;
using plugin_loader::CallResult;
using plugin_loader::PluginError;
using Steady = std::chrono::steady_clock;
using System = std::chrono::system_clock;
using child::exit_text;
using child::is_zombie;
using child::reap;
using child::resident_bytes;
using child::wait_exited;
using std::chrono::milliseconds;

namespace {

// A runner's answer may be the largest thing on the wire; everything else is small.
constexpr std::size_t kFrameSlack = std::size_t{1} << 20;
constexpr int kRecentExits = 20;
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kShutdownWait = std::chrono::seconds(5);
constexpr auto kDrainWait = std::chrono::seconds(10);
constexpr auto kMemoryCheckEvery = milliseconds(250);
constexpr int kMaxHostCallsInFlight = 64;  // per host, over every runner

int64_t micros(System::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string version_text(uint32_t v) {
  return std::to_string(SAS_ABI_VERSION_MAJOR_OF(v)) + "." + std::to_string(SAS_ABI_VERSION_MINOR_OF(v));
}

// One call waiting for its runner's answer.
struct PendingCall {
  std::mutex mutex;
  std::condition_variable_any answered;
  bool done = false;
  int32_t status = SAS_OK;
  std::string payload;

  void finish(int32_t s, std::string p) {
    std::lock_guard lock(mutex);
    if (done) return;
    done = true;
    status = s;
    payload = std::move(p);
    answered.notify_all();
  }
};

// One runner process and the calls it holds.
struct Process {
  int slot = 0;
  pid_t pid = 0;
  int fd = -1;
  std::unique_ptr<wire::Writer> writer;
  std::thread reader;
  System::time_point started_at;
  Steady::time_point started;
  // Guarded by Pool::mutex_.
  std::map<uint64_t, std::shared_ptr<PendingCall>> pending;
  std::map<uint64_t, Steady::time_point> abandoned;  // given up by the host: kill time if still running
  uint64_t calls_total = 0;
  bool draining = false;
  bool shutdown_sent = false;
  Steady::time_point shutdown_deadline;
  std::string end_reason;  // set when the host ends it
  bool expected_end = false;
  bool ended = false;  // its reader has seen it go
  bool dead = false;   // exited, not reaped yet or reaped: its pid may no longer be signalled

  int in_flight() const { return static_cast<int>(pending.size() + abandoned.size()); }
  ~Process() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

struct Slot {
  int index = 0;
  std::shared_ptr<Process> process;  // null while (re)starting or stopped
  std::string state = "starting";
  int deaths_in_a_row = 0;
  Steady::time_point restart_at;
  bool first_attempt_done = false;
};

class IsolatedPlugin::Pool {
 public:
  Pool(std::filesystem::path plugin, std::string config, plugin_loader::HostServices services, IsolationOptions options,
       plugin_loader::PluginManifest manifest)
      : plugin_(std::move(plugin)),
        config_(std::move(config)),
        services_(std::move(services)),
        options_(std::move(options)),
        manifest_(std::move(manifest)) {
    if (!services_.log) services_.log = plugin_loader::stderr_plugin_log(manifest_.name);
    if (options_.runner.empty()) options_.runner = default_runner_path();
    if (options_.runners < 1) options_.runners = 1;
    // A frame's size is 32 bits, and the slack must not wrap.
    options_.max_answer_bytes = std::min<std::size_t>(options_.max_answer_bytes, UINT32_MAX - 2 * kFrameSlack);
    slots_.resize(static_cast<std::size_t>(options_.runners));
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      slots_[i].index = static_cast<int>(i) + 1;
      slots_[i].restart_at = Steady::now();
    }
  }

  // Starts the supervisor, which starts every runner; throws the first runner's load error.
  void start() {
    supervisor_ = std::thread([this] { supervise(); });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
      return std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.first_attempt_done; });
    });
    // One runner up is a start (the others restart with back-off); none is the plugin's failure.
    if (first_ready_ == 0 && first_error_) {
      const PluginError error = *first_error_;
      lock.unlock();
      shutdown();
      throw error;
    }
  }

  const plugin_loader::PluginManifest& manifest() const { return manifest_; }
  uint32_t abi_version() const { return abi_.load(); }
  bool free_threaded() const { return free_threaded_.load(); }

  CallResult call(const v1::PluginRequest& request, v1::PluginResponse& response, System::time_point deadline,
                  std::stop_token stop) {
    std::string request_bytes;
    if (!request.SerializeToString(&request_bytes)) return {SAS_ERR_INTERNAL, "request could not be serialized"};
    const bool bounded = deadline != System::time_point{};
    // Unbounded calls still get a finite wait, which the clocks can represent.
    const Steady::time_point until =
        bounded ? Steady::now() + std::chrono::duration_cast<Steady::duration>(deadline - System::now())
                : Steady::now() + std::chrono::hours(24 * 365);

    auto call = std::make_shared<PendingCall>();
    std::shared_ptr<Process> process;
    uint64_t id = 0;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (stopping_) return {SAS_ERR_UNAVAILABLE, "plugin is shut down"};
        process = least_busy();
        if (process) break;
        // No runner ready: wait only if one may be before the deadline.
        const auto soonest = next_ready_estimate();
        if (!soonest || *soonest > until) {
          return {SAS_ERR_UNAVAILABLE, "no plugin runner is ready (" + why_none_ready() + ")"};
        }
        if (!changed_.wait_until(lock, stop, until, [&] { return stopping_ || least_busy() != nullptr; })) {
          if (stop.stop_requested()) return {SAS_ERR_CANCELLED, "the request was cancelled"};
          return {SAS_ERR_DEADLINE_EXCEEDED, "no plugin runner was ready before the deadline"};
        }
      }
      id = ++next_call_;
      process->pending.emplace(id, call);
    }
    if (!process->writer->send(wire::Kind::invoke, id, 0, bounded ? micros(deadline) : 0, 0, request_bytes)) {
      // A runner that no longer reads (or is gone) is replaced: its reader then sees the socket
      // close and fails the call as the runner's death.
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        std::lock_guard pool(mutex_);
        if (process->end_reason.empty()) process->end_reason = "dropped: it stopped reading its socket";
        kill_locked(*process);
      }
      std::unique_lock lock(call->mutex);
      if (!call->answered.wait_for(lock, std::chrono::seconds(5), [&] { return call->done; })) {
        lock.unlock();
        std::lock_guard pool(mutex_);
        process->pending.erase(id);
        return {SAS_ERR_UNAVAILABLE, "the plugin runner is gone"};
      }
    }

    std::unique_lock lock(call->mutex);
    if (!call->answered.wait_until(lock, stop, until, [&] { return call->done; })) {
      lock.unlock();
      const bool cancelled = stop.stop_requested();
      process->writer->send(wire::Kind::cancel, id, 0, 0, 0, {});
      {
        std::lock_guard pool(mutex_);
        if (process->pending.erase(id) > 0) {
          // Still running in the runner: it may finish late; past kill_after it costs the runner.
          process->abandoned.emplace(
              id, (cancelled ? Steady::now() : std::max(until, Steady::now())) + options_.kill_after);
          changed_.notify_all();
          return cancelled ? CallResult{SAS_ERR_CANCELLED, "the request was cancelled"}
                           : CallResult{SAS_ERR_DEADLINE_EXCEEDED, "the plugin did not answer before its deadline"};
        }
      }
      // The answer is being delivered right now.
      lock.lock();
      call->answered.wait(lock, [&] { return call->done; });
    }
    if (call->status != SAS_OK) {
      return {call->status, call->payload.empty() ? plugin_loader::status_name(call->status) : call->payload};
    }
    if (call->payload.size() > options_.max_answer_bytes) {
      return {SAS_ERR_INTERNAL, "plugin '" + manifest_.name + "' answered " + std::to_string(call->payload.size()) +
                                    " bytes, more than plugin-max-answer-bytes (" +
                                    std::to_string(options_.max_answer_bytes) + ")"};
    }
    if (!response.ParseFromString(call->payload)) {
      return {SAS_ERR_INTERNAL, "plugin '" + manifest_.name + "' returned bytes that are not a PluginResponse"};
    }
    return {};
  }

  PoolStatus status() const {
    PoolStatus out;
    std::vector<std::pair<std::size_t, pid_t>> to_measure;
    {
      std::lock_guard lock(mutex_);
      for (const Slot& slot : slots_) {
        RunnerState state;
        state.runner = slot.index;
        state.state = slot.state;
        if (slot.process) {
          state.pid = slot.process->pid;
          state.calls_in_flight = slot.process->in_flight();
          state.calls_total = slot.process->calls_total;
          state.started_at = slot.process->started_at;
          to_measure.emplace_back(out.runners.size(), state.pid);
        }
        out.runners.push_back(std::move(state));
      }
      out.deaths_total = deaths_total_;
      out.restarts_total = restarts_total_;
      out.recent_exits.assign(recent_.begin(), recent_.end());
    }
    for (const auto& [index, pid] : to_measure) out.runners[index].rss_bytes = resident_bytes(pid);
    return out;
  }

  // Drains every runner (up to kDrainWait), asks each to shut its plugin down, then stops the
  // supervisor (after the runners: a runner dies with the thread that started it).
  void shutdown() {
    std::vector<std::shared_ptr<Process>> running;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      changed_.notify_all();
      // A runner being started now is part of what is stopped: wait for it to be in its slot.
      changed_.wait(lock, [&] { return !spawning_; });
      changed_.wait_for(lock, kDrainWait, [&] {
        return std::all_of(slots_.begin(), slots_.end(),
                           [](const Slot& s) { return !s.process || s.process->pending.empty(); });
      });
      for (Slot& slot : slots_) {
        if (slot.process) running.push_back(slot.process);
      }
    }
    for (const auto& process : running) {
      {
        std::lock_guard lock(mutex_);
        process->expected_end = true;
        // Calls the host gave up on are not waited for.
        if (!process->abandoned.empty()) {
          process->end_reason = "stopped";
          kill_locked(*process);
        }
      }
      process->writer->send(wire::Kind::shutdown, 0, 0, 0, 0, {});
    }
    for (const auto& process : running) {
      // The reader ends when the runner exits (after its bye), or is made to.
      std::unique_lock lock(mutex_);
      if (!changed_.wait_for(lock, kShutdownWait, [&] { return process->ended; })) kill_locked(*process);
    }
    {
      std::lock_guard lock(mutex_);
      supervisor_exit_ = true;
      changed_.notify_all();
    }
    if (supervisor_.joinable()) supervisor_.join();
    join_finished();
    for (const auto& process : running) {
      if (process->reader.joinable()) process->reader.join();
    }
    std::unique_lock lock(host_calls_mutex_);
    host_calls_done_.wait(lock, [&] { return host_calls_running_ == 0; });
  }

 private:
  // The ready runner with the fewest calls; null when none is.
  std::shared_ptr<Process> least_busy() const {
    std::shared_ptr<Process> best;
    for (const Slot& slot : slots_) {
      const auto& p = slot.process;
      if (slot.state != "ready" || !p || p->draining || !p->end_reason.empty()) continue;
      if (!best || p->in_flight() < best->in_flight()) best = p;
    }
    return best;
  }

  // When a runner may next be ready: now for one starting or draining, its restart time for
  // one backing off; none when every runner is stopped.
  std::optional<Steady::time_point> next_ready_estimate() const {
    std::optional<Steady::time_point> soonest;
    const auto now = Steady::now();
    for (const Slot& slot : slots_) {
      std::optional<Steady::time_point> at;
      if (slot.state == "starting" || slot.state == "draining" || (slot.state == "ready" && slot.process)) at = now;
      if (slot.state == "restarting") at = std::max(now, slot.restart_at);
      if (at && (!soonest || *at < *soonest)) soonest = at;
    }
    return soonest;
  }

  std::string why_none_ready() const {
    std::string why;
    const auto now = Steady::now();
    for (const Slot& slot : slots_) {
      if (!why.empty()) why += "; ";
      why += "runner " + std::to_string(slot.index) + " " + slot.state;
      if (slot.state == "restarting") {
        why += " in " +
               std::to_string(std::chrono::duration_cast<milliseconds>(std::max(slot.restart_at, now) - now).count()) +
               " ms after " + std::to_string(slot.deaths_in_a_row) + " death(s) in a row";
      }
    }
    return why;
  }

  void say(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  // Under mutex_: kills a runner not yet known dead (its pid is still its own), and closes the
  // host's end of its socket so that its reader sees the end even if a child the plugin forked
  // still holds the runner's end.
  static void kill_locked(Process& p) {
    if (p.dead) return;
    ::kill(p.pid, SIGKILL);
    ::shutdown(p.fd, SHUT_RDWR);
  }

  std::string who(const Process& p) const {
    return "plugin runner " + std::to_string(p.slot) + " (pid " + std::to_string(p.pid) + ")";
  }

  // ---- Starting a runner ----------------------------------------------------------------

  // Spawns a runner for `slot` and completes its handshake. Throws PluginError.
  std::shared_ptr<Process> spawn(int slot) {
    std::vector<std::string> args = {"--plugin", plugin_.string(), "--parent", std::to_string(::getpid())};
    if (options_.address_space_mb > 0) {
      args.insert(args.end(), {"--address-space-mb", std::to_string(options_.address_space_mb)});
    }
    if (options_.cpu_seconds > 0) args.insert(args.end(), {"--cpu-seconds", std::to_string(options_.cpu_seconds)});
    const child::Spawned spawned = child::spawn_with_socket(options_.runner, args, options_.workdir, wire::kRunnerFd);
    const pid_t pid = spawned.pid;
    auto process = std::make_shared<Process>();
    process->slot = slot;
    process->pid = pid;
    process->fd = spawned.fd;
    process->writer = std::make_unique<wire::Writer>(process->fd);
    // A runner that stops reading cannot block a writer (and the pool behind it) for ever.
    const timeval send_timeout{5, 0};
    ::setsockopt(process->fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    process->started_at = System::now();
    process->started = Steady::now();

    // The handshake: the plugin is loaded and negotiated anew in every runner.
    process->writer->send(wire::Kind::init, 0, 0, static_cast<int64_t>(options_.max_answer_bytes),
                          services_.now ? 1 : 0, config_);
    const auto until = Steady::now() + kStartTimeout;
    wire::Frame frame;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - Steady::now()).count();
      pollfd readable{process->fd, POLLIN, 0};
      const int ready = left > 0 ? ::poll(&readable, 1, static_cast<int>(left)) : 0;
      // The rest of a frame must come by the same deadline: a plugin writing half a frame on fd 3
      // during init must not hold the supervisor.
      const timeval receive_timeout{std::max<long>(left / 1000, 0), std::max<long>(left % 1000, 1) * 1000};
      ::setsockopt(process->fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof(receive_timeout));
      if (ready < 0 && errno == EINTR) continue;
      std::string failure;
      if (ready == 0) {
        failure = "did not finish loading the plugin within " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kStartTimeout).count()) + " s";
        ::kill(pid, SIGKILL);
      } else {
        const auto read = wire::read_frame(process->fd, options_.max_answer_bytes + kFrameSlack, frame);
        if (read.status != wire::ReadStatus::ok) {
          int signal = 0;
          int code = 0;
          if (read.status == wire::ReadStatus::malformed) ::kill(pid, SIGKILL);
          std::string ended = exit_text(reap(pid, milliseconds(2000)), signal, code);
          if (signal != 0) ended = "was " + ended;
          throw PluginError(SAS_ERR_INIT_FAILED, plugin_.string() + ": the plugin runner " + ended +
                                                     " while loading the plugin" +
                                                     (read.why.empty() ? "" : " (" + read.why + ")"));
        }
        if (frame.kind() == wire::Kind::ready) break;
        serve_runner_frame(process, frame);  // logs, clock reads and host calls of the plugin's init
        continue;
      }
      (void)reap(pid, milliseconds(1000));
      throw PluginError(SAS_ERR_INIT_FAILED, plugin_.string() + ": the plugin runner " + failure);
    }
    if (frame.header.status != SAS_OK) {
      (void)reap(pid, milliseconds(2000));
      throw PluginError(frame.header.status, frame.payload);  // the loader's own message
    }
    const auto abi = static_cast<uint32_t>(frame.header.a);
    const bool free = frame.header.b == 1;
    const uint32_t before = abi_.exchange(abi);
    if (before != 0 && before != abi) {
      say("warning: " + who(*process) + " negotiated ABI " + version_text(abi) + " where the previous runner had " +
          version_text(before) + " (was the plugin file replaced?)");
    }
    free_threaded_ = free;
    const timeval no_timeout{0, 0};
    ::setsockopt(process->fd, SOL_SOCKET, SO_RCVTIMEO, &no_timeout, sizeof(no_timeout));
    process->reader = std::thread([this, process] { read_loop(process); });
    return process;
  }

  // ---- What a runner sends ----------------------------------------------------------------

  // Logs, clock reads and host calls: the same in the handshake and afterwards. Returns false for
  // a frame a runner never sends.
  bool serve_runner_frame(const std::shared_ptr<Process>& process, wire::Frame& frame) {
    switch (frame.kind()) {
      case wire::Kind::log:
        services_.log(static_cast<int32_t>(frame.header.a), frame.payload);
        return true;
      case wire::Kind::now:
        process->writer->send(wire::Kind::now_result, frame.header.call_id, 0,
                              micros(services_.now ? services_.now() : System::now()), 0, {});
        return true;
      case wire::Kind::host_call: {
        // Answered on a thread of its own: a host call may take a while (a store write), and
        // the runner's answers must keep flowing meanwhile. Bounded: a plugin flooding host calls
        // gets SAS_ERR_UNAVAILABLE past the bound, not the host's threads.
        const uint64_t id = frame.header.call_id;
        {
          std::lock_guard lock(host_calls_mutex_);
          if (host_calls_running_ >= kMaxHostCallsInFlight) {
            process->writer->send(
                wire::Kind::host_result, id, SAS_ERR_UNAVAILABLE, 0, 0,
                "too many host calls in flight (" + std::to_string(kMaxHostCallsInFlight) + "): retry later");
            return true;
          }
          ++host_calls_running_;
        }
        try {
          std::thread([this, process, id, request = std::move(frame.payload)] {
            std::string response;
            const CallResult result = plugin_loader::answer_host_call(services_, request, response);
            process->writer->send(wire::Kind::host_result, id, result.status, 0, 0,
                                  result.ok() ? response : result.message);
            std::lock_guard lock(host_calls_mutex_);
            if (--host_calls_running_ == 0) host_calls_done_.notify_all();
          }).detach();
        } catch (const std::system_error& e) {
          {
            std::lock_guard lock(host_calls_mutex_);
            if (--host_calls_running_ == 0) host_calls_done_.notify_all();
          }
          process->writer->send(wire::Kind::host_result, id, SAS_ERR_UNAVAILABLE, 0, 0,
                                std::string("the host cannot answer now: ") + e.what());
        }
        return true;
      }
      default:
        return false;
    }
  }

  void read_loop(std::shared_ptr<Process> process) {
    wire::Frame frame;
    std::string dropped;
    std::string lost_stream;
    for (;;) {
      const auto read = wire::read_frame(process->fd, options_.max_answer_bytes + kFrameSlack, frame);
      if (read.status == wire::ReadStatus::closed) break;
      if (read.status == wire::ReadStatus::malformed) {
        dropped = "dropped: malformed frame (" + read.why + ")";
        break;
      }
      if (read.status != wire::ReadStatus::ok) {
        // Most often a runner dying in the middle of a frame: its exit status says more.
        lost_stream = "dropped: " + read.why;
        break;
      }
      if (frame.kind() == wire::Kind::result) {
        std::shared_ptr<PendingCall> call;
        {
          std::lock_guard lock(mutex_);
          ++process->calls_total;
          if (auto it = process->pending.find(frame.header.call_id); it != process->pending.end()) {
            call = std::move(it->second);
            process->pending.erase(it);
          } else {
            process->abandoned.erase(frame.header.call_id);
          }
          changed_.notify_all();  // one call fewer: a drain may finish
        }
        if (call) call->finish(frame.header.status, std::move(frame.payload));
        frame.payload = std::string();
      } else if (frame.kind() == wire::Kind::bye) {
        // Only an answer to the host's shutdown: a plugin cannot buy itself a restart without
        // back-off by writing one.
        std::lock_guard lock(mutex_);
        if (process->shutdown_sent || stopping_) process->expected_end = true;
      } else if (!serve_runner_frame(process, frame)) {
        dropped = "dropped: malformed frame (kind " + std::to_string(frame.header.kind) + " from a runner)";
        break;
      }
    }
    if (!dropped.empty()) {
      std::lock_guard lock(mutex_);
      if (process->end_reason.empty()) process->end_reason = dropped;
      kill_locked(*process);
    }
    bool forced = false;
    wait_exited(process->pid, milliseconds(2000), &forced);
    {
      std::lock_guard lock(mutex_);
      process->dead = true;  // from here on nobody signals its pid, which reaping frees
      if (forced && process->end_reason.empty()) {
        process->end_reason = lost_stream.empty() ? "dropped: it closed its socket but did not exit" : lost_stream;
      }
    }
    ended(process, reap(process->pid, milliseconds(0)));
  }

  // A runner is gone: fail its calls, record why, schedule its replacement.
  void ended(const std::shared_ptr<Process>& process, int wait_status) {
    RunnerExit exit;
    exit.runner = process->slot;
    exit.pid = process->pid;
    exit.at = System::now();
    const std::string how = exit_text(wait_status, exit.signal, exit.exit_code);
    std::vector<std::shared_ptr<PendingCall>> lost;
    std::string line;
    {
      std::lock_guard lock(mutex_);
      exit.reason = process->end_reason.empty() ? how : process->end_reason;
      exit.expected = stopping_ || (process->expected_end && exit.signal == 0) ||
                      (process->draining && process->end_reason.rfind("recycled", 0) == 0);
      for (auto& [id, call] : process->pending) lost.push_back(call);
      process->pending.clear();
      process->abandoned.clear();
      exit.calls_lost = static_cast<int>(lost.size());
      Slot& slot = slots_[static_cast<std::size_t>(process->slot - 1)];
      if (slot.process == process) slot.process = nullptr;
      finished_.push_back(process);
      process->ended = true;
      if (stopping_) {
        slot.state = "stopped";
        line = who(*process) + " stopped (" + how + ")";
      } else {
        milliseconds delay{0};
        if (!exit.expected) {
          ++deaths_total_;
          if (Steady::now() - process->started >= options_.healthy_after) slot.deaths_in_a_row = 0;
          ++slot.deaths_in_a_row;
          delay = options_.restart_base;
          for (int i = 1; i < slot.deaths_in_a_row && delay < options_.restart_max; ++i) delay *= 2;
          delay = std::min(delay, options_.restart_max);
        }
        slot.state = "restarting";
        slot.restart_at = Steady::now() + delay;
        line = who(*process) + " ended: " + exit.reason + ", " + std::to_string(exit.calls_lost) +
               " call(s) lost; restarting in " + std::to_string(delay.count()) + " ms";
        if (!exit.expected) line += " (death " + std::to_string(slot.deaths_in_a_row) + " in a row)";
      }
      recent_.push_back(exit);
      while (recent_.size() > static_cast<std::size_t>(kRecentExits)) recent_.pop_front();
      changed_.notify_all();
    }
    const std::string message = "the plugin runner died (" + exit.reason + ")";
    for (auto& call : lost) call->finish(SAS_ERR_UNAVAILABLE, message);
    say(line);
    if (options_.on_exit) options_.on_exit(exit);
  }

  // ---- The supervisor: starts, restarts, kills and recycles runners -----------------------

  void supervise() {
    std::unique_lock lock(mutex_);
    Steady::time_point next_memory_check = Steady::now();
    while (!supervisor_exit_) {
      auto now = Steady::now();
      // Runners due to (re)start, one at a time, outside the lock.
      for (Slot& slot : slots_) {
        if (stopping_ || slot.process || slot.state == "stopped" ||
            !(slot.state == "starting" || slot.state == "restarting") || slot.restart_at > now) {
          continue;
        }
        const int index = slot.index;
        const bool first = !slot.first_attempt_done;
        slot.state = "starting";
        spawning_ = true;
        lock.unlock();
        std::shared_ptr<Process> started;
        std::optional<PluginError> error;
        try {
          started = spawn(index);
        } catch (const PluginError& e) {
          error = e;
        }
        lock.lock();
        spawning_ = false;
        Slot& s = slots_[static_cast<std::size_t>(index - 1)];
        s.first_attempt_done = true;
        if (started && started->ended) {
          // It died between its handshake and now: ended() has already scheduled the restart.
          if (first) ++first_ready_;
        } else if (started) {
          s.process = started;
          s.state = "ready";
          if (first) ++first_ready_;
          if (!first) ++restarts_total_;
          const std::string line = who(*started) + " ready (ABI " + version_text(abi_.load()) + ")";
          lock.unlock();
          say(line);
          lock.lock();
        } else {
          if (first && !first_error_) first_error_ = *error;
          ++s.deaths_in_a_row;
          milliseconds delay = options_.restart_base;
          for (int i = 1; i < s.deaths_in_a_row && delay < options_.restart_max; ++i) delay *= 2;
          delay = std::min(delay, options_.restart_max);
          s.state = "restarting";
          s.restart_at = Steady::now() + delay;
          const std::string line = "plugin runner " + std::to_string(index) + " could not start: " + error->what() +
                                   "; retrying in " + std::to_string(delay.count()) + " ms";
          lock.unlock();
          if (!first) say(line);
          lock.lock();
        }
        changed_.notify_all();
        now = Steady::now();
      }

      // Calls given up on that still run past kill_after: their runner goes.
      for (Slot& slot : slots_) {
        const auto& p = slot.process;
        if (!p || !p->end_reason.empty()) continue;
        for (const auto& [id, kill_at] : p->abandoned) {
          if (kill_at > now) continue;
          p->end_reason = "killed: a call ran past its deadline by more than " +
                          std::to_string(options_.kill_after.count()) + " ms (plugin-kill-after-ms)";
          kill_locked(*p);
          break;
        }
      }

      // Memory: a runner above the limit takes no new call, finishes its calls, and is replaced.
      if (options_.memory_limit_mb > 0 && now >= next_memory_check) {
        next_memory_check = now + kMemoryCheckEvery;
        for (Slot& slot : slots_) {
          const auto& p = slot.process;
          if (!p || p->draining || !p->end_reason.empty()) continue;
          const uint64_t rss = resident_bytes(p->pid);
          if (rss > (options_.memory_limit_mb << 20)) {
            p->draining = true;
            p->expected_end = true;
            p->end_reason = "recycled: resident memory " + std::to_string(rss >> 20) +
                            " MiB above plugin-memory-limit-mb (" + std::to_string(options_.memory_limit_mb) + " MiB)";
            slot.state = "draining";
          }
        }
      }
      std::vector<std::shared_ptr<Process>> to_shut_down;
      for (Slot& slot : slots_) {
        const auto& p = slot.process;
        if (!p || !p->draining) continue;
        if (!p->shutdown_sent && p->pending.empty()) {
          p->shutdown_sent = true;
          p->shutdown_deadline = now + kShutdownWait;
          to_shut_down.push_back(p);
        } else if (p->shutdown_sent && now >= p->shutdown_deadline) {
          kill_locked(*p);
        }
      }
      // Runners that died or ended unnoticed (a child the plugin forked keeps their socket open):
      // their reader is woken by closing the host's end.
      for (Slot& slot : slots_) {
        const auto& p = slot.process;
        if (p && !p->dead && is_zombie(p->pid)) ::shutdown(p->fd, SHUT_RDWR);
      }
      if (!to_shut_down.empty()) {
        // Sent outside the lock: a runner slow to read holds up nobody else.
        lock.unlock();
        for (const auto& p : to_shut_down) p->writer->send(wire::Kind::shutdown, 0, 0, 0, 0, {});
        lock.lock();
      }

      // Readers of ended runners are joined here, outside the lock.
      if (!finished_.empty()) {
        lock.unlock();
        join_finished();
        lock.lock();
        continue;
      }

      auto wake = now + (options_.memory_limit_mb > 0 ? kMemoryCheckEvery : milliseconds(1000));
      for (const Slot& slot : slots_) {
        if (slot.state == "restarting") wake = std::min(wake, slot.restart_at);
        if (slot.process) {
          for (const auto& [id, kill_at] : slot.process->abandoned) wake = std::min(wake, kill_at);
        }
      }
      changed_.wait_until(lock, wake);
    }
  }

  void join_finished() {
    std::vector<std::shared_ptr<Process>> done;
    {
      std::lock_guard lock(mutex_);
      done.swap(finished_);
    }
    for (auto& p : done) {
      if (p->reader.joinable() && p->reader.get_id() != std::this_thread::get_id()) p->reader.join();
    }
  }

  const std::filesystem::path plugin_;
  const std::string config_;
  plugin_loader::HostServices services_;
  IsolationOptions options_;
  const plugin_loader::PluginManifest manifest_;
  std::atomic<uint32_t> abi_{0};
  std::atomic<bool> free_threaded_{false};

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;  // any slot, process or call count changed
  std::vector<Slot> slots_;
  std::vector<std::shared_ptr<Process>> finished_;  // ended, reader not yet joined
  bool spawning_ = false;                           // the supervisor is starting a runner (outside the lock)
  uint64_t next_call_ = 0;
  uint64_t deaths_total_ = 0;
  uint64_t restarts_total_ = 0;
  std::deque<RunnerExit> recent_;
  std::optional<PluginError> first_error_;  // the first runner's load failure, if any
  int first_ready_ = 0;                     // runners up after their first attempt
  bool stopping_ = false;
  bool supervisor_exit_ = false;
  std::thread supervisor_;

  std::mutex host_calls_mutex_;
  std::condition_variable host_calls_done_;
  int host_calls_running_ = 0;
};

std::filesystem::path default_runner_path() {
  std::error_code ec;
  const auto executable = std::filesystem::read_symlink("/proc/self/exe", ec);
  return executable.parent_path().parent_path() / SAS_RUNNER_RELATIVE_PATH;
}

std::shared_ptr<IsolatedPlugin> IsolatedPlugin::start(const std::filesystem::path& plugin, const std::string& config,
                                                      plugin_loader::HostServices services, IsolationOptions options) {
  // The same refusals as an in-process load, before any process starts. The runners of this
  // build load this host's protobuf, so the protobuf check is made here too; a runner given with
  // `plugin-runner` may be built with another one, and makes that check itself.
  plugin_loader::PluginManifest manifest =
      plugin_loader::inspect_plugin_file(plugin, options.runner.empty() ? plugin_loader::ProtobufCheck::this_process
                                                                        : plugin_loader::ProtobufCheck::left_to_runner);
  std::error_code ec;
  if (!options.runner.empty() || !std::filesystem::is_regular_file(default_runner_path(), ec)) {
    const auto runner = options.runner.empty() ? default_runner_path() : options.runner;
    if (!std::filesystem::is_regular_file(runner, ec)) {
      throw PluginError(SAS_ERR_INIT_FAILED,
                        "the plugin runner " + runner.string() +
                            " does not exist (plugin-runner; installed as lib/sas/sas-plugin-runner)");
    }
  }
  auto pool = std::make_shared<Pool>(std::filesystem::absolute(plugin), config, std::move(services), std::move(options),
                                     std::move(manifest));
  pool->start();
  return std::shared_ptr<IsolatedPlugin>(new IsolatedPlugin(std::move(pool)));
}

IsolatedPlugin::IsolatedPlugin(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
IsolatedPlugin::~IsolatedPlugin() { pool_->shutdown(); }
const plugin_loader::PluginManifest& IsolatedPlugin::manifest() const { return pool_->manifest(); }
uint32_t IsolatedPlugin::abi_version() const { return pool_->abi_version(); }
bool IsolatedPlugin::free_threaded() const { return pool_->free_threaded(); }
CallResult IsolatedPlugin::call(const v1::PluginRequest& request, v1::PluginResponse& response,
                                System::time_point deadline, std::stop_token stop) {
  return pool_->call(request, response, deadline, std::move(stop));
}
void IsolatedPlugin::shutdown() { pool_->shutdown(); }
PoolStatus IsolatedPlugin::status() const { return pool_->status(); }

}  // namespace sas::host::plugin_isolation
