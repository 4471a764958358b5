// sas-sim load: the platform's slot searches at a chosen concurrency, for a fixed time, against
// one vendor base URL, optionally mixed with INT_R04 CPTS searches (--cpts-share) and SOS
// Médecins searches (--sos-share); prints one JSON object of throughput and client-side latencies.
// With --rate: the soak's steady, open-loop mix of searches, INT_R02 writes and appointment
// events, with the host's memory sampled and a verdict (steady_load.hpp).
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <options.hpp>
#include <random>
#include <sas/sdk/datetime.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas/sim/sos_agenda_generator.hpp>
#include <thread>

#include "commands.hpp"
#include "figures.hpp"
#include "platform_client.hpp"
#include "sos_search.hpp"
#include "steady_load.hpp"

namespace sas::sim::cli {

namespace po = sas::cli::po;
using Clock = std::chrono::steady_clock;

namespace {

// Requests still running this long after the end are cut short and not counted.
constexpr std::chrono::milliseconds kDrain{2000};

struct WorkerStats {
  std::vector<double> latencies_ms;  // measured requests only
  uint64_t requests = 0;
  uint64_t transport_errors = 0;
  uint64_t http_errors = 0;  // answered, but not 200
  uint64_t aborted_at_end = 0;
  uint64_t bytes = 0;
  uint64_t connections = 0;
  uint64_t sos_requests = 0;   // measured SOS Médecins searches among `requests`
  uint64_t cpts_requests = 0;  // measured INT_R04 CPTS searches among `requests`
  std::string first_error;
};

struct Plan {
  std::string base;
  const std::vector<std::string>* ids = nullptr;
  size_t per_search = 1;
  std::chrono::milliseconds window{};
  int cpts_percent = 0;  // the INT_R04 CPTS share of the searches (percent), on the same ids
  // The SOS Médecins share of the searches (percent) and its SIRETs, drawn like the ids.
  int sos_percent = 0;
  const std::vector<std::string>* sos_sirets = nullptr;
  size_t sos_per_search = 1;
  Clock::time_point measure_from;  // end of warm-up
  Clock::time_point measure_to;
  Clock::time_point hard_stop;  // measure_to + drain
};

void work(PlatformClient& client, const Plan& plan, uint64_t seed, WorkerStats& stats) {
  std::mt19937_64 random(seed);
  std::vector<std::string> chosen;
  for (;;) {
    const auto started = Clock::now();
    if (started >= plan.measure_to) break;
    chosen.clear();
    // Drawn only when other searches are mixed in, so that a plain run keeps its sequence of
    // searches: [0, SOS share) SOS, then [SOS share, SOS + CPTS shares) CPTS, the rest INT_R01.
    const int kind = plan.sos_percent + plan.cpts_percent > 0 ? static_cast<int>(random() % 100) : 100;
    const bool sos = kind < plan.sos_percent;
    const bool cpts = !sos && kind < plan.sos_percent + plan.cpts_percent;
    const auto& pool = sos ? *plan.sos_sirets : *plan.ids;
    std::sample(pool.begin(), pool.end(), std::back_inserter(chosen), sos ? plan.sos_per_search : plan.per_search,
                random);
    std::shuffle(chosen.begin(), chosen.end(), random);  // the platform's order is not the agenda's
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const std::string from = sas::sdk::datetime::format_paris(now);
    const std::string to = sas::sdk::datetime::format_paris(now + plan.window);
    const std::string url =
        sos ? sos_search_url(plan.base, chosen, from, to) : slot_search_url(plan.base, chosen, from, to, cpts);
    const auto budget = std::min<Clock::duration>(kPlatformTimeout, plan.hard_stop - started);
    const bool shortened = budget < kPlatformTimeout;
    HttpResult result = client.get(url, std::chrono::duration_cast<std::chrono::milliseconds>(budget));
    const auto elapsed = Clock::now() - started;
    stats.connections += static_cast<uint64_t>(result.new_connections);
    if (started < plan.measure_from) continue;                          // warm-up: connections and caches only
    if (shortened && !result.transport_ok && result.curl_code == 28) {  // CURLE_OPERATION_TIMEDOUT by the drain
      ++stats.aborted_at_end;
      continue;
    }
    ++stats.requests;
    if (sos) ++stats.sos_requests;
    if (cpts) ++stats.cpts_requests;
    stats.bytes += result.body.size();
    stats.latencies_ms.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
    if (!result.transport_ok) {
      ++stats.transport_errors;
      if (stats.first_error.empty()) stats.first_error = result.error;
    } else if (result.status != 200) {
      ++stats.http_errors;
      if (stats.first_error.empty()) {
        stats.first_error = "HTTP " + std::to_string(result.status) + ": " + result.body.substr(0, 300);
      }
    }
  }
}

std::optional<std::string> read_token(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::string token((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::nullopt;
  return token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
}

// --rate: the options of the steady mode, checked; then the run.
int steady(const po::variables_map& v, std::vector<std::string> ids) {
  SteadyLoadOptions o;
  o.base = v["base"].as<std::string>();
  o.tls = ClientTls{v["cert"].as<std::string>(), v["key"].as<std::string>(), v["ca"].as<std::string>()};
  o.practitioner_ids = std::move(ids);
  o.max_ids_per_search = v["practitioners-per-search"].as<int>();
  o.max_window_hours = v["window-hours"].as<double>();
  o.rate = v["rate"].as<double>();
  o.duration_s = v["duration"].as<double>();
  o.concurrency = v["concurrency"].as<int>();
  o.seed = v["seed"].as<uint64_t>();
  o.sample_interval_s = v["sample-interval"].as<double>();
  o.settle_s = v["settle-s"].as<double>();
  o.max_rss_growth_pct = v["max-rss-growth-pct"].as<double>();
  o.notification_drain_s = v["notification-drain-s"].as<double>();
  if (v.count("report") != 0U) o.report_path = v["report"].as<std::string>();
  o.rss_measure = v["rss-measure"].as<std::string>();
  if (o.rss_measure != "anon" && o.rss_measure != "vmrss") {
    std::cerr << "sas-sim load: --rss-measure " << o.rss_measure << ": expected anon or vmrss\n";
    return 2;
  }
  try {
    o.mix = parse_mix(v["mix"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    std::cerr << "sas-sim load: --mix: " << e.what() << "\n";
    return 2;
  }
  if (!(o.rate > 0) || o.rate > 10000 || !(o.sample_interval_s >= 0.1) || !(o.settle_s >= 0) ||
      !(o.max_rss_growth_pct >= 0) || !(o.notification_drain_s >= 0)) {
    std::cerr << "sas-sim load: need --rate in (0, 10000], --sample-interval >= 0.1, --settle-s >= 0, "
                 "--max-rss-growth-pct >= 0, --notification-drain-s >= 0\n";
    return 2;
  }
  if (!v["warmup"].defaulted() || !v["cpts-share"].defaulted() || !v["sos-share"].defaulted()) {
    std::cerr << "sas-sim load: --rate does not take --warmup, --cpts-share or --sos-share (its minutes before "
                 "--settle-s are its warm-up)\n";
    return 2;
  }
  if (v.count("host-pid") != 0U) {
    o.host_pid = static_cast<pid_t>(v["host-pid"].as<int>());
    if (o.host_pid <= 0 || !std::filesystem::exists("/proc/" + std::to_string(o.host_pid))) {
      std::cerr << "sas-sim load: --host-pid " << o.host_pid << ": no such process\n";
      return 2;
    }
    if (o.settle_s >= o.duration_s) {
      std::cerr << "sas-sim load: --settle-s must be shorter than --duration: memory growth is measured from "
                   "--settle-s to the end\n";
      return 2;
    }
  }
  if (o.mix.event > 0) {
    for (const char* key : {"admin", "admin-token-file", "platform-db"}) {
      if (v.count(key) == 0U) {
        std::cerr << "sas-sim load: --mix event=" << o.mix.event << " needs --admin, --admin-token-file and "
                  << "--platform-db (events go through the host's admin API, and arrive at sas-sim serve)\n";
        return 2;
      }
    }
    o.admin_base = v["admin"].as<std::string>();
    while (!o.admin_base.empty() && o.admin_base.back() == '/') o.admin_base.pop_back();
    o.admin_ca = v.count("admin-ca") != 0U ? v["admin-ca"].as<std::string>() : o.tls.ca_file;
    o.platform_db = v["platform-db"].as<std::string>();
    const auto token = read_token(v["admin-token-file"].as<std::string>());
    if (!token) {
      std::cerr << "sas-sim load: --admin-token-file " << v["admin-token-file"].as<std::string>()
                << ": unreadable or empty\n";
      return 1;
    }
    o.admin_token = *token;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.platform_db, ec)) {
      std::cerr << "sas-sim load: --platform-db " << o.platform_db << ": no such file (sas-sim serve --db)\n";
      return 1;
    }
  }
  return run_steady_load(o);
}

}  // namespace

int load(const std::vector<std::string>& args) {
  po::options_description options("load options");
  options.add_options()("base", po::value<std::string>()->required(), "the vendor's FHIR base URL (https://...)")(
      "cert", po::value<std::string>()->required(), "platform client certificate (PEM)")(
      "key", po::value<std::string>()->required(), "its private key (PEM)")(
      "ca", po::value<std::string>()->required(), "CA bundle that signed the vendor's server certificate (PEM)")(
      "agenda", po::value<std::string>()->required(), "agenda file (sas-sim gen-agenda) to draw practitioners from")(
      "practitioners-per-search", po::value<int>()->default_value(10), "ids per search, drawn at random")(
      "window-hours", po::value<double>()->default_value(48), "search window [now, now + H hours]")(
      "concurrency", po::value<int>()->default_value(4), "parallel connections, one thread each")(
      "duration", po::value<double>()->default_value(10), "measured seconds")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed of the practitioner draws")(
      "warmup", po::value<double>()->default_value(0), "seconds of unmeasured searches first")(
      "cpts-share", po::value<int>()->default_value(0),
      "percent of the searches that are INT_R04 CPTS searches, on the same practitioners")(
      "sos-share", po::value<int>()->default_value(0),
      "percent of the searches that are SOS Médecins searches, on the agenda's associations")(
      "sos-per-search", po::value<int>()->default_value(1), "association SIRETs per SOS search, drawn at random");
  po::options_description steady_options(
      "steady mode (--rate): an open-loop mix at a fixed rate, the host's memory sampled, a verdict; "
      "--practitioners-per-search and --window-hours are then each search's maximum");
  steady_options.add_options()("rate", po::value<double>(), "requests per second, all kinds together (open loop)")(
      "mix", po::value<std::string>()->default_value("search=100"),
      "percent of each kind: search (INT_R01), account (INT_R02 writes), event (appointment events through "
      "the admin API, INT_R03 to the platform), e.g. search=80,account=10,event=10")(
      "admin", po::value<std::string>(), "the host's admin API, https://HOST:PORT (for events)")(
      "admin-token-file", po::value<std::string>(), "file holding the admin API's bearer token")(
      "admin-ca", po::value<std::string>(), "CA bundle of the admin listener's certificate (default: --ca)")(
      "platform-db", po::value<std::string>(), "sas-sim serve's --db: where the notifications must arrive")(
      "notification-drain-s", po::value<double>()->default_value(30),
      "seconds the notifications may take to arrive after the load; later ones are lost")(
      "host-pid", po::value<int>(), "the sas-host process: its RSS and CPU are sampled, the RSS growth judged")(
      "sample-interval", po::value<double>()->default_value(60), "seconds between samples (one table row each)")(
      "settle-s", po::value<double>()->default_value(300),
      "RSS growth is measured from the first sample at or after this")(
      "max-rss-growth-pct", po::value<double>()->default_value(5),
      "fail when the RSS at the end exceeds the settled one by more than this")(
      "rss-measure", po::value<std::string>()->default_value("anon"),
      "what --max-rss-growth-pct bounds: anon (RssAnon: heap and stacks, where a leak shows) or vmrss (VmRSS, "
      "which also counts the pages of mapped files, e.g. SQLite's maps, that come and go as files grow)")(
      "report", po::value<std::string>(), "write the figures and the verdict as JSON to this file");
  options.add(steady_options);
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim load",
                                    "--base URL --cert F --key F --ca F --agenda FILE [--practitioners-per-search N] "
                                    "[--window-hours H] [--concurrency C] [--duration S] [--seed S] [--warmup S] "
                                    "[--cpts-share P] [--sos-share P] [--sos-per-search N]\n"
                                    "       sas-sim load --rate R [--mix search=P,account=P,event=P] ... (the soak)",
                                    options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;

  const int per_search = v["practitioners-per-search"].as<int>();
  const int concurrency = v["concurrency"].as<int>();
  const double hours = v["window-hours"].as<double>();
  const double duration = v["duration"].as<double>();
  const double warmup = v["warmup"].as<double>();
  if (per_search < 1 || concurrency < 1 || concurrency > 1024 || !(hours > 0) || !(duration > 0) || !(warmup >= 0) ||
      duration > 86400 || warmup > 86400) {
    std::cerr << "sas-sim load: need --practitioners-per-search >= 1, --concurrency 1..1024, --window-hours > 0, "
                 "--duration in (0, 86400], --warmup in [0, 86400]\n";
    return 2;
  }
  for (const char* key : {"cert", "key", "ca", "agenda"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(v[key].as<std::string>(), ec)) {
      std::cerr << "sas-sim load: --" << key << " " << v[key].as<std::string>() << ": no such file\n";
      return 1;
    }
  }
  const int sos_percent = v["sos-share"].as<int>();
  const int sos_per_search = v["sos-per-search"].as<int>();
  const int cpts_percent = v["cpts-share"].as<int>();
  if (sos_percent < 0 || sos_percent > 100 || sos_per_search < 1 || sos_per_search > 25 || cpts_percent < 0 ||
      cpts_percent > 100 - sos_percent) {
    std::cerr << "sas-sim load: need --sos-share in [0, 100], --sos-per-search in [1, 25] and --cpts-share in [0, "
                 "100 - --sos-share]\n";
    return 2;
  }
  const std::vector<std::string> sirets =
      sos_percent > 0 ? sos_association_sirets(v["agenda"].as<std::string>()) : std::vector<std::string>{};
  if (sos_percent > 0 && sirets.size() < static_cast<size_t>(sos_per_search)) {
    std::cerr << "sas-sim load: the agenda has " << sirets.size() << " SOS association(s), fewer than "
              << "--sos-per-search " << sos_per_search << " (sas-sim gen-agenda --sos-associations N)\n";
    return 2;
  }
  const std::vector<std::string> ids = practitioner_ids(v["agenda"].as<std::string>());
  if (ids.size() < static_cast<size_t>(per_search)) {
    std::cerr << "sas-sim load: the agenda has " << ids.size() << " practitioner(s), fewer than "
              << "--practitioners-per-search " << per_search << "\n";
    return 2;
  }
  if (v.count("rate") != 0U) return steady(v, ids);

  const ClientTls tls{v["cert"].as<std::string>(), v["key"].as<std::string>(), v["ca"].as<std::string>()};
  std::vector<std::unique_ptr<PlatformClient>> clients;  // built here: curl_global_init before any thread
  for (int i = 0; i < concurrency; ++i) clients.push_back(std::make_unique<PlatformClient>(tls));

  Plan plan;
  plan.base = v["base"].as<std::string>();
  plan.ids = &ids;
  plan.per_search = static_cast<size_t>(per_search);
  plan.window = std::chrono::milliseconds(static_cast<int64_t>(hours * 3600.0 * 1000.0));
  plan.cpts_percent = cpts_percent;
  plan.sos_percent = sos_percent;
  plan.sos_sirets = &sirets;
  plan.sos_per_search = static_cast<size_t>(sos_per_search);
  const auto start = Clock::now();
  plan.measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  plan.measure_to =
      plan.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  plan.hard_stop = plan.measure_to + kDrain;

  const uint64_t seed = v["seed"].as<uint64_t>();
  std::vector<WorkerStats> stats(static_cast<size_t>(concurrency));
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < clients.size(); ++i) {
      threads.emplace_back([&, i] { work(*clients[i], plan, seed * 1000003ULL + i, stats[i]); });
    }
  }  // joined here
  const double measured =
      std::chrono::duration<double>(std::min(Clock::now(), plan.measure_to) - plan.measure_from).count();

  WorkerStats total;
  for (auto& s : stats) {
    total.requests += s.requests;
    total.transport_errors += s.transport_errors;
    total.http_errors += s.http_errors;
    total.aborted_at_end += s.aborted_at_end;
    total.bytes += s.bytes;
    total.connections += s.connections;
    total.sos_requests += s.sos_requests;
    total.cpts_requests += s.cpts_requests;
    if (total.first_error.empty()) total.first_error = s.first_error;
    total.latencies_ms.insert(total.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
  }
  std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
  double sum = 0;
  for (double l : total.latencies_ms) sum += l;
  const auto& l = total.latencies_ms;

  std::cout << "{\"requests\": " << total.requests << ", \"errors\": " << total.transport_errors + total.http_errors
            << ", \"searches_per_s\": " << fixed(measured > 0 ? static_cast<double>(total.requests) / measured : 0, 2)
            << ", \"latency_ms\": {\"p50\": " << fixed(percentile(l, 50), 3)
            << ", \"p90\": " << fixed(percentile(l, 90), 3) << ", \"p99\": " << fixed(percentile(l, 99), 3)
            << ", \"max\": " << fixed(l.empty() ? 0 : l.back(), 3)
            << ", \"mean\": " << fixed(l.empty() ? 0 : sum / static_cast<double>(l.size()), 3) << "}"
            << ", \"transport_errors\": " << total.transport_errors << ", \"non_200\": " << total.http_errors
            << ", \"aborted_at_end\": " << total.aborted_at_end << ", \"connections\": " << total.connections
            << ", \"bytes\": " << total.bytes << ", \"concurrency\": " << concurrency
            << ", \"practitioners_per_search\": " << per_search << ", \"window_hours\": " << fixed(hours, 2)
            << ", \"duration_s\": " << fixed(measured, 3) << ", \"warmup_s\": " << fixed(warmup, 3);
  if (cpts_percent > 0)
    std::cout << ", \"cpts_requests\": " << total.cpts_requests << ", \"cpts_share\": " << cpts_percent;
  if (sos_percent > 0) {
    std::cout << ", \"sos_requests\": " << total.sos_requests << ", \"sos_share\": " << sos_percent
              << ", \"sos_per_search\": " << sos_per_search;
  }
  if (!total.first_error.empty()) {
    std::cout << ", \"first_error\": " << boost::json::serialize(boost::json::string(total.first_error));
  }
  std::cout << "}\n";
  return 0;
}

}  // namespace sas::sim::cli
