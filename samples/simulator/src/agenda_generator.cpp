// The generator behind `sas-sim gen-agenda`. It writes what real agendas hold, mess included:
// several places for some doctors, every audience, mode and motive, coded and free-text
// specialties, ids stored with and without prefix, phones in mixed formats, busy slots, and the
// CPTS (INT_R04) some slots are opened to: one or two per slot, some slots open to CPTS only.
#include <sqlite3.h>

#include <array>
#include <random>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <stdexcept>

#include "generator_support.hpp"

namespace sas::sim {
namespace {

using detail::AgendaFile;
using detail::Random;

// Portable draws: std:: distributions differ between standard libraries, mt19937_64 does not.

// Appends the Luhn check digit to `body`.
std::string with_luhn(const std::string& body) {
  int sum = 0;
  bool twice = true;  // the digit left of the check digit is doubled
  for (auto it = body.rbegin(); it != body.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + static_cast<char>('0' + (10 - sum % 10) % 10);
}

constexpr std::array<const char*, 20> kFamilyNames{
    "MARTIN", "BERNARD", "THOMAS",   "PETIT", "ROBERT", "RICHARD", "DURAND",   "DUBOIS", "MOREAU",   "LAURENT",
    "SIMON",  "MICHEL",  "LEFEBVRE", "LEROY", "ROUX",   "DAVID",   "BERTRAND", "MOREL",  "FOURNIER", "GIRARD"};
constexpr std::array<const char*, 16> kGivenNames{"Camille",  "Léa",   "Louis", "Hugo",       "Chloé",     "Jules",
                                                  "Inès",     "Lucas", "Manon", "Éric",       "Sébastien", "Claire",
                                                  "Nathalie", "Paul",  "Agnès", "Jean-Pierre"};
struct City {
  const char* name;
  const char* postal_code;
  const char* phone_area;  // the 2-digit prefix of landlines there
};
constexpr std::array<City, 12> kCities{{{"Paris", "75011", "01"},
                                        {"Nanterre", "92000", "01"},
                                        {"Lyon", "69003", "04"},
                                        {"Marseille", "13005", "04"},
                                        {"Toulouse", "31000", "05"},
                                        {"Bordeaux", "33000", "05"},
                                        {"Lille", "59000", "03"},
                                        {"Strasbourg", "67000", "03"},
                                        {"Nantes", "44000", "02"},
                                        {"Rennes", "35000", "02"},
                                        {"Montpellier", "34000", "04"},
                                        {"Saint-Étienne", "42000", "04"}}};
constexpr std::array<const char*, 10> kStreets{
    "rue de la République", "avenue Jean Jaurès",       "rue Victor Hugo",    "boulevard Pasteur", "place de la Mairie",
    "rue des Écoles",       "rue du Général de Gaulle", "allée des Tilleuls", "chemin des Vignes", "rue Saint-Michel"};
// TRE_R38 codes seen in the SAS guide's examples, and specialties agendas hold as free text.
constexpr std::array<const char*, 2> kCodedSpecialties{"SM54", "SM05"};
constexpr std::array<const char*, 4> kTextSpecialties{"Médecine générale", "Médecine du sport", "Pédiatrie",
                                                      "Gériatrie"};
constexpr std::array<const char*, 8> kMotives{
    "Consultation",          "Visite de contrôle",    "Renouvellement d'ordonnance",
    "Première consultation", "Consultation de suivi", "Certificat médical",
    "Vaccination",           "Consultation, adulte"};

// The CPTS an agenda's slots may be opened to: a name, the FINESS body (the check digit is
// computed) and a phone as the vendor typed it. Two are the IG's own examples.
struct NamedCpts {
  const char* name;
  const char* finess_body;  // 8 digits: department, then the rest
  const char* phone;
};
constexpr std::array<NamedCpts, 6> kCpts{{{"CPTS AXE MAJEUR", "95004722", "01 02 03 04 05"},
                                          {"CPTS VAL D OISE CENTRE", "95004622", "01.39.59.92.80"},
                                          {"CPTS Paris 11", "75003412", "+33 1 43 55 20 20"},
                                          {"CPTS Lyon Rive Gauche", "69002871", "0478952310"},
                                          {"CPTS Toulouse Nord", "31001957", "05 61 22 33 44"},
                                          {"CPTS Rennes Sud", "35002466", "02 99 51 60 70"}}};

std::string phone_in_some_format(Random& random, const std::string& area) {
  std::string d = area + random.digits(8);  // 10 digits starting with 0
  switch (random.below(6)) {
    case 0:
      return d;
    case 1:
      return d.substr(0, 2) + " " + d.substr(2, 2) + " " + d.substr(4, 2) + " " + d.substr(6, 2) + " " + d.substr(8);
    case 2:
      return d.substr(0, 2) + "." + d.substr(2, 2) + "." + d.substr(4, 2) + "." + d.substr(6, 2) + "." + d.substr(8);
    case 3:
      return "+33 " + d.substr(1, 1) + " " + d.substr(2, 2) + " " + d.substr(4, 2) + " " + d.substr(6, 2) + " " +
             d.substr(8);
    case 4:
      return "+33" + d.substr(1);
    default:
      return "+33 (0)" + d.substr(1);
  }
}

}  // namespace

AgendaSummary generate_agenda(const std::filesystem::path& out, const AgendaSpec& spec) {
  if (spec.practitioners < 0 || spec.days < 0) throw std::invalid_argument("practitioners and days must be >= 0");
  AgendaFile db(out, AgendaFile::Mode::create);
  // Bulk load: no journal while writing a brand-new file; indexes come from the schema.
  db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;");
  db.exec(sas::sqlite_agenda::schema_sql());
  db.exec("BEGIN");
  auto* insert_practitioner =
      db.prepare("INSERT INTO practitioner (id, national_id, family_name, given_names, phone) VALUES (?,?,?,?,?)");
  auto* insert_specialty =
      db.prepare("INSERT INTO practitioner_specialty (practitioner_id, code, label) VALUES (?,?,?)");
  auto* insert_place = db.prepare(
      "INSERT INTO place (id, practitioner_id, name, address, postal_code, city, finess, siret, rpps_rang, phone, "
      "booking_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  auto* insert_slot = db.prepare(
      "INSERT INTO slot (place_id, start_utc, end_utc, status, audiences, cpts, modes, motives, walk_in) "
      "VALUES (?,?,?,?,?,?,?,?,?)");

  // INT_R04: the named CPTS (FINESS stored unprefixed in the cpts table; slots name them either way).
  auto* insert_cpts = db.prepare("INSERT INTO cpts (finess, name, phone) VALUES (?,?,?)");
  std::vector<std::string> cpts_finess;
  for (const NamedCpts& c : kCpts) {
    cpts_finess.push_back(with_luhn(c.finess_body));
    db.insert(insert_cpts, cpts_finess.back(), std::string(c.name), std::string(c.phone));
  }
  AgendaSummary summary;
  summary.cpts = static_cast<int64_t>(kCpts.size());

  Random random(spec.seed);
  // CPTS choices draw from their own stream: the rest of the agenda does not depend on them.
  Random cpts_random(spec.seed ^ 0x4350545343505453ULL);
  const std::chrono::sys_days first_day{spec.first_day};
  for (int p = 0; p < spec.practitioners; ++p) {
    const std::string practitioner_id = "P" + std::to_string(100000 + p);
    // Distinct ids: the practitioner's number is part of the id body.
    std::string national_id;
    if (random.chance(85)) {
      std::string rpps = with_luhn("1" + std::to_string(100000000 + p));
      national_id = random.chance(50) ? "8" + rpps : rpps;
    } else {
      std::string adeli = std::to_string(750000000 + p).substr(0, 9);
      national_id = random.chance(50) ? "0" + adeli : adeli;
    }
    std::string given = random.pick(kGivenNames);
    if (random.chance(15)) given += std::string("\n") + random.pick(kGivenNames);
    const City& home = random.pick(kCities);
    db.insert(insert_practitioner, practitioner_id, national_id, std::string(random.pick(kFamilyNames)), given,
              random.chance(90) ? phone_in_some_format(random, home.phone_area) : std::string());
    ++summary.practitioners;

    int specialties = random.chance(10) ? 2 : (random.chance(5) ? 0 : 1);
    for (int s = 0; s < specialties; ++s) {
      if (random.chance(70)) {
        db.insert(insert_specialty, practitioner_id, std::string(random.pick(kCodedSpecialties)), std::string());
      } else {
        db.insert(insert_specialty, practitioner_id, std::string(), std::string(random.pick(kTextSpecialties)));
      }
    }

    const int place_count = random.chance(70) ? 1 : (random.chance(80) ? 2 : 3);
    std::vector<std::string> place_ids;
    for (int l = 0; l < place_count; ++l) {
      const City& city = l == 0 ? home : random.pick(kCities);
      std::string place_id = practitioner_id + "-L" + std::to_string(l + 1);
      std::string finess, siret, rpps_rang;
      switch (random.below(4)) {
        case 0:
          finess = with_luhn(std::string(city.postal_code).substr(0, 2) + "00" + random.digits(4));
          if (random.chance(50)) finess = "1" + finess;
          break;
        case 1:
          siret = with_luhn(random.digits(13));
          if (random.chance(50)) siret = "3" + siret;
          break;
        case 2:
          rpps_rang = "1" + random.digits(13);
          if (random.chance(50)) rpps_rang = "4" + rpps_rang;
          break;
        default:  // a cabinet with every id known
          finess = with_luhn(std::string(city.postal_code).substr(0, 2) + "00" + random.digits(4));
          siret = with_luhn(random.digits(13));
          break;
      }
      std::string address = std::to_string(1 + random.below(120)) + " " + random.pick(kStreets);
      if (random.chance(20)) address += "\nBâtiment " + std::string(1, static_cast<char>('A' + random.below(4)));
      db.insert(insert_place, place_id, practitioner_id,
                random.chance(50) ? "Cabinet médical " + std::string(city.name) : std::string(), address,
                std::string(city.postal_code), std::string(city.name), finess, siret, rpps_rang,
                random.chance(70) ? phone_in_some_format(random, city.phone_area) : std::string(),
                "https://agenda.example.fr/rdv/" + practitioner_id + "/" + place_id);
      place_ids.push_back(place_id);
      ++summary.places;
    }

    // The CPTS of the doctor's territory, and the one next to it: what the CPTS slots name.
    const size_t home_cpts = cpts_random.below(kCpts.size());
    const size_t near_cpts = (home_cpts + 1 + cpts_random.below(kCpts.size() - 1)) % kCpts.size();
    const auto cpts_of_slot = [&] {
      auto stored = [&](size_t i) { return cpts_random.chance(50) ? "1" + cpts_finess[i] : cpts_finess[i]; };
      std::string list = stored(home_cpts);
      if (cpts_random.chance(30)) list += "," + stored(near_cpts);  // a slot open to two CPTS
      return list;
    };

    const int duration_minutes = std::array{15, 20, 30}[random.below(3)];
    for (int d = 0; d < spec.days; ++d) {
      const std::chrono::sys_days day = first_day + std::chrono::days(d);
      if (std::chrono::weekday(day) == std::chrono::Sunday || !random.chance(85)) continue;
      // One place a day: a doctor is in one place at a time.
      const std::string& place_id = place_ids[random.below(place_ids.size())];
      const bool morning = random.chance(75);
      const bool afternoon = !morning || random.chance(60);
      for (int half = 0; half < 2; ++half) {
        if ((half == 0 && !morning) || (half == 1 && !afternoon)) continue;
        int minute = half == 0 ? 8 * 60 + 30 : 14 * 60;
        const int end_minute = half == 0 ? 12 * 60 : 19 * 60;
        for (; minute + duration_minutes <= end_minute; minute += duration_minutes) {
          if (!random.chance(60)) {
            continue;  // no slot opened at this time
          }
          auto local = std::chrono::local_days(std::chrono::year_month_day(day)) + std::chrono::minutes(minute);
          auto start =
              sas::sdk::datetime::from_paris_local(std::chrono::time_point_cast<std::chrono::milliseconds>(local));
          int64_t start_utc = std::chrono::duration_cast<std::chrono::seconds>(start.time_since_epoch()).count();
          const bool free = random.chance(45);
          std::string audiences, cpts;
          switch (random.below(20)) {
            case 0:
            case 1:
              audiences = "SNP";
              break;
            case 2:
              audiences = "PUBLIC,SNP";
              break;
            case 3:
            case 4:
              audiences = "PUBLIC,PRO";
              break;
            case 5:
              audiences = "PRO";
              break;
            case 6:
              audiences = "PUBLIC,CPTS";
              cpts = cpts_of_slot();
              break;
            case 7:
              audiences = "PATIENTELE";
              break;
            case 8:
              audiences = "CPTS";  // open to CPTS only: in the CPTS search, not in INT_R01
              cpts = cpts_of_slot();
              break;
            default:
              audiences = "PUBLIC";
          }
          static constexpr std::array<const char*, 10> kModes{"AMB", "AMB",    "AMB", "AMB", "AMB",
                                                              "AMB", "AMB,VR", "VR",  "HH",  "AMB,HH"};
          std::string motives;
          for (int m = static_cast<int>(random.below(3)); m > 0; --m) {
            motives += (motives.empty() ? "" : "\n") + std::string(random.pick(kMotives));
          }
          db.insert(insert_slot, place_id, start_utc, start_utc + duration_minutes * 60,
                    std::string(free ? "free" : "busy"), audiences, cpts, std::string(random.pick(kModes)), motives,
                    random.chance(3) ? 1 : 0);
          ++summary.slots;
          if (free) ++summary.free_slots;
          if (!cpts.empty()) ++summary.cpts_slots;
        }
      }
    }
  }
  db.exec("COMMIT");
  return summary;
}

std::vector<std::string> practitioner_ids(const std::filesystem::path& agenda) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(agenda.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open agenda " + agenda.string());
  }
  // A host's plugin may be writing its reporter lease: without the wait, a read at that moment
  // found no practitioner at all (seen when sas-sim load started right after the host).
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::string> ids;
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT national_id FROM practitioner ORDER BY id", -1, &statement, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
    auto id =
        sas::sdk::ids::normalize_practitioner_id(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
    if (id) ids.push_back(id->prefixed);
    rc = SQLITE_OK;
  }
  const std::string message = sqlite3_errmsg(db);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  if (rc != SQLITE_DONE)
    throw std::runtime_error("cannot read the practitioners of " + agenda.string() + ": " + message);
  return ids;
}

}  // namespace sas::sim
