// sas-sim load --rate: the soak's load. An open-loop, paced mix of the platform's requests to a
// vendor (INT_R01 searches, INT_R02 regulator account writes) and of appointment events reported
// through the host's admin API, whose INT_R03 notifications must reach the platform (`sas-sim
// serve`); the host's resident memory and CPU sampled along the way; a verdict at the end.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "platform_client.hpp"

namespace sas::sim {

// Percent of the requests of each kind; they add up to 100.
struct LoadMix {
  int search = 100;
  int account = 0;
  int event = 0;
};

// "search=80,account=10,event=10" (kinds left out are 0); throws std::invalid_argument.
LoadMix parse_mix(const std::string& text);

struct SteadyLoadOptions {
  std::string base;  // the vendor's FHIR base URL
  ClientTls tls;     // the platform's client identity
  std::vector<std::string> practitioner_ids;
  int max_ids_per_search = 10;   // each search names 1..this many practitioners
  double max_window_hours = 48;  // each search's window lasts 1 hour..this
  double rate = 50;              // requests per second, all kinds together
  double duration_s = 60;
  int concurrency = 4;  // kept-alive connections to each endpoint, one worker thread each
  uint64_t seed = 1;
  LoadMix mix;
  // Appointment events (mix.event > 0): the host's admin API and what the platform received.
  std::string admin_base;  // https://HOST:PORT (the admin listener)
  std::string admin_token;
  std::string admin_ca;
  std::string platform_db;           // sas-sim serve --db
  double notification_drain_s = 30;  // after the load, how long notifications may take
  pid_t host_pid = 0;                // 0: no sampling, no memory verdict
  double sample_interval_s = 60;     // also the table's rows when there is no host pid
  double settle_s = 300;             // growth is measured from the first sample at or after this
  double max_rss_growth_pct = 5;     // the verdict's bound
  // What the bound applies to: "anon" (RssAnon: heap, stacks, where a leak shows) or "vmrss"
  // (VmRSS, which also counts mapped files: SQLite's maps of the agenda and the store, whose
  // resident pages come and go as the files grow and are remapped).
  std::string rss_measure = "anon";
  std::string report_path;  // JSON report; empty: none
};

// Runs the load, prints a table of samples and the verdict on stdout; returns the exit code:
// 0 passed, 1 failed (any error, any lost notification, RSS growth over the bound).
int run_steady_load(const SteadyLoadOptions& options);

}  // namespace sas::sim
