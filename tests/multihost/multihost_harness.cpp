#include "multihost_harness.hpp"
#include <sas_test/host_log.hpp>

#include <sys/stat.h>

#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "sas/pki/test_pki.hpp"
#include "sas/sqlite_agenda/schema.hpp"

namespace sas::multihost_test {

namespace json = boost::json;
using namespace std::chrono_literals;

json::object event(const std::string& id, const std::string& type, int hour) {
  char start[64], end[64];
  std::snprintf(start, sizeof start, "2026-12-04T%02d:00:00+01:00", hour);
  std::snprintf(end, sizeof end, "2026-12-04T%02d:15:00+01:00", hour);
  return json::object{{"event", type},
                      {"appointment", json::object{{"system", kSystem}, {"value", id}}},
                      {"regulator", json::object{{"type", "IDNPS"}, {"value", "810002673899"}}},
                      {"practitioner", "810100050075"},
                      {"start", start},
                      {"end", end},
                      {"created", "2026-12-01T10:00:00+01:00"}};
}

std::string state(const json::object& event) {
  const std::string type(event.at("event").as_string());
  const std::string status = type == "rescheduled" ? "booked" : type;
  return status + "@" + std::string(event.at("start").as_string());
}

World::World()
    : cluster_(sas::test::PostgresCluster::shared()),
      work_(sas::test::make_temp_dir("multihost")),
      pki_(work_ / "pki") {
  const std::string url = cluster_.create_database();
  database_ = url.substr(url.rfind('/') + 1);
  store_ = url + "?pool=4";
  sas::pki::write_test_pki(pki_);
  sas::pki::issue_certificate(pki_, "host-a", {"host-a", "VENDOR", false, {}, {}});
  sas::pki::issue_certificate(pki_, "host-b", {"host-b", "VENDOR", false, {}, {}});
  token_ = "multihost-" + std::string(40, 'k') + "-token";
  sas::test::write_file(work_ / "admin.token", token_ + "\n");
  ::chmod((work_ / "admin.token").c_str(), 0600);
  platform_port_ = sas::test::free_port();
}

World::~World() {
  for (int i = 0; i < 2; ++i) stop_host(i);
  stop_platform();
  clients_ = {};
  std::error_code ec;
  fs::remove_all(work_, ec);
}

namespace {

// argv run so that the kernel SIGKILLs it when the test process (the thread that started it)
// dies without stopping it (a crash, a ctest timeout): `setpriv --pdeathsig KILL` then exec, so
// the pid is the program's own. Without setpriv, argv as it is.
std::vector<std::string> dies_with_test(std::vector<std::string> argv) {
  if (fs::exists("/usr/bin/setpriv")) argv.insert(argv.begin(), {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
  return argv;
}

}  // namespace

std::vector<std::vector<std::string>> World::sql(const std::string& query) const {
  return cluster_.rows(database_, query, "NULL");
}

void World::start_host(int host, const HostConfig& config) {
  hosts_.at(static_cast<std::size_t>(host)).config = config;
  start_host(host);
}

void World::start_host(int host) {
  Host& h = hosts_.at(static_cast<std::size_t>(host));
  if (h.process) {
    h.last_output += h.process->output();
    h.process->stop();
  }
  const std::string name = host == 0 ? "host-a" : "host-b";
  std::vector<std::string> argv = {sas::test::bin("sas-host").string(),
                                   "serve",
                                   "--plugin",
                                   sas::test::plugin("sas-sqlite-agenda").string(),
                                   "--plugin-config",
                                   "db=" + h.config.agenda.string() + h.config.plugin_config_extra,
                                   "--store",
                                   store_,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--tls-cert",
                                   (pki_ / "server.pem").string(),
                                   "--tls-key",
                                   (pki_ / "server-key.pem").string(),
                                   "--client-ca",
                                   (pki_ / "ca.pem").string(),
                                   "--allow-client-subject",
                                   "CN=sas.sante.fr,OU=SAS",
                                   "--admin-listen",
                                   "127.0.0.1:0",
                                   "--admin-token-file",
                                   (work_ / "admin.token").string()};
  if (h.config.deliver) {
    argv.insert(argv.end(), {"--sas-base", "https://localhost:" + std::to_string(platform_port_) + "/fhir",
                             "--sas-cert", (pki_ / (name + ".pem")).string(), "--sas-key",
                             (pki_ / (name + "-key.pem")).string(), "--sas-ca", (pki_ / "ca.pem").string(),
                             "--sas-poll-ms", "50", "--sas-retry-base-ms", "50", "--sas-retry-max-ms", "400"});
  }
  argv.insert(argv.end(), h.config.extra.begin(), h.config.extra.end());
  h.process = std::make_unique<sas::test::ChildProcess>(dies_with_test(argv));
  for (int i = 0; i < 3000; ++i) {
    const std::string output = h.process->output();
    if (sas::test::listening_port(output, "fhir") != 0 && sas::test::listening_port(output, "admin") != 0) {
      h.fhir_port = sas::test::listening_port(output, "fhir");
      h.admin_port = sas::test::listening_port(output, "admin");
      clients_.at(static_cast<std::size_t>(host)) = std::make_unique<sas::e2e::Client>(pki_);
      return;
    }
    if (!h.process->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("sas-host serve (" + name + ") did not start:\n" + h.process->output());
}

void World::stop_host(int host) {
  Host& h = hosts_.at(static_cast<std::size_t>(host));
  if (!h.process) return;
  h.process->stop();
  h.last_output += h.process->output();
  h.process.reset();
}

void World::kill_host(int host) {
  Host& h = hosts_.at(static_cast<std::size_t>(host));
  if (!h.process) return;
  h.process->kill_now();
  h.last_output += h.process->output() + "\n--- SIGKILL ---\n";
  h.process.reset();
}

bool World::host_running(int host) {
  Host& h = hosts_.at(static_cast<std::size_t>(host));
  return h.process && h.process->running();
}

std::string World::host_output(int host) const {
  const Host& h = hosts_.at(static_cast<std::size_t>(host));
  return h.last_output + (h.process ? h.process->output() : "");
}

std::string World::fhir_base(int host) const {
  return "https://127.0.0.1:" + std::to_string(hosts_.at(static_cast<std::size_t>(host)).fhir_port);
}

sas::host::admin_api::ClientAnswer World::admin(int host, const std::string& method, const std::string& path,
                                                const std::string& body) const {
  sas::host::admin_api::ClientOptions options;
  options.base = "https://127.0.0.1:" + std::to_string(hosts_.at(static_cast<std::size_t>(host)).admin_port);
  options.token = token_;
  options.ca_file = (pki_ / "ca.pem").string();
  options.timeout = 20s;
  return sas::host::admin_api::request(options, method, path, body);
}

sas::e2e::Response World::fhir(int host, const std::string& method, const std::string& path_and_query,
                               const std::string& body) {
  sas::e2e::RequestOptions options;
  options.method = method;
  if (!body.empty()) {
    options.body = body;
    options.headers = {"Content-Type: application/fhir+json"};
  }
  return clients_.at(static_cast<std::size_t>(host))->get(fhir_base(host) + path_and_query, options);
}

void World::start_platform(const std::string& fail, const std::vector<std::string>& extra) {
  sas::test::SimPlatformOptions platform;
  platform.port = platform_port_;
  platform.pki = pki_;
  platform.db = platform_db();
  platform.fail = fail;
  platform.allowed_subjects = {"CN=host-a,OU=VENDOR", "CN=host-b,OU=VENDOR"};
  platform.extra = extra;
  platform.launcher = dies_with_test({});
  platform_ = sas::test::start_sim_platform(platform);
}

void World::stop_platform() {
  if (platform_) platform_->stop();
  platform_.reset();
}

void World::kill_platform() {
  if (platform_) platform_->kill_now();
  platform_.reset();
}

std::vector<World::Received> World::received() const {
  std::vector<Received> out;
  if (!fs::exists(platform_db())) return out;
  for (auto& r : sas::test::sqlite_rows(platform_db(),
                                        "SELECT n, method, client, identifier, resource_status, result, body, "
                                        "http_status FROM received ORDER BY n")) {
    out.push_back({std::stoll(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], std::stoi(r[7])});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> World::platform_appointments() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!fs::exists(platform_db())) return out;
  for (auto& r : sas::test::sqlite_rows(platform_db(), "SELECT identifier, status FROM appointment ORDER BY 1")) {
    out.emplace_back(r[0], r[1]);
  }
  return out;
}

std::array<int64_t, 3> World::outbox_counts() const {
  const auto rows =
      sql("SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'delivered'), "
          "COUNT(*) FILTER (WHERE state = 'dead') FROM appointment_outbox");
  return {std::stoll(rows[0][0]), std::stoll(rows[0][1]), std::stoll(rows[0][2])};
}

bool World::wait_delivered(int64_t delivered, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto counts = outbox_counts();
    if (counts[0] == 0 && counts[1] >= delivered) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::vector<std::string> generate_agenda(const fs::path& file, int practitioners, int days, int seed) {
  const auto gen =
      sas::test::run({sas::test::bin("sas-sim").string(), "gen-agenda", "--out", file.string(), "--practitioners",
                      std::to_string(practitioners), "--days", std::to_string(days), "--seed", std::to_string(seed)});
  if (gen.exit_code != 0) throw std::runtime_error("gen-agenda failed: " + gen.err);
  std::vector<std::string> out;
  for (const auto& row : sas::test::sqlite_rows(
           file, "SELECT national_id FROM practitioner WHERE length(national_id) IN (11, 12) ORDER BY id")) {
    out.push_back(row[0].size() == 11 ? "8" + row[0] : row[0]);
  }
  return out;
}

void empty_agenda(const fs::path& file) { sas::test::sqlite_exec(file, sas::sqlite_agenda::schema_sql()); }

std::vector<json::object> json_lines(const std::string& text) {
  std::vector<json::object> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(json::parse(line).as_object());
  }
  return rows;
}

}  // namespace sas::multihost_test
