// `store::probe`: the store looked at, never migrated nor written (sas-host check-config).
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sas/host/store/store.hpp>

#include "../postgresql/connection.hpp"
#include "../schema_version.hpp"

namespace sas::host::store {

namespace {

// access(2) as this user; root passes every test.
void require_writable(const std::filesystem::path& path, const std::string& url, const std::string& what) {
  if (::access(path.c_str(), W_OK) != 0)
    throw StoreError("--store " + url + ": " + what + " " + path.string() + " is not writable by this user (" +
                     std::strerror(errno) + ")");
}

StoreProbe probe_sqlite(const std::string& url, const std::filesystem::path& path) {
  StoreProbe probe;
  probe.url = url;
  probe.backend = "sqlite";
  probe.host_schema_version = kSchemaVersion;
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec))
    throw StoreError("--store " + url + ": no such directory " + directory.string());
  // WAL: the -wal and -shm files are created beside the database.
  require_writable(directory, url, "directory");
  if (!std::filesystem::exists(path, ec)) {
    probe.exists = false;
    return probe;
  }
  if (!std::filesystem::is_regular_file(path, ec)) throw StoreError("--store " + url + ": not a regular file");
  require_writable(path, url, "file");
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK)
    throw StoreError("--store " + url + ": cannot open: " + (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  sqlite3_stmt* raw_statement = nullptr;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA user_version", -1, &raw_statement, nullptr) != SQLITE_OK)
    throw StoreError("--store " + url + ": cannot read: " + sqlite3_errmsg(db.get()));
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw_statement, &sqlite3_finalize);
  const int step = sqlite3_step(statement.get());
  if (step != SQLITE_ROW) throw StoreError("--store " + url + ": cannot read: " + sqlite3_errmsg(db.get()));
  probe.schema_version = sqlite3_column_int(statement.get(), 0);
  refuse_newer_schema(url, probe.schema_version);
  return probe;
}

StoreProbe probe_postgresql(const std::string& url) {
  const postgresql::Target target = postgresql::parse_url(url);
  StoreProbe probe;
  probe.url = target.display;
  probe.backend = "postgresql";
  probe.host_schema_version = kSchemaVersion;
  postgresql::Connection connection(target.conninfo, target.display);
  probe.schema_version = postgresql::schema_version(connection);
  refuse_newer_schema(target.display, probe.schema_version);
  return probe;
}

}  // namespace

StoreProbe probe(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    const std::string path = url.substr(7);
    if (path.empty()) throw StoreError("--store " + url + ": sqlite: needs a file path (sqlite:PATH)");
    return probe_sqlite(url, path);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return probe_postgresql(url);
  throw StoreError("--store " + url + ": unknown store URL (expected sqlite:PATH or postgresql://...)");
}

}  // namespace sas::host::store
