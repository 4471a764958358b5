// A throw-away PostgreSQL 15 cluster for tests: initdb (as `postgres` when run as root, since
// initdb refuses root) into a fresh directory under the temp dir, started on a free
// 127.0.0.1 port with its socket in that directory, no fsync. Stopped and removed by the
// destructor; if the test process dies first (crash, kill -9, timeout), a watchdog process it
// forked notices the end of its pipe and does the same. Missing PostgreSQL binaries throw:
// the test fails, it is not skipped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sas::test {

class PostgresCluster {
 public:
  PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  ~PostgresCluster();

  // One cluster per test process, started on first use, stopped at exit.
  static PostgresCluster& shared();

  uint16_t port() const { return port_; }
  // postgresql://sas@127.0.0.1:PORT/DB
  std::string url(const std::string& database) const;
  // A new empty database; returns its URL.
  std::string create_database();
  // Runs SQL (several statements allowed) on `database`; throws with the server's message.
  void exec(const std::string& database, const std::string& sql) const;
  // Every row of a query, each column as text, SQL NULL as `null_text`.
  std::vector<std::vector<std::string>> rows(const std::string& database, const std::string& sql,
                                             const std::string& null_text = "") const;
  void stop();  // idempotent

 private:
  std::filesystem::path dir_;
  std::string bin_;
  uint16_t port_ = 0;
  pid_t watchdog_ = -1;
  int watchdog_pipe_ = -1;
  bool running_ = false;
  unsigned databases_ = 0;
};

}  // namespace sas::test
