// The generator's promises: deterministic for a seed, and realistic in the ways that break
// vendors (several places, every audience and mode, both id forms, mixed phone formats).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sas/sim/agenda_generator.hpp>
#include <sas_test/support.hpp>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

std::vector<std::string> rows(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::string> out;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(statement); ++c) {
      auto* text = sqlite3_column_text(statement, c);
      row += (c ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    out.push_back(row);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

int64_t count(const fs::path& db, const std::string& sql) { return std::stoll(rows(db, sql).at(0)); }

class GeneratorTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = sas::test::make_temp_dir("gen"); }
  void TearDown() override { fs::remove_all(dir_); }
  sas::sim::AgendaSpec spec(uint64_t seed) {
    sas::sim::AgendaSpec s;
    s.practitioners = 300;
    s.days = 7;
    s.seed = seed;
    s.first_day = year_month_day(year(2026), month(3), day(24));  // a week across the DST change
    return s;
  }
  fs::path dir_;
};

TEST_F(GeneratorTest, SameSeedSameAgendaOtherSeedOtherAgenda) {
  sas::sim::generate_agenda(dir_ / "a.db", spec(7));
  sas::sim::generate_agenda(dir_ / "b.db", spec(7));
  sas::sim::generate_agenda(dir_ / "c.db", spec(8));
  const std::string dump = "SELECT * FROM slot ORDER BY id";
  EXPECT_EQ(rows(dir_ / "a.db", dump), rows(dir_ / "b.db", dump));
  EXPECT_EQ(rows(dir_ / "a.db", "SELECT * FROM practitioner"), rows(dir_ / "b.db", "SELECT * FROM practitioner"));
  EXPECT_NE(rows(dir_ / "a.db", dump), rows(dir_ / "c.db", dump));
}

TEST_F(GeneratorTest, HoldsTheMessOfRealAgendas) {
  auto summary = sas::sim::generate_agenda(dir_ / "a.db", spec(3));
  const fs::path db = dir_ / "a.db";
  EXPECT_EQ(summary.practitioners, 300);
  EXPECT_EQ(count(db, "SELECT count(*) FROM practitioner"), 300);
  EXPECT_EQ(count(db, "SELECT count(*) FROM slot"), summary.slots);
  // Ids: RPPS and ADELI, each stored with and without the prefix, all distinct.
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE length(national_id) = 11"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE length(national_id) = 12"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE length(national_id) = 9"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE length(national_id) = 10"), 0);
  EXPECT_EQ(count(db, "SELECT count(DISTINCT substr(national_id, -9)) FROM practitioner"), 300);
  // Several places for some doctors.
  EXPECT_GT(count(db, "SELECT count(*) FROM (SELECT practitioner_id FROM place GROUP BY 1 HAVING count(*) > 1)"), 0);
  // Every audience, every mode, free and busy, walk-in, motives and none.
  for (const char* audience : {"PUBLIC", "PRO", "SNP", "CPTS", "PATIENTELE"}) {
    EXPECT_GT(
        count(db, std::string("SELECT count(*) FROM slot WHERE ',' || audiences || ',' LIKE '%,") + audience + ",%'"),
        0)
        << audience;
  }
  for (const char* mode : {"AMB", "HH", "VR"}) {
    EXPECT_GT(count(db, std::string("SELECT count(*) FROM slot WHERE modes LIKE '%") + mode + "%'"), 0) << mode;
  }
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE status = 'busy'"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE walk_in = 1"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE motives IS NULL"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE instr(motives, char(10)) > 0"), 0);
  // Coded and free-text specialties; phones in several formats.
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner_specialty WHERE code IS NOT NULL"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner_specialty WHERE code IS NULL"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE phone LIKE '+33%'"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE phone LIKE '0% %'"), 0);
  EXPECT_GT(count(db, "SELECT count(*) FROM practitioner WHERE phone GLOB '0[1-9][0-9][0-9]*' AND length(phone)=10"),
            0);
  // No one works on Sunday 2026-03-29; slots are in Paris opening hours across the DST change:
  // 08:30 in Paris is 07:30Z before 29 March and 06:30Z after.
  EXPECT_EQ(count(db, "SELECT count(*) FROM slot WHERE date(start_utc, 'unixepoch') = '2026-03-29'"), 0);
  EXPECT_EQ(count(db,
                  "SELECT min(time(start_utc, 'unixepoch')) = '07:30:00' FROM slot "
                  "WHERE date(start_utc, 'unixepoch') = '2026-03-28'"),
            1);
  EXPECT_EQ(count(db,
                  "SELECT min(time(start_utc, 'unixepoch')) = '06:30:00' FROM slot "
                  "WHERE date(start_utc, 'unixepoch') = '2026-03-30'"),
            1);
}

// INT_R04: a few named CPTS with phones; slots open to one CPTS, to two, to CPTS only; every
// FINESS a slot names (with or without its 1 prefix) is a CPTS of the table.
TEST_F(GeneratorTest, OpensSomeSlotsToNamedCpts) {
  const auto summary = sas::sim::generate_agenda(dir_ / "a.db", spec(3));
  const fs::path db = dir_ / "a.db";
  EXPECT_EQ(count(db, "SELECT count(*) FROM cpts"), summary.cpts);
  EXPECT_GE(summary.cpts, 3);
  EXPECT_EQ(count(db, "SELECT count(*) FROM cpts WHERE name IS NULL OR phone IS NULL OR length(finess) <> 9"), 0);
  EXPECT_EQ(count(db, "SELECT count(*) FROM slot WHERE cpts IS NOT NULL"), summary.cpts_slots);
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE cpts IS NOT NULL AND instr(cpts, ',') = 0"), 0) << "one CPTS";
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE instr(cpts, ',') > 0"), 0) << "two CPTS";
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE audiences = 'CPTS' AND status = 'free'"), 0) << "CPTS only";
  EXPECT_GT(count(db, "SELECT count(*) FROM slot WHERE audiences = 'PUBLIC,CPTS'"), 0);
  EXPECT_EQ(count(db, "SELECT count(*) FROM slot WHERE (cpts IS NULL) <> (instr(audiences, 'CPTS') = 0)"), 0)
      << "CPTS named exactly on the slots open to CPTS";
  // Each named FINESS, prefixed or not, is in the table; both forms occur.
  const auto named = rows(db,
                          "WITH RECURSIVE split(rest, item) AS (SELECT cpts || ',', NULL FROM slot WHERE cpts IS NOT "
                          "NULL UNION ALL SELECT substr(rest, instr(rest, ',') + 1), substr(rest, 1, instr(rest, ',') "
                          "- 1) FROM split WHERE rest <> '') SELECT DISTINCT item FROM split WHERE item IS NOT NULL");
  bool prefixed = false, unprefixed = false;
  for (const auto& finess : named) {
    const std::string bare = finess.size() == 10 ? finess.substr(1) : finess;
    (finess.size() == 10 ? prefixed : unprefixed) = true;
    EXPECT_EQ(count(db, "SELECT count(*) FROM cpts WHERE finess = '" + bare + "'"), 1) << finess;
  }
  EXPECT_TRUE(prefixed && unprefixed);
}

}  // namespace
