// Plugins in their own process (issue #16): the real `sas-host serve --plugin-isolation process`
// with a real plugin that misbehaves on request (plugins/misbehaving_plugin.cpp: crash, hang,
// leak, flood, garbage on the runner's socket, slow, CPU spin, exit). Each fault must cost the
// search that caused it and nothing else: the host (same pid) keeps serving, the runner is
// replaced, the log and the admin API (GET /admin/v1/plugin) say what happened.
//
// The FHIR endpoint is called in plain HTTP (--allow-plain-http) with libcurl; the host also has
// its TLS material because the admin API is HTTPS only.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sas_test/host_log.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas/pki/test_pki.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sas_test/support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::HasSubstr;

// ---- What the misbehaving plugin does for the first practitioner asked for -----------------

// 81000 PPPPP BB: behaviour BB with parameter PPPPP (misbehaving_plugin.cpp).
std::string order(int behaviour, long parameter = 0) {
  char id[16];
  std::snprintf(id, sizeof id, "81000%05ld%02d", parameter, behaviour);
  return id;
}
const std::string kNormal = order(1);
const std::string kCrash = order(2);
const std::string kHang = order(3);
std::string leak(long mib) { return order(4, mib); }
std::string flood(long thousand_slots) { return order(5, thousand_slots); }
const std::string kFlood = order(5);  // two million slots
const std::string kGarbage = order(6);
std::string slow(long ms) { return order(7, ms); }
const std::string kSlow = order(7);  // 300 ms, polling should_stop()
const std::string kSpin = order(8);
std::string exit_with(long status) { return order(9, status); }

constexpr const char* kFromEncoded = "2026-11-23T00:00:00%2B01:00";
constexpr const char* kToEncoded = "2026-11-24T00:00:00%2B01:00";

std::string slot_target(const std::string& practitioner) {
  return std::string("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge") + kFromEncoded +
         "&start=le" + kToEncoded + "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|" +
         practitioner + "&status=free";
}

// ---- HTTP ----------------------------------------------------------------------------------

struct Answer {
  long status = 0;  // 0: no HTTP answer
  std::string body;
  std::string error;  // curl's, when status is 0
  milliseconds elapsed{0};

  std::string describe() const {
    return "HTTP " + std::to_string(status) + " after " + std::to_string(elapsed.count()) + " ms " + error + ": " +
           body.substr(0, 1500);
  }
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One plain-HTTP GET with its own connection (so that calls from several threads are independent).
Answer http_get(uint16_t port, const std::string& target, milliseconds timeout = 15s) {
  Answer answer;
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/fhir+json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const auto started = Clock::now();
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  answer.error = error;
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  return answer;
}

// The OperationOutcome's first issue: {code, diagnostics}; empty when the body is not one.
std::pair<std::string, std::string> outcome(const std::string& body) {
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec || !value.is_object() || value.as_object().if_contains("resourceType") == nullptr ||
      value.at("resourceType") != "OperationOutcome") {
    return {};
  }
  const auto& issue = value.at("issue").as_array().at(0).as_object();
  std::string code = issue.if_contains("code") ? std::string(issue.at("code").as_string()) : "";
  std::string diagnostics = issue.if_contains("diagnostics") ? std::string(issue.at("diagnostics").as_string()) : "";
  return {code, diagnostics};
}

// How many Slot resources a search Bundle holds (-1: not a Bundle).
int slots_in(const std::string& body) {
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec || !value.is_object() || value.at("resourceType") != "Bundle") return -1;
  int n = 0;
  if (const auto* entries = value.as_object().if_contains("entry")) {
    for (const auto& entry : entries->as_array()) {
      if (entry.at("resource").at("resourceType") == "Slot") ++n;
    }
  }
  return n;
}

// ---- Processes -------------------------------------------------------------------------------

// A process's resident memory (VmRSS) in KiB; 0 when it is gone.
uint64_t rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

int parent_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PPid:", 0) == 0) return std::stoi(line.substr(5));
  }
  return 0;
}

// True while the process exists and is not a zombie.
bool alive(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool poll_until(const std::function<bool()>& done, milliseconds timeout, milliseconds step = 5ms) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(step);
  }
}

// ---- The host's lines about its runners --------------------------------------------------------

struct ReadyLine {
  int runner = 0;
  int pid = 0;
  std::string abi;
};

struct EndedLine {
  int runner = 0;
  int pid = 0;
  std::string reason;
  int lost = -1;
  int restart_ms = -1;
  int in_a_row = 0;  // "(death N in a row)" after the delay; 0 when absent (a recycle)
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<ReadyLine> ready_lines(const std::string& log) {
  static const std::regex ready(R"(^sas-host: plugin runner (\d+) \(pid (\d+)\) ready \(ABI ([0-9.]+)\)$)");
  std::vector<ReadyLine> out;
  for (const auto& line : lines_of(sas::test::host_log_text(log))) {
    std::smatch m;
    if (std::regex_match(line, m, ready)) out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

std::vector<EndedLine> ended_lines(const std::string& log) {
  static const std::regex ended(
      R"(^sas-host: plugin runner (\d+) \(pid (\d+)\) ended: (.*), (\d+) call\(s\) lost; restarting in (\d+) ms)"
      R"(( \(death (\d+) in a row\))?$)");
  std::vector<EndedLine> out;
  for (const auto& line : lines_of(sas::test::host_log_text(log))) {
    std::smatch m;
    if (std::regex_match(line, m, ended)) {
      out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3], std::stoi(m[4]), std::stoi(m[5]),
                     m[7].matched ? std::stoi(m[7]) : 0});
    }
  }
  return out;
}

// The pid of the last runner R that said it is ready (0: none).
int ready_pid(const std::string& log, int runner) {
  int pid = 0;
  for (const auto& r : ready_lines(log)) {
    if (r.runner == runner) pid = r.pid;
  }
  return pid;
}

int64_t number(const json::value& v) { return v.to_number<int64_t>(); }

// ---- The host ----------------------------------------------------------------------------------

// What every test shares: a test PKI (the admin API is HTTPS) and an admin token.
struct Material {
  fs::path dir = sas::test::make_temp_dir("plugin-isolation");
  fs::path pki = dir / "pki";
  std::string token = "t0k3n-" + std::string(40, 'i') + "-isolation";
  fs::path token_file = dir / "admin.token";
  int hosts = 0;

  Material() {
    sas::pki::write_test_pki(pki);
    sas::test::write_file(token_file, token + "\n");
    ::chmod(token_file.c_str(), 0600);
  }
  ~Material() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::vector<std::string> process_mode(int runners = 2) {
  return {"--plugin-isolation", "process", "--plugin-runners", std::to_string(runners)};
}

// The real sas-host serve on the misbehaving plugin, FHIR (plain HTTP accepted) and admin API on
// free ports of 127.0.0.1; stopped by the destructor.
class Host {
 public:
  Host(Material& material, const std::vector<std::string>& extra, const std::string& plugin_config = "")
      : material_(material) {
    std::vector<std::string> argv = {
        sas::test::bin("sas-host").string(),
        "serve",
        "--plugin",
        sas::test::test_plugin("misbehaving").string(),
        "--plugin-config",
        plugin_config,
        "--store",
        "sqlite:" + (material.dir / ("host-" + std::to_string(++material.hosts) + ".db")).string(),
        "--listen",
        "127.0.0.1:0",
        "--allow-plain-http",
        "--tls-cert",
        (material.pki / "server.pem").string(),
        "--tls-key",
        (material.pki / "server-key.pem").string(),
        "--client-ca",
        (material.pki / "ca.pem").string(),
        "--allow-client-subject",
        "CN=sas.sante.fr,OU=SAS",
        "--admin-listen",
        "127.0.0.1:0",
        "--admin-token-file",
        material.token_file.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<sas::test::ChildProcess>(argv);
    poll_until(
        [&] {
          const std::string out = process_->output();
          if (sas::test::listening_port(out, "fhir") != 0 && sas::test::listening_port(out, "admin") != 0) {
            fhir_port_ = sas::test::listening_port(out, "fhir");
            admin_port_ = sas::test::listening_port(out, "admin");
            return true;
          }
          return !process_->running();
        },
        20s, 10ms);
    if (admin_port_ == 0) throw std::runtime_error("sas-host serve did not start:\n" + process_->output());
  }
  ~Host() { process_->stop(); }

  int pid() const { return process_->pid(); }
  bool running() { return process_->running(); }
  std::string output() const { return process_->output(); }
  sas::test::ChildProcess& process() { return *process_; }
  uint16_t port() const { return fhir_port_; }

  Answer search(const std::string& practitioner, milliseconds timeout = 20s) const {
    return http_get(fhir_port_, slot_target(practitioner), timeout);
  }
  Answer get(const std::string& target) const { return http_get(fhir_port_, target); }

  // GET /admin/v1/plugin as a JSON object (fails the test when it is not one).
  json::object plugin_status() const {
    sas::host::admin_api::ClientOptions options;
    options.base = "https://localhost:" + std::to_string(admin_port_);
    options.token = material_.token;
    options.ca_file = (material_.pki / "ca.pem").string();
    options.timeout = 10s;
    const auto answer = sas::host::admin_api::request(options, "GET", "/admin/v1/plugin");
    EXPECT_EQ(answer.status, 200) << answer.body << answer.error;
    boost::system::error_code ec;
    auto value = json::parse(answer.body, ec);
    if (ec || !value.is_object()) {
      ADD_FAILURE() << "GET /admin/v1/plugin: not a JSON object (" << answer.status << "): " << answer.body;
      return {};
    }
    return value.as_object();
  }

  // The runner entries of GET /admin/v1/plugin, by runner number (1..N).
  std::vector<json::object> runners() const {
    std::vector<json::object> out;
    const auto status = plugin_status();
    if (const auto* list = status.if_contains("runners"); list != nullptr && list->is_array()) {
      for (const auto& r : list->as_array()) out.push_back(r.as_object());
    }
    return out;
  }

  // Waits until runner R says it is ready with a pid other than `old_pid` (0: any); its pid.
  int wait_ready(int runner, int old_pid, milliseconds timeout = 10s) const {
    int pid = 0;
    poll_until(
        [&] {
          pid = ready_pid(output(), runner);
          return pid != 0 && pid != old_pid;
        },
        timeout, 2ms);
    return pid != old_pid ? pid : 0;
  }

  // Waits until the log has at least `n` "ended" lines; returns them all.
  std::vector<EndedLine> wait_ended(std::size_t n, milliseconds timeout = 10s) const {
    std::vector<EndedLine> ended;
    poll_until(
        [&] {
          ended = ended_lines(output());
          return ended.size() >= n;
        },
        timeout, 2ms);
    return ended;
  }

 private:
  Material& material_;
  std::unique_ptr<sas::test::ChildProcess> process_;
  uint16_t fhir_port_ = 0;
  uint16_t admin_port_ = 0;
};

class PluginIsolation : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    material_ = new Material();
    // Under a sanitizer, a crashing plugin must still die of its signal (what these tests
    // check), not be caught by the sanitizer's own SEGV handler and exit with its status.
    for (const char* variable : {"ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"}) {
      const char* before = std::getenv(variable);
      std::string options = before != nullptr ? std::string(before) + ":" : std::string();
      ::setenv(variable, (options + "handle_segv=0:handle_abort=0").c_str(), 1);
    }
  }
  static void TearDownTestSuite() {
    delete material_;
    material_ = nullptr;
    curl_global_cleanup();
  }
  static Material& material() { return *material_; }
  static inline Material* material_ = nullptr;
};

// ---- Starting ----------------------------------------------------------------------------------

TEST_F(PluginIsolation, ProcessModeRunsThePluginInRunnerChildrenOfTheHost) {
  Host host(material(), process_mode(2));
  ASSERT_NE(host.wait_ready(1, 0), 0) << host.output();
  ASSERT_NE(host.wait_ready(2, 0), 0) << host.output();
  const std::string log = host.output();
  for (const auto& ready : ready_lines(log)) {
    EXPECT_EQ(ready.abi, "1.5") << log;
    EXPECT_NE(ready.pid, host.pid());
    EXPECT_EQ(parent_of(ready.pid), host.pid()) << "runner " << ready.runner << " is not a child of the host";
    std::error_code ec;
    EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(ready.pid) + "/exe", ec).filename(), "sas-plugin-runner");
  }
  EXPECT_EQ(ready_lines(log).size(), 2U) << log;

  const Answer answer = host.search(kNormal);
  ASSERT_EQ(answer.status, 200) << answer.describe();
  EXPECT_EQ(slots_in(answer.body), 3) << answer.body;

  const auto status = host.plugin_status();
  EXPECT_EQ(status.at("name"), "misbehaving");
  EXPECT_EQ(status.at("version"), "1.0.0");
  EXPECT_EQ(status.at("abi"), "1.5");
  EXPECT_EQ(status.at("isolation"), "process");
  EXPECT_EQ(number(status.at("deaths_total")), 0);
  EXPECT_EQ(number(status.at("restarts_total")), 0);
  const auto runners = host.runners();
  ASSERT_EQ(runners.size(), 2U) << json::serialize(status);
  int64_t calls = 0;
  for (std::size_t i = 0; i < runners.size(); ++i) {
    const auto& r = runners[i];
    EXPECT_EQ(number(r.at("runner")), static_cast<int64_t>(i + 1));
    EXPECT_EQ(number(r.at("pid")), ready_pid(log, static_cast<int>(i + 1)));
    EXPECT_EQ(r.at("state"), "ready");
    EXPECT_EQ(number(r.at("calls_in_flight")), 0);
    EXPECT_GT(number(r.at("rss_bytes")), 0);
    calls += number(r.at("calls_total"));
  }
  EXPECT_EQ(calls, 1) << json::serialize(status);

  // A graceful stop ends the runners with the host.
  const std::vector<int> pids = {ready_pid(log, 1), ready_pid(log, 2)};
  EXPECT_EQ(host.process().stop(), 0) << host.output();
  for (int pid : pids) {
    EXPECT_TRUE(poll_until([&] { return !alive(pid); }, 3s)) << "runner pid " << pid << " outlived the host";
  }
}

TEST_F(PluginIsolation, InProcessIsTheDefault) {
  Host host(material(), {});
  const Answer answer = host.search(kNormal);
  ASSERT_EQ(answer.status, 200) << answer.describe();
  EXPECT_EQ(slots_in(answer.body), 3) << answer.body;
  EXPECT_THAT(host.output(), testing::Not(HasSubstr("plugin runner"))) << host.output();
  const auto status = host.plugin_status();
  EXPECT_EQ(status.at("isolation"), "in-process") << json::serialize(status);
  EXPECT_EQ(status.at("name"), "misbehaving");
}

TEST_F(PluginIsolation, RunnersDoNotOutliveAKilledHost) {
  Host host(material(), process_mode(2));
  const int one = host.wait_ready(1, 0);
  const int two = host.wait_ready(2, 0);
  ASSERT_TRUE(one != 0 && two != 0) << host.output();
  host.process().kill_now();
  for (int pid : {one, two}) {
    EXPECT_TRUE(poll_until([&] { return !alive(pid); }, 3s)) << "runner pid " << pid << " outlived a SIGKILLed host";
    if (alive(pid)) ::kill(pid, SIGKILL);  // do not leave it behind
  }
}

// ---- Crash -------------------------------------------------------------------------------------

// A runner whose plugin forked a child before it crashed: the child holds the runner's socket
// open, so the host cannot wait for its end; it sees the runner die all the same.
TEST_F(PluginIsolation, ARunnerThatDiesWhileAForkedChildHoldsItsSocketIsStillSeenDead) {
  Host host(material(), process_mode(1));
  ASSERT_NE(host.wait_ready(1, 0), 0);
  const Answer crashed = host.search(order(10, 4000));  // the child lives 4 s
  ASSERT_EQ(crashed.status, 503) << crashed.describe() << "\n" << host.output();
  EXPECT_LT(crashed.elapsed, 2500ms) << "the death must be seen without waiting for the child";
  const auto ended = host.wait_ended(1, 3s);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_EQ(ended[0].reason, "killed by signal 11 (SIGSEGV)");
  ASSERT_NE(host.wait_ready(1, ended[0].pid, 3s), 0) << host.output();
  EXPECT_EQ(host.search(kNormal).status, 200);
}

TEST_F(PluginIsolation, ASegfaultCostsOneSearchAndTheRunnerIsBackWithinASecond) {
  Host host(material(), process_mode(2));
  ASSERT_NE(host.wait_ready(1, 0), 0);
  ASSERT_NE(host.wait_ready(2, 0), 0);
  const int host_pid = host.pid();

  const Answer crashed = host.search(kCrash);
  const auto answered = Clock::now();
  ASSERT_EQ(crashed.status, 503) << crashed.describe() << "\n" << host.output();
  EXPECT_LT(crashed.elapsed, 1000ms) << "a crash must be answered at once, not at the deadline";
  const auto [code, diagnostics] = outcome(crashed.body);
  EXPECT_EQ(code, "transient") << crashed.body;
  EXPECT_FALSE(diagnostics.empty()) << crashed.body;

  // The host keeps serving, at once, while the runner restarts.
  EXPECT_EQ(host.get("/metadata").status, 200);
  const Answer other = host.search(kNormal);
  EXPECT_EQ(other.status, 200) << other.describe();

  const auto ended = host.wait_ended(1);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_EQ(ended[0].reason, "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(ended[0].lost, 1);
  EXPECT_LE(ended[0].restart_ms, 1000);
  const int dead_pid = ended[0].pid;
  EXPECT_FALSE(alive(dead_pid));

  const int new_pid = host.wait_ready(ended[0].runner, dead_pid, 3s);
  const auto back = Clock::now();
  ASSERT_NE(new_pid, 0) << "runner " << ended[0].runner << " was not restarted\n" << host.output();
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(back - answered).count(), 1000)
      << "the runner came back more than 1 s after the crash\n"
      << host.output();
  EXPECT_EQ(parent_of(new_pid), host_pid);

  // Searches are answered by both runners again; the host is the same process.
  for (int i = 0; i < 4; ++i) {
    const Answer again = host.search(kNormal);
    EXPECT_EQ(again.status, 200) << again.describe();
  }
  EXPECT_TRUE(host.running());
  EXPECT_EQ(host.pid(), host_pid);

  const auto status = host.plugin_status();
  EXPECT_EQ(number(status.at("deaths_total")), 1) << json::serialize(status);
  EXPECT_EQ(number(status.at("restarts_total")), 1) << json::serialize(status);
  const auto& exits = status.at("recent_exits").as_array();
  ASSERT_EQ(exits.size(), 1U) << json::serialize(status);
  const auto& exit = exits.back().as_object();
  EXPECT_EQ(number(exit.at("runner")), ended[0].runner);
  EXPECT_EQ(number(exit.at("pid")), dead_pid);
  EXPECT_EQ(number(exit.at("signal")), 11);
  EXPECT_EQ(number(exit.at("exit_code")), -1);
  EXPECT_EQ(exit.at("reason"), "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(number(exit.at("calls_lost")), 1);
  EXPECT_EQ(exit.at("expected"), false);
  ASSERT_TRUE(exit.contains("at"));
  EXPECT_TRUE(exit.at("at").is_string() && !exit.at("at").as_string().empty()) << json::serialize(exit);
  for (const auto& r : host.runners()) {
    if (number(r.at("runner")) == ended[0].runner) {
      EXPECT_EQ(number(r.at("pid")), new_pid);
      EXPECT_EQ(r.at("state"), "ready");
    }
  }
}

TEST_F(PluginIsolation, ACrashLosesEveryCallInFlightOnItsRunnerAndSearchesResumeWithinASecond) {
  Host host(material(), process_mode(1));
  const int first = host.wait_ready(1, 0);
  ASSERT_NE(first, 0) << host.output();

  auto slow_search = std::async(std::launch::async, [&] { return host.search(slow(3000)); });
  ASSERT_TRUE(poll_until(
      [&] {
        const auto runners = host.runners();
        return !runners.empty() && number(runners[0].at("calls_in_flight")) == 1;
      },
      3s, 20ms))
      << "the slow search never showed as in flight";

  const Answer crashed = host.search(kCrash);
  const auto answered = Clock::now();
  EXPECT_EQ(crashed.status, 503) << crashed.describe();
  const Answer lost = slow_search.get();
  EXPECT_EQ(lost.status, 503) << lost.describe();
  EXPECT_LT(lost.elapsed, 2500ms) << "the lost call waited for its deadline";

  const auto ended = host.wait_ended(1);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_EQ(ended[0].reason, "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(ended[0].lost, 2);

  // With its only runner gone, the host answers searches again within a second.
  std::optional<milliseconds> resumed;
  poll_until(
      [&] {
        if (host.search(kNormal, 2s).status != 200) return false;
        resumed = std::chrono::duration_cast<milliseconds>(Clock::now() - answered);
        return true;
      },
      5s, 10ms);
  ASSERT_TRUE(resumed) << "no search succeeded within 5 s of the crash\n" << host.output();
  EXPECT_LT(resumed->count(), 1000) << host.output();
  EXPECT_NE(ready_pid(host.output(), 1), first);
}

TEST_F(PluginIsolation, ARunnerThatExitsIsReportedWithItsStatus) {
  Host host(material(), process_mode(2));
  ASSERT_NE(host.wait_ready(1, 0), 0);
  const Answer answer = host.search(exit_with(7));
  EXPECT_EQ(answer.status, 503) << answer.describe();
  const auto ended = host.wait_ended(1);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_EQ(ended[0].reason, "exited with status 7");
  EXPECT_EQ(ended[0].lost, 1);
  EXPECT_NE(host.wait_ready(ended[0].runner, ended[0].pid, 3s), 0) << host.output();
  const auto status = host.plugin_status();
  const auto& exit = status.at("recent_exits").as_array().back().as_object();
  EXPECT_EQ(number(exit.at("signal")), 0) << json::serialize(status);
  EXPECT_EQ(number(exit.at("exit_code")), 7) << json::serialize(status);
  EXPECT_EQ(exit.at("expected"), false);
  EXPECT_EQ(host.search(kNormal).status, 200);
}

TEST_F(PluginIsolation, RestartsBackOffWhenARunnerKeepsCrashing) {
  Host host(material(), process_mode(1));
  int pid = host.wait_ready(1, 0);
  ASSERT_NE(pid, 0) << host.output();
  constexpr int kCrashes = 4;
  for (int i = 0; i < kCrashes; ++i) {
    const Answer crashed = host.search(kCrash);
    EXPECT_EQ(crashed.status, 503) << crashed.describe();
    ASSERT_EQ(host.wait_ended(static_cast<std::size_t>(i + 1)).size(), static_cast<std::size_t>(i + 1))
        << host.output();
    pid = host.wait_ready(1, pid, 10s);
    ASSERT_NE(pid, 0) << "not restarted after crash " << i + 1 << "\n" << host.output();
  }
  const auto ended = ended_lines(host.output());
  ASSERT_EQ(ended.size(), static_cast<std::size_t>(kCrashes));
  EXPECT_LE(ended[0].restart_ms, 1000);
  for (int i = 0; i < kCrashes; ++i) {
    EXPECT_EQ(ended[i].in_a_row, i + 1) << host.output();
    if (i > 0) {
      EXPECT_GT(ended[i].restart_ms, ended[i - 1].restart_ms) << "crash " << i + 1 << " in a row\n" << host.output();
    }
  }
  EXPECT_EQ(host.search(kNormal).status, 200);
  EXPECT_EQ(number(host.plugin_status().at("deaths_total")), kCrashes);
}

// ---- Hang and CPU --------------------------------------------------------------------------------

TEST_F(PluginIsolation, AHungSearchGets504AtItsDeadlineThenItsRunnerIsKilledWithoutBlockingOthers) {
  // The plugin's deadline is the request's minus 500 ms: 1000 ms.
  auto args = process_mode(2);
  args.insert(args.end(), {"--request-deadline-ms", "1500"});
  Host host(material(), args);
  ASSERT_NE(host.wait_ready(1, 0), 0);
  ASSERT_NE(host.wait_ready(2, 0), 0);

  const auto started = Clock::now();
  auto hung = std::async(std::launch::async, [&] { return host.search(kHang); });
  ASSERT_TRUE(poll_until(
      [&] {
        for (const auto& r : host.runners()) {
          if (number(r.at("calls_in_flight")) == 1) return true;
        }
        return false;
      },
      900ms, 10ms));

  // Other searches go on meanwhile.
  const Answer other = host.search(kSlow);
  EXPECT_EQ(other.status, 200) << other.describe();
  EXPECT_LT(other.elapsed, 800ms) << "a search waited behind the hung one";
  EXPECT_EQ(host.get("/metadata").status, 200);

  const Answer answer = hung.get();
  EXPECT_EQ(answer.status, 504) << answer.describe();
  EXPECT_EQ(outcome(answer.body).first, "timeout") << answer.body;
  EXPECT_GE(answer.elapsed, 900ms);
  EXPECT_LT(answer.elapsed, 1450ms) << "the hung search was not answered at its deadline";

  // Deadline (1 s) + plugin-kill-after-ms (1 s): the runner is killed and replaced.
  const auto ended = host.wait_ended(1, 5s);
  const auto killed_after = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_EQ(ended[0].reason, "killed: a call ran past its deadline by more than 1000 ms (plugin-kill-after-ms)");
  EXPECT_GE(killed_after, 1900ms);
  EXPECT_LT(killed_after, 3000ms);
  EXPECT_TRUE(poll_until([&] { return !alive(ended[0].pid); }, 1s)) << "the hung runner still runs";
  EXPECT_NE(host.wait_ready(ended[0].runner, ended[0].pid, 3s), 0) << host.output();
  EXPECT_EQ(host.search(kNormal).status, 200);
  const auto status = host.plugin_status();
  EXPECT_THAT(std::string(status.at("recent_exits").as_array().back().at("reason").as_string()),
              HasSubstr("plugin-kill-after-ms"));
}

TEST_F(PluginIsolation, PluginCpuSecondsEndsARunnerThatSpins) {
  auto args = process_mode(2);
  args.insert(args.end(), {"--plugin-cpu-seconds", "1", "--request-deadline-ms", "10000"});
  Host host(material(), args);
  ASSERT_NE(host.wait_ready(1, 0), 0);
  const Answer answer = host.search(kSpin);
  EXPECT_EQ(answer.status, 503) << answer.describe();
  EXPECT_LT(answer.elapsed, 5000ms) << "the CPU limit did not end the runner before the kill-after";
  const auto ended = host.wait_ended(1);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  // docs/plugins/isolation.md: past plugin-cpu-seconds "the kernel sends SIGXCPU". (With the hard
  // limit equal to the soft one, Linux sends SIGKILL instead, which reads like any other kill.)
  EXPECT_EQ(ended[0].reason, "killed by signal 24 (SIGXCPU)");
  EXPECT_NE(host.wait_ready(ended[0].runner, ended[0].pid, 3s), 0) << host.output();
  EXPECT_EQ(host.search(kNormal).status, 200);
}

// ---- Memory ------------------------------------------------------------------------------------

TEST_F(PluginIsolation, ALeakingRunnerIsRecycledAndTheHostDoesNotGrow) {
  auto args = process_mode(2);
  args.insert(args.end(), {"--plugin-memory-limit-mb", "200"});
  Host host(material(), args);
  ASSERT_NE(host.wait_ready(1, 0), 0);
  ASSERT_NE(host.wait_ready(2, 0), 0);
  ASSERT_EQ(host.search(kNormal).status, 200);
  const uint64_t host_before = rss_kib(host.pid());

  // 80 MiB a call: a runner is past 200 MiB by its third leak.
  bool recycled = false;
  for (int i = 0; i < 20 && !recycled; ++i) {
    const Answer answer = host.search(leak(80));
    EXPECT_EQ(answer.status, 200) << "leak " << i + 1 << ": " << answer.describe();
    recycled = poll_until([&] { return host.output().find("recycled: resident memory") != std::string::npos; },
                          i < 5 ? 50ms : 500ms);
  }
  ASSERT_TRUE(recycled) << host.output();
  const auto ended = host.wait_ended(1);
  ASSERT_GE(ended.size(), 1U) << host.output();
  static const std::regex recycle(R"(^recycled: resident memory (\d+) MiB above plugin-memory-limit-mb \(200 MiB\)$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(ended[0].reason, m, recycle)) << ended[0].reason;
  EXPECT_GT(std::stoi(m[1]), 200);
  EXPECT_EQ(ended[0].lost, 0);
  EXPECT_NE(host.wait_ready(ended[0].runner, ended[0].pid, 3s), 0) << host.output();

  const uint64_t host_after = rss_kib(host.pid());
  EXPECT_LT(host_after, host_before + 32 * 1024)
      << "the host grew from " << host_before / 1024 << " MiB to " << host_after / 1024 << " MiB";
  EXPECT_EQ(host.search(kNormal).status, 200);

  const auto status = host.plugin_status();
  EXPECT_EQ(number(status.at("deaths_total")), 0) << "a recycle is not a death: " << json::serialize(status);
  const auto& exit = status.at("recent_exits").as_array().at(0).as_object();
  EXPECT_EQ(exit.at("expected"), true) << json::serialize(status);
  EXPECT_THAT(std::string(exit.at("reason").as_string()), HasSubstr("recycled"));
  for (const auto& r : host.runners()) {
    if (number(r.at("runner")) == ended[0].runner) {
      EXPECT_LT(number(r.at("rss_bytes")), 200LL << 20);
    }
  }
}

TEST_F(PluginIsolation, AnAddressSpaceLimitTurnsALeakIntoFailedSearchesNotAFailedHost) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitized runner reserves terabytes of address space: RLIMIT_AS cannot be tested under it";
#endif
  auto args = process_mode(1);
  args.insert(args.end(), {"--plugin-address-space-mb", "1024"});
  Host host(material(), args);
  ASSERT_NE(host.wait_ready(1, 0), 0) << host.output();
  ASSERT_EQ(host.search(kNormal).status, 200);
  long refused = 0;
  for (int i = 0; i < 8 && refused == 0; ++i) {
    const Answer answer = host.search(leak(256));
    if (answer.status != 200) refused = answer.status;
  }
  EXPECT_THAT(refused, testing::AnyOf(502L, 503L)) << "1 GiB of address space held 2 GiB of leaks\n" << host.output();
  EXPECT_TRUE(host.running());
  EXPECT_EQ(host.get("/metadata").status, 200);
  std::optional<long> next;
  poll_until(
      [&] {
        next = host.search(kNormal, 2s).status;
        return *next == 200;
      },
      5s, 20ms);
  EXPECT_EQ(next, 200L) << host.output();
}

// ---- Answers too large ---------------------------------------------------------------------------

TEST_F(PluginIsolation, AFloodIsRefusedByTheRunnerAndTheHostNeverHoldsIt) {
  auto args = process_mode(2);
  args.insert(args.end(), {"--request-deadline-ms", "15000"});
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitized, two million slots take longer to build than the deadline: a tenth of them over
  // a smaller limit.
  args.insert(args.end(), {"--plugin-max-answer-bytes", "4194304"});
  const std::string absurd = flood(200);
#else
  const std::string absurd = kFlood;  // two million slots, some 100 MB
#endif
  Host host(material(), args);
  const int one = host.wait_ready(1, 0);
  const int two = host.wait_ready(2, 0);
  ASSERT_TRUE(one != 0 && two != 0) << host.output();
  ASSERT_EQ(host.search(kNormal).status, 200);
  const uint64_t host_before = rss_kib(host.pid());

  const Answer answer = host.search(absurd, 30s);
  EXPECT_EQ(answer.status, 502) << answer.describe();
  const auto [code, diagnostics] = outcome(answer.body);
  EXPECT_EQ(code, "exception") << answer.body;
  EXPECT_THAT(diagnostics, HasSubstr("plugin-max-answer-bytes")) << answer.body;

  const uint64_t host_after = rss_kib(host.pid());
  EXPECT_LT(host_after, host_before + 32 * 1024)
      << "the host grew from " << host_before / 1024 << " MiB to " << host_after / 1024 << " MiB";
  EXPECT_EQ(host.search(kNormal).status, 200);
  EXPECT_TRUE(ended_lines(host.output()).empty()) << "a refused answer is no reason to end a runner\n" << host.output();
  EXPECT_EQ(ready_pid(host.output(), 1), one);
  EXPECT_EQ(ready_pid(host.output(), 2), two);
}

TEST_F(PluginIsolation, AFloodIsRefusedInProcessToo) {
  Host host(material(), {"--plugin-max-answer-bytes", "1048576"});
  const Answer answer = host.search(flood(50));  // fifty thousand slots, some 2.6 MB
  EXPECT_EQ(answer.status, 502) << answer.describe();
  const auto [code, diagnostics] = outcome(answer.body);
  EXPECT_EQ(code, "exception") << answer.body;
  EXPECT_THAT(diagnostics, HasSubstr("plugin-max-answer-bytes")) << answer.body;
  EXPECT_TRUE(host.running());
  const Answer normal = host.search(kNormal);
  EXPECT_EQ(normal.status, 200) << normal.describe();
  EXPECT_EQ(slots_in(normal.body), 3);
}

TEST_F(PluginIsolation, TheSameLimitAppliesInProcessMode) {
  auto args = process_mode(1);
  args.insert(args.end(), {"--plugin-max-answer-bytes", "1048576"});
  Host host(material(), args);
  ASSERT_NE(host.wait_ready(1, 0), 0) << host.output();
  const Answer answer = host.search(flood(50));
  EXPECT_EQ(answer.status, 502) << answer.describe();
  EXPECT_THAT(outcome(answer.body).second, HasSubstr("plugin-max-answer-bytes")) << answer.body;
  EXPECT_EQ(host.search(kNormal).status, 200);
  EXPECT_TRUE(ended_lines(host.output()).empty()) << host.output();
}

// ---- Garbage on the runner's socket --------------------------------------------------------------

TEST_F(PluginIsolation, GarbageOnTheRunnerSocketDropsThatRunnerOnly) {
  Host host(material(), process_mode(2));
  ASSERT_NE(host.wait_ready(1, 0), 0);
  ASSERT_NE(host.wait_ready(2, 0), 0);
  const int host_pid = host.pid();

  const Answer answer = host.search(kGarbage);
  EXPECT_EQ(answer.status, 503) << answer.describe();
  EXPECT_LT(answer.elapsed, 1000ms);
  const auto ended = host.wait_ended(1);
  ASSERT_EQ(ended.size(), 1U) << host.output();
  EXPECT_THAT(ended[0].reason, testing::StartsWith("dropped: malformed frame ("));
  EXPECT_EQ(ended[0].lost, 1);
  EXPECT_TRUE(poll_until([&] { return !alive(ended[0].pid); }, 2s)) << "the dropped runner still runs";
  EXPECT_NE(host.wait_ready(ended[0].runner, ended[0].pid, 3s), 0) << host.output();

  for (int i = 0; i < 3; ++i) {
    const Answer next = host.search(kNormal);
    EXPECT_EQ(next.status, 200) << next.describe();
  }
  EXPECT_TRUE(host.running());
  EXPECT_EQ(host.pid(), host_pid);
  const auto status = host.plugin_status();
  EXPECT_THAT(std::string(status.at("recent_exits").as_array().back().at("reason").as_string()),
              HasSubstr("malformed frame"));
}

// ---- Configuration -------------------------------------------------------------------------------

std::vector<std::string> serve_command(Material& material, const fs::path& plugin, const std::string& config,
                                       const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      sas::test::bin("sas-host").string(),
      "serve",
      "--plugin",
      plugin.string(),
      "--plugin-config",
      config,
      "--store",
      "sqlite:" + (material.dir / ("refused-" + std::to_string(++material.hosts) + ".db")).string(),
      "--listen",
      "127.0.0.1:0",
      "--allow-plain-http"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST_F(PluginIsolation, ABadIsolationValueIsRefusedNamingTheKey) {
  const auto bad = sas::test::run(
      serve_command(material(), sas::test::test_plugin("misbehaving"), "", {"--plugin-isolation", "bogus"}), 30s);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("plugin-isolation"));
  EXPECT_THAT(bad.err, HasSubstr("bogus"));
  EXPECT_THAT(bad.err, testing::Not(HasSubstr("listening on")));

  // The same key in a --config file.
  const fs::path conf = material().dir / "bogus.conf";
  sas::test::write_file(conf, "plugin-isolation = bogus\n");
  const auto in_file = sas::test::run(
      serve_command(material(), sas::test::test_plugin("misbehaving"), "", {"--config", conf.string()}), 30s);
  EXPECT_EQ(in_file.exit_code, 2) << in_file.err;
  EXPECT_THAT(in_file.err, HasSubstr("plugin-isolation"));

  const auto no_runner =
      sas::test::run(serve_command(material(), sas::test::test_plugin("misbehaving"), "", process_mode(0)), 30s);
  EXPECT_EQ(no_runner.exit_code, 2) << no_runner.err;
  EXPECT_THAT(no_runner.err, HasSubstr("plugin-runners"));
}

TEST_F(PluginIsolation, TheIsolationOptionsAreConfigKeys) {
  const fs::path conf = material().dir / "isolation.conf";
  sas::test::write_file(conf,
                        "plugin-isolation = process\nplugin-runners = 1\nplugin-kill-after-ms = 1000\n"
                        "plugin-memory-limit-mb = 512\nplugin-cpu-seconds = 600\n"
                        "plugin-max-answer-bytes = 1048576\n"
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
                        // a sanitized runner cannot start under RLIMIT_AS
                        "plugin-address-space-mb = 4096\n"
#endif
  );
  Host host(material(), {"--config", conf.string()});
  ASSERT_NE(host.wait_ready(1, 0), 0) << host.output();
  const Answer answer = host.search(kNormal);
  EXPECT_EQ(answer.status, 200) << answer.describe();
  EXPECT_EQ(ready_lines(host.output()).size(), 1U) << host.output();
  const auto status = host.plugin_status();
  EXPECT_EQ(status.at("isolation"), "process");
  EXPECT_EQ(host.runners().size(), 1U) << json::serialize(status);
  EXPECT_THAT(outcome(host.search(flood(50)).body).second, HasSubstr("plugin-max-answer-bytes"));
}

// The message of the last error line of a run that failed.
std::string error_line(const std::string& err) {
  std::string found;
  for (const auto& line : sas::test::parse_host_log(err)) {
    if (line.json && line.level == "error") found = line.msg;
  }
  return found;
}

TEST_F(PluginIsolation, APluginThatCannotLoadGivesTheSameErrorInBothModes) {
  struct Case {
    fs::path plugin;
    std::string config;
    std::string words;
  };
  for (const auto& c : std::vector<Case>{
           {sas::test::test_plugin("refuses_host"), "", "this plugin needs ABI 3.x"},
           {material().dir / "no-such-plugin.so", "", "no-such-plugin.so"},
           {sas::test::test_plugin("misbehaving"), "init=fail", "misbehaving told to fail at init"},
           {sas::test::test_plugin("protobuf_other_minor"), "", "incompatible protobuf"},
       }) {
    SCOPED_TRACE(c.plugin.string() + " " + c.config);
    const auto in_process = sas::test::run(serve_command(material(), c.plugin, c.config, {}), 30s);
    const auto isolated = sas::test::run(serve_command(material(), c.plugin, c.config, process_mode(2)), 30s);
    EXPECT_GT(in_process.exit_code, 0) << in_process.err;
    EXPECT_EQ(isolated.exit_code, in_process.exit_code) << isolated.err;
    EXPECT_THAT(in_process.err, HasSubstr(c.words));
    const std::string line = error_line(in_process.err);
    ASSERT_FALSE(line.empty()) << in_process.err;
    EXPECT_THAT(sas::test::host_log_text(isolated.err), HasSubstr(line)) << "in-process said:\n" << in_process.err;
    EXPECT_THAT(isolated.err, testing::Not(HasSubstr("listening on")));
  }
}

// This build's runner, where the host finds it by default (lib/sas/ of the build tree).
fs::path runner_path() { return sas::test::build_dir() / "lib/sas/sas-plugin-runner"; }

// Given a runner with `plugin-runner`, the host leaves the protobuf check to that runner (it may be
// built with another protobuf): this build's runner makes it, with the same message.
TEST_F(PluginIsolation, ARunnerGivenByPathChecksThePluginsProtobufItself) {
  const fs::path plugin = sas::test::test_plugin("protobuf_other_minor");
  const auto in_process = sas::test::run(serve_command(material(), plugin, "", {}), 30s);
  auto extra = process_mode(1);
  extra.insert(extra.end(), {"--plugin-runner", runner_path().string()});
  const auto isolated = sas::test::run(serve_command(material(), plugin, "", extra), 30s);
  EXPECT_GT(isolated.exit_code, 0) << isolated.err;
  const std::string line = error_line(in_process.err);
  ASSERT_THAT(line, HasSubstr("incompatible protobuf")) << in_process.err;
  EXPECT_THAT(sas::test::host_log_text(isolated.err), HasSubstr(line.substr(line.find(plugin.string()))))
      << isolated.err;
  EXPECT_THAT(isolated.err, testing::Not(HasSubstr("listening on")));
}

TEST_F(PluginIsolation, APluginThatCrashesAtInitIsAClearErrorInProcessMode) {
  const auto started = Clock::now();
  const auto isolated = sas::test::run(
      serve_command(material(), sas::test::test_plugin("misbehaving"), "init=crash", process_mode(2)), 30s);
  EXPECT_GT(isolated.exit_code, 0) << "the host itself must not die of the plugin's crash: " << isolated.err;
  EXPECT_THAT(isolated.err, HasSubstr("SIGSEGV"));
  EXPECT_THAT(isolated.err, testing::Not(HasSubstr("listening on")));
  EXPECT_LT(Clock::now() - started, 10s) << "the host retried a plugin that cannot start";
}

}  // namespace
