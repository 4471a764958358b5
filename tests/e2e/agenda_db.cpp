#include "agenda_db.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "sas/sqlite_agenda/schema.hpp"

namespace sas::e2e {

namespace pb = sas::plugin::v1;

namespace {

class Db {
 public:
  explicit Db(const std::filesystem::path& path) {
    std::filesystem::remove(path);
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot create " + path.string() + ": " + message);
    }
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { sqlite3_close(db_); }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(std::string("write_agenda_db: ") + message);
    }
  }

  // One row: each value is text (empty: NULL) or an integer.
  struct Value {
    Value(const std::string& t) : text(t) {}            // NOLINT: implicit on purpose
    Value(const char* t) : text(t) {}                   // NOLINT
    Value(int64_t i) : integer(i), is_integer(true) {}  // NOLINT
    std::string text;
    int64_t integer = 0;
    bool is_integer = false;
  };

  void insert(const char* sql, const std::vector<Value>& values) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("write_agenda_db: cannot prepare: ") + sqlite3_errmsg(db_));
    }
    int index = 0;
    for (const auto& v : values) {
      ++index;
      if (v.is_integer) {
        sqlite3_bind_int64(statement, index, v.integer);
      } else if (v.text.empty()) {
        sqlite3_bind_null(statement, index);
      } else {
        sqlite3_bind_text(statement, index, v.text.data(), static_cast<int>(v.text.size()), SQLITE_TRANSIENT);
      }
    }
    const int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("write_agenda_db: insert: ") + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

template <typename Items>
std::string join(const Items& items, const char* separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

const char* audience_code(int audience) {
  switch (audience) {
    case pb::AUDIENCE_PUBLIC:
      return "PUBLIC";
    case pb::AUDIENCE_PROFESSIONALS:
      return "PRO";
    case pb::AUDIENCE_SNP:
      return "SNP";
    case pb::AUDIENCE_CPTS:
      return "CPTS";
    case pb::AUDIENCE_PATIENTELE_ONLY:
      return "PATIENTELE";
    default:
      return "";
  }
}

const char* mode_code(int mode) {
  switch (mode) {
    case pb::MODE_AT_PRACTICE:
      return "AMB";
    case pb::MODE_AT_HOME:
      return "HH";
    case pb::MODE_TELECONSULTATION:
      return "VR";
    default:
      return "";
  }
}

}  // namespace

AgendaDbReport write_agenda_db(const pb::SearchSlotsResponse& agenda, const std::filesystem::path& path) {
  AgendaDbReport report;
  Db db(path);
  db.exec(sas::sqlite_agenda::schema_sql());
  db.exec("BEGIN");
  for (const auto& p : agenda.practitioners()) {
    db.insert("INSERT INTO practitioner (id, national_id, family_name, given_names, phone) VALUES (?,?,?,?,?)",
              {p.id(), p.national_id(), p.family_name(), join(p.given_names(), "\n"), p.phone()});
    for (const auto& s : p.specialties()) {
      db.insert("INSERT INTO practitioner_specialty (practitioner_id, code, label) VALUES (?,?,?)",
                {p.id(), s.code(), s.text()});
    }
  }
  for (const auto& place : agenda.places()) {
    db.insert(
        "INSERT INTO place (id, practitioner_id, name, address, postal_code, city, finess, siret, rpps_rang, phone) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        {place.id(), place.practitioner_id(), place.name(), join(place.address_lines(), "\n"), place.postal_code(),
         place.city(), place.finess(), place.siret(), place.rpps_rang(), place.phone()});
  }
  int64_t next_id = 0;
  for (const auto& s : agenda.slots()) {
    const int64_t id = ++next_id;
    report.slot_ids[s.id()] = id;
    std::vector<std::string> audiences, modes, specialties;
    for (const int a : s.audiences()) {
      if (*audience_code(a) != '\0') audiences.emplace_back(audience_code(a));
    }
    for (const int m : s.modes()) {
      if (*mode_code(m) != '\0') modes.emplace_back(mode_code(m));
    }
    for (const auto& sp : s.specialties()) {
      specialties.push_back(sp.code().empty() ? sp.text() : sp.code());
      if (!sp.code().empty() && !sp.text().empty()) {
        report.lost.push_back("slot " + s.id() + ": label \"" + sp.text() + "\" of specialty " + sp.code());
      }
    }
    // audiences and modes are NOT NULL (modes defaults to AMB): none is an empty list, not NULL.
    const std::string mode_list = join(modes, ",");
    db.insert(
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences, cpts, modes, motives, walk_in, "
        "booking_url, specialties) VALUES (?,?,?,?,?,coalesce(?, ''),?,coalesce(?, ''),?,?,?,?)",
        {id, s.place_id(), s.start(), s.end(), s.status() == pb::SLOT_FREE ? "free" : "busy", join(audiences, ","),
         join(s.cpts_finess(), ","), mode_list, join(s.motives(), "\n"), int64_t{s.walk_in() ? 1 : 0}, s.booking_url(),
         join(specialties, "\n")});
  }
  // INT_R04: the CPTS the slots' cpts column names (SearchSlotsResponse.cpts).
  for (const auto& c : agenda.cpts()) {
    db.insert("INSERT INTO cpts (finess, name, phone) VALUES (?,?,?)", {c.finess(), c.name(), c.phone()});
  }
  db.exec("COMMIT");
  return report;
}

AgendaDbReport write_sos_agenda_db(const pb::SearchSosSlotsResponse& agenda, const std::filesystem::path& path) {
  AgendaDbReport report;
  Db db(path);
  db.exec(sas::sqlite_agenda::schema_sql());
  db.exec("BEGIN");
  for (const auto& a : agenda.associations()) {
    db.insert("INSERT INTO sos_association (siret, name) VALUES (?,?)", {a.siret(), a.name()});
  }
  for (const auto& place : agenda.places()) {
    std::vector<std::string> hours;
    for (const auto& h : place.opening_hours()) {
      hours.push_back(join(h.days(), ",") + " " + h.opening_time() + "-" + h.closing_time());
    }
    db.insert(
        "INSERT INTO sos_place (id, association_siret, name, address, postal_code, city, phone, opening_hours) "
        "VALUES (?,?,?,?,?,?,?,?)",
        {place.id(), place.association_siret(), place.name(), join(place.address_lines(), "\n"), place.postal_code(),
         place.city(), place.phone(), join(hours, "\n")});
  }
  int64_t next_id = 0;
  for (const auto& s : agenda.slots()) {
    const int64_t id = ++next_id;
    report.slot_ids[s.id()] = id;
    std::vector<std::string> audiences, modes;
    for (const int a : s.audiences()) {
      if (*audience_code(a) != '\0') audiences.emplace_back(audience_code(a));
    }
    for (const int m : s.modes()) {
      if (*mode_code(m) != '\0') modes.emplace_back(mode_code(m));
    }
    std::vector<std::string> specialties;
    for (const auto& sp : s.specialties()) {
      specialties.push_back(sp.code().empty() ? sp.text() : sp.code());
      if (!sp.code().empty() && !sp.text().empty()) {
        report.lost.push_back("slot " + s.id() + ": label \"" + sp.text() + "\" of specialty " + sp.code());
      }
    }
    db.insert(
        "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences, modes, motives, walk_in, booking_url, "
        "specialties) VALUES (?,?,?,?,?,coalesce(?, ''),coalesce(?, ''),?,?,?,?)",
        {id, s.place_id(), s.start(), s.end(), s.status() == pb::SLOT_FREE ? "free" : "busy", join(audiences, ","),
         join(modes, ","), join(s.motives(), "\n"), int64_t{s.walk_in() ? 1 : 0}, s.booking_url(),
         join(specialties, "\n")});
  }
  db.exec("COMMIT");
  return report;
}

void add_paris_doctor(sas::plugin::v1::SearchSlotsResponse& agenda, const std::string& id,
                      const std::string& national_id, const std::string& family_name) {
  auto* practitioner = agenda.add_practitioners();
  practitioner->set_id(id);
  practitioner->set_national_id(national_id);
  practitioner->set_family_name(family_name);
  practitioner->add_given_names("Jeanne");
  practitioner->add_specialties()->set_code("SM54");
  auto* place = agenda.add_places();
  place->set_id("place-" + id);
  place->set_practitioner_id(id);
  place->set_name("Cabinet " + family_name);
  place->add_address_lines("1 rue de la Paix");
  place->set_postal_code("75002");
  place->set_city("Paris");
  place->set_finess("750000001");
  place->set_phone("01 45 67 89 01");
}

}  // namespace sas::e2e
