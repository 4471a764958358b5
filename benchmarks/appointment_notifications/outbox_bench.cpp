// INT_R03: durable notifications per second through the outbox (Outbox::report: check, build
// the FrAppointmentSAS JSON, commit to the SQLite store with synchronous=FULL before returning),
// with 1 to 64 reporting threads (group commit). The store lives in SAS_BENCH_DIR (default
// /tmp), i.e. on the disk the host would use; SAS_BENCH_STORE=postgresql://... measures a
// PostgreSQL store instead (an empty database). Delivery over mTLS is measured end to end by
// appointment_notifications_e2e_test ThroughputOfABurst; see docs/appointment-notifications.md.
#include <benchmark/benchmark.h>
#include <sas/host/store/store.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <sas/host/appointment_notifications/outbox.hpp>

namespace {

using namespace sas::host;
using namespace sas::host::appointment_notifications;

std::filesystem::path bench_dir() {
  const char* dir = std::getenv("SAS_BENCH_DIR");
  return dir != nullptr ? dir : "/tmp";
}

struct Shared {
  Shared() {
    if (const char* url = std::getenv("SAS_BENCH_STORE")) {
      outbox = std::make_shared<Outbox>(sas::host::store::open(url).outbox);
      return;
    }
    const auto path = bench_dir() / "sas-outbox-bench.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    outbox = std::make_shared<Outbox>(sas::host::store::open("sqlite:" + path.string()).outbox);
  }
  std::shared_ptr<Outbox> outbox;
  std::atomic<int64_t> next{0};
};

Shared& shared() {
  static Shared s;
  return s;
}

void BM_DurableReport(benchmark::State& state) {
  Outbox& outbox = *shared().outbox;
  Event e;
  e.appointment_system = "urn:oid:1.1.111.1.11.1.1.1";
  e.regulator_id = "810002673899";
  e.practitioner_national_id = "810100050075";
  e.start = "2026-12-04T14:00:00+01:00";
  e.end = "2026-12-04T14:15:00+01:00";
  e.created = "2026-12-01T10:00:00+01:00";
  for (auto _ : state) {
    e.appointment_id = "bench-" + std::to_string(shared().next++);
    benchmark::DoNotOptimize(outbox.report(e));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DurableReport)->Threads(1)->Threads(8)->Threads(32)->Threads(64)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
