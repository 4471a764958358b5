#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sas/host/plugin_loader/manifest.hpp>
#include <thread>

extern char** environ;

namespace sas::host::plugin_isolation::child {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string signal_text(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return std::to_string(signal) + (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
}

}  // namespace

Spawned spawn_with_socket(const std::filesystem::path& executable, const std::vector<std::string>& args,
                          const std::filesystem::path& workdir, int child_fd) {
  using plugin_loader::PluginError;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw PluginError(SAS_ERR_INIT_FAILED, std::string("cannot create the runner's socket: ") + std::strerror(errno));
  }
  int child = fds[1];
  if (child <= child_fd) {
    // dup2 onto itself would keep FD_CLOEXEC: move it out of the way first.
    const int moved = ::fcntl(child, F_DUPFD_CLOEXEC, child_fd + 1);
    ::close(child);
    child = moved;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, child, child_fd);
  // Nothing else of the host's (store, listeners, TLS files) reaches the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, child_fd + 1);
  if (!workdir.empty()) posix_spawn_file_actions_addchdir_np(&actions, workdir.c_str());

  std::vector<std::string> all = {executable.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(child);
  if (spawned != 0) {
    ::close(fds[0]);
    throw PluginError(SAS_ERR_INIT_FAILED,
                      "cannot start the plugin runner " + executable.string() + ": " + std::strerror(spawned));
  }
  return Spawned{pid, fds[0]};
}

std::string exit_text(int status, int& signal, int& code) {
  signal = 0;
  code = -1;
  if (WIFSIGNALED(status)) {
    signal = WTERMSIG(status);
    return "killed by signal " + signal_text(signal);
  }
  if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
    return "exited with status " + std::to_string(code);
  }
  return "ended";
}

void wait_exited(pid_t pid, milliseconds grace, bool* forced) {
  siginfo_t info{};
  const auto until = Steady::now() + grace;
  *forced = false;
  for (;;) {
    info.si_pid = 0;
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return;
    if (Steady::now() >= until) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  *forced = true;
  ::kill(pid, SIGKILL);
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
}

int reap(pid_t pid, milliseconds grace, bool* forced) {
  int status = 0;
  if (forced != nullptr) *forced = false;
  const auto until = Steady::now() + grace;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;
    if (Steady::now() >= until) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (forced != nullptr) *forced = true;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

uint64_t resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace sas::host::plugin_isolation::child
