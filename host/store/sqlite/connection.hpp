// What the SQLite repositories share: one connection with its lock, prepared statements,
// BEGIN IMMEDIATE transactions, and times as microseconds since the epoch (UTC).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sas/host/store/error.hpp>
#include <string>
#include <string_view>

namespace sas::host::store::sqlite {

int64_t to_micros(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point from_micros(int64_t micros);

// One connection, for one repository: its multi-statement transactions never mix with another
// repository's statements. Every use holds `mutex()`: SQLite serializes calls, but a
// transaction spans several. WAL journal, synchronous=FULL (the WAL is synced at every commit:
// a returned write survives a power loss).
class Connection {
 public:
  // `url` names the store in error messages.
  Connection(const std::string& path, std::string url, bool create = false);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const { return db_.get(); }
  std::mutex& mutex() { return mutex_; }
  const std::string& url() const { return url_; }
  void exec(const char* sql);
  [[noreturn]] void fail(std::string_view what) const;

 private:
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db_{nullptr, &sqlite3_close};
  std::string url_;
  std::mutex mutex_;
};

// One prepared statement, finalized on every path out.
class Statement {
 public:
  Statement(Connection& connection, const char* sql);
  Statement(Connection& connection, const std::string& sql) : Statement(connection, sql.c_str()) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }

  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_or_null(int index, std::string_view text);  // NULL for ""
  Statement& bind(int index, int64_t value);
  Statement& bind_null(int index);
  bool step();   // true: a row; false: done
  void reset();  // ready to run again with new bindings
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  int type(int column) const { return sqlite3_column_type(statement_, column); }  // SQLITE_INTEGER, ...
  std::string text(int column) const;
  int changes() const { return sqlite3_changes(connection_.get()); }

 private:
  void check(int rc);
  Connection& connection_;
  sqlite3_stmt* statement_ = nullptr;
};

// BEGIN IMMEDIATE (the write lock at once, so a check and the write it leads to see the same
// state across processes) ... COMMIT, rolled back unless commit() was reached.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) { connection_.exec("BEGIN IMMEDIATE"); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    connection_.exec("COMMIT");
    done_ = true;
  }

 private:
  Connection& connection_;
  bool done_ = false;
};

// The schema this host writes; brings an older file to it.
int schema_version(Connection& connection);
void migrate(Connection& connection);

}  // namespace sas::host::store::sqlite
