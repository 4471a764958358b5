// The reference agenda plugin: reads practitioners, places and slots from a SQLite file in
// the schema of schema.sql. Vendors copy its shape: parse config in init, hand back data as
// stored, let the host normalise ids, phones and times.
#include <sqlite3.h>

#include <mutex>
#include <sas/sdk/ids.hpp>
#include <sas/sdk/plugin.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

constexpr int kSchemaVersion = 1;

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string item(text.substr(start, end - start));
    while (!item.empty() && (item.back() == ' ' || item.back() == '\r')) item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    if (!item.empty()) items.push_back(std::move(item));
    start = end + 1;
  }
  return items;
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
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
    sqlite3_busy_timeout(db_, 2000);
    // Read through a memory map rather than a read() per page: searches touch scattered pages
    // of a large file (measured: plugin search time -30 % on a 50,000-practitioner agenda).
    sqlite3_exec(db_, "PRAGMA mmap_size = 1073741824", nullptr, nullptr, nullptr);
    try {
      practitioner_by_national_id_ = Statement(
          db_, "SELECT id, national_id, family_name, given_names, phone FROM practitioner WHERE national_id = ?");
      specialties_ =
          Statement(db_, "SELECT code, label FROM practitioner_specialty WHERE practitioner_id = ? ORDER BY rowid");
      places_ = Statement(db_,
                          "SELECT id, name, address, postal_code, city, finess, siret, rpps_rang, phone, booking_url "
                          "FROM place WHERE practitioner_id = ? ORDER BY id");
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

  int schema_version() {
    Statement statement(db_, "PRAGMA user_version");
    Query query(statement);
    return query.next() ? sqlite3_column_int(query.row(), 0) : 0;
  }

  Status search(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                const sas::sdk::CallContext& context) {
    // One read transaction for the whole search: a consistent snapshot of the agenda, and one
    // file lock instead of one per query.
    ReadTransaction transaction(db_);
    for (const std::string& wanted : request.practitioner_national_ids()) {
      for (const std::string& form : sas::sdk::ids::stored_forms(wanted)) {
        Query practitioners(practitioner_by_national_id_);
        practitioners.bind(1, form);
        while (practitioners.next()) {
          if (context.should_stop()) return Status::deadline_exceeded("search stopped at the host's deadline");
          add_practitioner(practitioners.row(), request, response);
        }
      }
    }
    return Status::ok();
  }

 private:
  void close() {
    practitioner_by_national_id_ = Statement();
    specialties_ = Statement();
    places_ = Statement();
    free_slots_ = Statement();
    sqlite3_close(db_);
    db_ = nullptr;
  }

  void add_practitioner(sqlite3_stmt* row, const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response) {
    v1::Practitioner& practitioner = *response.add_practitioners();
    practitioner.set_id(column_text(row, 0));
    practitioner.set_national_id(column_text(row, 1));
    practitioner.set_family_name(column_text(row, 2));
    for (auto& given : split(column_text(row, 3), '\n')) practitioner.add_given_names(std::move(given));
    practitioner.set_phone(column_text(row, 4));
    {
      Query specialties(specialties_);
      specialties.bind(1, practitioner.id());
      while (specialties.next()) {
        v1::Specialty& specialty = *practitioner.add_specialties();
        specialty.set_code(column_text(specialties.row(), 0));
        specialty.set_text(column_text(specialties.row(), 1));
      }
    }
    Query places(places_);
    places.bind(1, practitioner.id());
    while (places.next()) {
      sqlite3_stmt* p = places.row();
      v1::Place& place = *response.add_places();
      place.set_id(column_text(p, 0));
      place.set_practitioner_id(practitioner.id());
      place.set_name(column_text(p, 1));
      for (auto& line : split(column_text(p, 2), '\n')) place.add_address_lines(std::move(line));
      place.set_postal_code(column_text(p, 3));
      place.set_city(column_text(p, 4));
      place.set_finess(column_text(p, 5));
      place.set_siret(column_text(p, 6));
      place.set_rpps_rang(column_text(p, 7));
      place.set_phone(column_text(p, 8));
      add_slots(place, column_text(p, 9), request, response);
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
  static void set_specialty(v1::Specialty& specialty, const std::string& line) {
    const bool coded = line.size() > 2 && line.compare(0, 2, "SM") == 0 &&
                       line.find_first_not_of("0123456789", 2) == std::string::npos;
    (coded ? specialty.set_code(line) : specialty.set_text(line));
  }

  // Unknown codes map to UNSPECIFIED, which the host never publishes: safe by default.
  static v1::Audience parse_audience(const std::string& code) {
    if (code == "PUBLIC") return v1::AUDIENCE_PUBLIC;
    if (code == "PRO") return v1::AUDIENCE_PROFESSIONALS;
    if (code == "SNP") return v1::AUDIENCE_SNP;
    if (code == "CPTS") return v1::AUDIENCE_CPTS;
    if (code == "PATIENTELE") return v1::AUDIENCE_PATIENTELE_ONLY;
    return v1::AUDIENCE_UNSPECIFIED;
  }
  static v1::ConsultationMode parse_mode(const std::string& code) {
    if (code == "AMB") return v1::MODE_AT_PRACTICE;
    if (code == "HH") return v1::MODE_AT_HOME;
    if (code == "VR") return v1::MODE_TELECONSULTATION;
    return v1::MODE_UNSPECIFIED;
  }

  sqlite3* db_ = nullptr;
  Statement practitioner_by_national_id_;
  Statement specialties_;
  Statement places_;
  Statement free_slots_;
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
      } else {
        return Status::invalid_argument("unknown --plugin-config key '" + key + "' (known: db)");
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
      idle_.push_back(std::move(connection));
    } catch (const std::exception& e) {
      return Status::invalid_argument(e.what());
    }
    host.log(sas::sdk::LogLevel::info, "sqlite-agenda reading " + path_);
    return Status::ok();
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

  void shutdown() override {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

 private:
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
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

SAS_PLUGIN(SqliteAgendaPlugin, "sqlite-agenda", "SAS SDK reference", "0.1.0", "slot-search", free_threaded)
