// Our bundles against the IG profiles, with the SDK's profile validator (sas_fhir_validator).
#include <algorithm>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "agenda.hpp"
#include "example_agenda.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas_test/support.hpp"

namespace ss = sas::host::slot_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;
using namespace sas::test::agenda;

namespace {

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

std::string report(const std::vector<sas::conformance::Issue>& issues) {
  std::string out;
  for (const auto& i : issues) out += "  " + sas::conformance::to_string(i) + "\n";
  return out;
}

ss::ParsedSlotQuery query(const std::string& target) {
  auto r = ss::parse_slot_query(target);
  EXPECT_TRUE(std::holds_alternative<ss::ParsedSlotQuery>(r));
  return std::holds_alternative<ss::ParsedSlotQuery>(r) ? std::get<ss::ParsedSlotQuery>(r) : ss::ParsedSlotQuery{};
}

// A full agenda: two practitioners, three places, every audience, mode, walk-in, text specialty.
pb::SearchSlotsResponse full_agenda() {
  pb::SearchSlotsResponse r;
  auto& a = practitioner(r, "a", "10100050075", "THOMAS", {"Sébastien"});
  specialty(a, "SM54", "Médecine générale");
  specialty(a, "", "Médecine du sport");
  auto& b = practitioner(r, "b", "0123456789", "MARCEL", {"Guillaume"});
  specialty(b, "SM41");
  b.set_phone("0658913859");
  place(r, "pa1", "a", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
  place(r, "pa2", "a", {"30 rue Mme DELMAS", "2e étage"}, "47000", "AGEN").set_siret("12345678901234");
  place(r, "pb", "b", {"5 place X"}, "47000", "AGEN").set_rpps_rang("10002673899001");
  auto& s1 = slot(r, "s1", "pa1", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00",
                  {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS, pb::AUDIENCE_SNP});
  s1.add_modes(pb::MODE_AT_PRACTICE);
  s1.add_modes(pb::MODE_TELECONSULTATION);
  s1.add_motives("Consultation");
  s1.set_booking_url("https://agenda.example.fr/rdv/a");
  auto& s2 = slot(r, "s2", "pa2", "2026-01-13T10:00:00+01:00", "2026-01-13T10:30:00+01:00", {pb::AUDIENCE_SNP});
  s2.set_walk_in(true);
  auto& s3 = slot(r, "s3", "pb", "2026-01-14T10:00:00+01:00", "2026-01-14T10:20:00+01:00", {pb::AUDIENCE_PUBLIC});
  s3.add_modes(pb::MODE_AT_HOME);
  return r;
}

// The INT_R01 search of practitioner 10100050075 (THOMAS) on 13 January 2026, over `agenda`.
json::value thomas_on_13_january(const pb::SearchSlotsResponse& agenda, ss::BuildReport& built) {
  return ss::build_search_bundle(query("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
                                       "&start=ge2026-01-13&start=le2026-01-13&status=free"
                                       "&schedule.actor:Practitioner.identifier=10100050075"),
                                 agenda, ss::BundleOptions{"https://x/fhir", "urn:oid:1.1.111.1.111.1.1.1", true, {}},
                                 &built);
}

}  // namespace

// Baseline: the validator accepts the official example (otherwise the checks below mean little).
TEST(SlotBundleProfiles, OfficialExampleIsValid) {
  const auto official =
      json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / "Bundle-ExampleBundlePSIndiv.json"));
  const auto issues = profiles().validate_bundle(official);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

TEST(SlotBundleProfiles, GoldenBundleIsValid) {
  const auto official =
      json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / "Bundle-ExampleBundlePSIndiv.json"));
  const auto q = query(std::string(official.at("link").as_array()[0].at("url").as_string()));
  const json::value bundle = ss::build_search_bundle(
      q, example_agenda(), ss::BundleOptions{"https://x/fhir", "urn:oid:1.1.111.1.111.1.1.1", true, {}});
  ASSERT_EQ(bundle.at("total").as_int64(), 4);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

TEST(SlotBundleProfiles, FullAgendaBundleIsValid) {
  const auto q = query(
      "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-01-12T00:00:00%2B01:00"
      "&start=le2026-01-18T23:59:59%2B01:00&status=free&schedule.actor:Practitioner.identifier="
      "urn:oid:1.2.250.1.71.4.2.1|810100050075,urn:oid:1.2.250.1.71.4.2.1|0123456789");
  ss::BundleOptions o;
  o.base_url = "https://agenda.example.fr/sas";
  o.place_identifier_system = "urn:oid:1.2.3.4.5";
  const json::value bundle = ss::build_search_bundle(q, full_agenda(), o);
  ASSERT_EQ(bundle.at("total").as_int64(), 3);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

TEST(SlotBundleProfiles, EmptyBundleIsValid) {
  const auto q = query(
      "/Slot?start=ge2026-01-12T00:00:00Z&start=le2026-01-13T00:00:00Z&status=free"
      "&schedule.actor:Practitioner.identifier=810100050075");
  const json::value bundle = ss::build_search_bundle(q, {}, ss::BundleOptions{"https://x/fhir", {}, true, {}});
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

// The validator sees what the host cannot invent: a place without address data.
TEST(SlotBundleProfiles, MissingAddressIsReported) {
  pb::SearchSlotsResponse r;
  practitioner(r, "a", "810100050075", "THOMAS", {"Sébastien"});
  place(r, "pa", "a", {}, "", "AGEN").set_finess("810004421");
  slot(r, "s", "pa", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00");
  const auto q = query(
      "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-01-12T00:00:00Z"
      "&start=le2026-01-14T00:00:00Z&status=free&schedule.actor:Practitioner.identifier=810100050075");
  ss::BuildReport built;
  const json::value bundle =
      ss::build_search_bundle(q, r, ss::BundleOptions{"https://x/fhir", "urn:oid:1.2.3", true, {}}, &built);
  // Reported, and its slot not sent: the Bundle stays valid (APlaceWithoutACompleteAddressSendsNoSlot).
  ASSERT_EQ(built.warnings.size(), 1u);
  EXPECT_NE(built.warnings[0].find("\"pa\": address line, city and postal code are all required"), std::string::npos);
  EXPECT_EQ(bundle.at("total").as_int64(), 0);
  EXPECT_TRUE(profiles().validate_bundle(bundle).empty());
}

// Found by fuzz/plugin_answer: a place without a postal code (or city, or address line) gave a
// Location FrLocationAgregateur refuses, and so an invalid Bundle. Its slots are not sent; the
// other places' are, in a valid Bundle (fuzz/regressions/plugin_answer/).
TEST(SlotBundleProfiles, APlaceWithoutACompleteAddressSendsNoSlot) {
  pb::SearchSlotsResponse r;
  practitioner(r, "a", "10100050075", "THOMAS", {"Sébastien"});
  place(r, "full", "a", {"1 rue Mme DELMAS"}, "47000", "AGEN");
  place(r, "no-postal-code", "a", {"30 rue Mme DELMAS"}, " ", "AGEN");
  place(r, "no-line", "a", {" "}, "47000", "AGEN");
  place(r, "no-city", "a", {"5 place X"}, "47000", "");
  for (const char* where : {"full", "no-postal-code", "no-line", "no-city"}) {
    slot(r, std::string("slot-") + where, where, "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00",
         {pb::AUDIENCE_PUBLIC});
  }
  ss::BuildReport built;
  const json::value bundle = thomas_on_13_january(r, built);
  EXPECT_EQ(bundle.at("total").as_int64(), 1);
  EXPECT_EQ(built.dropped_invalid, 3u);
  EXPECT_EQ(std::count_if(built.warnings.begin(), built.warnings.end(),
                          [](const std::string& w) { return w.find("its slots are not sent") != std::string::npos; }),
            3);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
}

// Found by fuzz/plugin_answer: a specialty code with a control character in it made Slot.specialty
// invalid (the FHIR code type), and so the whole Bundle. Such a specialty is sent as text (its
// label, else the code), never dropped (FAQ error 3), and reported; valid codes stay codings.
TEST(SlotBundleProfiles, ASpecialtyCodeThatIsNoFhirCodeIsSentAsText) {
  pb::SearchSlotsResponse r;
  auto& a = practitioner(r, "a", "10100050075", "THOMAS", {"Sébastien"});
  specialty(a, "SM54", "Médecine générale");
  specialty(a, "SM\r41", "Pneumologie");
  specialty(a, std::string("SM41\0", 5));
  specialty(a, "SM  05");
  place(r, "pa", "a", {"1 rue Mme DELMAS"}, "47000", "AGEN");
  auto& own = slot(r, "own", "pa", "2026-01-13T10:00:00+01:00", "2026-01-13T10:30:00+01:00", {pb::AUDIENCE_PUBLIC});
  slot_specialty(own, "SM\t54");
  slot(r, "inherited", "pa", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00", {pb::AUDIENCE_PUBLIC});
  ss::BuildReport built;
  const json::value bundle = thomas_on_13_january(r, built);
  ASSERT_EQ(bundle.at("total").as_int64(), 2);
  const auto issues = profiles().validate_bundle(bundle);
  EXPECT_TRUE(issues.empty()) << report(issues);
  const auto specialty_of = [&](const std::string& id) {
    for (const auto& e : bundle.at("entry").as_array())
      if (e.at("resource").at("id").as_string() == id) return e.at("resource").at("specialty");
    return json::value();
  };
  const json::value inherited = json::parse(
      R"([{"coding":[{"system":"https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",)"
      R"("code":"SM54"}],"text":"Médecine générale"},{"text":"Pneumologie"},{"text":"SM41\u0000"},{"text":"SM  05"}])");
  EXPECT_EQ(specialty_of("inherited"), inherited);
  EXPECT_EQ(specialty_of("own"), json::parse(R"([{"text":"SM\t54"}])"));
  EXPECT_EQ(std::count_if(built.warnings.begin(), built.warnings.end(),
                          [](const std::string& w) { return w.find("is not a FHIR code") != std::string::npos; }),
            2);
}
