// GOLDEN: the agenda behind the IG's official Bundle-ExampleBundlePSIndiv, written by hand as a
// plugin response, searched with the example's own query (its self link), must give the same
// bundle: same slots and the same Schedule/Practitioner/PractitionerRole/Location structure and
// values. The comparisons live in golden_compare.hpp, shared with the end-to-end golden test
// (tests/e2e/golden_e2e_test.cpp), which runs the same agenda through the real sas-host.
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "agenda.hpp"
#include "example_agenda.hpp"
#include "golden_compare.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/query.hpp"

namespace ss = sas::host::slot_search;
namespace json = boost::json;
namespace golden = sas::test::golden;

namespace {

constexpr const char* kBaseUrl = "https://vendor.example/fhir";

struct Built {
  json::object expected;
  json::object actual;
};

Built build() {
  Built b{golden::official(), {}};
  auto parsed = ss::parse_slot_query(golden::official_self_link(b.expected));
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&parsed)) {
    ADD_FAILURE() << "the official query was refused: " << json::serialize(e->outcome);
    return b;
  }
  ss::BundleOptions options;
  options.base_url = kBaseUrl;
  options.place_identifier_system = golden::kVendorPlaceSystem;
  b.actual =
      ss::build_search_bundle(std::get<ss::ParsedSlotQuery>(parsed), sas::test::agenda::example_agenda(), options);
  return b;
}

}  // namespace

TEST(GoldenPsIndiv, BundleLevel) {
  const auto [expected, actual] = build();
  golden::expect_bundle_level(expected, actual, kBaseUrl);
}

TEST(GoldenPsIndiv, SameSlots) {
  const auto [expected, actual] = build();
  golden::expect_same_slots(expected, actual);
}

TEST(GoldenPsIndiv, SameScheduleStructure) {
  const auto [expected, actual] = build();
  golden::expect_same_schedule_structure(expected, actual);
}

TEST(GoldenPsIndiv, SamePractitionersRolesAndLocations) {
  const auto [expected, actual] = build();
  golden::expect_same_practitioners_roles_locations(expected, actual);
}

TEST(GoldenPsIndiv, SameMembersOnEveryResource) {
  const auto [expected, actual] = build();
  golden::expect_same_members(expected, actual);
}

// The example gives two slots of one practitioner different specialties; the plugin ABI carries
// them per slot (sas.plugin.v1.Slot.specialties), so they must match exactly.
TEST(GoldenPsIndiv, PerSlotSpecialtiesMatchExactly) {
  const auto [expected, actual] = build();
  golden::expect_per_slot_specialties_match_exactly(expected, actual);
}
