// What sas-sim load samples of the host it loads (Linux /proc): resident memory and CPU time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace sas::sim {

struct ProcessStats {
  int64_t rss_kib = 0;       // VmRSS: what the bound is about
  int64_t rss_anon_kib = 0;  // RssAnon: heap and stacks (a leak shows here)
  int64_t rss_file_kib = 0;  // RssFile: mapped files, e.g. the agenda SQLite maps (page cache)
  int64_t threads = 0;
  double cpu_seconds = 0;  // utime + stime since the process started
};

// Reads /proc/PID/status and /proc/PID/stat; nullopt (and a reason in *error) when the process
// is gone or the files cannot be read.
std::optional<ProcessStats> read_process_stats(pid_t pid, std::string* error = nullptr);

}  // namespace sas::sim
