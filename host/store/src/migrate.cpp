// SQLite -> PostgreSQL copy of the host's state (store/include/sas/host/store/migrate.hpp). The
// two schemas have the same tables and columns (store/sqlite/schema.cpp,
// store/postgresql/schema.cpp); BLOB columns go to BYTEA as bytes.
#include <sas/host/store/migrate.hpp>
#include <sas/host/store/store.hpp>

#include <algorithm>
#include <filesystem>

#include "../postgresql/connection.hpp"
#include "../sqlite/connection.hpp"

namespace sas::host::store {
namespace {

struct Table {
  const char* name;
  std::vector<const char*> columns;
  std::vector<const char*> bytes;  // BYTEA columns
};

const std::vector<Table>& tables() {
  static const std::vector<Table> kTables = {
      {"regulator_account_request",
       {"id", "received_at", "method", "target", "client", "remote", "content_type", "body", "finished_at", "operation",
        "national_id", "sas_id", "active", "outcome", "http_status", "account_id", "plugin_status", "diagnostics"},
       {"body"}},
      {"sas_consultation",
       {"id", "consultation_id", "practitioner_id", "consulted_at", "regulated_at", "week_start", "consultation",
        "code", "parcours_indicator", "amount_cents", "rule_set", "decision", "recorded_at"},
       {}},
      {"appointment_outbox",
       {"id", "appointment_key", "sequence", "event", "event_json", "resource", "reported_at", "state", "attempts",
        "next_attempt_at", "delivered_at", "method", "http_status", "last_error", "outcome"},
       {}},
      {"doctor_setting_change",
       {"id", "practitioner", "field", "value", "effective_at", "recorded_at", "changed_by", "source"},
       {}},
      {"publication_rule",
       {"id", "practitioner", "rule", "created_at", "created_by", "source", "removed_at", "removed_by"},
       {}},
  };
  return kTables;
}

std::string joined(const std::vector<const char*>& columns) {
  std::string out;
  for (const char* c : columns) (out.empty() ? out : out += ", ") += c;
  return out;
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> migrate_store(const std::string& from, const std::string& to) {
  if (from.rfind("sqlite:", 0) != 0) throw StoreError("--from " + from + ": expected sqlite:PATH");
  const std::string path = from.substr(7);
  if (!std::filesystem::is_regular_file(path)) throw StoreError("--from " + from + ": no such file");
  if (to.rfind("postgresql://", 0) != 0 && to.rfind("postgres://", 0) != 0) {
    throw StoreError("--to " + to + ": expected postgresql://USER@HOST:PORT/DB");
  }
  open(from);  // both at the current schema
  const postgresql::Target target = postgresql::parse_url(to);
  open(to);

  sqlite::Connection source(path, from);
  postgresql::Connection db(target.conninfo, target.display);
  std::lock_guard source_lock(source.mutex());
  sqlite::Transaction read(source);  // the write lock: a consistent copy, no host writing meanwhile
  postgresql::Transaction write(db);
  postgresql::advisory_lock(db, "sas-host store migrate", "");
  for (const Table& t : tables()) {
    const postgresql::Result any = db.exec((std::string("SELECT EXISTS (SELECT 1 FROM ") + t.name + ")").c_str());
    if (any.integer(0, 0) != 0) {
      throw StoreError("--to " + target.display + ": table " + t.name +
                       " is not empty; store migrate only fills a new database");
    }
  }
  std::vector<std::pair<std::string, int64_t>> copied;
  for (const Table& t : tables()) {
    const std::string columns = joined(t.columns);
    std::string placeholders;
    for (std::size_t i = 1; i <= t.columns.size(); ++i) {
      (placeholders.empty() ? placeholders : placeholders += ", ") += "$" + std::to_string(i);
    }
    const std::string insert =
        std::string("INSERT INTO ") + t.name + " (" + columns + ") VALUES (" + placeholders + ")";
    sqlite::Statement select(source, std::string("SELECT ") + columns + " FROM " + t.name + " ORDER BY id");
    int64_t rows = 0;
    std::vector<postgresql::Param> params(t.columns.size());
    while (select.step()) {
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        const int column = static_cast<int>(i);
        const bool is_bytes = std::find_if(t.bytes.begin(), t.bytes.end(), [&](const char* b) {
                                return std::string_view(b) == t.columns[i];
                              }) != t.bytes.end();
        if (select.is_null(column)) {
          params[i] = postgresql::null();
        } else if (is_bytes) {
          params[i] = postgresql::bytes(select.text(column));
        } else if (select.type(column) == SQLITE_INTEGER) {
          params[i] = postgresql::p(select.integer(column));
        } else {
          params[i] = postgresql::p(select.text(column));
        }
      }
      db.exec(insert.c_str(), params);
      ++rows;
    }
    db.exec((std::string("SELECT setval(pg_get_serial_sequence('") + t.name +
             "', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM " + t.name + "), false)")
                .c_str());
    copied.emplace_back(t.name, rows);
  }
  // Keys the source has and a new database does not (created_by is in both).
  sqlite::Statement meta(source, "SELECT key, value FROM host_meta ORDER BY key");
  while (meta.step()) {
    db.exec("INSERT INTO host_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            {postgresql::p(meta.text(0)), postgresql::p(meta.text(1))});
  }
  // Hosts already watching the target see the settings change.
  db.exec("UPDATE host_counter SET value = value + 1 WHERE name = 'doctor_settings'");
  write.commit();
  return copied;
}

}  // namespace sas::host::store
