// Several hosts on one database (issue #15), with real processes: one throw-away PostgreSQL 15
// cluster (tests/store/postgres_cluster.hpp), two `sas-host serve` on a database of it, each with
// its own FHIR and admin listeners on free 127.0.0.1 ports and its own INT_R03 client
// certificate (CN=host-a / CN=host-b, so that the platform simulator's `received.client` says
// which host sent what), the reference plugin over agenda files made by the test, and one
// `sas-sim serve` platform. Every process is stopped by the destructor, also on failure; if the
// test process dies, the hosts and the platform get SIGKILL from the kernel (setpriv
// --pdeathsig) and the cluster is stopped by its watchdog. Start processes from the test's
// main thread (the death signal follows the thread that started them).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/admin_api/admin_client.hpp>

#include "e2e_support.hpp"
#include "postgres_cluster.hpp"
#include "sas_test/support.hpp"

namespace sas::multihost_test {

namespace fs = std::filesystem;

inline constexpr const char* kSystem = "urn:oid:1.1.111.1.11.1.1.1";  // the example vendor's OID
inline constexpr const char* kNational = "urn:oid:1.2.250.1.71.4.2.1";

// One appointment event in the documented JSON format (docs/appointment-notifications.md);
// `hour` gives distinct start/end per state.
boost::json::object event(const std::string& id, const std::string& type, int hour = 14);
// "booked@2026-12-04T14:00:00+01:00": the state an event gives its appointment.
std::string state(const boost::json::object& event);

// How one host runs; kept so that a restart after a kill runs it the same way.
struct HostConfig {
  fs::path agenda;                  // the reference plugin's agenda file
  std::string plugin_config_extra;  // appended to "db=AGENDA" (e.g. ";report_interval_ms=20")
  bool deliver = false;             // INT_R03 delivery to the platform simulator
  std::vector<std::string> extra;   // more serve options
};

class World {
 public:
  World();  // cluster, database, PKI, admin token; no process yet
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  // postgresql://sas@127.0.0.1:PORT/DB?pool=4, what both hosts (and the CLI) are given.
  const std::string& store() const { return store_; }
  // Every row of a query on the hosts' database (SQL NULL as "NULL").
  std::vector<std::vector<std::string>> sql(const std::string& query) const;

  // Host 0 ("A") or 1 ("B"). start_host throws with the host's output when it does not come up.
  void start_host(int host, const HostConfig& config);
  void start_host(int host);  // again, as last configured
  void stop_host(int host);
  void kill_host(int host);  // SIGKILL
  bool host_running(int host);
  std::string host_output(int host) const;
  std::string fhir_base(int host) const;  // https://127.0.0.1:PORT (the server certificate names it)

  // One admin API request (bearer token) to a host; never throws for HTTP or network errors.
  sas::host::admin_api::ClientAnswer admin(int host, const std::string& method, const std::string& path,
                                           const std::string& body = "") const;
  // One request over mutual TLS as the SAS platform (certificate `client`) to a host's FHIR base.
  sas::e2e::Response fhir(int host, const std::string& method, const std::string& path_and_query,
                          const std::string& body = "");

  // The platform simulator (`fail`, `extra` as sas-sim serve --fail, --fail-rate ...); it
  // accepts host-a and host-b.
  void start_platform(const std::string& fail = "none", const std::vector<std::string>& extra = {});
  void stop_platform();
  void kill_platform();

  struct Received {
    int64_t n = 0;
    std::string method, client, identifier, status, result, body;
    int http_status = 0;
  };
  std::vector<Received> received() const;  // what the platform received, in arrival order
  // identifier -> Appointment.status the platform holds now.
  std::vector<std::pair<std::string, std::string>> platform_appointments() const;

  // Outbox counts of the shared store: {pending, delivered, dead}.
  std::array<int64_t, 3> outbox_counts() const;
  // Waits until nothing is pending and `delivered` rows are delivered.
  bool wait_delivered(int64_t delivered, std::chrono::seconds timeout);

  const fs::path& work() const { return work_; }
  const fs::path& pki() const { return pki_; }
  fs::path platform_db() const { return work_ / "platform.db"; }
  std::string platform_output() const { return platform_ ? platform_->output() : ""; }

 private:
  struct Host {
    HostConfig config;
    std::unique_ptr<sas::test::ChildProcess> process;
    uint16_t fhir_port = 0;
    uint16_t admin_port = 0;
    std::string last_output;  // of the previous process, kept across restarts for failure messages
  };

  sas::test::PostgresCluster& cluster_;
  std::string database_, store_;
  fs::path work_, pki_;
  std::string token_;
  uint16_t platform_port_ = 0;
  std::unique_ptr<sas::test::ChildProcess> platform_;
  std::array<Host, 2> hosts_;
  std::array<std::unique_ptr<sas::e2e::Client>, 2> clients_;
};

// A generated agenda (sas-sim gen-agenda, today on): file, and its practitioners (prefixed).
std::vector<std::string> generate_agenda(const fs::path& file, int practitioners, int days, int seed);
// An empty agenda in the reference schema.
void empty_agenda(const fs::path& file);

// JSON lines (one object each), e.g. a CLI's output.
std::vector<boost::json::object> json_lines(const std::string& text);

}  // namespace sas::multihost_test
