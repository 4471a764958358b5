// The SQLite schema: migrations in order, each with its version bump in one transaction.
#include <iterator>

#include "../schema_version.hpp"
#include "connection.hpp"

namespace sas::host::store::sqlite {
namespace {

// Entry i brings the schema from version i to i+1. Only ever append. Times are microseconds
// since the epoch, UTC.
constexpr const char* kMigrations[] = {
    "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO host_meta VALUES ('created_by', 'sas-host');",
    // 2: INT_R02 audit, one row per account request (AccountAudit). Times are
    // microseconds since the epoch, UTC; finished_at NULL = the host never finished it.
    "CREATE TABLE regulator_account_request ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  received_at INTEGER NOT NULL,"
    "  method TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  client TEXT NOT NULL,"
    "  remote TEXT NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  body BLOB NOT NULL,"
    "  finished_at INTEGER,"
    "  operation TEXT,"
    "  national_id TEXT,"
    "  sas_id TEXT,"
    "  active INTEGER,"
    "  outcome TEXT,"
    "  http_status INTEGER,"
    "  account_id TEXT,"
    "  plugin_status TEXT,"
    "  diagnostics TEXT);"
    "CREATE INDEX regulator_account_request_by_national_id ON regulator_account_request(national_id);"
    "CREATE INDEX regulator_account_request_by_sas_id ON regulator_account_request(sas_id);",
    // 3: SAS-origin consultations and their SNP / MRT decision (ConsultationLedger).
    // Times in microseconds UTC; week_start is the Europe/Paris Monday of consulted_at;
    // consultation and decision are the JSON forms of docs/billing.md; code is SNP, MRT or none.
    "CREATE TABLE sas_consultation ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  consultation_id TEXT NOT NULL,"
    "  practitioner_id TEXT NOT NULL,"
    "  consulted_at INTEGER NOT NULL,"
    "  regulated_at INTEGER NOT NULL,"
    "  week_start TEXT NOT NULL,"
    "  consultation TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  parcours_indicator TEXT NOT NULL,"
    "  amount_cents INTEGER NOT NULL,"
    "  rule_set TEXT NOT NULL,"
    "  decision TEXT NOT NULL,"
    "  recorded_at INTEGER NOT NULL,"
    "  UNIQUE (practitioner_id, consultation_id));"
    "CREATE INDEX sas_consultation_by_week ON sas_consultation(practitioner_id, week_start, code);"
    "CREATE INDEX sas_consultation_by_time ON sas_consultation(practitioner_id, consulted_at);",
    // 4: INT_R03 appointment outbox (OutboxRepository). Times in microseconds, UTC.
    "CREATE TABLE appointment_outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  appointment_key TEXT NOT NULL,"
    "  sequence INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  event_json TEXT NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  reported_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  delivered_at INTEGER,"
    "  method TEXT,"
    "  http_status INTEGER,"
    "  last_error TEXT,"
    "  outcome TEXT,"
    "  UNIQUE (appointment_key, sequence));"
    "CREATE INDEX appointment_outbox_pending ON appointment_outbox(next_attempt_at) WHERE state = 'pending';"
    "CREATE INDEX appointment_outbox_by_state ON appointment_outbox(state, id);",
    // 5: doctor settings history and publication rules (host/doctor_settings). Append-only:
    // a rule is removed by setting removed_at. Times in microseconds, UTC.
    "CREATE TABLE doctor_setting_change ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  practitioner TEXT NOT NULL,"
    "  field TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  effective_at INTEGER NOT NULL,"
    "  recorded_at INTEGER NOT NULL,"
    "  changed_by TEXT NOT NULL,"
    "  source TEXT NOT NULL);"
    "CREATE INDEX doctor_setting_change_by_practitioner ON doctor_setting_change(practitioner, effective_at, id);"
    "CREATE TABLE publication_rule ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  practitioner TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  removed_at INTEGER,"
    "  removed_by TEXT);"
    "CREATE INDEX publication_rule_by_practitioner ON publication_rule(practitioner, id);",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

int schema_version(Connection& connection) {
  Statement pragma(connection, "PRAGMA user_version");
  return pragma.step() ? static_cast<int>(pragma.integer(0)) : -1;
}

void migrate(Connection& connection) {
  std::lock_guard lock(connection.mutex());
  const int version = schema_version(connection);
  refuse_newer_schema(connection.url(), version);
  for (int v = version; v < kSchemaVersion; ++v) {
    Transaction transaction(connection);
    // Another process may have migrated while we waited for the write lock.
    if (schema_version(connection) > v) continue;
    connection.exec(kMigrations[v]);
    connection.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    transaction.commit();
  }
}

}  // namespace sas::host::store::sqlite
