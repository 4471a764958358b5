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

struct PractitionerView {
  std::string id;  // the agenda's id
  std::string national_id;
  std::string name;  // "Given Family"
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

// A SAS-origin appointment as the doctor's screen shows it, with the host's billing decision
// once the plugin has it (billing_decision).
struct SasAppointmentView {
  std::string id;
  std::string practitioner_name;
  int64_t start_utc = 0;
  int64_t booked_at = 0;
  std::string status;         // booked, fulfilled, ...
  bool consultation = false;  // a consultation row exists
  std::optional<std::string> report_error;
  std::optional<std::string> code;  // SNP, MRT, "" (neither); nullopt: no decision yet
  std::string parcours_indicator;
  int64_t amount_cents = 0;
  std::string reasons_fr;
};

// What the doctor declares when marking a SAS-origin appointment honoured.
struct ConsultationInput {
  int64_t consulted_at = 0;  // seconds UTC
  bool medecin_traitant = false;
  bool opposable_tariff = true;
  std::string other_codes;  // comma-separated NGAP codes
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
  std::optional<PractitionerView> practitioner(const std::string& practitioner_id);
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

  // The SAS-origin appointments, most recent booking first.
  std::vector<SasAppointmentView> sas_appointments(int limit);
  // In one transaction: the SAS-origin appointment becomes fulfilled (honoured) and a
  // consultation row (id = the appointment id) is written for the plugin to report. Returns ""
  // or why not.
  std::string honour(const std::string& appointment_id, const ConsultationInput& input);

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace sas::sample::agenda_web
