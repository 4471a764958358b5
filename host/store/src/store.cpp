#include <sqlite3.h>

#include <mutex>
#include <sas/host/store/store.hpp>
#include <string_view>

namespace sas::host {
namespace {

constexpr int kSchemaVersion = 5;

// Migrations in order; entry i brings the schema from version i to i+1. Only ever append.
constexpr const char* kMigrations[] = {
    "CREATE TABLE host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO host_meta VALUES ('created_by', 'sas-host');",
    // 2: INT_R02 audit, one row per account request (Store::record_account_request). Times are
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
    // 3: SAS-origin consultations and their SNP / MRT decision (Store::record_consultation).
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
    // 4: INT_R03 appointment outbox (Store::enqueue_notifications). Times in microseconds, UTC.
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

int64_t to_micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
std::chrono::system_clock::time_point from_micros(int64_t micros) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros)));
}

// One prepared statement, finalized on every path out.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& url) : db_(db), url_(url) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) fail("cannot prepare");
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) {
    check(sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
    return *this;
  }
  // NULL for an empty text: "none" reads better in an audit than "".
  Statement& bind_or_null(int index, std::string_view text) {
    if (text.empty()) {
      check(sqlite3_bind_null(statement_, index));
      return *this;
    }
    return bind(index, text);
  }
  Statement& bind(int index, int64_t value) {
    check(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Statement& bind_null(int index) {
    check(sqlite3_bind_null(statement_, index));
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("query failed");
  }
  // Ready to run again with new bindings.
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  std::string text(int column) const {
    const void* data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("cannot bind");
  }
  [[noreturn]] void fail(const char* what) {
    throw StoreError("--store " + url_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  const std::string& url_;
  sqlite3_stmt* statement_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT on one connection, rolled back unless commit() was reached.
class Transaction {
 public:
  Transaction(sqlite3* db, const std::string& url) : db_(db), url_(url) { exec(db_, url_, "BEGIN IMMEDIATE"); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, url_, "COMMIT");
    done_ = true;
  }
  static void exec(sqlite3* db, const std::string& url, const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw StoreError("--store " + url + ": " + message);
    }
  }

 private:
  sqlite3* db_;
  const std::string& url_;
  bool done_ = false;
};

#define CONSULTATION_COLUMNS                                                                           \
  "id, consultation_id, practitioner_id, consulted_at, regulated_at, week_start, consultation, code, " \
  "parcours_indicator, amount_cents, rule_set, decision, recorded_at"

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string url, const std::string& path) : url_(std::move(url)) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    handle_.reset(db);  // closed on every path out, including a throw below
    db_ = db;
    if (rc != SQLITE_OK) {
      throw StoreError("--store " + url_ +
                       ": cannot open: " + (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"));
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    migrate();
    open_outbox_connection(path);
    open_settings_connection(path);
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

  int64_t record_account_request(const AccountRequest& r) override {
    Statement insert(db_,
                     "INSERT INTO regulator_account_request (received_at, method, target, client, remote, "
                     "content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     url_);
    insert.bind(1, to_micros(r.received_at)).bind(2, r.method).bind(3, r.target).bind(4, r.client);
    insert.bind(5, r.remote).bind(6, r.content_type).bind_blob(7, r.body);
    if (!insert.step()) throw StoreError("--store " + url_ + ": the account request was not recorded");
    return insert.integer(0);
  }

  void record_account_outcome(int64_t id, const AccountRequestOutcome& o) override {
    Statement update(db_,
                     "UPDATE regulator_account_request SET finished_at = ?, operation = ?, national_id = ?, "
                     "sas_id = ?, active = ?, outcome = ?, http_status = ?, account_id = ?, plugin_status = ?, "
                     "diagnostics = ? WHERE id = ? RETURNING id",
                     url_);
    update.bind(1, to_micros(o.finished_at)).bind_or_null(2, o.operation).bind_or_null(3, o.national_id);
    update.bind_or_null(4, o.sas_id);
    if (o.active) {
      update.bind(5, int64_t{*o.active ? 1 : 0});
    } else {
      update.bind_null(5);
    }
    update.bind(6, o.outcome).bind(7, int64_t{o.http_status}).bind_or_null(8, o.account_id);
    update.bind_or_null(9, o.plugin_status).bind_or_null(10, o.diagnostics).bind(11, id);
    if (!update.step()) throw StoreError("--store " + url_ + ": no account request " + std::to_string(id));
  }

  std::vector<AccountRequestRecord> account_requests(int64_t after_id, std::size_t limit) override {
    Statement select(db_,
                     "SELECT id, received_at, method, target, client, remote, content_type, body, finished_at, "
                     "operation, national_id, sas_id, active, outcome, http_status, account_id, plugin_status, "
                     "diagnostics FROM regulator_account_request WHERE id > ? ORDER BY id LIMIT ?",
                     url_);
    select.bind(1, after_id).bind(2, static_cast<int64_t>(limit));
    std::vector<AccountRequestRecord> records;
    while (select.step()) {
      AccountRequestRecord& record = records.emplace_back();
      record.id = select.integer(0);
      AccountRequest& r = record.request;
      r.received_at = from_micros(select.integer(1));
      r.method = select.text(2);
      r.target = select.text(3);
      r.client = select.text(4);
      r.remote = select.text(5);
      r.content_type = select.text(6);
      r.body = select.text(7);
      if (select.is_null(8)) continue;
      AccountRequestOutcome& o = record.outcome.emplace();
      o.finished_at = from_micros(select.integer(8));
      o.operation = select.text(9);
      o.national_id = select.text(10);
      o.sas_id = select.text(11);
      if (!select.is_null(12)) o.active = select.integer(12) != 0;
      o.outcome = select.text(13);
      o.http_status = static_cast<int>(select.integer(14));
      o.account_id = select.text(15);
      o.plugin_status = select.text(16);
      o.diagnostics = select.text(17);
    }
    return records;
  }

  std::pair<ConsultationRecord, bool> record_consultation(
      const ConsultationRecord& facts, const std::function<void(int, ConsultationRecord&)>& decide) override {
    // The count and the insert belong together: every consultation write of this store goes
    // through this lock (one host process per SQLite store). No explicit transaction: the
    // connection is shared with the other flows' single-statement writes, which must not
    // become part of this one; the insert is one statement, and the unique key keeps a row
    // from being written twice.
    std::lock_guard<std::mutex> lock(consultation_mutex_);
    if (auto existing = find_consultation(facts.practitioner_id, facts.consultation_id)) {
      return {std::move(*existing), false};
    }
    ConsultationRecord record = facts;
    decide(count_snp_unlocked(facts.practitioner_id, facts.week_start, facts.consultation_id), record);
    Statement insert(db_,
                     "INSERT INTO sas_consultation (consultation_id, practitioner_id, consulted_at, regulated_at, "
                     "week_start, consultation, code, parcours_indicator, amount_cents, rule_set, decision, "
                     "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     url_);
    insert.bind(1, record.consultation_id).bind(2, record.practitioner_id).bind(3, to_micros(record.consulted_at));
    insert.bind(4, to_micros(record.regulated_at)).bind(5, record.week_start).bind(6, record.consultation);
    insert.bind(7, record.code).bind(8, record.parcours_indicator).bind(9, record.amount_cents);
    insert.bind(10, record.rule_set).bind(11, record.decision).bind(12, to_micros(record.recorded_at));
    if (!insert.step()) throw StoreError("--store " + url_ + ": the consultation was not recorded");
    record.id = insert.integer(0);
    return {std::move(record), true};
  }

  int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                        const std::string& except_consultation_id) override {
    std::lock_guard<std::mutex> lock(consultation_mutex_);
    return count_snp_unlocked(practitioner_id, week_start, except_consultation_id);
  }

  std::vector<ConsultationRecord> consultations(const std::string& practitioner_id,
                                                std::chrono::system_clock::time_point from,
                                                std::chrono::system_clock::time_point to) override {
    Statement select(db_,
                     "SELECT " CONSULTATION_COLUMNS
                     " FROM sas_consultation WHERE practitioner_id = ? AND consulted_at >= ? AND consulted_at < ? "
                     "ORDER BY consulted_at, id",
                     url_);
    select.bind(1, practitioner_id).bind(2, to_micros(from)).bind(3, to_micros(to));
    std::vector<ConsultationRecord> records;
    while (select.step()) records.push_back(read_consultation(select));
    return records;
  }

  // ---- Doctor settings (schema 5) ---------------------------------------------------------
  // On a connection of their own too: a rule is checked and added in one transaction.

  void record_setting_changes(const std::vector<SettingChangeRecord>& changes) override {
    std::lock_guard lock(settings_mutex_);
    Transaction transaction(settings_db_, url_);
    Statement insert(settings_db_,
                     "INSERT INTO doctor_setting_change (practitioner, field, value, effective_at, recorded_at, "
                     "changed_by, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     url_);
    for (const auto& c : changes) {
      insert.bind(1, c.practitioner).bind(2, c.field).bind(3, c.value).bind(4, to_micros(c.effective_at));
      insert.bind(5, to_micros(c.recorded_at)).bind(6, c.changed_by).bind(7, c.source);
      insert.step();
      insert.reset();
    }
    transaction.commit();
    ++settings_writes_;
  }

  std::vector<SettingChangeRecord> setting_changes(const std::string& practitioner) override {
    std::lock_guard lock(settings_mutex_);
    Statement select(settings_db_,
                     "SELECT id, practitioner, field, value, effective_at, recorded_at, changed_by, source "
                     "FROM doctor_setting_change WHERE ?1 = '' OR practitioner = ?1 ORDER BY effective_at, id",
                     url_);
    select.bind(1, practitioner);
    std::vector<SettingChangeRecord> rows;
    while (select.step()) {
      SettingChangeRecord& c = rows.emplace_back();
      c.id = select.integer(0);
      c.practitioner = select.text(1);
      c.field = select.text(2);
      c.value = select.text(3);
      c.effective_at = from_micros(select.integer(4));
      c.recorded_at = from_micros(select.integer(5));
      c.changed_by = select.text(6);
      c.source = select.text(7);
    }
    return rows;
  }

  int64_t add_publication_rule(
      const PublicationRuleRecord& rule,
      const std::function<void(const std::vector<PublicationRuleRecord>& active)>& check) override {
    std::lock_guard lock(settings_mutex_);
    Transaction transaction(settings_db_, url_);
    check(select_rules(rule.practitioner, false));
    Statement insert(settings_db_,
                     "INSERT INTO publication_rule (practitioner, rule, created_at, created_by, source) "
                     "VALUES (?, ?, ?, ?, ?) RETURNING id",
                     url_);
    insert.bind(1, rule.practitioner).bind(2, rule.rule).bind(3, to_micros(rule.created_at));
    insert.bind(4, rule.created_by).bind(5, rule.source);
    if (!insert.step()) throw StoreError("--store " + url_ + ": the rule was not recorded");
    const int64_t id = insert.integer(0);
    insert.step();  // finish the statement before COMMIT
    transaction.commit();
    ++settings_writes_;
    return id;
  }

  bool remove_publication_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                               const std::string& by) override {
    std::lock_guard lock(settings_mutex_);
    Statement update(settings_db_,
                     "UPDATE publication_rule SET removed_at = ?, removed_by = ? "
                     "WHERE id = ? AND practitioner = ? AND removed_at IS NULL RETURNING id",
                     url_);
    update.bind(1, to_micros(at)).bind(2, by).bind(3, id).bind(4, practitioner);
    const bool removed = update.step();
    if (removed) {
      update.step();
      ++settings_writes_;
    }
    return removed;
  }

  std::vector<PublicationRuleRecord> publication_rules(const std::string& practitioner, bool include_removed) override {
    std::lock_guard lock(settings_mutex_);
    return select_rules(practitioner, include_removed);
  }

  uint64_t doctor_settings_version() override {
    std::lock_guard lock(settings_mutex_);
    Statement pragma(settings_db_, "PRAGMA data_version", url_);
    const uint64_t others = pragma.step() ? static_cast<uint64_t>(pragma.integer(0)) : 0;
    // data_version moves with other connections' commits only; ours are counted here.
    return (others << 32U) + settings_writes_;
  }

  // ---- INT_R03 appointment outbox (schema 4) ----------------------------------------------
  // On a connection of its own (opened with the store), so that its multi-statement
  // transactions never mix with the audit's single statements on the main connection.

  std::vector<NotificationIds> enqueue_notifications(const std::vector<NotificationInput>& inputs) override {
    std::lock_guard lock(outbox_mutex_);
    OutboxTransaction transaction(*this);
    Statement insert(outbox_db_,
                     "INSERT INTO appointment_outbox (appointment_key, sequence, event, event_json, resource, "
                     "reported_at, next_attempt_at) VALUES (?1, (SELECT COALESCE(MAX(sequence), 0) + 1 FROM "
                     "appointment_outbox WHERE appointment_key = ?1), ?2, ?3, ?4, ?5, ?5) RETURNING id, sequence",
                     url_);
    std::vector<NotificationIds> ids;
    ids.reserve(inputs.size());
    for (const auto& input : inputs) {
      insert.bind(1, input.appointment_key).bind(2, input.event).bind(3, input.event_json);
      insert.bind(4, input.resource).bind(5, to_micros(input.reported_at));
      if (!insert.step()) throw StoreError("--store " + url_ + ": the notification was not recorded");
      ids.push_back({insert.integer(0), insert.integer(1)});
      insert.reset();
    }
    transaction.commit();
    return ids;
  }

  std::vector<Notification> claim_notifications(std::chrono::system_clock::time_point now, std::size_t limit) override {
    std::lock_guard lock(outbox_mutex_);
    OutboxTransaction transaction(*this);
    std::vector<Notification> rows = select_notifications(
        "WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 AND NOT EXISTS (SELECT 1 FROM appointment_outbox p "
        "WHERE p.appointment_key = o.appointment_key AND p.sequence < o.sequence AND p.state <> 'delivered') "
        "ORDER BY o.id LIMIT ?2",
        to_micros(now), static_cast<int64_t>(limit));
    Statement attempt(outbox_db_, "UPDATE appointment_outbox SET attempts = attempts + 1 WHERE id = ?", url_);
    for (auto& row : rows) {
      attempt.bind(1, row.id);
      attempt.step();
      attempt.reset();
      ++row.attempts;
    }
    transaction.commit();
    return rows;
  }

  void finish_notifications(const std::vector<DeliveryOutcome>& outcomes) override {
    std::lock_guard lock(outbox_mutex_);
    OutboxTransaction transaction(*this);
    Statement update(outbox_db_,
                     "UPDATE appointment_outbox SET state = ?2, method = ?3, http_status = ?4, last_error = ?5, "
                     "outcome = ?6, delivered_at = ?7, next_attempt_at = ?8 WHERE id = ?1",
                     url_);
    for (const auto& o : outcomes) {
      const char* state = o.kind == DeliveryOutcome::Kind::delivered ? "delivered"
                          : o.kind == DeliveryOutcome::Kind::dead    ? "dead"
                                                                     : "pending";
      update.bind(1, o.id).bind(2, state).bind_or_null(3, o.method).bind(4, int64_t{o.http_status});
      update.bind_or_null(5, o.error).bind_or_null(6, o.outcome);
      if (o.kind == DeliveryOutcome::Kind::delivered) {
        update.bind(7, to_micros(o.at));
      } else {
        update.bind_null(7);
      }
      update.bind(8, to_micros(o.kind == DeliveryOutcome::Kind::retry ? o.next_attempt_at : o.at));
      update.step();
      update.reset();
    }
    transaction.commit();
  }

  std::optional<std::chrono::system_clock::time_point> next_notification_due() override {
    std::lock_guard lock(outbox_mutex_);
    Statement select(outbox_db_, "SELECT MIN(next_attempt_at) FROM appointment_outbox WHERE state = 'pending'", url_);
    if (!select.step() || select.is_null(0)) return std::nullopt;
    return from_micros(select.integer(0));
  }

  std::vector<Notification> notifications(const std::string& state, int64_t after_id, std::size_t limit) override {
    std::lock_guard lock(outbox_mutex_);
    if (state.empty()) {
      return select_notifications("WHERE o.id > ?1 ORDER BY o.id LIMIT ?2", after_id, static_cast<int64_t>(limit));
    }
    return select_notifications("WHERE o.state = ?3 AND o.id > ?1 ORDER BY o.id LIMIT ?2", after_id,
                                static_cast<int64_t>(limit), state);
  }

  OutboxCounts outbox_counts() override {
    std::lock_guard lock(outbox_mutex_);
    OutboxCounts counts;
    Statement by_state(outbox_db_, "SELECT state, COUNT(*), MIN(reported_at) FROM appointment_outbox GROUP BY state",
                       url_);
    while (by_state.step()) {
      const std::string state = by_state.text(0);
      if (state == "pending") {
        counts.pending = by_state.integer(1);
        counts.oldest_pending = from_micros(by_state.integer(2));
      } else if (state == "delivered") {
        counts.delivered = by_state.integer(1);
      } else if (state == "dead") {
        counts.dead = by_state.integer(1);
      }
    }
    Statement blocked(outbox_db_,
                      "SELECT COUNT(*) FROM appointment_outbox o WHERE o.state = 'pending' AND EXISTS (SELECT 1 FROM "
                      "appointment_outbox p WHERE p.appointment_key = o.appointment_key AND p.sequence < o.sequence "
                      "AND p.state = 'dead')",
                      url_);
    if (blocked.step()) counts.blocked = blocked.integer(0);
    return counts;
  }

  std::size_t replay_notifications(std::optional<int64_t> id) override {
    std::lock_guard lock(outbox_mutex_);
    const int64_t now = to_micros(std::chrono::system_clock::now());
    Statement update(outbox_db_,
                     id ? "UPDATE appointment_outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = 'dead' "
                          "AND id = ?2"
                        : "UPDATE appointment_outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = 'dead'",
                     url_);
    update.bind(1, now);
    if (id) update.bind(2, *id);
    update.step();
    return static_cast<std::size_t>(sqlite3_changes(outbox_db_));
  }

 private:
  int count_snp_unlocked(const std::string& practitioner_id, const std::string& week_start,
                         const std::string& except_consultation_id) {
    Statement count(db_,
                    "SELECT count(*) FROM sas_consultation WHERE practitioner_id = ? AND week_start = ? AND "
                    "code = 'SNP' AND consultation_id <> ?",
                    url_);
    count.bind(1, practitioner_id).bind(2, week_start).bind(3, except_consultation_id);
    return count.step() ? static_cast<int>(count.integer(0)) : 0;
  }

  std::optional<ConsultationRecord> find_consultation(const std::string& practitioner_id,
                                                      const std::string& consultation_id) {
    Statement select(
        db_, "SELECT " CONSULTATION_COLUMNS " FROM sas_consultation WHERE practitioner_id = ? AND consultation_id = ?",
        url_);
    select.bind(1, practitioner_id).bind(2, consultation_id);
    if (!select.step()) return std::nullopt;
    return read_consultation(select);
  }

  static ConsultationRecord read_consultation(const Statement& row) {
    ConsultationRecord r;
    r.id = row.integer(0);
    r.consultation_id = row.text(1);
    r.practitioner_id = row.text(2);
    r.consulted_at = from_micros(row.integer(3));
    r.regulated_at = from_micros(row.integer(4));
    r.week_start = row.text(5);
    r.consultation = row.text(6);
    r.code = row.text(7);
    r.parcours_indicator = row.text(8);
    r.amount_cents = row.integer(9);
    r.rule_set = row.text(10);
    r.decision = row.text(11);
    r.recorded_at = from_micros(row.integer(12));
    return r;
  }

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

  // ---- INT_R03 appointment outbox (schema 4) ----------------------------------------------
  void open_outbox_connection(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    outbox_handle_.reset(db);
    outbox_db_ = db;
    if (rc != SQLITE_OK) {
      throw StoreError("--store " + url_ + ": cannot open: " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
    }
    sqlite3_busy_timeout(outbox_db_, 10000);
    // WAL is a property of the file (set above); synchronous is per connection. FULL: the WAL is
    // synced at every commit, so a reported event survives a power loss, not only a crash.
    outbox_exec("PRAGMA synchronous=FULL");
  }

  void outbox_exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(outbox_db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw StoreError("--store " + url_ + ": " + message);
    }
  }

  // BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() was reached.
  class OutboxTransaction {
   public:
    explicit OutboxTransaction(SqliteStore& store) : store_(store) { store_.outbox_exec("BEGIN IMMEDIATE"); }
    OutboxTransaction(const OutboxTransaction&) = delete;
    OutboxTransaction& operator=(const OutboxTransaction&) = delete;
    ~OutboxTransaction() {
      if (!done_) sqlite3_exec(store_.outbox_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() {
      store_.outbox_exec("COMMIT");
      done_ = true;
    }

   private:
    SqliteStore& store_;
    bool done_ = false;
  };

  std::vector<Notification> select_notifications(const std::string& where, int64_t p1, int64_t p2,
                                                 const std::string& p3 = {}) {
    const std::string sql =
        "SELECT o.id, o.appointment_key, o.sequence, o.event, o.event_json, o.resource, o.reported_at, o.state, "
        "o.attempts, o.next_attempt_at, o.delivered_at, o.method, o.http_status, o.last_error, o.outcome "
        "FROM appointment_outbox o " +
        where;
    Statement select(outbox_db_, sql.c_str(), url_);
    select.bind(1, p1).bind(2, p2);
    if (!p3.empty()) select.bind(3, p3);
    std::vector<Notification> rows;
    while (select.step()) {
      Notification& n = rows.emplace_back();
      n.id = select.integer(0);
      n.appointment_key = select.text(1);
      n.sequence = select.integer(2);
      n.event = select.text(3);
      n.event_json = select.text(4);
      n.resource = select.text(5);
      n.reported_at = from_micros(select.integer(6));
      n.state = select.text(7);
      n.attempts = static_cast<int>(select.integer(8));
      n.next_attempt_at = from_micros(select.integer(9));
      if (!select.is_null(10)) n.delivered_at = from_micros(select.integer(10));
      n.method = select.text(11);
      n.http_status = static_cast<int>(select.integer(12));
      n.last_error = select.text(13);
      n.outcome = select.text(14);
    }
    return rows;
  }

  // ---- Doctor settings (schema 5) ---------------------------------------------------------
  void open_settings_connection(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
    settings_handle_.reset(db);
    settings_db_ = db;
    if (rc != SQLITE_OK) {
      throw StoreError("--store " + url_ + ": cannot open: " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
    }
    sqlite3_busy_timeout(settings_db_, 5000);
    Transaction::exec(settings_db_, url_, "PRAGMA synchronous=FULL");
  }

  std::vector<PublicationRuleRecord> select_rules(const std::string& practitioner, bool include_removed) {
    Statement select(settings_db_,
                     "SELECT id, practitioner, rule, created_at, created_by, source, removed_at, removed_by "
                     "FROM publication_rule WHERE (?1 = '' OR practitioner = ?1) AND (?2 OR removed_at IS NULL) "
                     "ORDER BY id",
                     url_);
    select.bind(1, practitioner).bind(2, int64_t{include_removed ? 1 : 0});
    std::vector<PublicationRuleRecord> rows;
    while (select.step()) {
      PublicationRuleRecord& r = rows.emplace_back();
      r.id = select.integer(0);
      r.practitioner = select.text(1);
      r.rule = select.text(2);
      r.created_at = from_micros(select.integer(3));
      r.created_by = select.text(4);
      r.source = select.text(5);
      if (!select.is_null(6)) r.removed_at = from_micros(select.integer(6));
      r.removed_by = select.text(7);
    }
    return rows;
  }

  std::mutex settings_mutex_;
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> settings_handle_{nullptr, &sqlite3_close};
  sqlite3* settings_db_ = nullptr;
  uint64_t settings_writes_ = 0;

  std::mutex outbox_mutex_;
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> outbox_handle_{nullptr, &sqlite3_close};
  sqlite3* outbox_db_ = nullptr;

  std::string url_;
  std::mutex consultation_mutex_;
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
