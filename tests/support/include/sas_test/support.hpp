// What every test needs: where things are, a free loopback port, and child processes that
// are always stopped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sas::test {

std::filesystem::path source_dir();
std::filesystem::path build_dir();                           // mirrors the install tree: bin/, lib/, lib/sas/plugins/
std::filesystem::path ig_dir();                              // ../shared/ig/ans.fhir.fr.sas-1.2.0
std::filesystem::path bin(const std::string& tool);          // build_dir()/bin/tool
std::filesystem::path plugin(const std::string& name);       // lib/sas/plugins/libNAME.so
std::filesystem::path test_plugin(const std::string& name);  // lib/sas/test-plugins/libNAME.so

// A fresh, empty directory under the system temp dir, removed by the caller if wanted.
std::filesystem::path make_temp_dir(const std::string& prefix);

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content);

struct RunResult {
  int exit_code = -1;  // -1: killed or could not start
  std::string out;
  std::string err;
};

// Runs a program to completion (killed after `timeout`), capturing stdout and stderr.
RunResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(120));

// A background process (e.g. a server), stopped by stop() or the destructor.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then SIGKILL after `grace`; returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  void kill_now();             // SIGKILL
  std::string output() const;  // stdout+stderr so far
  // Polls the output until it contains `marker` (true), the process exits or `timeout` passes
  // (false): how a test waits for a server's "listening on" line.
  bool wait_for_output(std::string_view marker, std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::filesystem::path log_;
};

// Reads an SQLite file (read-only, waiting up to 5 s on a writer's lock): every row of `query`,
// each column as text, SQL NULL as `null_text`. Throws with the SQL error on failure.
std::vector<std::vector<std::string>> sqlite_rows(const std::filesystem::path& db, const std::string& query,
                                                  const std::string& null_text = "");

// Runs SQL statements on an SQLite file (created if missing). Throws with the SQL error.
void sqlite_exec(const std::filesystem::path& db, const std::string& sql);

// Polls until a TCP connect to 127.0.0.1:port succeeds or the timeout passes.
bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// Where the plugin of a `sas-host serve` under test runs: "process" when the environment has
// SAS_TEST_PLUGIN_ISOLATION=process (the e2e tests registered a second time as "isolated.*",
// tests/CMakeLists.txt: sas_also_isolated), else "in-process". Any other value throws.
std::string plugin_isolation();
// What a harness appends to its `sas-host serve` command line: {} in-process, else
// {"--plugin-isolation", "process"}.
std::vector<std::string> plugin_isolation_args();
// Throws std::runtime_error (with the log) unless the log of a started `sas-host serve` shows its
// plugin loaded in that mode ("loaded (ABI x.y, process)" and "plugin runner 1 (pid N) ready", or
// "loaded (ABI x.y, in-process)"), waiting up to `timeout` for those lines: a test meant to run in
// process mode fails rather than silently running in-process. Then prints
// "sas-test: sas-host serve plugin-isolation=MODE" on stdout, which the isolated.* registrations
// refuse for MODE in-process (the variable did not reach the test).
void expect_plugin_isolation(ChildProcess& serve, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The SAS platform's INT_R03 Appointment endpoint, played by `sas-sim serve` over mutual TLS with
// the test PKI in `pki` (server.pem, server-key.pem, ca.pem), recording into `db`.
struct SimPlatformOptions {
  uint16_t port = 0;
  std::filesystem::path pki;
  std::filesystem::path db;
  std::string fail = "none";                  // --fail MODE
  std::vector<std::string> allowed_subjects;  // --allow-client-subject, each
  bool validate = true;                       // --ig: validate what arrives against the IG
  std::vector<std::string> extra;             // more options, last
  std::vector<std::string> launcher;          // put before the command (e.g. setpriv)
};
// Started and listening; retried while the port is still held by a previous run. Throws with the
// simulator's output when it does not start.
std::unique_ptr<ChildProcess> start_sim_platform(const SimPlatformOptions& options);

}  // namespace sas::test
