// Starting and ending the runner processes: a child with one end of a socket pair on a chosen
// descriptor and nothing else of the host's, and waiting for it without ever signalling a pid
// that was already reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sas::host::plugin_isolation::child {

struct Spawned {
  pid_t pid = 0;
  int fd = -1;  // the host's end of the socket pair (close-on-exec)
};

// posix_spawn of `executable` with `args` (argv[0] excluded): the other end of a new socket pair
// on `child_fd`, /dev/null as stdin, stdout and stderr shared, every other descriptor closed, in
// `workdir` when not empty. Throws plugin_loader::PluginError (SAS_ERR_INIT_FAILED).
Spawned spawn_with_socket(const std::filesystem::path& executable, const std::vector<std::string>& args,
                          const std::filesystem::path& workdir, int child_fd);

// "killed by signal 11 (SIGSEGV)", "exited with status 3", from a waitpid status.
std::string exit_text(int status, int& signal, int& code);

// Waits until `pid` has exited, killing it if it does not within `grace`, without reaping it:
// its pid cannot be reused until it is reaped. `forced` says whether it had to be killed.
void wait_exited(pid_t pid, std::chrono::milliseconds grace, bool* forced);

// Reaps `pid`, killing it if it does not exit within `grace`; `forced` says whether it had to be
// killed. Only for a child no other thread may signal meanwhile.
int reap(pid_t pid, std::chrono::milliseconds grace, bool* forced = nullptr);

// True once `pid` has exited and awaits reaping.
bool is_zombie(pid_t pid);

// Its resident memory, from /proc; 0 when unknown.
uint64_t resident_bytes(pid_t pid);

}  // namespace sas::host::plugin_isolation::child
