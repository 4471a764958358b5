// The process's own figures, under the names every Prometheus client library gives them
// (process_resident_memory_bytes, process_cpu_seconds_total, ...), read from /proc/self at
// each scrape.
#pragma once

#include <sas/host/metrics/registry.hpp>

namespace sas::host::metrics {

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds.
void add_process_metrics(Registry& registry);

}  // namespace sas::host::metrics
