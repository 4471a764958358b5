#include "connection.hpp"

#include <thread>

namespace sas::host::store::sqlite {

int64_t to_micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_micros(int64_t micros) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

Connection::Connection(const std::string& path, std::string url, bool create) : url_(std::move(url)) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  db_.reset(db);  // closed on every path out, including a throw below
  if (rc != SQLITE_OK) {
    throw StoreError("--store " + url_ + ": cannot open: " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }
  // Another host process may hold the write lock for a commit; wait for it rather than fail.
  sqlite3_busy_timeout(db, 10000);
  if (create) {
    // A property of the file. Switching to WAL needs the file to itself, and SQLite answers
    // SQLITE_BUSY at once, without its busy handler, while another process opening the same new
    // file does the same: retry within the busy timeout.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      const int mode = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
      if (mode == SQLITE_OK) break;
      if ((mode != SQLITE_BUSY && mode != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= until) {
        exec("PRAGMA journal_mode=WAL");  // throws with SQLite's message
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  exec("PRAGMA synchronous=FULL");  // per connection
}

void Connection::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw StoreError("--store " + url_ + ": " + message);
  }
}

void Connection::fail(std::string_view what) const {
  throw StoreError("--store " + url_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_.get()));
}

Statement::Statement(Connection& connection, const char* sql) : connection_(connection) {
  if (sqlite3_prepare_v2(connection.get(), sql, -1, &statement_, nullptr) != SQLITE_OK)
    connection.fail("cannot prepare");
}

Statement& Statement::bind(int index, std::string_view text) {
  check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  check(sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  return *this;
}

// NULL for an empty text: "none" reads better in an audit than "".
Statement& Statement::bind_or_null(int index, std::string_view text) {
  if (text.empty()) return bind_null(index);
  return bind(index, text);
}

Statement& Statement::bind(int index, int64_t value) {
  check(sqlite3_bind_int64(statement_, index, value));
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(sqlite3_bind_null(statement_, index));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  connection_.fail("query failed");
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::string Statement::text(int column) const {
  const void* data = sqlite3_column_blob(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

void Statement::check(int rc) {
  if (rc != SQLITE_OK) connection_.fail("cannot bind");
}

}  // namespace sas::host::store::sqlite
