#include "agenda_store.hpp"

#include <sqlite3.h>

#include <sas/sdk/ids.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <stdexcept>

#include "password.hpp"

namespace sas::sample::agenda_web {

namespace {

constexpr std::string_view kIntrnSystem = "urn:oid:1.2.250.1.213.3.6";

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db));
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }

  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(statement_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(statement_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::optional<std::string>& v) {
    if (v) return bind(i, *v);
    sqlite3_bind_null(statement_, i);
    return *this;
  }

  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }

  std::string text(int i) const {
    auto* p = sqlite3_column_text(statement_, i);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  std::optional<std::string> optional_text(int i) const {
    if (sqlite3_column_type(statement_, i) == SQLITE_NULL) return std::nullopt;
    return text(i);
  }
  int64_t integer(int i) const { return sqlite3_column_int64(statement_, i); }
  std::optional<int64_t> optional_integer(int i) const {
    if (sqlite3_column_type(statement_, i) == SQLITE_NULL) return std::nullopt;
    return integer(i);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("sqlite: " + message);
  }
}

// Rolls back unless committed: an exception never leaves a transaction open.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

constexpr const char* kAccountColumns =
    "id, national_id, sas_id, family_name, given_names, email, active, password_hash, terms_accepted_at";

RegulatorAccountRow read_account(const Statement& s) {
  RegulatorAccountRow row;
  row.id = s.text(0);
  row.national_id = s.optional_text(1);
  row.sas_id = s.optional_text(2);
  row.family_name = s.text(3);
  row.given_names = s.text(4);
  row.email = s.text(5);
  row.active = s.integer(6) != 0;
  row.password_hash = s.optional_text(7);
  row.terms_accepted_at = s.optional_integer(8);
  return row;
}

PlaceView read_place(const Statement& s) {
  PlaceView place;
  place.practitioner_id = s.text(0);
  place.place_id = s.text(1);
  std::string given = s.text(2);
  if (auto newline = given.find('\n'); newline != std::string::npos) given.resize(newline);
  place.practitioner_name = given.empty() ? s.text(3) : given + " " + s.text(3);
  place.place_name = s.text(4);
  place.address = s.text(5);
  place.postal_code = s.text(6);
  place.city = s.text(7);
  return place;
}

constexpr const char* kPlaceSelect =
    "SELECT p.id, l.id, p.given_names, p.family_name, COALESCE(l.name, ''), l.address, l.postal_code, l.city "
    "FROM place l JOIN practitioner p ON p.id = l.practitioner_id ";

// A slot a regulator may book: the doctor's rules, not special rights (public, professional or
// SNP audiences; never "own patients only", never walk-in).
constexpr const char* kBookableCondition =
    "s.status = 'free' AND s.walk_in = 0 AND (instr(',' || s.audiences || ',', ',PUBLIC,') > 0 OR "
    "instr(',' || s.audiences || ',', ',PRO,') > 0 OR instr(',' || s.audiences || ',', ',SNP,') > 0)";

}  // namespace

std::optional<RegulatorIdentifier> regulator_identifier(const RegulatorAccountRow& account) {
  if (account.national_id) {
    if (auto id = sas::sdk::ids::normalize_practitioner_id(*account.national_id)) {
      return RegulatorIdentifier{std::string(sas::sdk::ids::kPractitionerSystem), id->prefixed};
    }
  }
  if (account.sas_id && !account.sas_id->empty())
    return RegulatorIdentifier{std::string(kIntrnSystem), *account.sas_id};
  return std::nullopt;
}

AgendaStore::AgendaStore(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open agenda " + file.string() + ": " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(db_, "PRAGMA foreign_keys = ON");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

AgendaStore::~AgendaStore() { sqlite3_close(db_); }

void AgendaStore::ensure_schema() { exec(db_, sas::sqlite_agenda::schema_sql()); }

std::vector<PlaceView> AgendaStore::places(int limit) {
  Statement s(db_, (std::string(kPlaceSelect) + "ORDER BY p.id, l.id LIMIT ?").c_str());
  s.bind(1, static_cast<int64_t>(limit));
  std::vector<PlaceView> out;
  while (s.step()) out.push_back(read_place(s));
  return out;
}

std::optional<PractitionerView> AgendaStore::practitioner(const std::string& practitioner_id) {
  Statement s(db_, "SELECT id, national_id, given_names || ' ' || family_name FROM practitioner WHERE id = ?");
  s.bind(1, practitioner_id);
  if (!s.step()) return std::nullopt;
  return PractitionerView{s.text(0), s.text(1), s.text(2)};
}

std::optional<PlaceView> AgendaStore::place(const std::string& practitioner_id, const std::string& place_id) {
  Statement s(db_, (std::string(kPlaceSelect) + "WHERE p.id = ? AND l.id = ?").c_str());
  s.bind(1, practitioner_id).bind(2, place_id);
  if (!s.step()) return std::nullopt;
  return read_place(s);
}

std::vector<SlotView> AgendaStore::bookable_slots(const std::string& place_id, int64_t from_utc, int limit) {
  Statement s(db_, (std::string("SELECT s.id, s.start_utc, s.end_utc, s.audiences, s.modes, COALESCE(s.motives, '') "
                                "FROM slot s WHERE s.place_id = ? AND s.start_utc >= ? AND ") +
                    kBookableCondition + " ORDER BY s.start_utc, s.id LIMIT ?")
                       .c_str());
  s.bind(1, place_id).bind(2, from_utc).bind(3, static_cast<int64_t>(limit));
  std::vector<SlotView> out;
  while (s.step()) {
    out.push_back({s.integer(0), s.integer(1), s.integer(2), s.text(3), s.text(4), s.text(5)});
  }
  return out;
}

std::optional<RegulatorAccountRow> AgendaStore::account(const std::string& id) {
  Statement s(db_, (std::string("SELECT ") + kAccountColumns + " FROM regulator_account WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_account(s);
}

std::vector<RegulatorAccountRow> AgendaStore::accounts_by_email(const std::string& email) {
  Statement s(db_, (std::string("SELECT ") + kAccountColumns +
                    " FROM regulator_account WHERE lower(trim(email)) = lower(trim(?)) ORDER BY id")
                       .c_str());
  s.bind(1, email);
  std::vector<RegulatorAccountRow> out;
  while (s.step()) out.push_back(read_account(s));
  return out;
}

void AgendaStore::set_password_hash(const std::string& account_id, const std::string& hash, int64_t now) {
  Statement s(db_, "UPDATE regulator_account SET password_hash = ?, updated_at = ? WHERE id = ?");
  s.bind(1, hash).bind(2, now).bind(3, account_id);
  s.step();
  if (sqlite3_changes(db_) != 1) throw std::runtime_error("no regulator account " + account_id);
}

void AgendaStore::accept_terms(const std::string& account_id, int64_t now) {
  Statement s(db_,
              "UPDATE regulator_account SET terms_accepted_at = ?, updated_at = ? WHERE id = ? AND "
              "terms_accepted_at IS NULL");
  s.bind(1, now).bind(2, now).bind(3, account_id);
  s.step();
}

BookingOutcome AgendaStore::book_as_regulator(int64_t slot_id, const std::string& place_id,
                                              const RegulatorAccountRow& account, const std::string& patient_label,
                                              int64_t now) {
  BookingOutcome outcome;
  auto regulator = regulator_identifier(account);
  if (!regulator) {
    outcome.error = "this regulator account has neither a valid national id nor a SAS id";
    return outcome;
  }
  Transaction transaction(db_);
  {
    Statement s(db_,
                (std::string("SELECT s.id FROM slot s WHERE s.id = ? AND s.place_id = ? AND s.start_utc > ? AND ") +
                 kBookableCondition)
                    .c_str());
    s.bind(1, slot_id).bind(2, place_id).bind(3, now);
    if (!s.step()) {
      outcome.error = "this slot is no longer free or cannot be booked here";
      return outcome;
    }
  }
  {
    Statement s(db_, "UPDATE slot SET status = 'busy' WHERE id = ? AND status = 'free'");
    s.bind(1, slot_id);
    s.step();
    if (sqlite3_changes(db_) != 1) {
      outcome.error = "this slot is no longer free";
      return outcome;
    }
  }
  outcome.appointment_id = random_uuid();
  {
    Statement s(db_,
                "INSERT INTO appointment (id, slot_id, sas_origin, regulator_account_id, regulator_id_system, "
                "regulator_id_value, patient_label, booked_at, status) VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'booked')");
    s.bind(1, outcome.appointment_id)
        .bind(2, slot_id)
        .bind(3, account.id)
        .bind(4, regulator->system)
        .bind(5, regulator->value)
        .bind(6, patient_label)
        .bind(7, now);
    s.step();
  }
  transaction.commit();
  outcome.booked = true;
  outcome.regulator = *regulator;
  outcome.booked_at = now;
  return outcome;
}

std::vector<SasAppointmentView> AgendaStore::sas_appointments(int limit) {
  Statement s(db_,
              "SELECT a.id, p.given_names || ' ' || p.family_name, sl.start_utc, a.booked_at, a.status, c.id IS NOT "
              "NULL, c.report_error, b.code, b.parcours_indicator, b.amount_cents, b.reasons_fr FROM appointment a "
              "JOIN slot sl ON sl.id = a.slot_id JOIN place pl ON pl.id = sl.place_id JOIN practitioner p ON p.id = "
              "pl.practitioner_id LEFT JOIN consultation c ON c.appointment_id = a.id LEFT JOIN billing_decision b ON "
              "b.consultation_id = c.id WHERE a.sas_origin = 1 ORDER BY a.booked_at DESC, a.id LIMIT ?");
  s.bind(1, int64_t{limit});
  std::vector<SasAppointmentView> out;
  while (s.step()) {
    SasAppointmentView& v = out.emplace_back();
    v.id = s.text(0);
    v.practitioner_name = s.text(1);
    v.start_utc = s.integer(2);
    v.booked_at = s.integer(3);
    v.status = s.text(4);
    v.consultation = s.integer(5) != 0;
    v.report_error = s.optional_text(6);
    v.code = s.optional_text(7);
    v.parcours_indicator = s.text(8);
    v.amount_cents = s.integer(9);
    v.reasons_fr = s.text(10);
  }
  return out;
}

std::string AgendaStore::honour(const std::string& appointment_id, const ConsultationInput& input) {
  Transaction transaction(db_);
  {
    Statement s(db_,
                "UPDATE appointment SET status = 'fulfilled' WHERE id = ? AND sas_origin = 1 AND status = 'booked'");
    s.bind(1, appointment_id);
    s.step();
    if (sqlite3_changes(db_) != 1) return "no SAS-origin appointment " + appointment_id + " waiting to be honoured";
  }
  {
    Statement s(db_,
                "INSERT INTO consultation (id, appointment_id, consulted_at, medecin_traitant, opposable_tariff, "
                "other_codes) VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, appointment_id).bind(2, appointment_id).bind(3, input.consulted_at);
    s.bind(4, int64_t{input.medecin_traitant ? 1 : 0}).bind(5, int64_t{input.opposable_tariff ? 1 : 0});
    s.bind(6, input.other_codes);
    s.step();
  }
  transaction.commit();
  return "";
}

}  // namespace sas::sample::agenda_web
