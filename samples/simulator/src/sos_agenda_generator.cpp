// The SOS Médecins part of `sas-sim gen-agenda` (sos_agenda_generator.hpp).
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sim/sos_agenda_generator.hpp>
#include <stdexcept>

#include "generator_support.hpp"

namespace sas::sim {
namespace {

using detail::AgendaFile;
using detail::Random;

// Its own stream, so that the rest of an agenda stays what its seed made it.
constexpr uint64_t kStream = 0x534f53;  // "SOS"

struct City {
  const char* name;
  const char* postal_code;
  const char* phone_area;
};
constexpr std::array<City, 8> kCities{{{"Rennes", "35000", "02"},
                                       {"Lorient", "56100", "02"},
                                       {"Nantes", "44000", "02"},
                                       {"Lyon", "69007", "04"},
                                       {"Grenoble", "38000", "04"},
                                       {"Lille", "59000", "03"},
                                       {"Bordeaux", "33000", "05"},
                                       {"Paris", "75015", "01"}}};
constexpr std::array<const char*, 4> kQuarters{"Nord", "Sud", "Centre", "Gare"};
constexpr std::array<const char*, 5> kMotives{"Fièvre", "Douleur aiguë", "Traumatologie légère", "Certificat",
                                              "Consultation non programmée"};

// A SIRET (14 digits) whose Luhn check digit is right, as the SDK checks it; the association's
// number in its second to fourth digits keeps the SIRETs of one agenda distinct whatever the draw.
std::string siret(Random& random, int association) {
  char number[16];
  std::snprintf(number, sizeof number, "%03d", association % 1000);
  const std::string body = std::to_string(1 + random.below(9)) + number + random.digits(9);
  for (char d = '0'; d <= '9'; ++d) {
    if (sas::sdk::ids::has_valid_check_digit(body + d)) return body + d;
  }
  return body + '0';  // unreachable: one digit always fits
}

std::string phone(Random& random, const std::string& area) {
  const std::string d = area + random.digits(8);
  switch (random.below(3)) {
    case 0:
      return d;
    case 1:
      return d.substr(0, 2) + " " + d.substr(2, 2) + " " + d.substr(4, 2) + " " + d.substr(6, 2) + " " + d.substr(8);
    default:
      return "+33" + d.substr(1);
  }
}

struct Opening {
  const char* days;          // as stored
  std::array<bool, 7> open;  // Monday first
  int from_minute;
  int to_minute;
};
constexpr std::array<Opening, 4> kOpenings{{
    {"mon,tue,wed,thu,fri", {true, true, true, true, true, false, false}, 8 * 60, 20 * 60},
    {"sat,sun", {false, false, false, false, false, true, true}, 9 * 60, 19 * 60},
    {"mon,tue,wed,thu,fri,sat", {true, true, true, true, true, true, false}, 10 * 60, 22 * 60},
    {"sat,sun", {false, false, false, false, false, true, true}, 0, 24 * 60},
}};

std::string hhmm(int minute) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minute / 60, minute % 60);
  return buffer;
}

}  // namespace

SosAgendaSummary generate_sos_agenda(const std::filesystem::path& agenda, const SosAgendaSpec& spec) {
  if (spec.associations < 0 || spec.days < 0) throw std::invalid_argument("associations and days must be >= 0");
  SosAgendaSummary summary;
  if (spec.associations == 0) return summary;
  AgendaFile db(agenda, AgendaFile::Mode::existing);
  db.exec("BEGIN");
  auto* insert_association = db.prepare("INSERT INTO sos_association (siret, name) VALUES (?,?)");
  auto* insert_place = db.prepare(
      "INSERT INTO sos_place (id, association_siret, name, address, postal_code, city, phone, opening_hours, "
      "booking_url) VALUES (?,?,?,?,?,?,?,?,?)");
  auto* insert_slot = db.prepare(
      "INSERT INTO slot (place_id, start_utc, end_utc, status, audiences, modes, motives, walk_in) "
      "VALUES (?,?,?,?,?,?,?,?)");
  Random random(spec.seed ^ kStream);
  const std::chrono::sys_days first_day{spec.first_day};
  for (int a = 0; a < spec.associations; ++a) {
    const City& city = kCities[static_cast<size_t>(a) % kCities.size()];
    const std::string id = siret(random, a + 1);
    const std::string stored = random.chance(50) ? "3" + id : id;
    const std::string name = std::string("SOS Médecins ") + city.name +
                             (a >= static_cast<int>(kCities.size()) ? " " + std::to_string(a + 1) : std::string());
    db.insert(insert_association, stored, name);
    ++summary.associations;

    const int places = 1 + static_cast<int>(random.below(3));
    for (int p = 0; p < places; ++p) {
      const std::string place_id = "SOS" + std::to_string(a + 1) + "-C" + std::to_string(p + 1);
      std::vector<const Opening*> openings{&kOpenings[random.below(2) == 0 ? 0 : 2]};
      if (random.chance(70)) openings.push_back(&kOpenings[random.chance(25) ? 3 : 1]);
      std::string hours;
      for (const Opening* o : openings) {
        hours +=
            (hours.empty() ? "" : "\n") + std::string(o->days) + " " + hhmm(o->from_minute) + "-" + hhmm(o->to_minute);
      }
      db.insert(insert_place, place_id, stored,
                "Centre de consultation " + std::string(city.name) + " " + kQuarters[static_cast<size_t>(p)],
                std::to_string(1 + random.below(200)) + " rue de la Santé", std::string(city.postal_code),
                std::string(city.name), phone(random, city.phone_area), hours,
                "https://agenda.example.fr/sos/" + place_id);
      ++summary.places;

      for (int d = 0; d < spec.days; ++d) {
        const std::chrono::sys_days day = first_day + std::chrono::days(d);
        const unsigned weekday = std::chrono::weekday(day).iso_encoding() - 1;  // Monday 0
        for (const Opening* o : openings) {
          if (!o->open[weekday]) continue;
          for (int minute = o->from_minute; minute + 20 <= o->to_minute; minute += 20) {
            if (!random.chance(40)) continue;  // no slot opened at this time
            const auto local = std::chrono::local_days(std::chrono::year_month_day(day)) + std::chrono::minutes(minute);
            const auto start =
                sas::sdk::datetime::from_paris_local(std::chrono::time_point_cast<std::chrono::milliseconds>(local));
            const int64_t start_utc =
                std::chrono::duration_cast<std::chrono::seconds>(start.time_since_epoch()).count();
            const bool free = random.chance(60);
            static constexpr std::array<const char*, 10> kAudiences{"PUBLIC", "PUBLIC",     "PUBLIC",     "PUBLIC",
                                                                    "PUBLIC", "PUBLIC,SNP", "PUBLIC,SNP", "SNP",
                                                                    "PRO",    "PUBLIC,PRO"};
            static constexpr std::array<const char*, 5> kModes{"AMB", "AMB", "AMB", "AMB,VR", "VR"};
            std::string motives;
            if (random.chance(30)) motives = kMotives[random.below(kMotives.size())];
            db.insert(insert_slot, place_id, start_utc, start_utc + 20 * 60, std::string(free ? "free" : "busy"),
                      std::string(kAudiences[random.below(kAudiences.size())]),
                      std::string(kModes[random.below(kModes.size())]), motives, random.chance(15) ? 1 : 0);
            ++summary.slots;
            if (free) ++summary.free_slots;
          }
        }
      }
    }
  }
  db.exec("COMMIT");
  return summary;
}

std::vector<std::string> sos_association_sirets(const std::filesystem::path& agenda) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(agenda.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open agenda " + agenda.string());
  }
  sqlite3_busy_timeout(db, 5000);  // a host's plugin may be writing its reporter lease
  std::vector<std::string> sirets;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT siret FROM sos_association", -1, &statement, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    if (message.rfind("no such table", 0) == 0) return sirets;  // an agenda from before SOS Médecins
    throw std::runtime_error("cannot read the SOS associations of " + agenda.string() + ": " + message);
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    if (auto prefixed =
            sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret, text != nullptr ? text : "")) {
      sirets.push_back(*prefixed);
    }
  }
  const std::string message = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  if (!message.empty())
    throw std::runtime_error("cannot read the SOS associations of " + agenda.string() + ": " + message);
  std::sort(sirets.begin(), sirets.end());
  return sirets;
}

}  // namespace sas::sim
