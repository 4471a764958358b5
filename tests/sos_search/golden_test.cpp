// GOLDEN: the agenda behind the IG's official Bundle-ExampleBundleAgregateurSOS, written by hand
// as a plugin response (sos_agenda.hpp, distractors included), searched with the example's own
// query (its self link), must give the official bundle entry by entry (sos_golden.hpp); the
// end-to-end golden test (tests/e2e/sos_golden_e2e_test.cpp) runs the same agenda through the
// real sas-host and the reference plugin.
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "sas/host/sos_search/bundle.hpp"
#include "sas/host/sos_search/query.hpp"
#include "sos_agenda.hpp"
#include "sos_golden.hpp"

namespace sos = sas::host::sos_search;
namespace json = boost::json;
namespace golden = sas::test::sos_golden;

namespace {

constexpr const char* kBaseUrl = "https://vendor.example/fhir";

struct Built {
  json::object expected;
  json::object actual;
  sos::SosBuildReport report;
};

Built build() {
  Built b{golden::official(), {}, {}};
  auto parsed = sos::parse_sos_query(golden::official_self_link(b.expected));
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&parsed)) {
    ADD_FAILURE() << "the official query was refused: " << json::serialize(e->outcome);
    return b;
  }
  sos::SosBundleOptions options;
  options.base_url = kBaseUrl;
  options.place_identifier_system = sas::test::sos::kExamplePlaceSystem;
  b.actual = sos::build_sos_bundle(std::get<sos::ParsedSosQuery>(parsed), sas::test::sos::example_sos_agenda(), options,
                                   &b.report);
  return b;
}

}  // namespace

TEST(GoldenSos, OfficialQueryIsAccepted) {
  const auto parsed = sos::parse_sos_query(golden::official_self_link(golden::official()));
  ASSERT_TRUE(std::holds_alternative<sos::ParsedSosQuery>(parsed));
  const auto& q = std::get<sos::ParsedSosQuery>(parsed);
  EXPECT_EQ(q.association_sirets, (std::vector<std::string>{"334173748400020", "392080466300010"}));
  EXPECT_TRUE(q.include_slots);
  EXPECT_TRUE(q.include_locations);
  EXPECT_TRUE(q.include_organizations);
}

TEST(GoldenSos, BundleLevel) {
  const auto b = build();
  golden::expect_bundle_level(b.expected, b.actual, kBaseUrl);
}

// total is the example's: 4, the Slots (not the 3 Schedules, bundle.hpp says why).
TEST(GoldenSos, TotalCountsTheSlotsAsTheExampleDoes) {
  const auto b = build();
  namespace bv = sas::test::bundle;
  EXPECT_EQ(b.expected.at("total").as_int64(), static_cast<std::int64_t>(bv::resources(b.expected, "Slot").size()));
  EXPECT_EQ(b.actual.at("total"), b.expected.at("total"));
  EXPECT_EQ(b.report.matches, 4U);
  EXPECT_EQ(b.report.schedules, bv::resources(b.expected, "Schedule").size());
}

TEST(GoldenSos, SameEntriesInTheSameOrder) {
  const auto b = build();
  golden::expect_same_entry_sequence(b.expected, b.actual);
}

TEST(GoldenSos, SameResourcesEntryByEntry) {
  const auto b = build();
  golden::expect_same_resources(b.expected, b.actual);
}

// The distractors are dropped, each for its reason; the PRO audience of the Cleunay slot is not
// shown (the entry-by-entry comparison checks its meta.security).
TEST(GoldenSos, DistractorsAreDroppedAndCounted) {
  const auto b = build();
  EXPECT_EQ(b.report.dropped_not_free, 1U);
  EXPECT_EQ(b.report.dropped_no_audience, 1U);
  EXPECT_EQ(b.report.dropped_outside_window, 1U);
  EXPECT_EQ(b.report.dropped_not_requested, 1U);
  EXPECT_EQ(b.report.dropped_unknown_place, 0U);
  EXPECT_EQ(b.report.dropped_invalid + b.report.dropped_duplicate, 0U);
}
