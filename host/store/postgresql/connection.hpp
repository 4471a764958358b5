// What the PostgreSQL repositories share: a small pool of libpq connections, parameterised
// statements with binary results, READ COMMITTED transactions, advisory locks keyed by a
// stable hash, and times as microseconds since the epoch (UTC) in BIGINT columns.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sas/host/store/error.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sas::host::store::postgresql {

int64_t to_micros(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point from_micros(int64_t micros);

// `postgresql://USER[:PASSWORD]@HOST:PORT/DB?...` as given to --store: `pool=N` (this host's
// connections, default 4) is taken out before the rest goes to libpq; `display` is the URL
// without its password (the only form that goes into a message).
struct Target {
  std::string conninfo;  // for libpq
  std::string display;   // for messages and logs
  std::size_t pool_size = 4;
};
Target parse_url(const std::string& url);

// One parameter: text (NULL when empty optional) or raw bytes (BYTEA).
struct Param {
  std::optional<std::string> value;
  bool binary = false;
};
Param p(std::string_view text);
Param p(int64_t value);
Param bytes(std::string_view value);
Param or_null(std::string_view text);  // NULL for ""
Param null();

// A query's result, rows in binary format: BIGINT/INTEGER/BOOLEAN read with integer(),
// TEXT/BYTEA with text().
class Result {
 public:
  explicit Result(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  int64_t integer(int row, int column) const;
  std::string text(int row, int column) const;
  int64_t affected() const;  // rows an INSERT/UPDATE/DELETE touched
  const PGresult* raw() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

// One connection. Every failure throws StoreError naming the store (password removed).
class Connection {
 public:
  Connection(const std::string& conninfo, std::string display);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result exec(const char* sql, const std::vector<Param>& params = {});
  void exec_script(const std::string& sql);  // several statements, no parameters
  bool broken() const { return PQstatus(db_.get()) != CONNECTION_OK; }
  // Connected and outside any transaction: fit to go back to the pool.
  bool reusable() const { return !broken() && PQtransactionStatus(db_.get()) == PQTRANS_IDLE; }
  const std::string& display() const { return display_; }
  [[noreturn]] void fail(std::string_view what, const PGresult* result = nullptr) const;

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> db_{nullptr, &PQfinish};
  std::string display_;
};

// Up to `size` connections, opened when first needed; a caller waits for a free one. A
// connection that broke (server restarted) is dropped and a new one opened next time.
class Pool {
 public:
  explicit Pool(Target target) : target_(std::move(target)) {}
  const Target& target() const { return target_; }

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> connection) : pool_(pool), connection_(std::move(connection)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(connection_)); }
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Pool& pool_;
    std::unique_ptr<Connection> connection_;
  };
  Lease acquire();

 private:
  void give_back(std::unique_ptr<Connection> connection);
  Target target_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

// BEGIN (READ COMMITTED: each statement sees what committed before it started) ... COMMIT,
// rolled back unless commit() was reached.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) { connection_.exec("BEGIN"); }
  // For a transaction the caller began itself (e.g. BEGIN ISOLATION LEVEL ...).
  enum AlreadyBegun { already_begun };
  Transaction(Connection& connection, AlreadyBegun) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit() {
    connection_.exec("COMMIT");
    done_ = true;
  }

 private:
  Connection& connection_;
  bool done_ = false;
};

// A transaction-scoped advisory lock on (purpose, key), through a 64-bit FNV-1a hash: two
// keys that collide only wait for each other. Released at COMMIT or ROLLBACK.
int64_t lock_key(std::string_view purpose, std::string_view key);
void advisory_lock(Connection& connection, std::string_view purpose, std::string_view key);

// The schema this host writes; brings an older database to it (each migration in one
// transaction, serialized across hosts by an advisory lock).
int migrate(Connection& connection);
int schema_version(Connection& connection);

}  // namespace sas::host::store::postgresql
