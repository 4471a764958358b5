#include "process_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace sas::sim {

std::optional<ProcessStats> read_process_stats(pid_t pid, std::string* error) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::ifstream stat(dir + "/stat");
  if (!status || !stat) {
    if (error != nullptr) *error = "process " + std::to_string(pid) + " is gone (" + dir + " unreadable)";
    return std::nullopt;
  }
  ProcessStats stats;
  bool rss_seen = false;
  for (std::string line; std::getline(status, line);) {
    std::istringstream fields(line);
    std::string key;
    int64_t value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") {
      stats.rss_kib = value;
      rss_seen = true;
    } else if (key == "RssAnon:") {
      stats.rss_anon_kib = value;
    } else if (key == "RssFile:") {
      stats.rss_file_kib = value;
    } else if (key == "Threads:") {
      stats.threads = value;
    }
  }
  // /proc/PID/stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'; utime and stime are fields 14 and 15, in clock ticks.
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  if (!rss_seen || close == std::string::npos) {
    if (error != nullptr) *error = "process " + std::to_string(pid) + ": no VmRSS (a zombie?) or an unreadable stat";
    return std::nullopt;
  }
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int number = 3; fields >> field; ++number) {  // field 3 is the state, the first after ')'
    if (number == 14) utime = std::stoull(field);
    if (number == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  stats.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
  return stats;
}

}  // namespace sas::sim
