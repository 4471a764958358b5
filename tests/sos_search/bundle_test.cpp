// SOS Médecins Bundle building: what leaves, in which order and shape, and what never leaves.
#include <algorithm>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/sos_search/bundle.hpp"
#include "sas/host/sos_search/query.hpp"
#include "sos_agenda.hpp"

namespace sos = sas::host::sos_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;
namespace bv = sas::test::bundle;
using namespace sas::test::sos;

namespace {

constexpr const char* kRennes = "334173748400020";
constexpr const char* kLorient = "392080466300010";

std::string target(const std::string& sirets, const std::string& extra = {},
                   const std::string& includes =
                       "_revinclude=Slot:schedule&_include=Schedule:actor:Location&"
                       "_include:iterate=Location:organization") {
  return "/Schedule?" + includes +
         "&_has:Slot:schedule:start=ge2023-08-18T00:00:00%2B02:00&_has:Slot:schedule:start=le2023-08-20T08:00:00%2B02:"
         "00&_has:Slot:schedule:status=free&actor:Location.organization.identifier=" +
         sirets + extra;
}

sos::ParsedSosQuery query(const std::string& t) {
  auto r = sos::parse_sos_query(t);
  EXPECT_TRUE(std::holds_alternative<sos::ParsedSosQuery>(r)) << t;
  return std::holds_alternative<sos::ParsedSosQuery>(r) ? std::get<sos::ParsedSosQuery>(r) : sos::ParsedSosQuery{};
}

sos::SosBundleOptions options() {
  sos::SosBundleOptions o;
  o.base_url = "https://vendor.example/sas/";
  o.place_identifier_system = "urn:oid:1.2.3.4";
  return o;
}

json::object build(const pb::SearchSosSlotsResponse& r, const std::string& t, sos::SosBuildReport* report = nullptr) {
  return sos::build_sos_bundle(query(t), r, options(), report);
}

// "Type:mode" of every entry, in order.
std::vector<std::string> sequence(const json::object& bundle) {
  std::vector<std::string> out;
  if (const auto* entries = bundle.if_contains("entry")) {
    for (const auto& e : entries->as_array()) {
      out.push_back(std::string(e.at("resource").at("resourceType").as_string()) + ":" +
                    std::string(e.at("search").at("mode").as_string()));
    }
  }
  return out;
}

std::vector<std::string> ids(const json::object& bundle, const char* type) {
  std::vector<std::string> out;
  for (const auto* r : bv::resources(bundle, type)) out.push_back(std::string(r->at("id").as_string()));
  return out;
}

std::vector<std::string> codes(const json::object& slot) {
  std::vector<std::string> out;
  for (const auto& s : slot.at("meta").at("security").as_array()) out.push_back(std::string(s.at("code").as_string()));
  return out;
}

bool warned(const sos::SosBuildReport& report, std::string_view text) {
  return std::any_of(report.warnings.begin(), report.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

// One association (Rennes, stored unprefixed), one place, slots added by the test.
pb::SearchSosSlotsResponse one_place() {
  pb::SearchSosSlotsResponse r;
  association(r, "34173748400020", "SOS Médecins de Rennes");
  place(r, "nord", "34173748400020", "Centre Nord", {"320 avenue Patton"}, "35700", "RENNES", "0299000000");
  return r;
}

}  // namespace

TEST(SosBundle, EmptyAnswerIsTotalZeroWithoutEntries) {
  const auto b = build({}, target(kRennes));
  EXPECT_EQ(b.at("resourceType").as_string(), "Bundle");
  EXPECT_EQ(b.at("type").as_string(), "searchset");
  EXPECT_EQ(b.at("total").as_int64(), 0);
  EXPECT_FALSE(b.contains("entry"));
  EXPECT_EQ(bv::empty_paths(b), std::vector<std::string>{});
  EXPECT_EQ(b.at("meta").at("profile").as_array()[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator");
  EXPECT_EQ(b.at("link").as_array()[0].at("url").as_string().find("https://vendor.example/sas/Schedule?"), 0u);
}

TEST(SosBundle, OnlyPublicAndSnpAudiencesLeave) {
  auto r = one_place();
  slot(r, "public-pro-cpts", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS, pb::AUDIENCE_CPTS});
  slot(r, "snp", "nord", "2023-08-18T10:00:00+02:00", "2023-08-18T10:20:00+02:00", {pb::AUDIENCE_SNP});
  slot(r, "snp-public", "nord", "2023-08-18T11:00:00+02:00", "2023-08-18T11:20:00+02:00",
       {pb::AUDIENCE_SNP, pb::AUDIENCE_PUBLIC});
  slot(r, "pro", "nord", "2023-08-18T12:00:00+02:00", "2023-08-18T12:20:00+02:00", {pb::AUDIENCE_PROFESSIONALS});
  slot(r, "cpts", "nord", "2023-08-18T13:00:00+02:00", "2023-08-18T13:20:00+02:00", {pb::AUDIENCE_CPTS});
  slot(r, "own-patients", "nord", "2023-08-18T14:00:00+02:00", "2023-08-18T14:20:00+02:00",
       {pb::AUDIENCE_PATIENTELE_ONLY});
  slot(r, "none", "nord", "2023-08-18T15:00:00+02:00", "2023-08-18T15:20:00+02:00", {});
  sos::SosBuildReport report;
  const auto b = build(r, target(kRennes), &report);
  const auto slots = bv::resources(b, "Slot");
  ASSERT_EQ(slots.size(), 3u);
  EXPECT_EQ(codes(*slots[0]), std::vector<std::string>{"PUBLIC"});
  EXPECT_EQ(codes(*slots[1]), std::vector<std::string>{"SNP"});
  EXPECT_EQ(codes(*slots[2]), (std::vector<std::string>{"PUBLIC", "SNP"}));
  EXPECT_EQ(report.dropped_no_audience, 4u);
  EXPECT_EQ(b.at("total").as_int64(), 3);
}

TEST(SosBundle, EveryDropIsCountedAndTheDataProblemsWarnedOnce) {
  auto r = one_place();
  association(r, "35600000000048", "Autre");
  place(r, "ailleurs", "35600000000048", "Ailleurs", {"1 rue X"}, "75011", "PARIS");
  place(r, "bad-siret", "123", "Bad", {"1 rue Y"}, "75011", "PARIS");
  slot(r, "kept", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  slot(r, "busy", "nord", "2023-08-18T09:20:00+02:00", "2023-08-18T09:40:00+02:00").set_status(pb::SLOT_BUSY);
  slot(r, "unspecified", "nord", "2023-08-18T09:20:00+02:00", "2023-08-18T09:40:00+02:00")
      .set_status(pb::SLOT_STATUS_UNSPECIFIED);
  slot(r, "before", "nord", "2023-08-17T23:59:59+02:00", "2023-08-18T00:20:00+02:00");
  slot(r, "after", "nord", "2023-08-20T08:00:01+02:00", "2023-08-20T08:20:00+02:00");
  slot(r, "", "nord", "2023-08-18T10:00:00+02:00", "2023-08-18T10:20:00+02:00");
  slot(r, "backwards", "nord", "2023-08-18T10:00:00+02:00", "2023-08-18T10:00:00+02:00");
  slot(r, "kept", "nord", "2023-08-18T11:00:00+02:00", "2023-08-18T11:20:00+02:00");
  slot(r, "nowhere", "unknown-place", "2023-08-18T11:00:00+02:00", "2023-08-18T11:20:00+02:00");
  slot(r, "other-association", "ailleurs", "2023-08-18T11:00:00+02:00", "2023-08-18T11:20:00+02:00");
  slot(r, "bad-association", "bad-siret", "2023-08-18T11:00:00+02:00", "2023-08-18T11:20:00+02:00");
  slot(r, "bad-association-2", "bad-siret", "2023-08-18T12:00:00+02:00", "2023-08-18T12:20:00+02:00");
  sos::SosBuildReport report;
  const auto b = build(r, target(kRennes), &report);
  EXPECT_EQ(ids(b, "Slot"), std::vector<std::string>{"kept"});
  EXPECT_EQ(report.matches, 1u);
  EXPECT_EQ(report.emitted, 1u);
  EXPECT_EQ(report.schedules, 1u);
  EXPECT_EQ(report.dropped_not_free, 2u);
  EXPECT_EQ(report.dropped_outside_window, 2u);
  EXPECT_EQ(report.dropped_invalid, 2u);
  EXPECT_EQ(report.dropped_duplicate, 1u);
  EXPECT_EQ(report.dropped_unknown_place, 1u);
  EXPECT_EQ(report.dropped_not_requested, 3u);
  EXPECT_TRUE(warned(report, "unknown place \"unknown-place\""));
  EXPECT_TRUE(warned(report, "35600000000048, which was not asked for"));
  EXPECT_TRUE(warned(report, "invalid association SIRET"));
  EXPECT_TRUE(warned(report, "appears more than once"));
  EXPECT_TRUE(warned(report, "does not end after it starts"));
  EXPECT_EQ(
      std::count_if(report.warnings.begin(), report.warnings.end(),
                    [](const std::string& w) { return w.find("invalid association SIRET") != std::string::npos; }),
      1)
      << "each warning once";
}

// Whatever form the agenda stored the SIRET in, the Organization carries 3 + SIRET.
TEST(SosBundle, StoredSiretFormsMatchAndLeavePrefixed) {
  for (const char* stored : {"34173748400020", "334173748400020", " 34173748400020 "}) {
    pb::SearchSosSlotsResponse r;
    association(r, stored, "SOS Médecins de Rennes");
    place(r, "nord", stored, "Centre Nord", {"1 rue A"}, "35700", "RENNES");
    slot(r, "s", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
    const auto b = build(r, target(std::string("urn:oid:1.2.250.1.71.4.2.2|") + kRennes));
    const auto orgs = bv::resources(b, "Organization");
    ASSERT_EQ(orgs.size(), 1u) << stored;
    const auto& identifier = orgs[0]->at("identifier").as_array()[0];
    EXPECT_EQ(identifier.at("value").as_string(), kRennes);
    EXPECT_EQ(identifier.at("system").as_string(), "urn:oid:1.2.250.1.71.4.2.2");
    EXPECT_EQ(identifier.at("type").at("coding").as_array()[0].at("system").as_string(),
              "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type");
    EXPECT_EQ(identifier.at("type").at("coding").as_array()[0].at("code").as_string(), "IDNST");
    EXPECT_EQ(orgs[0]->at("name").as_string(), "SOS Médecins de Rennes");
    EXPECT_EQ(orgs[0]->at("id").as_string(), kRennes);
  }
}

TEST(SosBundle, OrderFollowsTheRequestedAssociationsThenTheEarliestPlace) {
  const auto agenda = example_sos_agenda();
  // Lorient asked first: its place comes first; Rennes Nord (18 Aug) before Cleunay (19 Aug).
  const auto b = build(agenda, target(std::string(kLorient) + "," + kRennes));
  EXPECT_EQ(ids(b, "Schedule"), (std::vector<std::string>{"3333333333", "1111111111", "2222222222"}));
  EXPECT_EQ(ids(b, "Slot"), (std::vector<std::string>{"creneau-3", "creneau-4", "creneau-1", "creneau-2"}));
  EXPECT_EQ(sequence(b),
            (std::vector<std::string>{"Slot:include", "Schedule:match", "Location:include", "Organization:include",
                                      "Slot:include", "Slot:include", "Schedule:match", "Location:include",
                                      "Organization:include", "Slot:include", "Schedule:match", "Location:include"}));
}

TEST(SosBundle, IncludesAreHonoured) {
  const auto agenda = example_sos_agenda();
  const std::string both = std::string(kRennes) + "," + kLorient;
  const auto schedules_only = build(agenda, target(both, "", "_count=100"));
  EXPECT_EQ(sequence(schedules_only), (std::vector<std::string>(3, "Schedule:match")));
  EXPECT_EQ(schedules_only.at("total").as_int64(), 4) << "total still counts the slots";
  const auto no_orgs = build(agenda, target(both, "", "_revinclude=Slot:schedule&_include=Schedule:actor:Location"));
  EXPECT_TRUE(bv::resources(no_orgs, "Organization").empty());
  EXPECT_EQ(bv::resources(no_orgs, "Location").size(), 3u);
  // Organizations are iterated from the Locations: without them, none.
  const auto orgs_alone = build(agenda, target(both, "", "_include:iterate=Location:organization"));
  EXPECT_TRUE(bv::resources(orgs_alone, "Organization").empty());
  EXPECT_EQ(bv::resources(orgs_alone, "Schedule").size(), 3u);
}

TEST(SosBundle, CountKeepsTheEarliestSlotsOverAllPlaces) {
  const auto agenda = example_sos_agenda();
  const std::string both = std::string(kRennes) + "," + kLorient;
  sos::SosBuildReport report;
  // The two earliest: Nord 09:00 and Lorient 14:20 (both 18 Aug); Cleunay's only slot is cut.
  const auto b = build(agenda, target(both, "&_count=2"), &report);
  EXPECT_EQ(b.at("total").as_int64(), 4);
  EXPECT_EQ(report.emitted, 2u);
  EXPECT_EQ(ids(b, "Slot"), (std::vector<std::string>{"creneau-1", "creneau-3"}));
  EXPECT_EQ(ids(b, "Schedule"), (std::vector<std::string>{"1111111111", "3333333333"}));
  const auto zero = build(agenda, target(both, "&_count=0"));
  EXPECT_EQ(zero.at("total").as_int64(), 4);
  EXPECT_FALSE(zero.contains("entry"));
}

TEST(SosBundle, SlotElements) {
  auto r = one_place();
  auto& s = slot(r, "s1", "nord", "2023-12-18T09:00:00+01:00", "2023-12-18T09:20:00+01:00", {pb::AUDIENCE_PUBLIC},
                 {pb::MODE_AT_PRACTICE, pb::MODE_AT_HOME, pb::MODE_AT_PRACTICE});
  s.add_motives("Fièvre");
  s.add_motives(" Fièvre ");
  s.add_motives("Certificat");
  s.set_walk_in(true);
  s.set_booking_url(" https://agenda.example.fr/sos/nord ");
  auto& sp = *s.add_specialties();
  sp.set_code("SM54");
  const auto b = sos::build_sos_bundle(
      query("/Schedule?_revinclude=Slot:schedule&_has:Slot:schedule:start=ge2023-12-18&_has:Slot:schedule:start="
            "le2023-12-18&_has:Slot:schedule:status=free&actor:Location.organization.identifier=34173748400020"),
      r, options());
  const auto slots = bv::resources(b, "Slot");
  ASSERT_EQ(slots.size(), 1u);
  const auto& slot = *slots[0];
  EXPECT_EQ(json::serialize(slot.at("serviceType")),
            R"([{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}]},)"
            R"({"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"}]},)"
            R"({"text":"Fièvre"},{"text":"Certificat"}])");
  EXPECT_EQ(slot.at("appointmentType").at("coding").as_array()[0].at("code").as_string(), "WALKIN");
  EXPECT_EQ(slot.at("specialty").as_array()[0].at("coding").as_array()[0].at("code").as_string(), "SM54");
  EXPECT_EQ(slot.at("start").as_string(), "2023-12-18T09:00:00.000+01:00");
  EXPECT_EQ(slot.at("end").as_string(), "2023-12-18T09:20:00.000+01:00");
  EXPECT_EQ(slot.at("status").as_string(), "free");
  EXPECT_EQ(slot.at("comment").as_string(), "https://agenda.example.fr/sos/nord");
  EXPECT_EQ(slot.at("schedule").at("reference").as_string(), "Schedule/nord");
  EXPECT_EQ(slot.at("meta").at("profile").as_array()[0].as_string(),
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator");
  EXPECT_EQ(bv::empty_paths(b), std::vector<std::string>{});
}

TEST(SosBundle, LocationElements) {
  auto r = one_place();
  auto& nord = (*r.mutable_places(0));
  nord.clear_address_lines();
  nord.add_address_lines("320 avenue Patton");
  nord.add_address_lines("Bâtiment B");
  hours(nord, {"sun", "MON", "mon", "funday"}, "8:00", "24:00");
  hours(nord, {"sat"}, "00:00", "24:00:00");
  hours(nord, {"fri"}, "25:00", "19:30:15");
  hours(nord, {"someday"}, "08:00", "12:00");
  slot(r, "s", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  sos::SosBuildReport report;
  const auto b = build(r, target(kRennes), &report);
  const auto locations = bv::resources(b, "Location");
  ASSERT_EQ(locations.size(), 1u);
  const auto& l = *locations[0];
  EXPECT_EQ(l.at("id").as_string(), "nord");
  EXPECT_EQ(json::serialize(l.at("identifier")),
            R"([{"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",)"
            R"("code":"INTRN"}]},"system":"urn:oid:1.2.3.4","value":"nord"}])");
  EXPECT_EQ(l.at("name").as_string(), "Centre Nord");
  EXPECT_EQ(json::serialize(l.at("telecom")), R"([{"system":"phone","value":"+33299000000"}])");
  EXPECT_EQ(json::serialize(l.at("address")),
            R"({"line":["320 avenue Patton, Bâtiment B"],"city":"RENNES","postalCode":"35700"})");
  EXPECT_EQ(l.at("managingOrganization").at("reference").as_string(), std::string("Organization/") + kRennes);
  EXPECT_EQ(json::serialize(l.at("hoursOfOperation")),
            R"([{"daysOfWeek":["mon","sun"],"openingTime":"08:00:00","closingTime":"23:59:59"},)"
            R"({"daysOfWeek":["sat"],"allDay":true},{"daysOfWeek":["fri"],"closingTime":"19:30:15"}])");
  EXPECT_TRUE(warned(report, "opening day \"funday\""));
  EXPECT_TRUE(warned(report, "opening time \"25:00\""));
  EXPECT_TRUE(warned(report, "an opening without a valid day"));
  const auto schedules = bv::resources(b, "Schedule");
  ASSERT_EQ(schedules.size(), 1u);
  EXPECT_EQ(json::serialize(schedules[0]->at("actor")), R"([{"reference":"Location/nord"}])");
}

TEST(SosBundle, MissingDataIsWarnedNeverSentEmpty) {
  pb::SearchSosSlotsResponse r;  // no association record: the Organization goes without a name
  place(r, "x", "34173748400020", "", {}, "", "RENNES", "not a phone");
  slot(r, "s", "x", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  sos::SosBuildReport report;
  const auto b = build(r, target(kRennes), &report);
  EXPECT_EQ(bv::empty_paths(b), std::vector<std::string>{});
  EXPECT_TRUE(warned(report, "has no name"));
  EXPECT_TRUE(warned(report, "phone not sent"));
  EXPECT_TRUE(warned(report, "address line, city and postal code are all required"));
  EXPECT_TRUE(warned(report, "association " + std::string(kRennes) + " has no name"));
  ASSERT_EQ(bv::resources(b, "Organization").size(), 1u);
  EXPECT_FALSE(bv::resources(b, "Organization")[0]->contains("name"));
  EXPECT_FALSE(bv::resources(b, "Location")[0]->contains("telecom"));
}

// As in INT_R01 (SlotBundleProfiles.ASpecialtyCodeThatIsNoFhirCodeIsSentAsText): a code the FHIR
// code type refuses would make the whole Bundle invalid; the specialty goes as text, warned.
TEST(SosBundle, ASpecialtyCodeThatIsNoFhirCodeIsSentAsTextAndWarned) {
  auto r = one_place();
  auto& s = slot(r, "s1", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  auto& coded = *s.add_specialties();
  coded.set_code("SM\t54");
  coded.set_text("Médecine générale");
  s.add_specialties()->set_code("SM\x01");
  sos::SosBuildReport report;
  const auto b = build(r, target(kRennes), &report);
  const auto slots = bv::resources(b, "Slot");
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0]->at("specialty"), json::parse(R"([{"text":"Médecine générale"},{"text":"SM\u0001"}])"));
  EXPECT_TRUE(warned(report, "slot \"s1\": a specialty code that is not a FHIR code"));
}

TEST(SosBundle, VendorIdsThatAreNotFhirIdsAreDerivedStably) {
  auto r = one_place();
  (*r.mutable_places(0)).set_id("place #1 (nord)");
  slot(r, "slot/1", "place #1 (nord)", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  const auto b1 = build(r, target(kRennes));
  const auto b2 = build(r, target(kRennes));
  for (const auto& e : b1.at("entry").as_array()) {
    EXPECT_TRUE(bv::valid_fhir_id(e.at("resource").at("id").as_string())) << e.at("resource").at("id");
  }
  EXPECT_EQ(b1, b2);
  const auto* location = bv::resources(b1, "Location")[0];
  EXPECT_EQ(location->at("identifier").as_array()[0].at("value").as_string(), "place #1 (nord)")
      << "the vendor's own id in the INTRN identifier";
  EXPECT_NE(bv::resolve(b1, bv::ref(bv::resources(b1, "Slot")[0]->at("schedule"))), nullptr);
}

TEST(SosBundle, UtcWhenAsked) {
  auto r = one_place();
  slot(r, "s", "nord", "2023-08-18T09:00:00+02:00", "2023-08-18T09:20:00+02:00");
  auto o = options();
  o.paris_offsets = false;
  const auto b = sos::build_sos_bundle(query(target(kRennes)), r, o);
  EXPECT_EQ(bv::resources(b, "Slot")[0]->at("start").as_string(), "2023-08-18T07:00:00.000+00:00");
}

TEST(SosBundle, SerializedIsTheBuiltBundle) {
  const auto agenda = example_sos_agenda();
  const auto q = query(target(std::string(kRennes) + "," + kLorient));
  sos::SosBuildReport a, b;
  const std::string text = sos::serialize_sos_bundle(q, agenda, options(), &a);
  EXPECT_EQ(json::parse(text), json::value(sos::build_sos_bundle(q, agenda, options(), &b)));
  EXPECT_EQ(a.matches, b.matches);
}
