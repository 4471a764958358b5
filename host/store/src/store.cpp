#include <sqlite3.h>

#include <sas/host/store/store.hpp>

namespace sas::host {
namespace {

constexpr int kSchemaVersion = 1;

// Migrations in order; entry i brings the schema from version i to i+1. Only ever append.
constexpr const char* kMigrations[] = {
    "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO host_meta VALUES ('created_by', 'sas-host');",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string url, const std::string& path) : url_(std::move(url)) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    handle_.reset(db);  // closed on every path out, including a throw below
    db_ = db;
    if (rc != SQLITE_OK) {
      throw StoreError("--store " + url_ + ": cannot open: " + (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"));
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    migrate();
  }

  std::string url() const override { return url_; }
  std::string backend() const override { return "sqlite"; }
  int schema_version() override {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &statement, nullptr);
    int version = sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int(statement, 0) : -1;
    sqlite3_finalize(statement);
    return version;
  }

 private:
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw StoreError("--store " + url_ + ": " + message);
    }
  }

  // Each migration and its version bump commit together: a crash leaves the old version.
  void migrate() {
    int version = schema_version();
    if (version > kSchemaVersion) {
      throw StoreError("--store " + url_ + ": schema version " + std::to_string(version) +
                       " is newer than this sas-host (" + std::to_string(kSchemaVersion) + "); upgrade sas-host");
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      exec("BEGIN IMMEDIATE");
      try {
        exec(kMigrations[v]);
        exec("PRAGMA user_version = " + std::to_string(v + 1));
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  }

  std::string url_;
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> handle_{nullptr, &sqlite3_close};
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.empty()) throw StoreError("--store " + url + ": sqlite: needs a file path (sqlite:PATH)");
    return std::make_unique<SqliteStore>(url, path);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    throw StoreError("--store " + url + ": the PostgreSQL backend is not in this build yet; use sqlite:PATH");
  }
  throw StoreError("--store " + url + ": unknown store URL (expected sqlite:PATH)");
}

}  // namespace sas::host
