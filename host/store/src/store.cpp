#include <sqlite3.h>

#include <mutex>
#include <sas/host/store/store.hpp>
#include <string_view>

namespace sas::host {
namespace {

constexpr int kSchemaVersion = 3;

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
