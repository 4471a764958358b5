// The reference plugin's SOS Médecins search through the real loader, on agendas of
// `sas-sim gen-agenda` (sas::sim::generate_sos_agenda), checked against SQL written
// independently of the plugin's own queries; its schema (no place id in both place and
// sos_place) and the addition of the SOS tables to an older file.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sas/host/plugin_loader/plugin.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sim/agenda_generator.hpp"
#include "sas/sim/sos_agenda_generator.hpp"
#include "sas_test/support.hpp"

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using namespace std::chrono;
using sas::test::sqlite_rows;

constexpr int64_t kFrom = 1774566000;  // 2026-03-27T00:00:00+01:00
constexpr int64_t kTo = 1774796400;    // 2026-03-29T17:00:00+02:00, across the DST change

void generate(const fs::path& file, int associations, uint64_t seed = 5) {
  sas::sim::AgendaSpec spec;
  spec.practitioners = 20;
  spec.days = 4;
  spec.seed = seed;
  spec.first_day = year_month_day(year(2026), month(3), day(27));
  sas::sim::generate_agenda(file, spec);
  sas::sim::SosAgendaSpec sos;
  sos.associations = associations;
  sos.days = 4;
  sos.seed = seed;
  sos.first_day = spec.first_day;
  sas::sim::generate_sos_agenda(file, sos);
}

std::shared_ptr<sas::host::plugin_loader::PluginInstance> load(const fs::path& agenda) {
  sas::host::plugin_loader::HostServices services;
  services.log = [](int32_t, std::string_view) {};
  return sas::host::plugin_loader::PluginInstance::load(sas::test::plugin("sas-sqlite-agenda"), "db=" + agenda.string(),
                                                        services);
}

v1::SearchSosSlotsResponse search(sas::host::plugin_loader::Plugin& plugin, const std::vector<std::string>& sirets,
                                  int64_t from = kFrom, int64_t to = kTo) {
  v1::PluginRequest request;
  auto& sos = *request.mutable_search_sos_slots();
  for (const auto& s : sirets) sos.add_association_sirets(s);
  sos.set_start_from(from);
  sos.set_start_to(to);
  v1::PluginResponse response;
  const auto result = plugin.call(request, response, system_clock::now() + seconds(5));
  EXPECT_TRUE(result.ok()) << result.message;
  return response.search_sos_slots();
}

// Free slots of the association stored as `stored` in [from, to], by plain SQL.
std::set<std::string> expected(const fs::path& agenda, const std::string& stored) {
  std::set<std::string> out;
  for (const auto& row : sqlite_rows(agenda,
                                     "SELECT s.id FROM slot s JOIN sos_place p ON p.id = s.place_id WHERE "
                                     "p.association_siret = '" +
                                         stored + "' AND s.status = 'free' AND s.start_utc BETWEEN " +
                                         std::to_string(kFrom) + " AND " + std::to_string(kTo))) {
    out.insert(row[0]);
  }
  return out;
}

class SqliteAgendaSos : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("sqlite-agenda-sos"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SqliteAgendaSos, FindsExactlyTheFreeSlotsOfEachAssociationWhateverTheStoredSiretForm) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 6);
  const auto stored = sqlite_rows(agenda, "SELECT siret FROM sos_association ORDER BY siret");
  ASSERT_EQ(stored.size(), 6u);
  std::set<std::size_t> lengths;
  for (const auto& row : stored) lengths.insert(row[0].size());
  ASSERT_EQ(lengths, (std::set<std::size_t>{14, 15})) << "the generator stores both forms";
  auto plugin = load(agenda);
  std::size_t total = 0;
  for (const auto& row : stored) {
    const std::string prefixed = row[0].size() == 15 ? row[0] : "3" + row[0];
    const auto answer = search(*plugin, {prefixed});
    ASSERT_EQ(answer.associations_size(), 1) << row[0];
    EXPECT_EQ(answer.associations(0).siret(), row[0]) << "as stored";
    std::set<std::string> places;
    for (const auto& p : answer.places()) {
      EXPECT_EQ(p.association_siret(), row[0]);
      EXPECT_FALSE(p.name().empty());
      EXPECT_FALSE(p.opening_hours().empty());
      places.insert(p.id());
    }
    std::set<std::string> ids;
    for (const auto& s : answer.slots()) {
      EXPECT_TRUE(places.contains(s.place_id())) << s.place_id();
      EXPECT_EQ(s.status(), v1::SLOT_FREE);
      EXPECT_FALSE(s.booking_url().empty()) << "the place's booking page";
      ids.insert(s.id());
    }
    EXPECT_EQ(ids, expected(agenda, row[0])) << row[0];
    total += ids.size();
  }
  EXPECT_GT(total, 0u);
}

TEST_F(SqliteAgendaSos, UnknownAssociationsAndEmptyWindowsAreNotErrors) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 2);
  auto plugin = load(agenda);
  const auto unknown = search(*plugin, {"312345678901234"});
  EXPECT_EQ(unknown.associations_size() + unknown.places_size() + unknown.slots_size(), 0);
  const auto siret = sas::sim::sos_association_sirets(agenda).at(0);
  const auto empty = search(*plugin, {siret}, kTo + 86400 * 30, kTo + 86400 * 31);
  EXPECT_EQ(empty.associations_size(), 1);
  EXPECT_EQ(empty.slots_size(), 0);
}

// The INT_R01 search never sees an SOS slot, and the SOS search never a practitioner's.
TEST_F(SqliteAgendaSos, TheTwoSearchesKeepToTheirOwnPlaces) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 3);
  auto plugin = load(agenda);
  v1::PluginRequest request;
  auto& r = *request.mutable_search_slots();
  for (const auto& row : sqlite_rows(agenda, "SELECT national_id FROM practitioner")) {
    r.add_practitioner_national_ids(sas::sdk::ids::normalize_practitioner_id(row[0])->prefixed);
  }
  r.set_start_from(kFrom);
  r.set_start_to(kTo);
  v1::PluginResponse response;
  ASSERT_TRUE(plugin->call(request, response, system_clock::now() + seconds(5)).ok());
  ASSERT_GT(response.search_slots().slots_size(), 0);
  for (const auto& s : response.search_slots().slots()) EXPECT_EQ(s.place_id().rfind("SOS", 0), std::string::npos);
  const auto sos = search(*plugin, sas::sim::sos_association_sirets(agenda));
  ASSERT_GT(sos.slots_size(), 0);
  for (const auto& s : sos.slots()) EXPECT_EQ(s.place_id().rfind("SOS", 0), 0u);
}

// Opening hours go out as the agenda wrote them: days and the two times of each line.
TEST_F(SqliteAgendaSos, OpeningHoursAreReadLineByLine) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 0);
  sas::test::sqlite_exec(agenda,
                         "INSERT INTO sos_association VALUES ('34173748400020', 'SOS Médecins de Rennes');"
                         "INSERT INTO sos_place (id, association_siret, name, address, postal_code, city, "
                         "opening_hours) VALUES ('nord', '34173748400020', 'Nord', '1 rue A', '35000', 'RENNES', "
                         "'tue,wed 08:00-19:00' || char(10) || 'sat, sun 00:00-24:00' || char(10) || 'mon');");
  auto plugin = load(agenda);
  const auto answer = search(*plugin, {"334173748400020"});
  ASSERT_EQ(answer.places_size(), 1);
  const auto& hours = answer.places(0).opening_hours();
  ASSERT_EQ(hours.size(), 3);
  EXPECT_EQ(std::vector<std::string>(hours[0].days().begin(), hours[0].days().end()),
            (std::vector<std::string>{"tue", "wed"}));
  EXPECT_EQ(hours[0].opening_time(), "08:00");
  EXPECT_EQ(hours[0].closing_time(), "19:00");
  EXPECT_EQ(std::vector<std::string>(hours[1].days().begin(), hours[1].days().end()),
            (std::vector<std::string>{"sat", "sun"}));
  EXPECT_EQ(hours[1].closing_time(), "24:00");
  EXPECT_EQ(hours[2].days_size(), 1);
  EXPECT_TRUE(hours[2].opening_time().empty());
}

TEST_F(SqliteAgendaSos, APlaceIdIsNeverBothAPlaceAndAnSosPlace) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 1);
  const std::string place = sqlite_rows(agenda, "SELECT id FROM place LIMIT 1").at(0).at(0);
  const std::string sos_place = sqlite_rows(agenda, "SELECT id FROM sos_place LIMIT 1").at(0).at(0);
  const std::string siret = sqlite_rows(agenda, "SELECT siret FROM sos_association").at(0).at(0);
  EXPECT_THROW(sas::test::sqlite_exec(agenda,
                                      "INSERT INTO sos_place (id, association_siret, name, address, "
                                      "postal_code, city) VALUES ('" +
                                          place + "', '" + siret + "', 'x', 'x', '35000', 'x')"),
               std::exception);
  EXPECT_THROW(
      sas::test::sqlite_exec(agenda, "UPDATE sos_place SET id = '" + place + "' WHERE id = '" + sos_place + "'"),
      std::exception);
  EXPECT_THROW(sas::test::sqlite_exec(agenda,
                                      "INSERT INTO place (id, practitioner_id, address, postal_code, city) "
                                      "VALUES ('" +
                                          sos_place + "', 'P100000', 'x', '35000', 'x')"),
               std::exception);
  EXPECT_THROW(sas::test::sqlite_exec(agenda, "UPDATE place SET id = '" + sos_place + "' WHERE id = '" + place + "'"),
               std::exception);
}

// A file from before the SOS search gets the SOS tables when the plugin starts, and answers.
TEST_F(SqliteAgendaSos, AnOlderFileGetsTheSosTables) {
  const fs::path agenda = dir_ / "agenda.db";
  generate(agenda, 0);
  sas::test::sqlite_exec(agenda,
                         "DROP TRIGGER place_id_is_not_an_sos_place; DROP TRIGGER place_new_id_is_not_an_sos_place;"
                         "DROP TABLE sos_place; DROP TABLE sos_association;");
  ASSERT_TRUE(sqlite_rows(agenda, "SELECT name FROM sqlite_master WHERE name LIKE 'sos%'").empty());
  auto plugin = load(agenda);
  EXPECT_EQ(sqlite_rows(agenda,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                        "('sos_association', 'sos_place')")
                .at(0)
                .at(0),
            "2");
  EXPECT_EQ(search(*plugin, {"334173748400020"}).associations_size(), 0);
}

// SOS generation adds to an agenda without changing what its seed made, and is deterministic.
TEST_F(SqliteAgendaSos, TheGeneratorIsDeterministicAndLeavesTheRestAlone) {
  generate(dir_ / "a.db", 3);
  generate(dir_ / "b.db", 3);
  generate(dir_ / "none.db", 0);
  const std::string sos = "SELECT * FROM slot WHERE place_id IN (SELECT id FROM sos_place) ORDER BY id";
  EXPECT_EQ(sqlite_rows(dir_ / "a.db", sos), sqlite_rows(dir_ / "b.db", sos));
  EXPECT_EQ(sqlite_rows(dir_ / "a.db", "SELECT * FROM sos_place"),
            sqlite_rows(dir_ / "b.db", "SELECT * FROM sos_place"));
  const std::string own = "SELECT * FROM slot WHERE place_id IN (SELECT id FROM place) ORDER BY id";
  EXPECT_EQ(sqlite_rows(dir_ / "a.db", own), sqlite_rows(dir_ / "none.db", own));
  // What SOS agendas hold: PRO-only slots the search must drop, walk-in, SNP, busy, all-day openings.
  for (const char* where : {"audiences = 'PRO'", "audiences LIKE '%SNP%'", "walk_in = 1", "status = 'busy'"}) {
    EXPECT_NE(
        sqlite_rows(dir_ / "a.db", std::string("SELECT count(*) FROM slot WHERE place_id LIKE 'SOS%' AND ") + where)
            .at(0)
            .at(0),
        "0")
        << where;
  }
}
}  // namespace
