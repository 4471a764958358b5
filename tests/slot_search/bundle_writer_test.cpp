// Issue #22: the host writes its INT_R01/INT_R04 Bundle straight into the answer instead of
// building a Boost.JSON tree, pruning it and serializing it. The answer must not change by one
// byte. Checked three ways:
// - JsonWriter alone: its escapes are Boost.JSON's for every byte, and what it takes back out of
//   random trees is exactly what fhir::prune_empty removes;
// - the Bundle over real agendas: sas-sim's generated agendas read by the real sqlite-agenda
//   plugin, every practitioner in batches of 25 over 48 h, 72 h and 168 h, INT_R01 and CPTS;
// - the Bundle over random plugin answers full of what agendas get wrong.
// The expectation is the tree builder as it was (tests/bundle_oracle), report included.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "bundle_oracle/dom_search_bundle.hpp"
#include "bundle_oracle/first_difference.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/fhir/json_writer.hpp"
#include "sas/host/plugin_loader/plugin.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"
#include "sas/sim/agenda_generator.hpp"
#include "sas_test/support.hpp"

namespace {

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace ss = sas::host::slot_search;
namespace pb = sas::plugin::v1;
using namespace std::chrono;

// ---- JsonWriter against Boost.JSON ----------------------------------------------------------

TEST(JsonWriter, EscapesEveryByteAsBoostJsonDoes) {
  // At every place of a word, as the writer scans eight bytes at a time, next to non-ASCII bytes.
  for (int c = 0; c < 256; ++c) {
    for (const std::size_t at : {0, 1, 7, 8, 13, 16, 20}) {
      std::string value = "abcdefgh\xc3\xa9ijklmnopqrstu";
      value[at] = static_cast<char>(c);
      std::string written;
      fhir::JsonWriter::append_quoted(written, value);
      ASSERT_EQ(written, json::serialize(json::string(value))) << "byte " << c << " at " << at;
    }
  }
  const std::string mixed = "Dr \"Émile\" \\ Zoé\t\n\r\x01\x1f\x7f/é€😀";
  std::string written;
  fhir::JsonWriter::append_quoted(written, mixed);
  EXPECT_EQ(written, json::serialize(json::string(mixed)));
}

// Writes a tree through the writer, member by member, the way the Bundle writer does.
void write_tree(fhir::JsonWriter& w, std::string_view key, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      w.begin_object(key);
      for (const auto& [k, item] : v.get_object()) write_tree(w, k, item);
      w.end_object();
      return;
    case json::kind::array:
      w.begin_array(key);
      for (const auto& item : v.get_array()) write_tree(w, {}, item);
      w.end_array();
      return;
    case json::kind::string:
      w.string(key, v.get_string());
      return;
    case json::kind::int64:
      w.number(key, v.get_int64());
      return;
    default:
      FAIL() << "not generated";
  }
}

json::value random_tree(std::mt19937_64& random, int depth) {
  const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  static const char* const strings[] = {"", "x", "a\"b", "é", "\n", " "};
  static const char* const keys[] = {"a", "b", "coding", "text", "extension", "z"};
  const int kind = depth == 0 ? pick(2) : pick(4);
  switch (kind) {
    case 0:
      return json::string(strings[pick(6)]);
    case 1:
      return static_cast<std::int64_t>(pick(3)) - 1;
    case 2: {
      json::object o;
      for (int i = pick(4); i > 0; --i) o[keys[pick(6)]] = random_tree(random, depth - 1);
      return o;
    }
    default: {
      json::array a;
      for (int i = pick(4); i > 0; --i) a.push_back(random_tree(random, depth - 1));
      return a;
    }
  }
}

TEST(JsonWriter, TakesBackOutWhatPruneEmptyRemoves) {
  std::mt19937_64 random(22);
  int emptied = 0;
  for (int i = 0; i < 20000; ++i) {
    json::object root;
    root["resourceType"] = "Bundle";  // the document itself is never empty
    for (int k = 0; k < 3; ++k) root["k" + std::to_string(k)] = random_tree(random, 4);
    std::string written;
    fhir::JsonWriter w(written);
    write_tree(w, {}, root);
    const std::string expected = fhir::serialize(root);
    ASSERT_EQ(written, expected) << json::serialize(root);
    if (expected.size() < json::serialize(root).size()) ++emptied;
  }
  EXPECT_GT(emptied, 10000);  // most trees had empties to take out
}

TEST(JsonWriter, SaysWhetherWhatItClosedWasKept) {
  std::string out;
  fhir::JsonWriter w(out);
  w.begin_object();
  w.begin_array("name");
  w.begin_object();
  w.string("family", "");
  EXPECT_FALSE(w.end_object());
  EXPECT_FALSE(w.end_array());
  w.string("id", "x");
  w.begin_object("meta");
  w.number("rank", 1);
  EXPECT_TRUE(w.end_object());
  EXPECT_TRUE(w.end_object());
  EXPECT_EQ(out, R"({"id":"x","meta":{"rank":1}})");
}

TEST(JsonWriter, WritesPartsLongKeysAndCopiedFragmentsAsBoostJsonWould) {
  std::string fragment;
  {
    fhir::JsonWriter w(fragment);
    w.begin_object();
    w.string("a", "x\"y");
    w.number("b", -7);
    w.end_object();
  }
  std::string out;
  fhir::JsonWriter w(out);
  w.begin_object();
  const std::string long_key(60, 'k');  // past the writer's one-append buffer
  w.string(long_key, "v");
  w.string("url", {"https://x/fhir", "/", "Slot", "/", "a\\b"});
  w.string("none", {"", ""});
  w.raw(fhir::JsonWriter::members_of(fragment));
  w.raw(fhir::JsonWriter::members_of("{}"));
  w.raw("empty", "");
  w.boolean("allDay", true);
  w.end_object();
  json::object expected;
  expected[long_key] = "v";
  expected["url"] = "https://x/fhir/Slot/a\\b";
  expected["a"] = "x\"y";
  expected["b"] = -7;
  expected["allDay"] = true;
  EXPECT_EQ(out, json::serialize(expected));
}

// ---- The Bundle over generated agendas, through the real plugin ----------------------------

constexpr sys_days kFirstDay{year_month_day(year(2026), month(11), day(23))};

std::string paris(sys_seconds t) { return sas::sdk::datetime::format_paris(t); }

ss::ParsedSlotQuery parse(const std::string& target) {
  auto parsed = ss::parse_slot_query(target);
  if (auto* error = std::get_if<fhir::HttpError>(&parsed)) {
    ADD_FAILURE() << target << ": " << json::serialize(error->outcome);
    return {};
  }
  return std::get<ss::ParsedSlotQuery>(std::move(parsed));
}

void expect_same_reports(const ss::BuildReport& a, const ss::BuildReport& b) {
  EXPECT_EQ(a.matches, b.matches);
  EXPECT_EQ(a.emitted, b.emitted);
  EXPECT_EQ(a.dropped_not_free, b.dropped_not_free);
  EXPECT_EQ(a.dropped_outside_window, b.dropped_outside_window);
  EXPECT_EQ(a.dropped_no_audience, b.dropped_no_audience);
  EXPECT_EQ(a.dropped_invalid, b.dropped_invalid);
  EXPECT_EQ(a.dropped_not_requested, b.dropped_not_requested);
  EXPECT_EQ(a.dropped_cpts_without_finess, b.dropped_cpts_without_finess);
  EXPECT_EQ(a.warnings, b.warnings);
}

// Both writers on one answer; true when identical (the first difference is reported).
bool same_bundle(const ss::ParsedSlotQuery& query, const pb::SearchSlotsResponse& response,
                 const ss::BundleOptions& options, std::size_t* bytes = nullptr) {
  ss::BuildReport written_report, oracle_report;
  const std::string written = ss::serialize_search_bundle(query, response, options, &written_report);
  const std::string expected = sas::test::oracle::dom_search_bundle(query, response, options, &oracle_report);
  expect_same_reports(written_report, oracle_report);
  if (bytes != nullptr) *bytes = written.size();
  if (written == expected) return true;
  ADD_FAILURE() << query.query << "\n" << sas::test::oracle::first_difference(expected, written);
  return false;
}

class BundleWriterOnGeneratedAgenda : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(sas::test::make_temp_dir("bundle-writer"));
    const auto db = *dir_ / "agenda.db";
    sas::sim::AgendaSpec spec;
    spec.practitioners = 150;
    spec.days = 8;
    spec.seed = 22;
    spec.first_day = year_month_day(kFirstDay);
    summary_ = sas::sim::generate_agenda(db, spec);
    ids_ = new std::vector<std::string>(sas::sim::practitioner_ids(db));
    plugin_ = new std::shared_ptr<sas::host::plugin_loader::PluginInstance>(
        sas::host::plugin_loader::PluginInstance::load(sas::test::plugin("sas-sqlite-agenda"), "db=" + db.string()));
  }
  static void TearDownTestSuite() {
    (*plugin_)->shutdown();
    delete plugin_;
    delete ids_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // Every practitioner, 25 at a time, over `hours` from the first day's 08:00 Paris.
  void compare_all(int hours, bool cpts, const std::string& extra, const ss::BundleOptions& options) {
    const sys_seconds from = sys_seconds(kFirstDay) + 7h;  // 08:00 in Paris in winter
    const sys_seconds to = from + std::chrono::hours(hours) - 1s;
    std::size_t searches = 0, total_bytes = 0;
    for (std::size_t first = 0; first < ids_->size(); first += 25) {
      const std::vector<std::string> batch(
          ids_->begin() + static_cast<std::ptrdiff_t>(first),
          ids_->begin() + static_cast<std::ptrdiff_t>(std::min(first + 25, ids_->size())));
      const ss::ParsedSlotQuery query = parse(ss::slot_query_target(batch, paris(from), paris(to), cpts) + extra);
      pb::PluginRequest request;
      *request.mutable_search_slots() = ss::to_plugin_request(query);
      pb::PluginResponse answer;
      const auto result = (*plugin_)->call(request, answer);
      ASSERT_TRUE(result.ok()) << result.message;
      std::size_t bytes = 0;
      ASSERT_TRUE(same_bundle(query, answer.search_slots(), options, &bytes));
      ++searches;
      total_bytes += bytes;
    }
    EXPECT_EQ(searches, (ids_->size() + 24) / 25);
    EXPECT_GT(total_bytes, searches * 10000u) << "the searches found slots";
  }

  static ss::BundleOptions options() {
    ss::BundleOptions o;
    o.base_url = "https://agenda.example.fr/sas/";
    return o;
  }

  static std::filesystem::path* dir_;
  static sas::sim::AgendaSummary summary_;
  static std::vector<std::string>* ids_;
  static std::shared_ptr<sas::host::plugin_loader::PluginInstance>* plugin_;
};
std::filesystem::path* BundleWriterOnGeneratedAgenda::dir_ = nullptr;
sas::sim::AgendaSummary BundleWriterOnGeneratedAgenda::summary_;
std::vector<std::string>* BundleWriterOnGeneratedAgenda::ids_ = nullptr;
std::shared_ptr<sas::host::plugin_loader::PluginInstance>* BundleWriterOnGeneratedAgenda::plugin_ = nullptr;

TEST_F(BundleWriterOnGeneratedAgenda, TheSearchesOfThePlatformAreByteIdentical) {
  for (const int hours : {48, 72, 168}) compare_all(hours, false, "", options());
}

TEST_F(BundleWriterOnGeneratedAgenda, CptsSearchesAreByteIdentical) {
  ASSERT_GT(summary_.cpts_slots, 0);
  compare_all(168, true, "", options());
}

TEST_F(BundleWriterOnGeneratedAgenda, IncludesCountUtcAndCallFirstAreByteIdentical) {
  ss::BundleOptions o = options();
  o.paris_offsets = false;
  o.place_identifier_system = "urn:oid:1.2.250.1.999.1";
  for (std::size_t i = 0; i < ids_->size(); i += 3) o.call_first[(*ids_)[i]] = i % 2 ? "" : "+33102030405";
  compare_all(72, false, "&_count=7", o);
  // Without includes: Slots alone, their references unresolved as the platform asked.
  const sys_seconds from = sys_seconds(kFirstDay) + 7h;
  const std::vector<std::string> batch(ids_->begin(), ids_->begin() + 25);
  std::string target = ss::slot_query_target(batch, paris(from), paris(from + 72h));
  for (const std::string include : {"&_include:iterate=Schedule:actor", "_include=Slot:schedule&"}) {
    const auto at = target.find(include);
    ASSERT_NE(at, std::string::npos) << target;
    target.erase(at, include.size());
    const ss::ParsedSlotQuery query = parse(target);
    pb::PluginRequest request;
    *request.mutable_search_slots() = ss::to_plugin_request(query);
    pb::PluginResponse answer;
    ASSERT_TRUE((*plugin_)->call(request, answer).ok());
    EXPECT_TRUE(same_bundle(query, answer.search_slots(), o));
  }
}

// ---- The Bundle over random answers, with what agendas get wrong -----------------------------

class RandomAnswer {
 public:
  explicit RandomAnswer(std::uint64_t seed) : random_(seed) {}

  int pick(int n) { return static_cast<int>(random_() % static_cast<unsigned>(n)); }
  bool chance(int percent) { return pick(100) < percent; }

  std::string text() {
    static const char* const parts[] = {"Dr",         " ",           "  Marie ",  "Médecine générale",
                                        "\"quoted\"", "back\\slash", "tab\tnl\n", "\x01",
                                        "",           "Zoé 😀",       "€",         "x"};
    std::string out;
    for (int i = pick(3); i >= 0; --i) out += parts[pick(12)];
    return out;
  }
  std::string id() {
    static const char* const ids[] = {"a", "b", "c", "p-1", "with space", "é", "", "x.y", "d"};
    return ids[pick(9)];
  }
  std::string national_id() {
    static const char* const ids[] = {"810002673899", "10002673899",  "810002909371", "810100050075",
                                      "0123456789",   "123456789",    "81000267389",  "",
                                      "810003333336", " 810002673899"};
    return ids[pick(10)];
  }
  std::string phone() {
    static const char* const phones[] = {"", "01 02 03 04 05", "+33 6 12 34 56 78", "12", "0102030405", "abc"};
    return phones[pick(6)];
  }
  std::string structure() {
    static const char* const values[] = {"", "1950046227", "950046227", "12345678901234", "not a finess", "1810004421"};
    return values[pick(6)];
  }

  pb::SearchSlotsResponse answer(sys_seconds from) {
    pb::SearchSlotsResponse r;
    const int practitioners = 1 + pick(5);
    for (int i = 0; i < practitioners; ++i) {
      auto& p = *r.add_practitioners();
      p.set_id(chance(85) ? "pr" + std::to_string(i) : id());
      p.set_national_id(national_id());
      p.set_family_name(chance(80) ? text() : "");
      for (int g = pick(3); g > 0; --g) p.add_given_names(text());
      p.set_phone(phone());
      for (int s = pick(4); s > 0; --s) specialty(*p.add_specialties());
    }
    const int places = 1 + pick(6);
    for (int i = 0; i < places; ++i) {
      auto& pl = *r.add_places();
      pl.set_id(chance(85) ? "pl" + std::to_string(i) : id());
      pl.set_practitioner_id(chance(90) ? "pr" + std::to_string(pick(practitioners)) : id());
      pl.set_name(text());
      for (int l = pick(3) + (chance(85) ? 1 : 0); l > 0; --l)
        pl.add_address_lines(chance(80) ? "1 rue de Paris" : text());
      pl.set_postal_code(chance(90) ? "75001" : "");
      pl.set_city(chance(90) ? "Paris" : " ");
      pl.set_finess(structure());
      pl.set_siret(chance(30) ? "12345678901234" : "");
      pl.set_rpps_rang(chance(20) ? "12345678901" : "");
      pl.set_phone(phone());
    }
    const int slots = pick(40);
    for (int i = 0; i < slots; ++i) {
      auto& s = *r.add_slots();
      s.set_id(chance(90) ? std::to_string(pick(60)) : id());
      s.set_place_id(chance(90) ? "pl" + std::to_string(pick(places)) : id());
      const auto start = from + std::chrono::minutes(15 * pick(700)) - std::chrono::hours(chance(10) ? 30 : 0);
      s.set_start(start.time_since_epoch().count());
      s.set_end(s.start() + (chance(95) ? 900 : -60));
      s.set_status(chance(85) ? pb::SLOT_FREE : pb::SLOT_BUSY);
      for (int a = pick(4); a > 0; --a) s.add_audiences(static_cast<pb::Audience>(pick(6)));
      for (int m = pick(4); m > 0; --m) s.add_modes(static_cast<pb::ConsultationMode>(pick(4)));
      for (int m = pick(3); m > 0; --m) s.add_motives(chance(50) ? "Vaccination" : text());
      for (int c = pick(3); c > 0; --c) s.add_cpts_finess(structure());
      if (chance(20)) {
        for (int k = pick(3); k > 0; --k) specialty(*s.add_specialties());
      }
      s.set_walk_in(chance(20));
      s.set_booking_url(chance(50) ? "https://rdv.example.fr/" + std::to_string(i) : "");
    }
    for (int c = pick(3); c > 0; --c) {
      auto& cpts = *r.add_cpts();
      cpts.set_finess(structure());
      cpts.set_name(text());
      cpts.set_phone(phone());
    }
    return r;
  }

 private:
  void specialty(pb::Specialty& s) {
    static const char* const codes[] = {"SM54", "SM26", "", "SM 54", "bad\tcode", " SM54 "};
    s.set_code(codes[pick(6)]);
    s.set_text(chance(50) ? text() : "");
  }
  std::mt19937_64 random_;
};

TEST(BundleWriterOnRandomAnswers, AreByteIdenticalWithTheSameReport) {
  const sys_seconds from = sys_seconds(kFirstDay) + 7h;
  const std::string ge = paris(from);
  const std::string le = paris(from + 168h);
  int with_entries = 0, with_warnings = 0;
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    RandomAnswer random(seed);
    const pb::SearchSlotsResponse answer = random.answer(from);
    std::vector<std::string> ids;
    for (const auto& p : answer.practitioners()) {
      if (sas::sdk::ids::normalize_practitioner_id(p.national_id()) && ids.size() < 25) ids.push_back(p.national_id());
    }
    if (ids.empty()) ids.push_back("810002673899");
    const bool cpts = random.chance(40);
    std::string target = ss::slot_query_target(ids, ge, le, cpts);
    if (random.chance(15)) target += "&_count=" + std::to_string(random.pick(5));
    const ss::ParsedSlotQuery query = parse(target);
    ss::BundleOptions options;
    options.base_url = random.chance(50) ? "https://agenda.example.fr/sas" : "https://x/fhir/";
    options.place_identifier_system = random.chance(50) ? "" : "urn:oid:1.2.250.1.999.1";
    options.paris_offsets = random.chance(70);
    for (const auto& id : ids) {
      const auto prefixed = sas::sdk::ids::normalize_practitioner_id(id);
      if (prefixed && random.chance(30)) options.call_first[prefixed->prefixed] = random.phone();
    }
    ss::BuildReport report;
    (void)ss::serialize_search_bundle(query, answer, options, &report);
    with_entries += report.emitted > 0 ? 1 : 0;
    with_warnings += report.warnings.empty() ? 0 : 1;
    ASSERT_TRUE(same_bundle(query, answer, options)) << "seed " << seed;
  }
  EXPECT_GT(with_entries, 1000);  // the answers were not all refused
  EXPECT_GT(with_warnings, 1000);
}

}  // namespace
