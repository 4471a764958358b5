// The reference plugin through the real loader, checked against SQL written independently of
// the plugin's own queries.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas_test/support.hpp>
#include <set>

namespace {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using namespace std::chrono;

class SqliteAgendaTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("sqlite-agenda"));
    sas::sim::AgendaSpec spec;
    spec.practitioners = 500;
    spec.days = 7;
    spec.seed = 11;
    spec.first_day = year_month_day(year(2026), month(11), day(23));
    sas::sim::generate_agenda(*dir_ / "agenda.db", spec);
    keep_ =
        new std::shared_ptr<sas::host::plugin_loader::PluginInstance>(sas::host::plugin_loader::PluginInstance::load(
            sas::test::plugin("sas-sqlite-agenda"), "db=" + (*dir_ / "agenda.db").string()));
    plugin_ = keep_->get();
  }
  static void TearDownTestSuite() {
    delete keep_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Free slot ids of these stored national ids with start in [from, to], by plain SQL.
  static std::set<std::string> expected_slots(const std::vector<std::string>& stored_ids, int64_t from, int64_t to) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((*dir_ / "agenda.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);  // the plugin's reporter writes its lease meanwhile
    std::set<std::string> out;
    for (const auto& id : stored_ids) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db,
                         "SELECT slot.id FROM slot JOIN place ON place.id = slot.place_id JOIN practitioner "
                         "ON practitioner.id = place.practitioner_id WHERE practitioner.national_id = ?1 "
                         "AND slot.status = 'free' AND slot.start_utc >= ?2 AND slot.start_utc <= ?3",
                         -1, &s, nullptr);
      sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 2, from);
      sqlite3_bind_int64(s, 3, to);
      while (sqlite3_step(s) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return out;
  }

  static std::vector<std::string> stored_ids(int limit, int offset) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((*dir_ / "agenda.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);  // the plugin's reporter writes its lease meanwhile
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT national_id FROM practitioner ORDER BY id LIMIT ?1 OFFSET ?2", -1, &s, nullptr);
    sqlite3_bind_int(s, 1, limit);
    sqlite3_bind_int(s, 2, offset);
    std::vector<std::string> out;
    while (sqlite3_step(s) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }

  static v1::SearchSlotsResponse search(const std::vector<std::string>& prefixed_ids, int64_t from, int64_t to) {
    v1::PluginRequest request;
    auto& search = *request.mutable_search_slots();
    for (const auto& id : prefixed_ids) search.add_practitioner_national_ids(id);
    search.set_start_from(from);
    search.set_start_to(to);
    v1::PluginResponse response;
    auto result = plugin_->call(request, response);
    EXPECT_TRUE(result.ok()) << result.message;
    return response.search_slots();
  }

  static fs::path* dir_;
  static std::shared_ptr<sas::host::plugin_loader::PluginInstance>* keep_;
  static sas::host::plugin_loader::PluginInstance* plugin_;
};
fs::path* SqliteAgendaTest::dir_ = nullptr;
std::shared_ptr<sas::host::plugin_loader::PluginInstance>* SqliteAgendaTest::keep_ = nullptr;
sas::host::plugin_loader::PluginInstance* SqliteAgendaTest::plugin_ = nullptr;

const int64_t kMonday =
    sys_seconds(sys_days(year_month_day(year(2026), month(11), day(23)))).time_since_epoch().count();

TEST_F(SqliteAgendaTest, FindsExactlyTheFreeSlotsInTheWindowWhateverTheStoredIdForm) {
  std::mt19937 random(5);
  for (int round = 0; round < 40; ++round) {
    int offset = static_cast<int>(random() % 475);
    int n = 1 + static_cast<int>(random() % 25);
    auto stored = stored_ids(n, offset);
    std::vector<std::string> prefixed;
    for (const auto& id : stored) prefixed.push_back(sas::sdk::ids::normalize_practitioner_id(id)->prefixed);
    int64_t from = kMonday + static_cast<int64_t>(random() % (5 * 86400));
    int64_t to = from + static_cast<int64_t>(random() % (3 * 86400));
    auto response = search(prefixed, from, to);

    std::set<std::string> got;
    for (const auto& slot : response.slots()) {
      EXPECT_TRUE(got.insert(slot.id()).second) << "slot returned twice: " << slot.id();
      EXPECT_EQ(slot.status(), v1::SLOT_FREE);
      EXPECT_GE(slot.start(), from);
      EXPECT_LE(slot.start(), to);
      EXPECT_FALSE(slot.booking_url().empty());
    }
    EXPECT_EQ(got, expected_slots(stored, from, to)) << "round " << round;
    EXPECT_EQ(response.practitioners_size(), n) << "every requested practitioner exists in this agenda";
  }
}

TEST_F(SqliteAgendaTest, EveryPlaceBelongsToAReturnedPractitionerAndEverySlotToAPlace) {
  auto stored = stored_ids(25, 100);
  std::vector<std::string> prefixed;
  for (const auto& id : stored) prefixed.push_back(sas::sdk::ids::normalize_practitioner_id(id)->prefixed);
  auto response = search(prefixed, kMonday, kMonday + 7 * 86400);
  std::set<std::string> practitioners, places;
  for (const auto& p : response.practitioners()) practitioners.insert(p.id());
  for (const auto& place : response.places()) {
    EXPECT_TRUE(practitioners.count(place.practitioner_id())) << place.id();
    EXPECT_FALSE(place.city().empty());
    EXPECT_FALSE(place.postal_code().empty());
    EXPECT_FALSE(place.address_lines().empty());
    places.insert(place.id());
  }
  for (const auto& slot : response.slots()) EXPECT_TRUE(places.count(slot.place_id())) << slot.id();
  EXPECT_GT(response.slots_size(), 0);
}

TEST_F(SqliteAgendaTest, UnknownPractitionersAndEmptyWindowsAreNotErrors) {
  auto unknown = search({"899999999999"}, kMonday, kMonday + 86400);
  EXPECT_EQ(unknown.practitioners_size(), 0);
  EXPECT_EQ(unknown.slots_size(), 0);
  auto stored = stored_ids(1, 0);
  auto empty = search({sas::sdk::ids::normalize_practitioner_id(stored[0])->prefixed}, kMonday - 86400 * 30,
                      kMonday - 86400 * 29);
  EXPECT_EQ(empty.slots_size(), 0);
  EXPECT_EQ(empty.practitioners_size(), 1);
}

}  // namespace
