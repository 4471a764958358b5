// PROPERTY test of INT_R01, end to end: for generated agendas (sas::sim::generate_agenda, several
// seeds, days across both DST changes), many random searches through the real sas-host over
// mutual TLS; EVERY answer must be a valid Bundle for the IG's profiles (the SDK's validator)
// and must agree with the SQLite file, read back here with plain SQL:
// - the Slots are exactly the free slots of the asked practitioners whose start lies in the
//   window and that have at least one of the INT_R01 audiences PUBLIC, PRO, SNP (so no busy,
//   own-patients-only or CPTS-only slot, nothing outside the window or of someone not asked
//   for), and total counts them all;
// - each Slot hangs on its own place's Schedule/PractitionerRole/Location and its own doctor;
// - national ids are prefixed, phones in +33 form, no element is empty.
//
// Drop rules of host/slot_search/src/bundle.cpp this mirrors: not free, start outside
// [ge, le], no PUBLIC/PRO/SNP audience (PATIENTELE never leaves, CPTS alone is INT_R04), end
// not after start, unknown place or practitioner, not asked for, invalid national id,
// duplicate id. The generated agendas have no invalid id, duplicate or empty slot, so those
// last rules never apply here (the unit tests cover them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "bundle_view.hpp"
#include "e2e_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/sim/agenda_generator.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace bv = sas::test::bundle;
using namespace std::chrono;
using testing::StartsWith;

constexpr int kPractitioners = 150;
constexpr int kDays = 7;
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSearchesPerAgenda = 40;  // ASan + a Debug build make each validated search ~1 s
#else
constexpr int kSearchesPerAgenda = 150;
#endif

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

// Independent of the SDK: both forms of a stored RPPS (11 digits, prefix 8) or ADELI (9, prefix 0).
std::string prefixed(const std::string& stored) {
  if (stored.size() == 11) return "8" + stored;
  if (stored.size() == 9) return "0" + stored;
  return stored;
}
std::string unprefixed(const std::string& stored) {
  if (stored.size() == 12 || stored.size() == 10) return stored.substr(1);
  return stored;
}

std::string sql_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string digits(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

// YYYY-MM-DDThh:mm:ss[.mmm] then Z or ±hh:mm (with '+' raw or as %2B).
std::string fhir_datetime(sys_time<milliseconds> t, int offset_minutes, bool zulu, bool with_ms, bool encode_plus) {
  const auto local = t + minutes(offset_minutes);
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{local - day};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  std::string out = buffer;
  if (with_ms) {
    std::snprintf(buffer, sizeof buffer, ".%03d", static_cast<int>(time.subseconds().count()));
    out += buffer;
  }
  if (zulu) return out + "Z";
  const int magnitude = std::abs(offset_minutes);
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", magnitude / 60, magnitude % 60);
  return out + (offset_minutes < 0 ? "-" : (encode_plus ? "%2B" : "+")) + buffer;
}

struct Search {
  std::vector<std::string> asked_stored;  // the national_id column of each asked practitioner
  std::string query;
  int64_t ge_ms = 0;
  int64_t le_ms = 0;
};

struct Seed {
  uint64_t seed;
  year_month_day first_day;
};

void PrintTo(const Seed& s, std::ostream* os) { *os << "seed " << s.seed; }

class PropertyE2e : public testing::TestWithParam<Seed> {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("e2e-property");
    sas::e2e::write_pki(dir_ / "pki");
    sas::sim::AgendaSpec spec;
    spec.practitioners = kPractitioners;
    spec.days = kDays;
    spec.seed = GetParam().seed;
    spec.first_day = GetParam().first_day;
    summary_ = sas::sim::generate_agenda(agenda(), spec);
    ASSERT_EQ(summary_.practitioners, kPractitioners);
    sas::e2e::HostOptions options;
    options.agenda = agenda();
    options.pki = dir_ / "pki";
    options.work = dir_;
    host_ = std::make_unique<sas::e2e::Host>(options);
    for (auto& row : sas::e2e::sql(agenda(), "SELECT national_id FROM practitioner ORDER BY id")) {
      stored_ids_.push_back(row[0]);
    }
  }

  void TearDown() override {
    host_.reset();
    fs::remove_all(dir_);
  }

  fs::path agenda() const { return dir_ / "agenda.db"; }

  Search random_search(std::mt19937_64& random) const {
    auto below = [&random](uint64_t n) { return static_cast<int64_t>(random() % n); };
    Search s;
    // 1 to 25 practitioners, each asked prefixed or not; sometimes someone unknown too.
    std::vector<std::string> pool = stored_ids_;
    std::shuffle(pool.begin(), pool.end(), random);
    const auto count = static_cast<size_t>(1 + below(25));
    s.asked_stored.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
    std::vector<std::string> asked;
    for (const auto& stored : s.asked_stored) asked.push_back(below(2) ? prefixed(stored) : unprefixed(stored));
    if (count < 25 && below(4) == 0) asked.push_back("899999999999");
    const std::string bar = below(2) ? "|" : "%7C";
    const std::string separator = std::vector<std::string>{",", ",%20", ",+"}[static_cast<size_t>(below(3))];

    // A window from 12 h before the first day to its last day, 20 min to 3 days long, to the ms.
    const sys_days first{GetParam().first_day};
    const auto from = time_point_cast<milliseconds>(first - hours(12)) + milliseconds(below(int64_t{8} * 86400000));
    const auto to = from + minutes(20 + below(3 * 24 * 60)) + milliseconds(below(1000));
    s.ge_ms = from.time_since_epoch().count();
    s.le_ms = to.time_since_epoch().count();
    auto when = [&](sys_time<milliseconds> t) {
      const int offset = std::vector<int>{0, 60, 120, -300}[static_cast<size_t>(below(4))];
      const bool whole_second = t.time_since_epoch().count() % 1000 == 0;
      return fhir_datetime(t, offset, offset == 0 && below(2), !whole_second || below(2), below(2));
    };
    s.query = "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + when(from) + "&start=le" + when(to) +
              "&schedule.actor:Practitioner.identifier=" + sas::e2e::identifier_list(asked, bar, separator) +
              "&status=free";
    if (below(5) == 0) s.query += "&_count=1000";
    return s;
  }

  // The SQL condition "the practitioner is one of those asked", in whatever form they were stored.
  static std::string asked_condition(const Search& s) {
    std::string forms;
    for (const auto& stored : s.asked_stored) {
      forms += (forms.empty() ? "" : ",") + sql_quote(prefixed(stored)) + "," + sql_quote(unprefixed(stored));
    }
    return "p.national_id IN (" + forms + ")";
  }

  void check(const Search& s, const json::object& bundle) const {
    // 1. The whole Bundle against the IG profiles.
    const auto issues = profiles().validate_bundle(bundle);
    std::string report;
    for (size_t i = 0; i < issues.size() && i < 10; ++i) report += "  " + sas::conformance::to_string(issues[i]) + "\n";
    EXPECT_TRUE(issues.empty()) << issues.size() << " profile issue(s):\n" << report;
    EXPECT_EQ(bv::empty_paths(bundle), std::vector<std::string>{});

    // 2. Exactly the slots SQL finds.
    const std::string join =
        " FROM slot s JOIN place pl ON pl.id = s.place_id JOIN practitioner p ON p.id = pl.practitioner_id ";
    const std::string expected_sql = "SELECT s.id" + join + "WHERE " + asked_condition(s) +
                                     " AND s.status = 'free' AND s.start_utc * 1000 >= " + std::to_string(s.ge_ms) +
                                     " AND s.start_utc * 1000 <= " + std::to_string(s.le_ms) +
                                     " AND (',' || replace(s.audiences, ' ', '') || ',' LIKE '%,PUBLIC,%'"
                                     " OR ',' || replace(s.audiences, ' ', '') || ',' LIKE '%,PRO,%'"
                                     " OR ',' || replace(s.audiences, ' ', '') || ',' LIKE '%,SNP,%')";
    std::set<std::string> expected;
    for (auto& row : sas::e2e::sql(agenda(), expected_sql)) expected.insert(row[0]);
    const auto slots = bv::resources(bundle, "Slot");
    std::set<std::string> actual;
    for (const auto* slot : slots) actual.insert(std::string(slot->at("id").as_string()));
    EXPECT_EQ(bundle.at("total").to_number<int64_t>(), static_cast<int64_t>(expected.size()));
    EXPECT_EQ(slots.size(), actual.size()) << "a slot twice";
    EXPECT_EQ(actual, expected);

    // 3. Each Slot against its own row, read back with its place and doctor.
    if (slots.empty()) return;
    std::string id_list;
    for (const auto& id : actual) id_list += (id_list.empty() ? "" : ",") + sql_quote(id);
    std::map<std::string, std::vector<std::string>> rows;
    for (auto& row : sas::e2e::sql(agenda(),
                                   "SELECT s.id, s.status, s.audiences, s.start_utc, s.end_utc, s.place_id, "
                                   "p.national_id, p.family_name, pl.city, pl.postal_code, "
                                   "coalesce(pl.phone, p.phone, ''), " +
                                       asked_condition(s) + join + "WHERE s.id IN (" + id_list + ")")) {
      rows[row[0]] = row;
    }
    static const std::regex kPhone(R"(^\+33[1-9][0-9]{8}$)");
    static const std::regex kNationalId(R"(^(8[0-9]{11}|0[0-9A-Za-z]{9})$)");
    for (const auto* slot : slots) {
      const std::string id(slot->at("id").as_string());
      SCOPED_TRACE("Slot/" + id);
      ASSERT_TRUE(rows.contains(id)) << "not in the database";
      const auto& row = rows.at(id);
      EXPECT_EQ(row[1], "free") << "a busy slot";
      const int64_t start_ms = std::stoll(row[3]) * 1000;
      EXPECT_GE(start_ms, s.ge_ms) << "before the window";
      EXPECT_LE(start_ms, s.le_ms) << "after the window";
      EXPECT_EQ(row[11], "1") << "a practitioner not asked for";
      EXPECT_EQ(bv::instant(slot->at("start")).time_since_epoch().count(), start_ms);
      EXPECT_EQ(bv::instant(slot->at("end")).time_since_epoch().count(), std::stoll(row[4]) * 1000);
      // meta.security: the row's INT_R01 audiences, in the order PUBLIC, PRO, SNP.
      const std::string audiences = "," + row[2] + ",";
      std::vector<std::string> wanted;
      for (const char* code : {"PUBLIC", "PRO", "SNP"}) {
        if (audiences.find("," + std::string(code) + ",") != std::string::npos) wanted.emplace_back(code);
      }
      EXPECT_FALSE(wanted.empty()) << "own-patients-only or CPTS-only: " << row[2];
      std::vector<std::string> types;
      for (const auto& label : slot->at("meta").at("security").as_array())
        types.emplace_back(label.at("code").as_string());
      EXPECT_EQ(types, wanted) << row[2];

      const auto* schedule = bv::resolve(bundle, bv::ref(slot->at("schedule")));
      ASSERT_NE(schedule, nullptr);
      EXPECT_EQ(schedule->at("id").as_string(), row[5]) << "the wrong place's Schedule";
      const auto* practitioner = bv::actor(bundle, *schedule, "Practitioner");
      const auto* role = bv::actor(bundle, *schedule, "PractitionerRole");
      ASSERT_TRUE(practitioner != nullptr && role != nullptr);
      const std::string national_id(practitioner->at("identifier").as_array()[0].at("value").as_string());
      EXPECT_EQ(national_id, prefixed(row[6])) << "the wrong doctor, or not prefixed";
      EXPECT_TRUE(std::regex_match(national_id, kNationalId)) << national_id;
      EXPECT_EQ(practitioner->at("name").as_array()[0].at("family").as_string(), row[7]);
      EXPECT_EQ(role->at("id").as_string(), row[5]);
      EXPECT_EQ(bv::resolve(bundle, bv::ref(role->at("practitioner"))), practitioner);
      const auto* location = bv::contained(*role, bv::ref(role->at("location").as_array()[0]));
      ASSERT_NE(location, nullptr);
      EXPECT_EQ(location->at("identifier").as_array()[0].at("value").as_string(), row[5]);
      EXPECT_EQ(location->at("address").at("city").as_string(), row[8]);
      EXPECT_EQ(location->at("address").at("postalCode").as_string(), row[9]);
      // The place's phone, else the doctor's, as +33 followed by the 9 digits after the 0.
      if (row[10].empty()) {
        EXPECT_FALSE(role->contains("telecom"));
      } else {
        const std::string phone(role->at("telecom").as_array()[0].at("value").as_string());
        EXPECT_TRUE(std::regex_match(phone, kPhone)) << phone;
        const std::string stored = digits(row[10]);
        ASSERT_GE(stored.size(), 9U) << row[10];
        EXPECT_EQ(phone.substr(3), stored.substr(stored.size() - 9)) << row[10];
      }
    }
    for (const auto* role : bv::resources(bundle, "PractitionerRole")) {
      if (const auto* telecom = role->if_contains("telecom")) {
        for (const auto& t : telecom->as_array()) {
          EXPECT_TRUE(std::regex_match(std::string(t.at("value").as_string()), kPhone)) << t;
        }
      }
    }
    for (const auto* p : bv::resources(bundle, "Practitioner")) {
      for (const auto& identifier : p->at("identifier").as_array()) {
        EXPECT_TRUE(std::regex_match(std::string(identifier.at("value").as_string()), kNationalId)) << identifier;
      }
    }
  }

  fs::path dir_;
  sas::sim::AgendaSummary summary_;
  std::unique_ptr<sas::e2e::Host> host_;
  std::vector<std::string> stored_ids_;
};

TEST_P(PropertyE2e, EveryAnswerIsValidAndAgreesWithTheDatabase) {
  ASSERT_TRUE(host_->running()) << host_->output();
  sas::e2e::Client client(dir_ / "pki");
  std::mt19937_64 random(GetParam().seed);
  int64_t slots_seen = 0, empty_answers = 0;
  for (int i = 0; i < kSearchesPerAgenda; ++i) {
    const Search s = random_search(random);
    SCOPED_TRACE("search " + std::to_string(i) + ": " + s.query);
    const auto r = client.get(host_->base() + "/Slot?" + s.query);
    ASSERT_EQ(r.status, 200) << r.describe();
    ASSERT_THAT(r.content_type, StartsWith("application/fhir+json"));
    const auto bundle = r.json();
    check(s, bundle);
    const auto total = bundle.at("total").to_number<int64_t>();
    slots_seen += total;
    empty_answers += total == 0 ? 1 : 0;
    if (HasFailure()) break;  // one failing search says enough
  }
  // The searches must exercise something: most find slots.
  EXPECT_GT(slots_seen, 10 * kSearchesPerAgenda) << "the random searches find too little to test anything";
  EXPECT_LT(empty_answers, kSearchesPerAgenda / 2);
}

INSTANTIATE_TEST_SUITE_P(GeneratedAgendas, PropertyE2e,
                         testing::Values(Seed{101, year{2026} / March / 26},    // spring DST change
                                         Seed{202, year{2026} / October / 22},  // autumn DST change
                                         Seed{303, year{2026} / June / 1},      // summer time
                                         Seed{404, year{2027} / January / 4}),  // winter time
                         [](const testing::TestParamInfo<Seed>& param_info) {
                           return "Seed" + std::to_string(param_info.param.seed);
                         });

}  // namespace
