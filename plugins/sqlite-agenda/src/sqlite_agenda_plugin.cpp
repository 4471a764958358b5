// The reference agenda plugin: reads practitioners, places and slots from a SQLite file in
// the schema of schema.sql, keeps SAS regulator accounts (INT_R02) in its regulator_account
// table, reports the consultations of honoured SAS-origin appointments to the host and keeps
// the host's SNP / MRT decisions in billing_decision (ABI 1.2), reports appointment events
// (ABI 1.3), pushes the doctors' SAS options and publication rules its UI recorded (ABI 1.4),
// answers the SOS Médecins search from its sos_association and sos_place tables (ABI 1.5), and
// for the INT_R04 CPTS search (ABI 1.5, flow cpts-search) adds the CPTS its slots name, from its
// cpts table.
// Vendors copy its shape: parse config in init, hand back data as stored, let the host
// normalise ids, phones and times.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <sas/sdk/ids.hpp>
#include <sas/sdk/plugin.hpp>
#include <sas/sdk/regulator_accounts.hpp>
#include <sas/sdk/reporter.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

constexpr int kSchemaVersion = 1;
constexpr std::string_view kIntrnSystem = "urn:oid:1.2.250.1.213.3.6";  // INTRN: SAS technical ids

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

// The INT_R01 search reads without copies: it copies thousands of column values.

// A column's text, valid until the statement steps or resets.
std::string_view column_view(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(statement, column))};
}

// Calls `add` with each item of a list stored as text: spaces trimmed on both sides (and a
// trailing '\r'), empty ones left out.
template <typename Add>
void for_each_item(std::string_view text, char separator, Add&& add) {
  for (;;) {
    const size_t end = text.find(separator);
    std::string_view item = text.substr(0, end);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\r')) item.remove_suffix(1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (!item.empty()) add(item);
    if (end == std::string_view::npos) return;
    text.remove_prefix(end + 1);
  }
}

// The items of a list stored as text, as `for_each_item` gives them.
std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> items;
  for_each_item(text, separator, [&](std::string_view item) { items.emplace_back(item); });
  return items;
}

// Copies `value` into a string field (`mutable_field` of `message`) in one allocation at most. An
// empty value leaves the field unset, which proto3 sends the same way.
template <typename Message>
void set_text(Message& message, std::string* (Message::*mutable_field)(), std::string_view value) {
  if (!value.empty()) (message.*mutable_field)()->assign(value.data(), value.size());
}

// Keys as a JSON array of strings, for json_each(?): one statement for a whole list of keys.
std::string json_string_array(const std::vector<std::string_view>& keys) {
  std::string out = "[";
  for (const std::string_view key : keys) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : key) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        static constexpr char kDigits[] = "0123456789abcdef";
        out += "\\u00";
        out += kDigits[(c >> 4) & 0xF];
        out += kDigits[c & 0xF];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot prepare query: ") + sqlite3_errmsg(db));
    }
  }
  Statement(Statement&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept {
    std::swap(statement_, other.statement_);
    return *this;
  }
  ~Statement() { sqlite3_finalize(statement_); }
  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// Resets the statement when a query is done with it, whatever the path out.
class Query {
 public:
  explicit Query(const Statement& statement) : statement_(statement.get()) {}
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Query& bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Without a copy: `text` must outlive the query.
  Query& bind_unowned(int index, std::string_view text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
  }
  Query& bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  // True while there is a row; throws on error (e.g. the database is locked).
  bool next() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("query failed: ") + sqlite3_errmsg(sqlite3_db_handle(statement_)));
  }
  sqlite3_stmt* row() const { return statement_; }

 private:
  sqlite3_stmt* statement_;
};

// BEGIN ... COMMIT around a block of reads; the commit runs on every path out.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db) {
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot begin a read transaction: ") + sqlite3_errmsg(db_));
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

 private:
  sqlite3* db_;
};

// BEGIN IMMEDIATE ... COMMIT around a write: the checks and the write see one state, and
// concurrent writers queue on the busy timeout. Rolls back unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(sqlite3* db) : db_(db) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot begin a write transaction: ") + sqlite3_errmsg(db_));
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction() {
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("cannot commit: ") + sqlite3_errmsg(db_));
    }
    committed_ = true;
  }

 private:
  sqlite3* db_;
  bool committed_ = false;
};

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

void random_bytes(unsigned char* out, int size) {
  if (RAND_bytes(out, size) != 1) throw std::runtime_error("no random bytes from OpenSSL");
}

// A random (version 4) UUID: the vendor's account id.
std::string new_account_id() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  const std::string h = hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

// The guide: no e-mail verification, a password generated automatically. The password is
// random and thrown away (the regulator arrives through SAS); only its PBKDF2 hash is kept, in
// the common pbkdf2_sha256$iterations$salt$hash form, so that a vendor's usual login code
// treats the account like any other until the regulator sets a password of their own.
std::string generated_password_hash() {
  constexpr int kIterations = 100000;
  unsigned char password[32];
  unsigned char salt[16];
  unsigned char hash[32];
  random_bytes(password, sizeof password);
  random_bytes(salt, sizeof salt);
  const std::string secret = hex(password, sizeof password);
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt, sizeof salt, kIterations, EVP_sha256(),
                        sizeof hash, hash) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return "pbkdf2_sha256$" + std::to_string(kIterations) + "$" + hex(salt, sizeof salt) + "$" + hex(hash, sizeof hash);
}

// NULL for "": the table has no empty identifiers, so its unique indexes only see real ones.
void bind_or_null(sqlite3_stmt* statement, int index, const std::string& text) {
  if (text.empty()) {
    sqlite3_bind_null(statement, index);
  } else {
    sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
}

// One connection and its prepared statements; used by one call at a time.
class Connection {
 public:
  explicit Connection(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open agenda database " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, 4000);  // under the host's plugin deadline (request deadline - 0.5 s)
    // Read through a memory map rather than a read() per page: searches touch scattered pages
    // of a large file (measured: plugin search time -30 % on a 50,000-practitioner agenda).
    sqlite3_exec(db_, "PRAGMA mmap_size = 1073741824", nullptr, nullptr, nullptr);
    try {
      // INT_R01 reads each table once per search, for all the requested practitioners: the keys
      // come as a JSON array, and json_each's key (the position in it) tells whose each row is.
      practitioners_ = Statement(db_,
                                 "SELECT p.id, p.national_id, p.family_name, p.given_names, p.phone "
                                 "FROM json_each(?1) AS wanted JOIN practitioner AS p ON p.national_id = wanted.value");
      specialties_ = Statement(db_,
                               "SELECT wanted.key, s.code, s.label FROM json_each(?1) AS wanted "
                               "JOIN practitioner_specialty AS s ON s.practitioner_id = wanted.value "
                               "ORDER BY wanted.key, s.rowid");
      // No ORDER BY for places and slots: the host indexes places by id and sorts the slots.
      places_ = Statement(db_,
                          "SELECT wanted.key, p.id, p.name, p.address, p.postal_code, p.city, p.finess, p.siret, "
                          "p.rpps_rang, p.phone, p.booking_url "
                          "FROM json_each(?1) AS wanted JOIN place AS p ON p.practitioner_id = wanted.value");
      free_slots_of_places_ =
          Statement(db_,
                    "SELECT wanted.key, s.id, s.start_utc, s.end_utc, s.audiences, s.cpts, s.modes, s.motives, "
                    "s.walk_in, s.booking_url, s.specialties "
                    "FROM json_each(?1) AS wanted JOIN slot AS s ON s.place_id = wanted.value "
                    "WHERE s.start_utc BETWEEN ?2 AND ?3 AND s.status = 'free'");
      // SOS Médecins: one place at a time.
      free_slots_ =
          Statement(db_,
                    "SELECT id, start_utc, end_utc, audiences, cpts, modes, motives, walk_in, booking_url, specialties "
                    "FROM slot WHERE place_id = ? AND start_utc BETWEEN ? AND ? AND status = 'free' "
                    "ORDER BY start_utc, id");
    } catch (...) {
      close();  // the destructor does not run for a throwing constructor
      throw;
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { close(); }

  // Adds the tables of later features (consultation, billing_decision, appointment_notification,
  // sas_doctor_settings_change, sas_publication_rule_request) to an older file: the schema is all
  // CREATE ... IF NOT EXISTS.
  void ensure_host_call_tables() {
    Statement check(db_,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('billing_decision', "
                    "'appointment_notification', 'sas_doctor_settings_change', 'sas_publication_rule_request', "
                    "'sas_reporter_lease')");
    Query query(check);
    if (query.next() && sqlite3_column_int(query.row(), 0) == 5) return;
    char* error = nullptr;
    if (sqlite3_exec(db_, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("cannot add the consultation and notification tables: " + message);
    }
  }

  // appointment.sos_association_siret came after the first files of version 1 (schema.sql):
  // added to an older file, as CREATE ... IF NOT EXISTS cannot add a column. Another instance
  // (a runner, another host) may add it at the same moment: then its ALTER fails, and the
  // column is there.
  void ensure_sos_appointment_column() {
    auto has_column = [this] {
      Statement check(db_,
                      "SELECT count(*) FROM pragma_table_info('appointment') WHERE name = 'sos_association_siret'");
      Query query(check);
      return query.next() && sqlite3_column_int(query.row(), 0) == 1;
    };
    if (has_column()) return;
    char* error = nullptr;
    if (sqlite3_exec(db_, "ALTER TABLE appointment ADD COLUMN sos_association_siret TEXT", nullptr, nullptr, &error) !=
        SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      if (!has_column()) throw std::runtime_error("cannot add appointment.sos_association_siret: " + message);
    }
  }

  // INT_R04: adds the cpts table to a file older than it (the schema is all CREATE ... IF NOT
  // EXISTS). Throws when the file cannot be changed.
  void ensure_cpts_table() {
    Statement check(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'cpts'");
    Query query(check);
    if (query.next() && sqlite3_column_int(query.row(), 0) == 1) return;
    char* error = nullptr;
    if (sqlite3_exec(db_, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("cannot add the cpts table: " + message);
    }
  }

  // The INT_R01 searches' index of free slots (schema.sql, slot_free_by_place_start) came within
  // version 1: added to an older file, once (measured: 1.4 s for 2.8 million slots). Returns false
  // when it was there already; throws when the file cannot be changed (read-only), and the
  // searches then read through slot_by_place_start, with the same answers.
  bool ensure_free_slot_index() {
    Statement check(db_,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'slot_free_by_place_start'");
    {
      Query query(check);
      if (query.next() && sqlite3_column_int(query.row(), 0) == 1) return false;
    }
    char* error = nullptr;
    if (sqlite3_exec(db_, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("cannot add the index slot_free_by_place_start: " + message);
    }
    return true;
  }

  // Takes or renews the reporter lease for `holder` until `expires_at_ms`; false while another
  // instance holds an unexpired one.
  bool take_reporter_lease(const std::string& holder, int64_t now_ms, int64_t expires_at_ms) {
    {
      // A read first: the common answers (another holder's lease runs; ours has long to run)
      // need no write lock on the vendor's agenda.
      Statement select(db_, "SELECT holder, expires_at_ms FROM sas_reporter_lease WHERE id = 1");
      Query query(select);
      if (query.next()) {
        const bool ours = column_text(query.row(), 0) == holder;
        const int64_t expires = sqlite3_column_int64(query.row(), 1);
        if (!ours && expires >= now_ms) return false;
        if (ours && expires - now_ms > (expires_at_ms - now_ms) / 2) return true;
      }
    }
    WriteTransaction transaction(db_);
    Statement upsert(db_,
                     "INSERT INTO sas_reporter_lease (id, holder, expires_at_ms) VALUES (1, ?1, ?2) "
                     "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms "
                     "WHERE sas_reporter_lease.holder = excluded.holder OR sas_reporter_lease.expires_at_ms < ?3");
    Query query(upsert);
    query.bind(1, holder).bind(2, expires_at_ms).bind(3, now_ms);
    query.next();
    const bool taken = sqlite3_changes(db_) > 0;
    transaction.commit();
    return taken;
  }
  void release_reporter_lease(const std::string& holder) {
    Statement remove(db_, "DELETE FROM sas_reporter_lease WHERE holder = ?");
    Query query(remove);
    query.bind(1, holder);
    query.next();
  }

  // SAS-origin appointments whose current state the host has not had yet, oldest booking first.
  // `booked_reported` false: the booking itself must go first (the host numbers events in the
  // order it receives them, and the platform's first notification is the booking). An SOS
  // Médecins appointment names its association, never a practitioner (its place may have none).
  struct PendingAppointment {
    v1::AppointmentEvent event;  // the current state
    bool booked_reported = false;
  };
  std::vector<PendingAppointment> appointments_to_notify(const std::string& system, int limit) {
    Statement select(db_,
                     "SELECT a.id, a.status, COALESCE(a.regulator_id_system, ''), COALESCE(a.regulator_id_value, ''), "
                     "COALESCE(p.national_id, ''), s.start_utc, s.end_utc, a.booked_at, EXISTS (SELECT 1 FROM "
                     "appointment_notification n WHERE n.appointment_id = a.id AND n.status = 'booked'), "
                     "COALESCE(a.sos_association_siret, '') "
                     "FROM appointment a JOIN slot s ON s.id = a.slot_id LEFT JOIN place pl ON pl.id = s.place_id "
                     "LEFT JOIN practitioner p ON p.id = pl.practitioner_id "
                     "WHERE a.sas_origin = 1 AND NOT EXISTS (SELECT 1 FROM appointment_notification n "
                     "WHERE n.appointment_id = a.id AND n.status = a.status) ORDER BY a.booked_at, a.id LIMIT ?");
    Query query(select);
    query.bind(1, int64_t{limit});
    std::vector<PendingAppointment> out;
    while (query.next()) {
      sqlite3_stmt* row = query.row();
      PendingAppointment& pending = out.emplace_back();
      v1::AppointmentEvent& e = pending.event;
      const std::string status = column_text(row, 1);
      e.set_type(status == "cancelled"   ? v1::APPOINTMENT_CANCELLED
                 : status == "fulfilled" ? v1::APPOINTMENT_FULFILLED
                 : status == "noshow"    ? v1::APPOINTMENT_NOSHOW
                                         : v1::APPOINTMENT_BOOKED);
      e.set_appointment_system(system);
      e.set_appointment_id(column_text(row, 0));
      const std::string regulator_system = column_text(row, 2);
      e.set_regulator_id_type(regulator_system == kIntrnSystem ? v1::REGULATOR_ID_INTRN : v1::REGULATOR_ID_IDNPS);
      e.set_regulator_id(column_text(row, 3));
      const std::string sos_association_siret = column_text(row, 9);
      if (sos_association_siret.empty()) {
        e.set_practitioner_national_id(column_text(row, 4));
      } else {
        e.set_sos_association_siret(sos_association_siret);  // as stored: the host normalises it
      }
      e.set_start_time(sqlite3_column_int64(row, 5));
      e.set_end_time(sqlite3_column_int64(row, 6));
      e.set_created_time(sqlite3_column_int64(row, 7));
      pending.booked_reported = sqlite3_column_int(row, 8) != 0;
    }
    return out;
  }

  void mark_notified(const std::string& appointment_id, const std::string& status, int64_t now, int64_t sequence,
                     const std::string& error) {
    Statement insert(db_,
                     "INSERT OR IGNORE INTO appointment_notification (appointment_id, status, reported_at, "
                     "outbox_sequence, report_error) VALUES (?, ?, ?, ?, ?)");
    Query query(insert);
    query.bind(1, appointment_id).bind(2, status).bind(3, now).bind(4, sequence);
    bind_or_null(insert.get(), 5, error);
    query.next();
  }

  // ABI 1.4: the doctors' option changes the vendor's UI recorded and the host has not had yet,
  // in the order they were recorded. practitioner_id is practitioner.id, else sent as it is (an
  // RPPS/ADELI; the host normalises or refuses it).
  struct SettingsChange {
    int64_t id = 0;
    v1::SetDoctorSettingsRequest request;
  };
  std::vector<SettingsChange> settings_changes_to_push(int limit) {
    Statement select(db_,
                     "SELECT c.id, COALESCE(p.national_id, c.practitioner_id), c.volunteer, c.visible, "
                     "c.consent_to_call, c.phone, c.changed_at, COALESCE(c.changed_by, '') "
                     "FROM sas_doctor_settings_change c LEFT JOIN practitioner p ON p.id = c.practitioner_id "
                     "WHERE c.pushed_at IS NULL ORDER BY c.id LIMIT ?");
    Query query(select);
    query.bind(1, int64_t{limit});
    std::vector<SettingsChange> out;
    while (query.next()) {
      sqlite3_stmt* row = query.row();
      SettingsChange& change = out.emplace_back();
      change.id = sqlite3_column_int64(row, 0);
      v1::SetDoctorSettingsRequest& r = change.request;
      r.set_practitioner_national_id(column_text(row, 1));
      if (sqlite3_column_type(row, 2) != SQLITE_NULL) r.set_volunteer(sqlite3_column_int(row, 2) != 0);
      if (sqlite3_column_type(row, 3) != SQLITE_NULL) r.set_visible(sqlite3_column_int(row, 3) != 0);
      if (sqlite3_column_type(row, 4) != SQLITE_NULL) r.set_consent_to_call(sqlite3_column_int(row, 4) != 0);
      if (sqlite3_column_type(row, 5) != SQLITE_NULL) r.set_phone(column_text(row, 5));
      r.set_effective_at(sqlite3_column_int64(row, 6));
      r.set_changed_by(column_text(row, 7));
    }
    return out;
  }

  // The host has the change (error ""), or refused it for good (error: its reason).
  void mark_settings_change_pushed(int64_t id, int64_t now, const std::string& error) {
    Statement update(db_, "UPDATE sas_doctor_settings_change SET pushed_at = ?, error = ? WHERE id = ?");
    Query query(update);
    query.bind(1, now);
    bind_or_null(update.get(), 2, error);
    query.bind(3, id);
    query.next();
  }

  // ABI 1.4: publication rule requests not pushed yet, in the order they were recorded.
  struct RuleRequest {
    int64_t id = 0;
    bool add = true;
    v1::AddPublicationRuleRequest add_request;
    v1::RemovePublicationRuleRequest remove_request;
  };
  std::vector<RuleRequest> rule_requests_to_push(int limit) {
    Statement select(db_,
                     "SELECT r.id, COALESCE(p.national_id, r.practitioner_id), r.action, COALESCE(r.rule_json, ''), "
                     "COALESCE(r.rule_id, 0), COALESCE(r.requested_by, '') "
                     "FROM sas_publication_rule_request r LEFT JOIN practitioner p ON p.id = r.practitioner_id "
                     "WHERE r.pushed_at IS NULL ORDER BY r.id LIMIT ?");
    Query query(select);
    query.bind(1, int64_t{limit});
    std::vector<RuleRequest> out;
    while (query.next()) {
      sqlite3_stmt* row = query.row();
      RuleRequest& request = out.emplace_back();
      request.id = sqlite3_column_int64(row, 0);
      request.add = column_text(row, 2) == "add";
      if (request.add) {
        request.add_request.set_practitioner_national_id(column_text(row, 1));
        request.add_request.set_rule_json(column_text(row, 3));
        request.add_request.set_changed_by(column_text(row, 5));
      } else {
        request.remove_request.set_practitioner_national_id(column_text(row, 1));
        request.remove_request.set_rule_id(sqlite3_column_int64(row, 4));
        request.remove_request.set_changed_by(column_text(row, 5));
      }
    }
    return out;
  }

  // The host answered: host_rule_id (0: none) for an added rule, or its refusal in `error`.
  void mark_rule_request_pushed(int64_t id, int64_t now, int64_t host_rule_id, const std::string& error) {
    Statement update(db_,
                     "UPDATE sas_publication_rule_request SET pushed_at = ?, host_rule_id = NULLIF(?, 0), error = ? "
                     "WHERE id = ?");
    Query query(update);
    query.bind(1, now).bind(2, host_rule_id);
    bind_or_null(update.get(), 3, error);
    query.bind(4, id);
    query.next();
  }

  // The consultations of honoured SAS-origin appointments not reported yet, oldest first.
  std::vector<v1::Consultation> consultations_to_report(int limit) {
    Statement select(db_,
                     "SELECT c.id, c.consulted_at, c.medecin_traitant, COALESCE(c.specialty, (SELECT ps.code FROM "
                     "practitioner_specialty ps WHERE ps.practitioner_id = p.id AND ps.code IS NOT NULL ORDER BY "
                     "ps.rowid LIMIT 1), ''), c.opposable_tariff, COALESCE(c.tariff_sector, ''), "
                     "COALESCE(c.other_codes, ''), COALESCE(c.region, ''), a.booked_at, p.national_id "
                     "FROM consultation c JOIN appointment a ON a.id = c.appointment_id "
                     "JOIN slot s ON s.id = a.slot_id JOIN place pl ON pl.id = s.place_id "
                     "JOIN practitioner p ON p.id = pl.practitioner_id "
                     "WHERE c.reported_at IS NULL AND a.sas_origin = 1 AND a.status = 'fulfilled' "
                     "ORDER BY c.consulted_at, c.id LIMIT ?");
    Query query(select);
    query.bind(1, int64_t{limit});
    std::vector<v1::Consultation> out;
    while (query.next()) {
      sqlite3_stmt* row = query.row();
      v1::Consultation& c = out.emplace_back();
      c.set_consultation_id(column_text(row, 0));
      c.set_consulted_at(sqlite3_column_int64(row, 1));
      c.set_medecin_traitant(sqlite3_column_int(row, 2) != 0);
      c.set_specialty(column_text(row, 3));
      c.set_opposable_tariff(sqlite3_column_int(row, 4) != 0);
      c.set_tariff_sector(column_text(row, 5));
      for (auto& code : split(column_text(row, 6), ',')) c.add_other_codes(std::move(code));
      c.set_region(column_text(row, 7));
      c.set_regulated_at(sqlite3_column_int64(row, 8));  // the regulation: the regulator's booking
      c.set_practitioner_national_id(column_text(row, 9));
    }
    return out;
  }

  // The host has the consultation (error ""), or refused it for good (error: its reason).
  void mark_reported(const std::string& consultation_id, int64_t now, const std::string& error) {
    Statement update(db_, "UPDATE consultation SET reported_at = ?, report_error = ? WHERE id = ?");
    Query query(update);
    query.bind(1, now);
    bind_or_null(update.get(), 2, error);
    query.bind(3, consultation_id);
    query.next();
  }

  // Upserts the host's decision for the invoicing module.
  void store_decision(const v1::BillingDecision& d, int64_t now) {
    std::string fr;
    std::string en;
    for (const auto& r : d.reasons()) {
      fr += (r.met() ? "+ " : "- ") + r.fr() + " [" + r.reference() + "]\n";
      en += (r.met() ? "+ " : "- ") + r.en() + " [" + r.reference() + "]\n";
    }
    Statement upsert(db_,
                     "INSERT INTO billing_decision (consultation_id, code, parcours_indicator, amount_cents, rule_set, "
                     "reasons_fr, reasons_en, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (consultation_id) DO UPDATE SET code = excluded.code, parcours_indicator = "
                     "excluded.parcours_indicator, amount_cents = excluded.amount_cents, rule_set = excluded.rule_set, "
                     "reasons_fr = excluded.reasons_fr, reasons_en = excluded.reasons_en, decided_at = "
                     "excluded.decided_at");
    Query query(upsert);
    query.bind(1, d.consultation_id()).bind(2, d.code()).bind(3, d.parcours_indicator()).bind(4, d.amount_cents());
    query.bind(5, d.rule_set()).bind(6, fr).bind(7, en).bind(8, now);
    query.next();
  }

  int schema_version() {
    Statement statement(db_, "PRAGMA user_version");
    Query query(statement);
    return query.next() ? sqlite3_column_int(query.row(), 0) : 0;
  }

  // INT_R02: the SDK's matching rules (sas/sdk/regulator_accounts.hpp) over the
  // regulator_account table, in one write transaction: the rules' reads and the write see one
  // state, and concurrent PUTs of one new regulator queue instead of making two accounts.
  Status write_account(const v1::WriteRegulatorAccountRequest& request, v1::WriteRegulatorAccountResponse& response,
                       int64_t now) {
    // Hashed before the write lock is taken (PBKDF2 is slow on purpose): concurrent writes
    // then wait for each other only for the SQL, not for the hashing. An update by account id
    // never creates, so it needs none.
    const std::string password_hash = request.mode() == v1::ACCOUNT_UPDATE ? std::string() : generated_password_hash();
    WriteTransaction transaction(db_);
    AccountTable table(*this, password_hash, now);
    Status status = sas::sdk::regulator_accounts::write_account(request, table, response);
    if (status.is_ok()) transaction.commit();
    return status;
  }

  Status search(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                const sas::sdk::CallContext& context) {
    // One read transaction for the whole search: a consistent snapshot of the agenda, and one
    // file lock instead of one per query.
    ReadTransaction transaction(db_);
    // Each stored form once: a practitioner row has one national_id, so it then comes once.
    std::vector<std::string> forms;
    for (const std::string& wanted : request.practitioner_national_ids()) {
      for (std::string& form : sas::sdk::ids::stored_forms(wanted)) {
        if (std::find(forms.begin(), forms.end(), form) == forms.end()) forms.push_back(std::move(form));
      }
    }
    if (!forms.empty() && !add_practitioners({forms.begin(), forms.end()}, request, response, context)) {
      return Status::deadline_exceeded("search stopped at the host's deadline");
    }
    if (request.cpts_search()) add_cpts(response);
    return Status::ok();
  }

  // SOS Médecins (ABI 1.5): whether this file has the SOS tables (schema.sql, added within
  // version 1), and adding them to an older one.
  bool has_sos_tables() {
    Statement check(db_,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sos_association', "
                    "'sos_place')");
    Query query(check);
    return query.next() && sqlite3_column_int(query.row(), 0) == 2;
  }
  void add_sos_tables() {
    char* error = nullptr;
    if (sqlite3_exec(db_, sas::sqlite_agenda::schema_sql(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("cannot add the SOS Médecins tables: " + message);
    }
  }

  // The requested associations (matched in whatever form their SIRET was stored), their places
  // and the places' free slots in the window. A file without the SOS tables has no SOS data.
  Status search_sos(const v1::SearchSosSlotsRequest& request, v1::SearchSosSlotsResponse& response,
                    const sas::sdk::CallContext& context) {
    ReadTransaction transaction(db_);
    if (!sos_statements_ready_) {
      if (!has_sos_tables()) return Status::ok();
      sos_association_ = Statement(db_, "SELECT siret, name FROM sos_association WHERE siret = ?");
      sos_places_ = Statement(db_,
                              "SELECT id, association_siret, name, address, postal_code, city, phone, "
                              "opening_hours, booking_url FROM sos_place WHERE association_siret = ? ORDER BY id");
      sos_statements_ready_ = true;
    }
    std::set<std::string> seen_places;
    for (const std::string& wanted : request.association_sirets()) {
      for (const std::string& form : sas::sdk::ids::stored_siret_forms(wanted)) {
        if (context.should_stop()) return Status::deadline_exceeded("SOS search stopped at the host's deadline");
        {
          Query associations(sos_association_);
          associations.bind(1, form);
          while (associations.next()) {
            v1::SosAssociation& association = *response.add_associations();
            association.set_siret(column_text(associations.row(), 0));
            association.set_name(column_text(associations.row(), 1));
          }
        }
        Query places(sos_places_);
        places.bind(1, form);
        while (places.next()) {
          sqlite3_stmt* p = places.row();
          if (!seen_places.insert(column_text(p, 0)).second) continue;
          v1::SosPlace& place = *response.add_places();
          place.set_id(column_text(p, 0));
          place.set_association_siret(column_text(p, 1));
          place.set_name(column_text(p, 2));
          for (auto& line : split(column_text(p, 3), '\n')) place.add_address_lines(std::move(line));
          place.set_postal_code(column_text(p, 4));
          place.set_city(column_text(p, 5));
          place.set_phone(column_text(p, 6));
          for (const auto& line : split(column_text(p, 7), '\n')) add_opening_hours(place, line);
          add_sos_slots(place.id(), column_text(p, 8), request, response);
        }
      }
    }
    return Status::ok();
  }

 private:
  // "tue,wed,thu 08:00-19:00": the days and the two times as written (the host checks them); the
  // times are the last word of the line.
  static void add_opening_hours(v1::SosPlace& place, const std::string& line) {
    v1::OpeningHours& hours = *place.add_opening_hours();
    const auto space = line.rfind(' ');
    for (auto& day : split(line.substr(0, space), ',')) hours.add_days(std::move(day));
    if (space == std::string::npos) return;
    const std::string times = line.substr(space + 1);
    const auto dash = times.find('-');
    hours.set_opening_time(times.substr(0, dash));
    if (dash != std::string::npos) hours.set_closing_time(times.substr(dash + 1));
  }

  void add_sos_slots(const std::string& place_id, const std::string& place_booking_url,
                     const v1::SearchSosSlotsRequest& request, v1::SearchSosSlotsResponse& response) {
    Query slots(free_slots_);
    slots.bind(1, place_id).bind(2, request.start_from()).bind(3, request.start_to());
    while (slots.next()) {
      sqlite3_stmt* s = slots.row();
      v1::Slot& slot = *response.add_slots();
      slot.set_id(std::to_string(sqlite3_column_int64(s, 0)));
      slot.set_place_id(place_id);
      slot.set_start(sqlite3_column_int64(s, 1));
      slot.set_end(sqlite3_column_int64(s, 2));
      slot.set_status(v1::SLOT_FREE);
      for (const auto& audience : split(column_text(s, 3), ',')) slot.add_audiences(parse_audience(audience));
      for (const auto& mode : split(column_text(s, 5), ',')) slot.add_modes(parse_mode(mode));
      for (auto& motive : split(column_text(s, 6), '\n')) slot.add_motives(std::move(motive));
      slot.set_walk_in(sqlite3_column_int(s, 7) != 0);
      std::string url = column_text(s, 8);
      slot.set_booking_url(url.empty() ? place_booking_url : url);
      for (auto& specialty : split(column_text(s, 9), '\n')) set_specialty(*slot.add_specialties(), specialty);
    }
  }

  void close() {
    practitioners_ = Statement();
    specialties_ = Statement();
    places_ = Statement();
    free_slots_of_places_ = Statement();
    free_slots_ = Statement();
    sos_association_ = Statement();
    sos_places_ = Statement();
    cpts_by_finess_ = Statement();
    sqlite3_close(db_);
    db_ = nullptr;
  }

  // The SDK's view of the regulator_account table, inside write_account's transaction.
  class AccountTable final : public sas::sdk::regulator_accounts::AccountStore {
    using Account = sas::sdk::regulator_accounts::StoredAccount;
    using Fields = sas::sdk::regulator_accounts::AccountFields;

   public:
    AccountTable(Connection& connection, const std::string& password_hash, int64_t now)
        : db_(connection.db_), password_hash_(password_hash), now_(now) {}

    std::optional<Account> by_id(const std::string& id) override {
      auto found = select("WHERE id = ?", id);
      return found.empty() ? std::nullopt : std::optional<Account>(std::move(found.front()));
    }
    std::optional<Account> by_sas_id(const std::string& sas_id) override {
      auto found = select("WHERE sas_id = ?", sas_id);
      return found.empty() ? std::nullopt : std::optional<Account>(std::move(found.front()));
    }
    std::vector<Account> by_national_id(const std::string& national_id) override {
      return select("WHERE national_id = ? ORDER BY updated_at DESC, rowid DESC", national_id);
    }
    std::string create(const Fields& fields) override {
      const std::string id = new_account_id();
      Statement insert(db_,
                       "INSERT INTO regulator_account (id, national_id, sas_id, family_name, given_names, email, "
                       "active, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      Query q(insert);
      q.bind(1, id);
      bind_or_null(insert.get(), 2, fields.national_id);
      bind_or_null(insert.get(), 3, fields.sas_id);
      q.bind(4, fields.family_name).bind(5, fields.given_name).bind(6, fields.email);
      q.bind(7, int64_t{fields.active ? 1 : 0});
      q.bind(8, password_hash_.empty() ? generated_password_hash() : password_hash_).bind(9, now_).bind(10, now_);
      q.next();
      return id;
    }
    void update(const std::string& id, const Fields& fields) override {
      Statement update(db_,
                       "UPDATE regulator_account SET national_id = ?, sas_id = ?, family_name = ?, given_names = ?, "
                       "email = ?, active = ?, updated_at = ? WHERE id = ?");
      Query q(update);
      bind_or_null(update.get(), 1, fields.national_id);
      bind_or_null(update.get(), 2, fields.sas_id);
      q.bind(3, fields.family_name).bind(4, fields.given_name).bind(5, fields.email);
      q.bind(6, int64_t{fields.active ? 1 : 0}).bind(7, now_).bind(8, id);
      q.next();
    }

   private:
    std::vector<Account> select(const std::string& where, const std::string& value) {
      Statement statement(
          db_,
          ("SELECT id, national_id, sas_id, family_name, given_names, email, active FROM regulator_account " + where)
              .c_str());
      Query query(statement);
      query.bind(1, value);
      std::vector<Account> out;
      while (query.next()) {
        sqlite3_stmt* row = query.row();
        Account& account = out.emplace_back();
        account.id = column_text(row, 0);
        account.fields.national_id = column_text(row, 1);  // "" for NULL
        account.fields.sas_id = column_text(row, 2);
        account.fields.family_name = column_text(row, 3);
        // given_names holds one per line; the guide's regulator has one.
        const std::string given = column_text(row, 4);
        account.fields.given_name = given.substr(0, given.find('\n'));
        account.fields.email = column_text(row, 5);
        account.fields.active = sqlite3_column_int(row, 6) != 0;
      }
      return out;
    }

    sqlite3* db_;
    const std::string& password_hash_;
    int64_t now_;
  };

  // INT_R01: the practitioners stored under `forms`, their specialties, their places and the
  // places' free slots in the window, in four statements however many there are (a statement
  // per practitioner and per place, some 140 for 25 practitioners, took a fifth more CPU).
  // False when the host's deadline passed.
  bool add_practitioners(const std::vector<std::string_view>& forms, const v1::SearchSlotsRequest& request,
                         v1::SearchSlotsResponse& response, const sas::sdk::CallContext& context) {
    std::vector<v1::Practitioner*> practitioners;
    std::vector<std::string_view> keys;  // of the next statement
    {
      const std::string wanted = json_string_array(forms);
      Query rows(practitioners_);
      rows.bind_unowned(1, wanted);
      while (rows.next()) {
        sqlite3_stmt* row = rows.row();
        v1::Practitioner& practitioner = *response.add_practitioners();
        set_text(practitioner, &v1::Practitioner::mutable_id, column_view(row, 0));
        set_text(practitioner, &v1::Practitioner::mutable_national_id, column_view(row, 1));
        set_text(practitioner, &v1::Practitioner::mutable_family_name, column_view(row, 2));
        for_each_item(column_view(row, 3), '\n',
                      [&](std::string_view given) { practitioner.add_given_names(given.data(), given.size()); });
        set_text(practitioner, &v1::Practitioner::mutable_phone, column_view(row, 4));
        practitioners.push_back(&practitioner);
        keys.push_back(practitioner.id());
      }
    }
    if (practitioners.empty()) return true;
    if (context.should_stop()) return false;
    const std::string practitioner_ids = json_string_array(keys);
    {
      Query rows(specialties_);
      rows.bind_unowned(1, practitioner_ids);
      while (rows.next()) {
        sqlite3_stmt* row = rows.row();
        v1::Specialty& specialty = *practitioners[static_cast<size_t>(sqlite3_column_int64(row, 0))]->add_specialties();
        set_text(specialty, &v1::Specialty::mutable_code, column_view(row, 1));
        set_text(specialty, &v1::Specialty::mutable_text, column_view(row, 2));
      }
    }
    if (context.should_stop()) return false;
    struct PlaceOfSlots {
      const std::string* id;
      std::string booking_url;  // the slots' unless they have their own
    };
    std::vector<PlaceOfSlots> places;
    keys.clear();
    {
      Query rows(places_);
      rows.bind_unowned(1, practitioner_ids);
      while (rows.next()) {
        sqlite3_stmt* row = rows.row();
        v1::Place& place = *response.add_places();
        set_text(place, &v1::Place::mutable_id, column_view(row, 1));
        place.set_practitioner_id(practitioners[static_cast<size_t>(sqlite3_column_int64(row, 0))]->id());
        set_text(place, &v1::Place::mutable_name, column_view(row, 2));
        for_each_item(column_view(row, 3), '\n',
                      [&](std::string_view line) { place.add_address_lines(line.data(), line.size()); });
        set_text(place, &v1::Place::mutable_postal_code, column_view(row, 4));
        set_text(place, &v1::Place::mutable_city, column_view(row, 5));
        set_text(place, &v1::Place::mutable_finess, column_view(row, 6));
        set_text(place, &v1::Place::mutable_siret, column_view(row, 7));
        set_text(place, &v1::Place::mutable_rpps_rang, column_view(row, 8));
        set_text(place, &v1::Place::mutable_phone, column_view(row, 9));
        places.push_back({&place.id(), std::string(column_view(row, 10))});
        keys.push_back(place.id());
      }
    }
    if (places.empty()) return true;
    if (context.should_stop()) return false;
    const std::string place_ids = json_string_array(keys);
    Query rows(free_slots_of_places_);
    rows.bind_unowned(1, place_ids).bind(2, request.start_from()).bind(3, request.start_to());
    for (size_t count = 1; rows.next(); ++count) {
      if (count % 256 == 0 && context.should_stop()) return false;
      sqlite3_stmt* row = rows.row();
      const PlaceOfSlots& place = places[static_cast<size_t>(sqlite3_column_int64(row, 0))];
      v1::Slot& slot = *response.add_slots();
      char id[24];
      const auto id_end = std::to_chars(std::begin(id), std::end(id), sqlite3_column_int64(row, 1)).ptr;
      slot.mutable_id()->assign(id, id_end);
      set_text(slot, &v1::Slot::mutable_place_id, *place.id);
      slot.set_start(sqlite3_column_int64(row, 2));
      slot.set_end(sqlite3_column_int64(row, 3));
      slot.set_status(v1::SLOT_FREE);
      for_each_item(column_view(row, 4), ',', [&](std::string_view code) { slot.add_audiences(parse_audience(code)); });
      for_each_item(column_view(row, 5), ',',
                    [&](std::string_view finess) { slot.add_cpts_finess(finess.data(), finess.size()); });
      for_each_item(column_view(row, 6), ',', [&](std::string_view code) { slot.add_modes(parse_mode(code)); });
      for_each_item(column_view(row, 7), '\n',
                    [&](std::string_view motive) { slot.add_motives(motive.data(), motive.size()); });
      slot.set_walk_in(sqlite3_column_int(row, 8) != 0);
      const std::string_view booking_url = column_view(row, 9);
      set_text(slot, &v1::Slot::mutable_booking_url, booking_url.empty() ? place.booking_url : booking_url);
      for_each_item(column_view(row, 10), '\n',
                    [&](std::string_view specialty) { set_specialty(*slot.add_specialties(), specialty); });
    }
    return true;
  }

  // INT_R04: the CPTS the returned slots name, each once, from the cpts table (matched whatever
  // form, with or without the 1 prefix, either side stored). A CPTS without a row is left out:
  // the host sends it by its FINESS alone.
  void add_cpts(v1::SearchSlotsResponse& response) {
    if (cpts_table_missing_) return;
    if (cpts_by_finess_.get() == nullptr) {
      try {
        cpts_by_finess_ = Statement(
            db_, "SELECT finess, name, phone FROM cpts WHERE finess IN (?1, ?2) ORDER BY finess = ?1 DESC LIMIT 1");
      } catch (const std::exception&) {
        cpts_table_missing_ = true;  // a file the plugin could not migrate (read-only): FINESS alone
        return;
      }
    }
    std::vector<std::string> seen;
    for (const auto& slot : response.slots()) {
      for (const std::string& raw : slot.cpts_finess()) {
        const auto prefixed = sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::finess, raw);
        const std::string key = prefixed.value_or(raw);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        Query row(cpts_by_finess_);
        row.bind(1, key).bind(2, prefixed ? prefixed->substr(1) : raw);
        if (!row.next()) continue;
        v1::Cpts& cpts = *response.add_cpts();
        cpts.set_finess(column_text(row.row(), 0));
        cpts.set_name(column_text(row.row(), 1));
        cpts.set_phone(column_text(row.row(), 2));
      }
    }
  }

  void add_slots(const v1::Place& place, const std::string& place_booking_url, const v1::SearchSlotsRequest& request,
                 v1::SearchSlotsResponse& response) {
    Query slots(free_slots_);
    slots.bind(1, place.id()).bind(2, request.start_from()).bind(3, request.start_to());
    while (slots.next()) {
      sqlite3_stmt* s = slots.row();
      v1::Slot& slot = *response.add_slots();
      slot.set_id(std::to_string(sqlite3_column_int64(s, 0)));
      slot.set_place_id(place.id());
      slot.set_start(sqlite3_column_int64(s, 1));
      slot.set_end(sqlite3_column_int64(s, 2));
      slot.set_status(v1::SLOT_FREE);
      for (const auto& audience : split(column_text(s, 3), ',')) slot.add_audiences(parse_audience(audience));
      for (auto& cpts : split(column_text(s, 4), ',')) slot.add_cpts_finess(std::move(cpts));
      for (const auto& mode : split(column_text(s, 5), ',')) slot.add_modes(parse_mode(mode));
      for (auto& motive : split(column_text(s, 6), '\n')) slot.add_motives(std::move(motive));
      slot.set_walk_in(sqlite3_column_int(s, 7) != 0);
      std::string url = column_text(s, 8);
      slot.set_booking_url(url.empty() ? place_booking_url : url);
      for (auto& specialty : split(column_text(s, 9), '\n')) set_specialty(*slot.add_specialties(), specialty);
    }
  }

  // A line that looks like a TRE_R38 code (SM + digits) is a code, anything else free text.
  static void set_specialty(v1::Specialty& specialty, std::string_view line) {
    const bool coded = line.size() > 2 && line.compare(0, 2, "SM") == 0 &&
                       line.find_first_not_of("0123456789", 2) == std::string_view::npos;
    set_text(specialty, coded ? &v1::Specialty::mutable_code : &v1::Specialty::mutable_text, line);
  }

  // Unknown codes map to UNSPECIFIED, which the host never publishes: safe by default.
  static v1::Audience parse_audience(std::string_view code) {
    if (code == "PUBLIC") return v1::AUDIENCE_PUBLIC;
    if (code == "PRO") return v1::AUDIENCE_PROFESSIONALS;
    if (code == "SNP") return v1::AUDIENCE_SNP;
    if (code == "CPTS") return v1::AUDIENCE_CPTS;
    if (code == "PATIENTELE") return v1::AUDIENCE_PATIENTELE_ONLY;
    return v1::AUDIENCE_UNSPECIFIED;
  }
  static v1::ConsultationMode parse_mode(std::string_view code) {
    if (code == "AMB") return v1::MODE_AT_PRACTICE;
    if (code == "HH") return v1::MODE_AT_HOME;
    if (code == "VR") return v1::MODE_TELECONSULTATION;
    return v1::MODE_UNSPECIFIED;
  }

  sqlite3* db_ = nullptr;
  Statement practitioners_;
  Statement specialties_;
  Statement places_;
  Statement free_slots_of_places_;
  Statement free_slots_;  // of one place
  // SOS Médecins: prepared on the first SOS search, once the file has the SOS tables.
  bool sos_statements_ready_ = false;
  Statement sos_association_;
  Statement sos_places_;
  Statement cpts_by_finess_;  // prepared at the first CPTS search
  bool cpts_table_missing_ = false;
};

// Free-threaded: each call borrows a connection from a small pool.
class SqliteAgendaPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host& host) override {
    for (const std::string& entry : split(config, ';')) {
      auto eq = entry.find('=');
      std::string key = entry.substr(0, eq);
      std::string value = eq == std::string::npos ? std::string() : entry.substr(eq + 1);
      if (key == "db") {
        path_ = value;
      } else if (key == "report_interval_ms") {
        try {
          report_interval_ = std::chrono::milliseconds(std::stol(value));
        } catch (const std::exception&) {
          return Status::invalid_argument("--plugin-config report_interval_ms: expected milliseconds, got '" + value +
                                          "'");
        }
      } else if (key == "appointment_system") {
        appointment_system_ = value;
      } else {
        return Status::invalid_argument("unknown --plugin-config key '" + key +
                                        "' (known: db, report_interval_ms, appointment_system)");
      }
    }
    if (path_.empty()) return Status::invalid_argument("--plugin-config needs db=PATH (the agenda SQLite file)");
    try {
      auto connection = std::make_unique<Connection>(path_);
      int version = connection->schema_version();
      if (version != kSchemaVersion) {
        return Status::invalid_argument("agenda database " + path_ + " has schema version " + std::to_string(version) +
                                        ", this plugin reads version " + std::to_string(kSchemaVersion));
      }
      try {
        const auto started = std::chrono::steady_clock::now();
        if (connection->ensure_free_slot_index()) {
          const auto took =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
          host.log(sas::sdk::LogLevel::info, "added the free-slot index slot_free_by_place_start to " + path_ + " in " +
                                                 std::to_string(took.count()) + " ms");
        }
      } catch (const std::exception& e) {
        host.log(sas::sdk::LogLevel::warning,
                 std::string(e.what()) + ": searches read the slot table itself, with the same answers (more CPU)");
      }
      if (host.has_host_calls() && report_interval_.count() > 0) {
        connection->ensure_host_call_tables();
        connection->ensure_sos_appointment_column();
      }
      if (!connection->has_sos_tables()) {
        try {
          connection->add_sos_tables();  // a file from before the SOS Médecins search
        } catch (const std::exception& e) {
          host.log(sas::sdk::LogLevel::warning,
                   std::string(e.what()) + ": SOS Médecins searches answer nothing until they exist");
        }
      }
      try {
        connection->ensure_cpts_table();
      } catch (const std::exception& e) {
        host.log(sas::sdk::LogLevel::warning,
                 std::string(e.what()) + ": the CPTS search sends each CPTS by its FINESS alone");
      }
      idle_.push_back(std::move(connection));
    } catch (const std::exception& e) {
      return Status::invalid_argument(e.what());
    }
    host_ = &host;  // lent by the SDK until shutdown
    host.log(sas::sdk::LogLevel::info, "sqlite-agenda reading " + path_);
    // ABI 1.2: a thread reports the consultations of honoured SAS-origin appointments.
    if (host.has_host_calls() && report_interval_.count() > 0) {
      char host_name[256] = {};
      ::gethostname(host_name, sizeof(host_name) - 1);
      reporter_id_ =
          std::string(host_name) + ":" + std::to_string(::getpid()) + ":" + std::to_string(std::random_device{}());
      lease_ = std::max(std::chrono::milliseconds(5000), report_interval_ * 5);
      // The SDK's reporter (sas/sdk/reporter.hpp) applies the host's statuses: done, refused
      // for good, or paused and retried later with a back-off, each stream in its order.
      namespace rp = sas::sdk::reporter;
      if (host.has_appointment_events()) {
        reporter_.add_stream("appointment events", [this](rp::Round& round) { notify_appointments(round); });
      }
      reporter_.add_stream("consultation reports", [this](rp::Round& round) { report_pending(round); });
      if (host.has_doctor_settings()) {
        reporter_.add_stream("doctor settings", [this](rp::Round& round) { push_doctor_settings(round); });
      }
      reporter_.start(host, {report_interval_, std::chrono::seconds(30)}, [this] { return holds_reporter_lease(); });
      reporting_ = true;
    }
    return Status::ok();
  }

  // ABI 1.2 (flow sas-billing): the host's decision, for the invoicing module.
  Status apply_billing_decision(const v1::ApplyBillingDecisionRequest& request, v1::ApplyBillingDecisionResponse&,
                                const sas::sdk::CallContext&) override {
    if (request.decision().consultation_id().empty()) return Status::invalid_argument("decision without consultation");
    try {
      std::unique_ptr<Connection> connection = acquire();
      connection->ensure_host_call_tables();
      connection->store_decision(request.decision(), now_seconds());
      release(std::move(connection));
      return Status::ok();
    } catch (const std::exception& e) {
      return Status::unavailable(e.what());
    }
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext& context) override {
    try {
      std::unique_ptr<Connection> connection = acquire();
      Status status = connection->search(request, response, context);
      release(std::move(connection));
      return status;
    } catch (const std::exception& e) {
      return Status::unavailable(e.what());  // a broken connection is dropped, not reused
    }
  }

  // ABI 1.5 (flow sos-search): the SOS Médecins associations' places and free slots.
  Status search_sos_slots(const v1::SearchSosSlotsRequest& request, v1::SearchSosSlotsResponse& response,
                          const sas::sdk::CallContext& context) override {
    try {
      std::unique_ptr<Connection> connection = acquire();
      Status status = connection->search_sos(request, response, context);
      release(std::move(connection));
      return status;
    } catch (const std::exception& e) {
      return Status::unavailable(e.what());  // a broken connection is dropped, not reused
    }
  }

  Status write_regulator_account(const v1::WriteRegulatorAccountRequest& request,
                                 v1::WriteRegulatorAccountResponse& response, const sas::sdk::CallContext&) override {
    try {
      std::unique_ptr<Connection> connection = acquire();
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(host_->now().time_since_epoch()).count();
      Status status = connection->write_account(request, response, now);
      release(std::move(connection));
      return status;
    } catch (const std::exception& e) {
      return Status::unavailable(e.what());  // a broken connection is dropped, not reused
    }
  }

  void shutdown() override {
    reporter_.stop();
    if (reporting_) {
      // Another instance on the same agenda takes over at its next round, not at the expiry.
      try {
        std::unique_ptr<Connection> connection = acquire();
        connection->release_reporter_lease(reporter_id_);
        release(std::move(connection));
      } catch (const std::exception&) {
        // The lease then expires by itself.
      }
    }
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

 private:
  int64_t now_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(host_->now().time_since_epoch()).count();
  }

  // Several instances on one agenda (process isolation's runners, several hosts) would report the
  // same rows twice: only the holder of the agenda's reporter lease reports. The lease outlives
  // several rounds, so that a holder that dies is replaced within lease_ (real time: this is
  // coordination between processes, not the host's business clock).
  bool holds_reporter_lease() {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    try {
      std::unique_ptr<Connection> connection = acquire();
      const bool held = connection->take_reporter_lease(reporter_id_, now, now + lease_.count());
      release(std::move(connection));
      return held;
    } catch (const std::exception& e) {
      host_->log(sas::sdk::LogLevel::warning, std::string("reporter lease: ") + e.what());
      return false;
    }
  }

  // ABI 1.3: each new state of a SAS-origin appointment, to the host's durable outbox (INT_R03).
  void notify_appointments(sas::sdk::reporter::Round& round) {
    std::unique_ptr<Connection> connection = acquire();
    auto send = [&](const v1::AppointmentEvent& event, const std::string& status) {
      return round.send(
          "appointment " + event.appointment_id() + " (" + status + ")", event,
          [&](const v1::AppointmentEventResponse& response) {
            connection->mark_notified(event.appointment_id(), status, now_seconds(), response.sequence(), "");
          },
          [&](const std::string& reason) {
            connection->mark_notified(event.appointment_id(), status, now_seconds(), 0, reason);
          });
    };
    for (const auto& pending : connection->appointments_to_notify(appointment_system_, 100)) {
      // The booking first: the host numbers events in the order it receives them, and the
      // platform's first notification of an appointment is its booking.
      if (!pending.booked_reported && pending.event.type() != v1::APPOINTMENT_BOOKED) {
        v1::AppointmentEvent booked = pending.event;
        booked.set_type(v1::APPOINTMENT_BOOKED);
        if (!send(booked, "booked")) break;
      }
      const auto type = pending.event.type();
      const std::string status = type == v1::APPOINTMENT_CANCELLED   ? "cancelled"
                                 : type == v1::APPOINTMENT_FULFILLED ? "fulfilled"
                                 : type == v1::APPOINTMENT_NOSHOW    ? "noshow"
                                                                     : "booked";
      if (!send(pending.event, status)) break;
    }
    release(std::move(connection));
  }

  // ABI 1.4: the option changes and rule requests of the vendor's UI, to the host, in order, the
  // changes first. A refusal (bad data, conflicting or unknown rule) is kept in the row's `error`.
  void push_doctor_settings(sas::sdk::reporter::Round& round) {
    std::unique_ptr<Connection> connection = acquire();
    for (const auto& change : connection->settings_changes_to_push(100)) {
      const bool go_on = round.send(
          "settings change " + std::to_string(change.id), change.request,
          [&](const v1::SetDoctorSettingsResponse&) {
            connection->mark_settings_change_pushed(change.id, now_seconds(), "");
          },
          [&](const std::string& reason) {
            connection->mark_settings_change_pushed(change.id, now_seconds(), reason);
          });
      if (!go_on) break;
    }
    for (const auto& request :
         round.paused() ? std::vector<Connection::RuleRequest>{} : connection->rule_requests_to_push(100)) {
      const std::string label = "publication rule request " + std::to_string(request.id);
      auto refused = [&](const std::string& reason) {
        connection->mark_rule_request_pushed(request.id, now_seconds(), 0, reason);
      };
      const bool go_on =
          request.add ? round.send(
                            label, request.add_request,
                            [&](const v1::AddPublicationRuleResponse& response) {
                              connection->mark_rule_request_pushed(request.id, now_seconds(), response.rule().id(), "");
                            },
                            refused)
                      : round.send(
                            label, request.remove_request,
                            [&](const v1::RemovePublicationRuleResponse&) {
                              connection->mark_rule_request_pushed(request.id, now_seconds(), 0, "");
                            },
                            refused);
      if (!go_on) break;
    }
    release(std::move(connection));
  }

  // ABI 1.2: the consultations of honoured SAS-origin appointments; the host's answer is the
  // decision, kept at once (apply_billing_decision may bring it again: both write the same row).
  void report_pending(sas::sdk::reporter::Round& round) {
    std::unique_ptr<Connection> connection = acquire();
    for (const auto& consultation : connection->consultations_to_report(100)) {
      const std::string& id = consultation.consultation_id();
      const bool go_on = round.send(
          "consultation " + id, consultation,
          [&](const v1::ReportConsultationResponse& response) {
            connection->store_decision(response.decision(), now_seconds());
            connection->mark_reported(id, now_seconds(), "");
          },
          [&](const std::string& reason) { connection->mark_reported(id, now_seconds(), reason); });
      if (!go_on) break;
    }
    release(std::move(connection));
  }

  std::unique_ptr<Connection> acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
    }
    return std::make_unique<Connection>(path_);
  }
  void release(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }

  std::string path_;
  const sas::sdk::Host* host_ = nullptr;
  std::string reporter_id_;  // this instance, in the agenda's reporter lease
  std::chrono::milliseconds lease_{5000};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::chrono::milliseconds report_interval_{2000};  // 0: never report consultations nor events
  // INT_R03: the system of the appointments' technical ids (appointment.id, a UUID): the
  // vendor's own OID or URL. agenda.example.fr is the sample's placeholder, like its booking URLs.
  std::string appointment_system_ = "https://agenda.example.fr/fhir/appointment-id";
  sas::sdk::reporter::Reporter reporter_;
  bool reporting_ = false;  // reporter_ started: release the lease at shutdown
};

}  // namespace

SAS_PLUGIN(SqliteAgendaPlugin, "sqlite-agenda", "SAS SDK reference", "0.1.0",
           "slot-search,cpts-search,sos-search,regulator-accounts,sas-billing,appointments,doctor-settings",
           free_threaded)
