// The sample's access to the agenda file (sqlite-agenda schema): places, free slots, regulator
// accounts and SAS-origin bookings. One connection per object; open one per request.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace sas::sample::agenda_web {

struct PlaceView {
  std::string practitioner_id;
  std::string place_id;
  std::string practitioner_name;  // "Given Family"
  std::string place_name;
  std::string address;  // one line per line
  std::string postal_code;
  std::string city;
};

struct SlotView {
  int64_t id = 0;
  int64_t start_utc = 0;
  int64_t end_utc = 0;
  std::string audiences;
  std::string modes;
  std::string motives;
};

struct RegulatorAccountRow {
  std::string id;
  std::optional<std::string> national_id;
  std::optional<std::string> sas_id;
  std::string family_name;
  std::string given_names;
  std::string email;
  bool active = false;
  std::optional<std::string> password_hash;
  std::optional<int64_t> terms_accepted_at;
};

// The regulator's identifier as INT_R03 names it: IDNPS with the prefixed national id when the
// account has a valid one, else INTRN with the SAS technical id.
struct RegulatorIdentifier {
  std::string system;
  std::string value;
};
std::optional<RegulatorIdentifier> regulator_identifier(const RegulatorAccountRow& account);

struct BookingOutcome {
  bool booked = false;
  std::string appointment_id;
  RegulatorIdentifier regulator;
  int64_t booked_at = 0;
  std::string error;  // why not, for the user
};

class AgendaStore {
 public:
  // Opens an existing agenda file read-write (never creates one). Throws std::runtime_error.
  explicit AgendaStore(const std::filesystem::path& file);
  AgendaStore(const AgendaStore&) = delete;
  AgendaStore& operator=(const AgendaStore&) = delete;
  ~AgendaStore();

  // Adds the tables a file generated before regulator accounts existed may lack.
  void ensure_schema();

  std::vector<PlaceView> places(int limit);
  std::optional<PlaceView> place(const std::string& practitioner_id, const std::string& place_id);
  // Free slots of a place a regulator may book (PUBLIC, PRO or SNP; not walk-in), from `from_utc`.
  std::vector<SlotView> bookable_slots(const std::string& place_id, int64_t from_utc, int limit);

  std::optional<RegulatorAccountRow> account(const std::string& id);
  std::vector<RegulatorAccountRow> accounts_by_email(const std::string& email);  // case-insensitive
  void set_password_hash(const std::string& account_id, const std::string& hash, int64_t now);
  void accept_terms(const std::string& account_id, int64_t now);

  // In one transaction: the slot must belong to the place, be free, bookable by a regulator and
  // not started; it becomes busy and an appointment tagged SAS-origin records the regulator.
  BookingOutcome book_as_regulator(int64_t slot_id, const std::string& place_id, const RegulatorAccountRow& account,
                                   const std::string& patient_label, int64_t now);

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sas::sample::agenda_web
