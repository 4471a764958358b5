#include "notifications_harness.hpp"

#include <curl/curl.h>
#include <sqlite3.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "sas/pki/test_pki.hpp"
#include "sas/sqlite_agenda/schema.hpp"

namespace sas::notifications_test {

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

json::object sos_event(const std::string& id, const std::string& type, const std::string& siret, bool needs_action,
                       int hour) {
  json::object e = event(id, type, hour);
  e.erase("practitioner");
  e["sos_association_siret"] = siret;
  e["needs_action"] = needs_action;
  return e;
}

World::World() : work_(sas::test::make_temp_dir("notifications")), pki_(work_ / "pki") {
  sas::pki::write_test_pki(pki_);
  sas::pki::issue_certificate(pki_, "vendor", {"localhost", "VENDOR", false, {}, {}});
  sqlite3* db = nullptr;
  sqlite3_open(agenda().c_str(), &db);
  sqlite3_exec(db, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  platform_port_ = sas::test::free_port();
}

World::~World() {
  if (host_) host_->stop();
  if (platform_) platform_->stop();
  std::error_code ec;
  fs::remove_all(work_, ec);
}

void World::start_platform(const std::string& fail, const std::vector<std::string>& extra) {
  sas::test::SimPlatformOptions platform;
  platform.port = platform_port_;
  platform.pki = pki_;
  platform.db = platform_db();
  platform.fail = fail;
  // SAS_SIM_NO_VALIDATION=1: measure the host without the simulator's profile validation.
  platform.validate = std::getenv("SAS_SIM_NO_VALIDATION") == nullptr;
  platform.extra = extra;
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

void World::start_host(const std::vector<std::string>& extra) {
  if (!extra.empty()) host_extra_ = extra;
  const std::string base = "https://localhost:" + std::to_string(platform_port_) + "/fhir";
  std::vector<std::string> argv = {sas::test::bin("sas-host").string(),
                                   "serve",
                                   "--plugin",
                                   sas::test::plugin("sas-sqlite-agenda").string(),
                                   "--plugin-config",
                                   "db=" + agenda().string(),
                                   "--store",
                                   "sqlite:" + store().string(),
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
                                   "--sas-base",
                                   base,
                                   "--sas-cert",
                                   (pki_ / "vendor.pem").string(),
                                   "--sas-key",
                                   (pki_ / "vendor-key.pem").string(),
                                   "--sas-ca",
                                   (pki_ / "ca.pem").string(),
                                   "--sas-poll-ms",
                                   "50",
                                   "--sas-retry-base-ms",
                                   "50",
                                   "--sas-retry-max-ms",
                                   "400"};
  const auto isolation = sas::test::plugin_isolation_args();
  argv.insert(argv.end(), isolation.begin(), isolation.end());
  argv.insert(argv.end(), host_extra_.begin(), host_extra_.end());
  host_ = std::make_unique<sas::test::ChildProcess>(argv);
  if (host_->wait_for_output("listening on")) {
    sas::test::expect_plugin_isolation(*host_);
    return;
  }
  throw std::runtime_error("sas-host serve did not start:\n" + host_->output());
}

void World::stop_host() {
  if (host_) host_->stop();
  host_.reset();
}

void World::kill_host() {
  if (host_) host_->kill_now();
  host_.reset();
}

bool World::host_running() { return host_ && host_->running(); }

void World::report(const std::vector<json::object>& events) {
  json::array all;
  for (const auto& e : events) all.push_back(e);
  static int file_number = 0;
  const fs::path file = work_ / ("events-" + std::to_string(++file_number) + ".json");
  sas::test::write_file(file, json::serialize(all));
  auto result = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--store",
                                "sqlite:" + store().string(), "--json", file.string()});
  if (result.exit_code != 0) throw std::runtime_error("appointment-event failed: " + result.err);
}

std::vector<json::object> World::outbox(const std::string& action, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {sas::test::bin("sas-host").string(), "outbox", action, "--store",
                                   "sqlite:" + store().string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto result = sas::test::run(argv);
  if (result.exit_code != 0) throw std::runtime_error("outbox " + action + " failed: " + result.err);
  std::vector<json::object> rows;
  std::size_t start = 0;
  while (start < result.out.size()) {
    const auto end = result.out.find('\n', start);
    const std::string line = result.out.substr(start, end - start);
    if (!line.empty()) rows.push_back(json::parse(line).as_object());
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return rows;
}

bool World::wait_delivered(int64_t delivered, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rows = sas::test::sqlite_rows(
        store(),
        "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'delivered') "
        "FROM appointment_outbox");
    if (rows[0][0] == "0" && std::stoll(rows[0][1]) >= delivered) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool World::wait_dead(int64_t dead, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rows = sas::test::sqlite_rows(store(), "SELECT COUNT(*) FROM appointment_outbox WHERE state = 'dead'");
    if (std::stoll(rows[0][0]) >= dead) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

World::Answer World::send_to_platform(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& client) {
  CURL* curl = curl_easy_init();
  Answer answer;
  const std::string url = "https://localhost:" + std::to_string(platform_port_) + path;
  const std::string cert = (pki_ / (client + ".pem")).string();
  const std::string key = (pki_ / (client + "-key.pem")).string();
  const std::string ca = (pki_ / "ca.pem").string();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/fhir+json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, static_cast<void*>(&answer.body));
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

std::vector<World::Received> World::received() {
  std::vector<Received> out;
  if (!fs::exists(platform_db())) return out;
  for (auto& r : sas::test::sqlite_rows(platform_db(),
                                        "SELECT n, method, target, identifier, resource_status, result, body, "
                                        "http_status FROM received ORDER BY n")) {
    out.push_back({std::stoll(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], std::stoi(r[7])});
  }
  return out;
}

}  // namespace sas::notifications_test
