#include "sas/host/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace sas::host::metrics {

namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses):
// fields[0] is field 3 of proc(5) (state).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("cannot read /proc/self/stat");
  const auto close = line.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("unexpected /proc/self/stat");
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 22) throw std::runtime_error("unexpected /proc/self/stat");
  return fields;
}

// proc(5) field number `n` (1-based) as a number.
double stat_field(const std::vector<std::string>& fields, std::size_t n) { return std::stod(fields.at(n - 3)); }

double clock_ticks() {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

// When the machine booted, in seconds since the epoch (btime of /proc/stat).
double boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double seconds = 0;
      in >> seconds;
      return seconds;
    }
    in.ignore(1 << 20, '\n');
  }
  throw std::runtime_error("no btime in /proc/stat");
}

std::vector<Sample> one(double value) { return {Sample{{}, value}}; }

}  // namespace

void add_process_metrics(Registry& registry) {
  registry.callback(Type::counter, "process_cpu_seconds_total", "User and system CPU time spent, in seconds", {}, [] {
    const auto fields = stat_fields();
    return one((stat_field(fields, 14) + stat_field(fields, 15)) / clock_ticks());
  });
  registry.callback(Type::gauge, "process_resident_memory_bytes", "Resident memory size, in bytes", {},
                    [] { return one(stat_field(stat_fields(), 24) * static_cast<double>(::sysconf(_SC_PAGESIZE))); });
  registry.callback(Type::gauge, "process_virtual_memory_bytes", "Virtual memory size, in bytes", {},
                    [] { return one(stat_field(stat_fields(), 23)); });
  registry.callback(Type::gauge, "process_open_fds", "Open file descriptors", {}, [] {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
    return one(static_cast<double>(count));
  });
  registry.callback(Type::gauge, "process_max_fds", "Maximum number of open file descriptors (RLIMIT_NOFILE)", {}, [] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw std::runtime_error("getrlimit failed");
    return one(limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur));
  });
  // Fixed for the process's life: computed once.
  const double start = boot_time() + stat_field(stat_fields(), 22) / clock_ticks();
  registry.callback(Type::gauge, "process_start_time_seconds", "Start time of the process since the epoch, in seconds",
                    {}, [start] { return one(start); });
}

}  // namespace sas::host::metrics
