// The reference plugin's whole INT_R01 / CPTS answer on a small hand-written agenda, field by
// field, against an expectation written from the schema's documentation (docs/plugins/
// sqlite-agenda.md), not from the plugin's queries: any change in what a search returns fails
// here, whichever way the plugin reads the file (with the free-slot index, or without it on a
// file it cannot change).
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <mutex>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/sqlite_agenda/schema.hpp>
#include <sas_test/support.hpp>

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using sas::host::plugin_loader::PluginInstance;

// The window of every search below: [kFrom, kTo], both ends included.
constexpr int64_t kFrom = 1795420800;
constexpr int64_t kTo = 1795507200;

// Two stored forms of one RPPS (two practitioner rows: a duplicate import), an ADELI stored
// unprefixed, a practitioner not asked for; a practitioner with two places, one without slots in
// the window; slots on both edges of the window and one second outside each, a busy one, slot-level
// booking URL and specialties, lists with spaces, CR and empty items, an unknown audience code;
// CPTS named with and without the 1 prefix, one of them without a row in the cpts table.
constexpr const char* kAgendaRows = R"sql(
INSERT INTO practitioner (id, national_id, family_name, given_names, phone) VALUES
  ('dr-martin', '10002673899', 'MARTIN', 'Jeanne
Marie ', '01 23 45 67 89'),
  ('dr-martin-import', '810002673899', 'MARTIN', 'Jeanne', NULL),
  ('dr-durand', '751234567', 'DURAND', '', '+33 6 12 34 56 78'),
  ('dr-other', '10003585060', 'OTHER', 'Paul', NULL);
INSERT INTO practitioner_specialty (practitioner_id, code, label) VALUES
  ('dr-martin', 'SM54', NULL), ('dr-other', 'SM54', NULL), ('dr-martin', NULL, 'Médecine du sport'),
  ('dr-durand', 'SM26', NULL);
INSERT INTO place (id, practitioner_id, name, address, postal_code, city, finess, siret, rpps_rang, phone,
                   booking_url) VALUES
  ('pl-martin-1', 'dr-martin', 'Cabinet Martin', '1 rue de la Paix
Bâtiment B', '75011', 'Paris', '750077497', NULL, NULL, '01 86 44 19 04', 'https://agenda.example.fr/rdv/martin-1'),
  ('pl-martin-2', 'dr-martin', NULL, '2 avenue Foch', '92000', 'Nanterre', NULL, '21827475187713', NULL, NULL,
   'https://agenda.example.fr/rdv/martin-2'),
  ('pl-import', 'dr-martin-import', 'Centre de santé', '3 quai Rambaud', '69002', 'Lyon', '1690000019', NULL, NULL,
   NULL, 'https://agenda.example.fr/rdv/import'),
  ('pl-durand', 'dr-durand', 'Cabinet Durand', '4 place Bellecour', '69002', 'Lyon', NULL, NULL, '410001234567',
   NULL, NULL),
  ('pl-other', 'dr-other', 'Cabinet Other', '5 rue Neuve', '69001', 'Lyon', NULL, NULL, NULL, NULL,
   'https://agenda.example.fr/rdv/other');
INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences, cpts, modes, motives, walk_in, booking_url,
                  specialties) VALUES
  (1, 'pl-martin-1', 1795420800, 1795422600, 'free', 'PUBLIC,PRO', NULL, 'AMB', 'Consultation', 0, NULL, NULL),
  (2, 'pl-martin-1', 1795420799, 1795422600, 'free', 'PUBLIC', NULL, 'AMB', NULL, 0, NULL, NULL),
  (3, 'pl-martin-1', 1795507200, 1795509000, 'free', 'SNP, CPTS ', '930000001, 1930000002', 'AMB,VR', 'Fièvre
Toux', 1, 'https://agenda.example.fr/sas/slot-3', 'SM54
Médecine du sport'),
  (4, 'pl-martin-1', 1795507201, 1795509000, 'free', 'PUBLIC', NULL, 'AMB', NULL, 0, NULL, NULL),
  (5, 'pl-martin-1', 1795440000, 1795441800, 'busy', 'PUBLIC', NULL, 'AMB', NULL, 0, NULL, NULL),
  (6, 'pl-martin-2', 1795417200, 1795419000, 'free', 'PUBLIC', NULL, 'AMB', NULL, 0, NULL, NULL),
  (7, 'pl-import', 1795450000, 1795451800, 'free', 'PUBLIC,NOPE', NULL, 'HH', NULL, 0, NULL, NULL),
  (8, 'pl-durand', 1795460000, 1795461800, 'free', 'CPTS', '930000001', 'AMB', NULL, 0, NULL, 'SM26'),
  (9, 'pl-durand', 1795470000, 1795471800, 'free', ', ,PRO,', NULL, 'VR,', '
Suivi' || char(13) || '
', 0, NULL, NULL),
  (10, 'pl-other', 1795450000, 1795451800, 'free', 'PUBLIC', NULL, 'AMB', NULL, 0, NULL, NULL);
INSERT INTO cpts (finess, name, phone) VALUES ('1930000001', 'CPTS AXE MAJEUR', '01 30 00 00 00');
)sql";

// What the schema's documentation says the plugin answers for them. A CPTS search adds kCpts.
constexpr const char* kExpectedAnswer = R"pb(
  practitioners {
    id: "dr-martin"
    national_id: "10002673899"
    family_name: "MARTIN"
    given_names: "Jeanne"
    given_names: "Marie"
    specialties { code: "SM54" }
    specialties { text: "Médecine du sport" }
    phone: "01 23 45 67 89"
  }
  practitioners { id: "dr-martin-import" national_id: "810002673899" family_name: "MARTIN" given_names: "Jeanne" }
  practitioners {
    id: "dr-durand"
    national_id: "751234567"
    family_name: "DURAND"
    specialties { code: "SM26" }
    phone: "+33 6 12 34 56 78"
  }
  places {
    id: "pl-martin-1"
    practitioner_id: "dr-martin"
    name: "Cabinet Martin"
    address_lines: "1 rue de la Paix"
    address_lines: "Bâtiment B"
    postal_code: "75011"
    city: "Paris"
    finess: "750077497"
    phone: "01 86 44 19 04"
  }
  places {
    id: "pl-martin-2"
    practitioner_id: "dr-martin"
    address_lines: "2 avenue Foch"
    postal_code: "92000"
    city: "Nanterre"
    siret: "21827475187713"
  }
  places {
    id: "pl-import"
    practitioner_id: "dr-martin-import"
    name: "Centre de santé"
    address_lines: "3 quai Rambaud"
    postal_code: "69002"
    city: "Lyon"
    finess: "1690000019"
  }
  places {
    id: "pl-durand"
    practitioner_id: "dr-durand"
    name: "Cabinet Durand"
    address_lines: "4 place Bellecour"
    postal_code: "69002"
    city: "Lyon"
    rpps_rang: "410001234567"
  }
  slots {
    id: "1"
    place_id: "pl-martin-1"
    start: 1795420800
    end: 1795422600
    status: SLOT_FREE
    audiences: AUDIENCE_PUBLIC
    audiences: AUDIENCE_PROFESSIONALS
    modes: MODE_AT_PRACTICE
    motives: "Consultation"
    booking_url: "https://agenda.example.fr/rdv/martin-1"
  }
  slots {
    id: "3"
    place_id: "pl-martin-1"
    start: 1795507200
    end: 1795509000
    status: SLOT_FREE
    audiences: AUDIENCE_SNP
    audiences: AUDIENCE_CPTS
    cpts_finess: "930000001"
    cpts_finess: "1930000002"
    modes: MODE_AT_PRACTICE
    modes: MODE_TELECONSULTATION
    motives: "Fièvre"
    motives: "Toux"
    walk_in: true
    booking_url: "https://agenda.example.fr/sas/slot-3"
    specialties { code: "SM54" }
    specialties { text: "Médecine du sport" }
  }
  slots {
    id: "7"
    place_id: "pl-import"
    start: 1795450000
    end: 1795451800
    status: SLOT_FREE
    audiences: AUDIENCE_PUBLIC
    audiences: AUDIENCE_UNSPECIFIED
    modes: MODE_AT_HOME
    booking_url: "https://agenda.example.fr/rdv/import"
  }
  slots {
    id: "8"
    place_id: "pl-durand"
    start: 1795460000
    end: 1795461800
    status: SLOT_FREE
    audiences: AUDIENCE_CPTS
    cpts_finess: "930000001"
    modes: MODE_AT_PRACTICE
    specialties { code: "SM26" }
  }
  slots {
    id: "9"
    place_id: "pl-durand"
    start: 1795470000
    end: 1795471800
    status: SLOT_FREE
    audiences: AUDIENCE_PROFESSIONALS
    modes: MODE_TELECONSULTATION
    motives: "Suivi"
  }
)pb";
constexpr const char* kCpts = R"pb(cpts { finess: "1930000001" name: "CPTS AXE MAJEUR" phone: "01 30 00 00 00" })pb";

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(message);
  }
}

// Runs `sql` on the agenda file, and answers the first column of its first row ("" if none).
std::string run_sql(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_busy_timeout(db, 5000);
  std::string out;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK && sqlite3_step(statement) == SQLITE_ROW &&
      sqlite3_column_text(statement, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

bool has_free_slot_index(const fs::path& path) {
  return run_sql(path, "SELECT count(*) FROM sqlite_master WHERE name = 'slot_free_by_place_start'") == "1";
}

class SqliteAgendaAnswerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("sqlite-agenda-answer");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "agenda.db").c_str(), &db), SQLITE_OK);
    exec(db, sas::sqlite_agenda::schema_sql());
    exec(db, kAgendaRows);
    sqlite3_close(db);
  }
  void TearDown() override {
    plugin_.reset();
    fs::remove_all(dir_);
  }

  // The plugin on the agenda (`db` as the plugin's config names it); its log lines are kept.
  void load(const std::string& db) {
    sas::host::plugin_loader::HostServices services;
    services.log = [this](int32_t, std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(line) + "\n";
    };
    plugin_ =
        PluginInstance::load(sas::test::plugin("sas-sqlite-agenda"), "db=" + db + ";report_interval_ms=0", services);
  }

  v1::SearchSlotsResponse search(bool cpts_search) {
    v1::PluginRequest request;
    auto& search = *request.mutable_search_slots();
    // The RPPS twice (the plugin must not answer its practitioners twice), then the ADELI.
    for (const char* id : {"810002673899", "0751234567", "810002673899"}) search.add_practitioner_national_ids(id);
    search.set_start_from(kFrom);
    search.set_start_to(kTo);
    search.set_cpts_search(cpts_search);
    v1::PluginResponse response;
    const auto result = plugin_->call(request, response);
    EXPECT_TRUE(result.ok()) << result.message;
    return response.search_slots();
  }

  // The answer against the expectation: practitioners, places, slots and CPTS as sets (the host
  // indexes the first three by id and sorts the slots), every list inside them in its order.
  static void expect_answer(const v1::SearchSlotsResponse& got, bool cpts_search) {
    v1::SearchSlotsResponse expected;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(kExpectedAnswer) + (cpts_search ? kCpts : ""),
                                                              &expected));
    google::protobuf::util::MessageDifferencer differencer;
    const auto* descriptor = v1::SearchSlotsResponse::descriptor();
    for (const char* field : {"practitioners", "places", "slots", "cpts"}) {
      differencer.TreatAsSet(descriptor->FindFieldByName(field));
    }
    std::string differences;
    differencer.ReportDifferencesToString(&differences);
    EXPECT_TRUE(differencer.Compare(expected, got)) << differences;
  }

  fs::path dir_;
  std::shared_ptr<PluginInstance> plugin_;
  std::mutex log_mutex_;
  std::string log_;
};

TEST_F(SqliteAgendaAnswerTest, AnswersEveryFieldOfTheAgendaAsDocumented) {
  load((dir_ / "agenda.db").string());
  expect_answer(search(false), false);
  expect_answer(search(true), true);
}

TEST_F(SqliteAgendaAnswerTest, AddsTheFreeSlotIndexToAnOlderFileAndAnswersTheSame) {
  run_sql(dir_ / "agenda.db", "DROP INDEX slot_free_by_place_start");
  ASSERT_FALSE(has_free_slot_index(dir_ / "agenda.db"));
  load((dir_ / "agenda.db").string());
  EXPECT_TRUE(has_free_slot_index(dir_ / "agenda.db"));
  EXPECT_THAT(log_, testing::HasSubstr("added the free-slot index slot_free_by_place_start"));
  expect_answer(search(true), true);
}

TEST_F(SqliteAgendaAnswerTest, AnswersTheSameFromAnOlderFileItCannotChange) {
  run_sql(dir_ / "agenda.db", "DROP INDEX slot_free_by_place_start");
  // A read-only connection (SQLite URI): the plugin cannot add the index, says so, and reads
  // the slot table itself.
  load("file:" + (dir_ / "agenda.db").string() + "?mode=ro");
  EXPECT_FALSE(has_free_slot_index(dir_ / "agenda.db"));
  EXPECT_THAT(log_, testing::HasSubstr("cannot add the index slot_free_by_place_start"));
  expect_answer(search(false), false);
  expect_answer(search(true), true);
}

}  // namespace
