// Where the time of one INT_R01 search goes, in process: the plugin's own data access
// (sqlite-agenda through the real loader) versus the host's work (query parsing, Bundle
// building, JSON serialization). The end-to-end figure over mTLS comes from `sas-sim load`;
// see docs/performance.md.
//
// Agenda: SAS_BENCH_PRACTITIONERS (default 50000) x 7 days, generated once into
// SAS_BENCH_AGENDA (default /tmp/sas-bench-agenda-<N>.db) and reused.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <random>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/slot_search/bundle.hpp>
#include <sas/host/slot_search/query.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sim/agenda_generator.hpp>

namespace {

namespace v1 = sas::plugin::v1;
using namespace std::chrono;

constexpr sys_days kFirstDay{year_month_day(year(2026), month(11), day(23))};

struct Fixture {
  std::shared_ptr<sas::host::plugin_loader::Plugin> plugin;
  std::vector<std::string> ids;
  std::vector<std::string> targets;  // request targets, 25 random practitioners, 7-day window

  Fixture() {
    const char* size = std::getenv("SAS_BENCH_PRACTITIONERS");
    int practitioners = size != nullptr ? std::atoi(size) : 50000;
    const char* path_env = std::getenv("SAS_BENCH_AGENDA");
    std::string path =
        path_env != nullptr ? path_env : "/tmp/sas-bench-agenda-" + std::to_string(practitioners) + ".db";
    if (!std::filesystem::exists(path)) {
      sas::sim::AgendaSpec spec;
      spec.practitioners = practitioners;
      spec.days = 7;
      spec.seed = 1;
      spec.first_day = year_month_day(kFirstDay);
      sas::sim::generate_agenda(path, spec);
    }
    plugin = sas::host::plugin_loader::PluginInstance::load(SAS_BENCH_PLUGIN, "db=" + path);
    ids = sas::sim::practitioner_ids(path);
    std::mt19937_64 random(42);
    const std::string from = sas::sdk::datetime::format_paris(sys_seconds(kFirstDay));
    const std::string to = sas::sdk::datetime::format_paris(sys_seconds(kFirstDay + days(7)) - milliseconds(1));
    auto encode_plus = [](std::string s) {
      for (size_t at = s.find('+'); at != std::string::npos; at = s.find('+', at)) s.replace(at, 1, "%2B");
      return s;
    };
    for (int i = 0; i < 256; ++i) {
      std::string target = "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + encode_plus(from) +
                           "&start=le" + encode_plus(to) + "&schedule.actor:Practitioner.identifier=";
      for (int k = 0; k < 25; ++k) {
        target += (k ? "," : "") + std::string("urn:oid:1.2.250.1.71.4.2.1|") + ids[random() % ids.size()];
      }
      targets.push_back(target + "&status=free");
    }
  }
};

Fixture& fixture() {
  static const bool heap_like_the_host = [] {  // the same allocator settings as sas-host's main()
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    return mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024) != 0;
  }();
  (void)heap_like_the_host;
  static Fixture instance;
  return instance;
}

sas::host::slot_search::ParsedSlotQuery parse(const std::string& target) {
  return std::get<sas::host::slot_search::ParsedSlotQuery>(sas::host::slot_search::parse_slot_query(target));
}

// As the host's endpoint does it: the answer parsed into an arena.
v1::PluginResponse& call_plugin(const sas::host::slot_search::ParsedSlotQuery& query, google::protobuf::Arena& arena) {
  v1::PluginRequest request;
  *request.mutable_search_slots() = sas::host::slot_search::to_plugin_request(query);
  auto& response = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
  fixture().plugin->call(request, response);
  return response;
}

// The host's first step: the raw request target into a checked query.
void BM_ParseQuery(benchmark::State& state) {
  auto& f = fixture();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sas::host::slot_search::parse_slot_query(f.targets[i++ % 256]));
}

// The plugin's share: the boundary crossing plus sqlite-agenda's queries.
void BM_PluginSearch(benchmark::State& state) {
  auto& f = fixture();
  std::vector<sas::host::slot_search::ParsedSlotQuery> queries;
  for (const auto& t : f.targets) queries.push_back(parse(t));
  size_t i = 0, slots = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    slots += static_cast<size_t>(call_plugin(queries[i++ % 256], arena).search_slots().slots_size());
  }
  state.counters["slots_per_search"] =
      benchmark::Counter(static_cast<double>(slots), benchmark::Counter::kAvgIterations);
}

// The host's share after the plugin: Bundle building and serialization.
void BM_BuildAndSerializeBundle(benchmark::State& state) {
  auto& f = fixture();
  google::protobuf::Arena arena;
  std::vector<std::pair<sas::host::slot_search::ParsedSlotQuery, const v1::PluginResponse*>> inputs;
  for (int k = 0; k < 32; ++k) {
    auto q = parse(f.targets[static_cast<size_t>(k)]);
    const auto* r = &call_plugin(q, arena);
    inputs.emplace_back(std::move(q), r);
  }
  sas::host::slot_search::BundleOptions options;
  options.base_url = "https://agenda.example.fr/sas";
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& [query, response] = inputs[i++ % inputs.size()];
    bytes += sas::host::slot_search::serialize_search_bundle(query, response->search_slots(), options).size();
  }
  state.counters["bytes_per_search"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
}

// Doctor settings and publication rules on one answer (docs/doctor-options.md): every doctor
// of the agenda has four rules and consent to call, one in ten a hidden agenda. Includes a
// copy of the answer (BM_CopyAnswer alone, to subtract).
std::vector<const v1::PluginResponse*> answers(google::protobuf::Arena& arena) {
  std::vector<const v1::PluginResponse*> out;
  for (int k = 0; k < 32; ++k) out.push_back(&call_plugin(parse(fixture().targets[static_cast<size_t>(k)]), arena));
  return out;
}

void BM_CopyAnswer(benchmark::State& state) {
  google::protobuf::Arena arena;
  const auto inputs = answers(arena);
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena scratch;
    auto* copy = google::protobuf::Arena::CreateMessage<v1::SearchSlotsResponse>(&scratch);
    *copy = inputs[i++ % inputs.size()]->search_slots();
    benchmark::DoNotOptimize(copy);
  }
}

void BM_ApplyPublication(benchmark::State& state) {
  namespace ds = sas::host::doctor_settings;
  google::protobuf::Arena arena;
  const auto inputs = answers(arena);
  ds::Snapshot snapshot;
  size_t n = 0;
  for (const auto& id : fixture().ids) {
    ds::DoctorOptions& d = snapshot.doctors[id];
    d.settings.practitioner = id;
    d.settings.visible = n++ % 10 != 0;
    d.settings.consent_to_call = true;
    for (const char* rule :
         {R"({"kind":"snp-motives","motives":["Vaccination"]})",
          R"({"kind":"hide-motives","motives":["Certificat médical"]})",
          R"({"kind":"snp-hours","days":["mon","tue","wed","thu","fri"],"from":"17:00","to":"19:00"})",
          R"({"kind":"public-also-snp"})"}) {
      d.rules.push_back(ds::parse_rule(boost::json::parse(rule), id));
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena scratch;
    auto* copy = google::protobuf::Arena::CreateMessage<v1::SearchSlotsResponse>(&scratch);
    *copy = inputs[i++ % inputs.size()]->search_slots();
    benchmark::DoNotOptimize(ds::apply(snapshot, *copy));
  }
}

// All three, as one request costs in process (no TLS, no HTTP): the host's search service,
// the one path of every INT_R01 caller (query, plugin, Bundle with its report).
void BM_WholeSearchInProcess(benchmark::State& state) {
  auto& f = fixture();
  sas::host::slot_search::SearchServiceOptions options;
  options.base_url = "https://agenda.example.fr/sas";
  const sas::host::slot_search::SearchService service(f.plugin, options);
  size_t i = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto& answer = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
    benchmark::DoNotOptimize(service.search(f.targets[i++ % 256], answer).bundle);
  }
}

BENCHMARK(BM_ParseQuery)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PluginSearch)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BuildAndSerializeBundle)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CopyAnswer)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ApplyPublication)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WholeSearchInProcess)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
