#include "postgres_cluster.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <sas_test/support.hpp>
#include <stdexcept>
#include <vector>

namespace sas::test {
namespace fs = std::filesystem;

namespace {

bool as_root() { return ::geteuid() == 0; }

// argv as the cluster's owner: `postgres` through runuser when we are root.
std::vector<std::string> as_owner(std::vector<std::string> argv) {
  if (!as_root()) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

PostgresCluster::PostgresCluster() {
  const char* env = std::getenv("SAS_PG_BIN");
  bin_ = env != nullptr && env[0] != '\0' ? env : "/usr/lib/postgresql/15/bin";
  if (!fs::exists(fs::path(bin_) / "initdb") || !fs::exists(fs::path(bin_) / "pg_ctl")) {
    throw std::runtime_error("PostgreSQL 15 is not installed: no " + bin_ +
                             "/initdb (scripts/deps.sh installs postgresql-15; SAS_PG_BIN names another bin dir)");
  }
  dir_ = make_temp_dir("sas-pg");
  if (as_root()) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("no `postgres` user to run initdb as (package postgresql-15)");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + dir_.string());
  }
  const std::string data = (dir_ / "data").string();

  // The watchdog: forked before anything is started, it waits for the end of a pipe that only
  // this process holds, then stops the cluster and removes its directory.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const std::string cleanup = (as_root() ? "/usr/sbin/runuser -u postgres -- " : "") + quoted(bin_ + "/pg_ctl") +
                              " -D " + quoted(data) + " -m immediate -w stop >/dev/null 2>&1; rm -rf " +
                              quoted(dir_.string());
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setsid();  // out of the test's process group: a kill of the group does not reach it
    ::close(fds[1]);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    char c = 0;
    for (;;) {
      const ssize_t n = ::read(fds[0], &c, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    ::execl("/bin/sh", "sh", "-c", cleanup.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  watchdog_ = pid;
  watchdog_pipe_ = fds[1];

  const RunResult init = run(as_owner({bin_ + "/initdb", "-D", data, "-A", "trust", "-U", "sas", "--no-sync",
                                       "--no-instructions", "-E", "UTF8", "--locale=C"}));
  if (init.exit_code != 0) {
    stop();
    throw std::runtime_error("initdb failed: " + init.out + init.err);
  }
  std::string last_error;
  for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
    port_ = free_port();
    const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string() +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" +
                                " -c max_connections=200";
    const RunResult start = run(as_owner(
        {bin_ + "/pg_ctl", "-D", data, "-l", (dir_ / "log").string(), "-w", "-t", "60", "-o", options, "start"}));
    if (start.exit_code == 0) {
      running_ = true;
    } else {
      last_error = start.out + start.err;
      try {
        last_error += read_file(dir_ / "log");
      } catch (const std::exception&) {
      }
    }
  }
  if (!running_) {
    stop();
    throw std::runtime_error("pg_ctl start failed: " + last_error);
  }
}

PostgresCluster::~PostgresCluster() { stop(); }

PostgresCluster& PostgresCluster::shared() {
  static PostgresCluster cluster;
  return cluster;
}

std::string PostgresCluster::url(const std::string& database) const {
  return "postgresql://sas@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresCluster::create_database() {
  const std::string name = "t" + std::to_string(++databases_);
  exec("postgres", "CREATE DATABASE " + name);
  return url(name);
}

void PostgresCluster::exec(const std::string& database, const std::string& sql) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> db(PQconnectdb(url(database).c_str()), &PQfinish);
  if (PQstatus(db.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to " + url(database) + ": " + PQerrorMessage(db.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(db.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  }
}

std::vector<std::vector<std::string>> PostgresCluster::rows(const std::string& database, const std::string& sql,
                                                            const std::string& null_text) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> db(PQconnectdb(url(database).c_str()), &PQfinish);
  if (PQstatus(db.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to " + url(database) + ": " + PQerrorMessage(db.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(db.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  }
  std::vector<std::vector<std::string>> out;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    auto& row = out.emplace_back();
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      row.push_back(PQgetisnull(result.get(), r, c) ? null_text : std::string(PQgetvalue(result.get(), r, c)));
    }
  }
  return out;
}

void PostgresCluster::stop() {
  if (running_) {
    run(as_owner({bin_ + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"}));
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  if (watchdog_ > 0) {
    ::kill(watchdog_, SIGKILL);  // its work is done
    ::close(watchdog_pipe_);
    ::waitpid(watchdog_, nullptr, 0);
    watchdog_ = -1;
  }
}

}  // namespace sas::test
