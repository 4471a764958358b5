// What both agenda generators (practitioners, SOS Médecins) write with: a portable random stream
// and an agenda file with prepared inserts. Internal to sas_sim_core.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace sas::sim::detail {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t n) { return engine_() % n; }  // portable, unlike std:: distributions
  bool chance(int percent) { return below(100) < static_cast<uint64_t>(percent); }
  template <typename T, size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[below(N)];
  }
  std::string digits(int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out.push_back(static_cast<char>('0' + below(10)));
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

// An agenda file being written; statements are finalized with it.
class AgendaFile {
 public:
  enum class Mode { create, existing };  // create: replace any file there; existing: open it read-write

  AgendaFile(const std::filesystem::path& path, Mode mode) {
    if (mode == Mode::create) std::filesystem::remove(path);
    const int flags = SQLITE_OPEN_READWRITE | (mode == Mode::create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open agenda " + path.string() + ": " + message);
    }
  }
  AgendaFile(const AgendaFile&) = delete;
  AgendaFile& operator=(const AgendaFile&) = delete;
  ~AgendaFile() {
    for (auto* statement : statements_) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(std::string("agenda generation failed: ") + message);
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot prepare: ") + sqlite3_errmsg(db_));
    }
    statements_.push_back(statement);
    return statement;
  }
  // Binds the values in order (empty strings as SQL NULL), steps and resets.
  template <typename... Values>
  void insert(sqlite3_stmt* statement, const Values&... values) {
    int index = 0;
    (bind(statement, ++index, values), ...);
    if (sqlite3_step(statement) != SQLITE_DONE) {
      throw std::runtime_error(std::string("insert failed: ") + sqlite3_errmsg(db_));
    }
    sqlite3_reset(statement);
  }

 private:
  static void bind(sqlite3_stmt* s, int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(s, i);
    } else {
      sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
  }
  static void bind(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
  static void bind(sqlite3_stmt* s, int i, int v) { sqlite3_bind_int(s, i, v); }

  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

}  // namespace sas::sim::detail
