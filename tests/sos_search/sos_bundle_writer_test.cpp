// Issue #22: the SOS Médecins Bundle is written straight into the answer, like INT_R01's; not one
// byte may change. The expectation is the tree builder as it was (tests/bundle_oracle), report
// included, over generated SOS agendas read by the real sqlite-agenda plugin (every include
// combination and _count) and over random answers full of what agendas get wrong.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "bundle_oracle/dom_sos_bundle.hpp"
#include "bundle_oracle/first_difference.hpp"
#include "sas/host/plugin_loader/plugin.hpp"
#include "sas/host/sos_search/bundle.hpp"
#include "sas/host/sos_search/query.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sim/agenda_generator.hpp"
#include "sas/sim/sos_agenda_generator.hpp"
#include "sas_test/support.hpp"

namespace {

namespace json = boost::json;
namespace sos = sas::host::sos_search;
namespace pb = sas::plugin::v1;
using namespace std::chrono;

constexpr sys_days kFirstDay{year_month_day(year(2026), month(11), day(23))};

std::string paris(sys_seconds t) { return sas::sdk::datetime::format_paris(t); }

sos::ParsedSosQuery parse(const std::string& target) {
  auto parsed = sos::parse_sos_query(target);
  if (auto* error = std::get_if<sas::host::fhir::HttpError>(&parsed)) {
    ADD_FAILURE() << target << ": " << json::serialize(error->outcome);
    return {};
  }
  return std::get<sos::ParsedSosQuery>(std::move(parsed));
}

bool same_bundle(const sos::ParsedSosQuery& query, const pb::SearchSosSlotsResponse& response,
                 const sos::SosBundleOptions& options, std::size_t* bytes = nullptr) {
  sos::SosBuildReport a, b;
  const std::string written = sos::serialize_sos_bundle(query, response, options, &a);
  const std::string expected = sas::test::oracle::dom_sos_bundle(query, response, options, &b);
  EXPECT_EQ(a.matches, b.matches);
  EXPECT_EQ(a.emitted, b.emitted);
  EXPECT_EQ(a.schedules, b.schedules);
  EXPECT_EQ(a.dropped_not_free, b.dropped_not_free);
  EXPECT_EQ(a.dropped_outside_window, b.dropped_outside_window);
  EXPECT_EQ(a.dropped_no_audience, b.dropped_no_audience);
  EXPECT_EQ(a.dropped_invalid, b.dropped_invalid);
  EXPECT_EQ(a.dropped_duplicate, b.dropped_duplicate);
  EXPECT_EQ(a.dropped_unknown_place, b.dropped_unknown_place);
  EXPECT_EQ(a.dropped_not_requested, b.dropped_not_requested);
  EXPECT_EQ(a.warnings, b.warnings);
  if (bytes != nullptr) *bytes = written.size();
  if (written == expected) return true;
  ADD_FAILURE() << query.query << "\n" << sas::test::oracle::first_difference(expected, written);
  return false;
}

TEST(SosBundleWriterOnGeneratedAgenda, EverySearchIsByteIdentical) {
  const auto dir = sas::test::make_temp_dir("sos-bundle-writer");
  const auto db = dir / "agenda.db";
  sas::sim::AgendaSpec spec;
  spec.practitioners = 5;
  spec.days = 8;
  spec.first_day = year_month_day(kFirstDay);
  sas::sim::generate_agenda(db, spec);
  sas::sim::SosAgendaSpec sos_spec;
  sos_spec.associations = 6;
  sos_spec.days = 8;
  sos_spec.seed = 22;
  sos_spec.first_day = year_month_day(kFirstDay);
  ASSERT_GT(sas::sim::generate_sos_agenda(db, sos_spec).free_slots, 0);
  const auto sirets = sas::sim::sos_association_sirets(db);
  ASSERT_EQ(sirets.size(), 6u);
  {
    const auto plugin =
        sas::host::plugin_loader::PluginInstance::load(sas::test::plugin("sas-sqlite-agenda"), "db=" + db.string());
    const sys_seconds from = sys_seconds(kFirstDay) + 7h;
    std::size_t total_bytes = 0;
    int searches = 0;
    for (const int hours : {24, 72, 168}) {
      const std::string all = sos::sos_query_target(sirets, paris(from), paris(from + std::chrono::hours(hours)));
      // Every include left out in turn, then _count.
      for (const std::string cut : {"", "&_revinclude=Slot:schedule", "&_include=Schedule:actor:Location",
                                    "&_include:iterate=Location:organization", "&_count=3"}) {
        std::string target = all;
        if (cut == "&_count=3") {
          target += cut;
        } else if (!cut.empty()) {
          const auto at = target.find(cut);
          if (at == std::string::npos) continue;  // the IG writes this include another way
          target.erase(at, cut.size());
        }
        const sos::ParsedSosQuery query = parse(target);
        pb::PluginRequest request;
        *request.mutable_search_sos_slots() = sos::to_plugin_request(query);
        pb::PluginResponse answer;
        const auto result = plugin->call(request, answer);
        ASSERT_TRUE(result.ok()) << result.message;
        for (const bool paris_offsets : {true, false}) {
          sos::SosBundleOptions options;
          options.base_url = "https://agenda.example.fr/sas/";
          options.paris_offsets = paris_offsets;
          std::size_t bytes = 0;
          ASSERT_TRUE(same_bundle(query, answer.search_sos_slots(), options, &bytes));
          total_bytes += bytes;
          ++searches;
        }
      }
    }
    EXPECT_GE(searches, 18);
    EXPECT_GT(total_bytes, static_cast<std::size_t>(searches) * 5000u) << "the searches found slots";
    plugin->shutdown();
  }
  std::filesystem::remove_all(dir);
}

class RandomSosAnswer {
 public:
  explicit RandomSosAnswer(std::uint64_t seed) : random_(seed) {}
  int pick(int n) { return static_cast<int>(random_() % static_cast<unsigned>(n)); }
  bool chance(int percent) { return pick(100) < percent; }

  std::string text() {
    static const char* const parts[] = {"SOS",       " ",    "  Rennes ", "\"quoted\"", "back\\slash",
                                        "tab\tnl\n", "\x01", "",          "é",          "😀"};
    std::string out;
    for (int i = pick(3); i >= 0; --i) out += parts[pick(10)];
    return out;
  }
  std::string siret() {
    static const char* const values[] = {"334173748400020", "34173748400020", "392080466300010", "",
                                         "35600000000048",  "not a siret"};
    return values[pick(6)];
  }
  std::string time() {
    static const char* const values[] = {"", "8:00", "08:00", "08:00:00", "24:00", "00:00", "23:59:59", "25:00", "8h"};
    return values[pick(9)];
  }

  pb::SearchSosSlotsResponse answer(sys_seconds from) {
    pb::SearchSosSlotsResponse r;
    for (int i = pick(4); i > 0; --i) {
      auto& a = *r.add_associations();
      a.set_siret(siret());
      a.set_name(chance(80) ? text() : "");
    }
    const int places = 1 + pick(5);
    for (int i = 0; i < places; ++i) {
      auto& p = *r.add_places();
      p.set_id(chance(90) ? "pl" + std::to_string(i) : (chance(50) ? "" : "with space"));
      p.set_association_siret(siret());
      p.set_name(chance(85) ? text() : "");
      for (int l = pick(3); l > 0; --l) p.add_address_lines(chance(80) ? "1 rue de Rennes" : text());
      p.set_postal_code(chance(90) ? "35000" : "");
      p.set_city(chance(90) ? "Rennes" : "");
      p.set_phone(chance(70) ? "02 99 00 00 00" : (chance(50) ? "" : "12"));
      for (int h = pick(3); h > 0; --h) {
        auto& o = *p.add_opening_hours();
        static const char* const days[] = {"mon", "Tue", " sun ", "holiday", "sat", ""};
        for (int d = pick(4); d > 0; --d) o.add_days(days[pick(6)]);
        o.set_opening_time(time());
        o.set_closing_time(time());
      }
    }
    for (int i = pick(30); i > 0; --i) {
      auto& s = *r.add_slots();
      s.set_id(chance(90) ? std::to_string(pick(40)) : "");
      s.set_place_id(chance(90) ? "pl" + std::to_string(pick(places)) : "elsewhere");
      const auto start = from + std::chrono::minutes(20 * pick(500)) - std::chrono::hours(chance(10) ? 30 : 0);
      s.set_start(start.time_since_epoch().count());
      s.set_end(s.start() + (chance(95) ? 1200 : 0));
      s.set_status(chance(85) ? pb::SLOT_FREE : pb::SLOT_BUSY);
      for (int a = pick(4); a > 0; --a) s.add_audiences(static_cast<pb::Audience>(pick(6)));
      for (int m = pick(3); m > 0; --m) s.add_modes(static_cast<pb::ConsultationMode>(pick(4)));
      for (int m = pick(3); m > 0; --m) s.add_motives(text());
      for (int k = pick(3); k > 0; --k) {
        auto& sp = *s.add_specialties();
        static const char* const codes[] = {"SM54", "", "bad\tcode", " SM26 "};
        sp.set_code(codes[pick(4)]);
        sp.set_text(chance(50) ? text() : "");
      }
      s.set_walk_in(chance(30));
      s.set_booking_url(chance(40) ? "https://sos.example.fr/" + std::to_string(i) : "");
    }
    return r;
  }

 private:
  std::mt19937_64 random_;
};

TEST(SosBundleWriterOnRandomAnswers, AreByteIdenticalWithTheSameReport) {
  const sys_seconds from = sys_seconds(kFirstDay) + 7h;
  const std::vector<std::string> asked = {"334173748400020", "392080466300010"};
  int with_entries = 0, with_warnings = 0;
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    RandomSosAnswer random(seed);
    const pb::SearchSosSlotsResponse answer = random.answer(from);
    std::string target = sos::sos_query_target(asked, paris(from), paris(from + 168h));
    if (random.chance(20)) target += "&_count=" + std::to_string(1 + random.pick(4));
    const sos::ParsedSosQuery query = parse(target);
    sos::SosBundleOptions options;
    options.base_url = "https://agenda.example.fr/sas";
    options.place_identifier_system = random.chance(50) ? "" : "urn:oid:1.2.250.1.999.1";
    options.paris_offsets = random.chance(70);
    sos::SosBuildReport report;
    (void)sos::serialize_sos_bundle(query, answer, options, &report);
    with_entries += report.emitted > 0 ? 1 : 0;
    with_warnings += report.warnings.empty() ? 0 : 1;
    ASSERT_TRUE(same_bundle(query, answer, options)) << "seed " << seed;
  }
  EXPECT_GT(with_entries, 300);
  EXPECT_GT(with_warnings, 1000);
}

}  // namespace
