// INT_R01 Bundle building: structure, what never leaves, identifiers, phones, ids, order, cost.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "agenda.hpp"
#include "bundle_view.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/query.hpp"

namespace ss = sas::host::slot_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;
namespace bv = sas::test::bundle;
using namespace sas::test::agenda;

namespace {

constexpr const char* kBase = "https://agenda.example.fr/sas";
constexpr const char* kThomas = "810100050075";
constexpr const char* kMarcel = "810002673899";

ss::ParsedSlotQuery query(const std::string& extra = "_include=Slot:schedule&_include:iterate=Schedule:actor",
                          const std::string& ids = std::string("urn:oid:1.2.250.1.71.4.2.1|") + kThomas +
                                                   ",urn:oid:1.2.250.1.71.4.2.1|" + kMarcel) {
  auto r = ss::parse_slot_query(
      "/Slot?start=ge2026-01-12T00:00:00%2B01:00&start=le2026-01-18T23:59:59.999%2B01:00"
      "&status=free&schedule.actor:Practitioner.identifier=" +
      ids + (extra.empty() ? "" : "&" + extra));
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&r)) {
    ADD_FAILURE() << json::serialize(e->outcome);
    return {};
  }
  return std::get<ss::ParsedSlotQuery>(r);
}

ss::BundleOptions options() {
  ss::BundleOptions o;
  o.base_url = kBase;
  o.place_identifier_system = "urn:oid:1.2.3.4";
  return o;
}

// Dr THOMAS (RPPS stored unprefixed) at two places; Dr MARCEL (stored prefixed) at one.
pb::SearchSlotsResponse agenda() {
  pb::SearchSlotsResponse r;
  auto& thomas = practitioner(r, "pr-thomas", "10100050075", "THOMAS", {"Sébastien"});
  specialty(thomas, "SM54", "Médecine générale");
  auto& marcel = practitioner(r, "pr-marcel", kMarcel, "MARCEL", {"Guillaume", "Jean"});
  specialty(marcel, "SM41");
  specialty(marcel, "", "Pneumologie");
  auto& a = place(r, "pl-thomas-1", "pr-thomas", {"1 rue Mme DELMAS"}, "47000", "AGEN");
  a.set_finess("810004421");
  a.set_phone("05 53 00 00 01");
  auto& b = place(r, "pl-thomas-2", "pr-thomas", {"30 rue Mme DELMAS", "Bâtiment B"}, "47000", "AGEN");
  b.set_siret("12345678901234");
  auto& c = place(r, "pl-marcel", "pr-marcel", {"1 rue Mme DELMAS"}, "47000", "AGEN");
  c.set_rpps_rang("10002673899001");
  marcel.set_phone("06.58.91.38.59");

  auto& s1 = slot(r, "s1", "pl-thomas-1", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00",
                  {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_SNP});
  s1.add_modes(pb::MODE_AT_PRACTICE);
  s1.add_modes(pb::MODE_TELECONSULTATION);
  s1.add_motives("Visite de contrôle");
  s1.set_booking_url("https://agenda.example.fr/rdv/thomas");
  auto& s2 = slot(r, "s2", "pl-thomas-2", "2026-01-12T11:00:00+01:00", "2026-01-12T11:30:00+01:00",
                  {pb::AUDIENCE_PROFESSIONALS});
  s2.set_walk_in(true);
  auto& s3 = slot(r, "s3", "pl-marcel", "2026-01-12T14:20:00+01:00", "2026-01-12T14:40:00+01:00",
                  {pb::AUDIENCE_PROFESSIONALS, pb::AUDIENCE_PUBLIC});
  s3.add_modes(pb::MODE_AT_HOME);
  s3.add_motives("Suivi");
  return r;
}

json::object build(const ss::ParsedSlotQuery& q, const pb::SearchSlotsResponse& r, ss::BuildReport* report = nullptr,
                   ss::BundleOptions o = options()) {
  auto b = ss::build_search_bundle(q, r, o, report);
  EXPECT_EQ(bv::empty_paths(b), std::vector<std::string>{}) << "empty elements";
  return b;
}

std::vector<std::string> slot_ids(const json::object& bundle) {
  std::vector<std::string> ids;
  for (const auto* s : bv::resources(bundle, "Slot")) ids.emplace_back(s->at("id").as_string());
  return ids;
}

std::vector<std::string> security(const json::object& slot) {
  std::vector<std::string> codes;
  for (const auto& c : slot.at("meta").at("security").as_array()) {
    EXPECT_EQ(c.at("system").as_string(),
              "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau");
    codes.emplace_back(c.at("code").as_string());
  }
  return codes;
}

const json::object& by_id(const json::object& bundle, const std::string& type, const std::string& id) {
  const auto* r = bv::resolve(bundle, type + "/" + id);
  if (r == nullptr) throw std::runtime_error(type + "/" + id + " not in bundle");
  return *r;
}

}  // namespace

TEST(SlotBundle, EmptyResultIsASuccessWithTotalZero) {
  const auto q = query();
  const auto b = build(q, pb::SearchSlotsResponse{});
  EXPECT_EQ(b.at("resourceType").as_string(), "Bundle");
  EXPECT_EQ(b.at("type").as_string(), "searchset");
  EXPECT_EQ(b.at("total").as_int64(), 0);
  EXPECT_EQ(b.at("meta").at("profile").as_array()[0].as_string(),
            "http://sas.fr/fhir/StructureDefinition/BundleAgregateur");
  EXPECT_EQ(b.at("link").as_array()[0].at("relation").as_string(), "self");
  EXPECT_EQ(b.at("link").as_array()[0].at("url").as_string(), ss::self_link(q, kBase));
  EXPECT_EQ(b.if_contains("entry"), nullptr);
  // Serialises to a total-0 bundle, not an error.
  EXPECT_NE(sas::host::fhir::serialize(b).find("\"total\":0"), std::string::npos);
}

TEST(SlotBundle, UnknownPractitionerIsNotAnError) {
  const auto q = query("", "urn:oid:1.2.250.1.71.4.2.1|899999999999");
  ss::BuildReport report;
  const auto b = build(q, agenda(), &report);
  EXPECT_EQ(b.at("total").as_int64(), 0);
  EXPECT_EQ(report.dropped_not_requested, 3u);  // the plugin over-answered: nothing leaks
}

TEST(SlotBundle, StructureProfilesAndModes) {
  const auto b = build(query(), agenda());
  EXPECT_EQ(b.at("total").as_int64(), 3);
  EXPECT_EQ(bv::resources(b, "Slot").size(), 3u);
  EXPECT_EQ(bv::resources(b, "Schedule").size(), 3u);  // one per place
  EXPECT_EQ(bv::resources(b, "PractitionerRole").size(), 3u);
  EXPECT_EQ(bv::resources(b, "Practitioner").size(), 2u);
  EXPECT_EQ(bv::entry_count(b), 11u);
  const std::map<std::string, std::string> profiles = {
      {"Slot", "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur"},
      {"Schedule", "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"},
      {"Practitioner", "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"},
      {"PractitionerRole", "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"}};
  for (const auto& e : b.at("entry").as_array()) {
    const auto& r = e.at("resource").as_object();
    const std::string type(r.at("resourceType").as_string());
    const std::string id(r.at("id").as_string());
    EXPECT_TRUE(bv::valid_fhir_id(id));
    EXPECT_EQ(e.at("fullUrl").as_string(), std::string(kBase) + "/" + type + "/" + id);
    EXPECT_EQ(e.at("search").at("mode").as_string(), type == "Slot" ? "match" : "include");
    EXPECT_EQ(r.at("meta").at("profile").as_array()[0].as_string(), profiles.at(type));
  }
}

TEST(SlotBundle, SlotContent) {
  const auto b = build(query(), agenda());
  const auto& s1 = by_id(b, "Slot", "s1");
  EXPECT_EQ(security(s1), (std::vector<std::string>{"PUBLIC", "SNP"}));
  EXPECT_EQ(s1.at("status").as_string(), "free");
  EXPECT_EQ(s1.at("start").as_string(), "2026-01-13T09:00:00.000+01:00");
  EXPECT_EQ(s1.at("end").as_string(), "2026-01-13T09:30:00.000+01:00");
  EXPECT_EQ(json::serialize(s1.at("serviceType")),
            R"([{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}]},)"
            R"({"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"VR"}]},)"
            R"({"text":"Visite de contrôle"}])");
  EXPECT_EQ(json::serialize(s1.at("specialty")),
            R"([{"coding":[{"system":"https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/)"
            R"(TRE-R38-SpecialiteOrdinale","code":"SM54"}],"text":"Médecine générale"}])");
  EXPECT_EQ(json::serialize(s1.at("appointmentType")),
            R"({"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0276","code":"ROUTINE"}]})");
  EXPECT_EQ(s1.at("comment").as_string(), "https://agenda.example.fr/rdv/thomas");
  EXPECT_EQ(s1.at("schedule").at("reference").as_string(), "Schedule/pl-thomas-1");

  const auto& s2 = by_id(b, "Slot", "s2");
  EXPECT_EQ(security(s2), std::vector<std::string>{"PRO"});
  EXPECT_EQ(s2.at("appointmentType").at("coding").as_array()[0].at("code").as_string(), "WALKIN");
  EXPECT_EQ(s2.if_contains("serviceType"), nullptr);  // nothing known: omitted, not empty
  EXPECT_EQ(s2.if_contains("comment"), nullptr);

  const auto& s3 = by_id(b, "Slot", "s3");
  EXPECT_EQ(security(s3), (std::vector<std::string>{"PUBLIC", "PRO"}));  // canonical order
  EXPECT_EQ(json::serialize(s3.at("specialty")),
            R"([{"coding":[{"system":"https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/)"
            R"(TRE-R38-SpecialiteOrdinale","code":"SM41"}]},{"text":"Pneumologie"}])");
}

TEST(SlotBundle, SlotsOfOneDoctorWithTwoPlacesGoToTheRightPlace) {
  const auto b = build(query(), agenda());
  const auto& s1 = by_id(b, "Slot", "s1");
  const auto& s2 = by_id(b, "Slot", "s2");
  const auto* sched1 = bv::resolve(b, bv::ref(s1.at("schedule")));
  const auto* sched2 = bv::resolve(b, bv::ref(s2.at("schedule")));
  ASSERT_TRUE(sched1 && sched2);
  EXPECT_NE(sched1, sched2);
  const auto* role1 = bv::actor(b, *sched1, "PractitionerRole");
  const auto* role2 = bv::actor(b, *sched2, "PractitionerRole");
  ASSERT_TRUE(role1 && role2);
  const auto* loc1 = bv::contained(*role1, bv::ref(role1->at("location").as_array()[0]));
  const auto* loc2 = bv::contained(*role2, bv::ref(role2->at("location").as_array()[0]));
  ASSERT_TRUE(loc1 && loc2);
  EXPECT_EQ(json::serialize(loc1->at("address")),
            R"({"line":["1 rue Mme DELMAS"],"city":"AGEN","postalCode":"47000"})");
  // One line only in FrLocationAgregateur: the vendor's lines are joined.
  EXPECT_EQ(json::serialize(loc2->at("address")),
            R"({"line":["30 rue Mme DELMAS, Bâtiment B"],"city":"AGEN","postalCode":"47000"})");
  EXPECT_EQ(loc1->at("meta").at("profile").as_array()[0].as_string(),
            "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur");
  EXPECT_EQ(json::serialize(loc1->at("identifier")),
            R"([{"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",)"
            R"("code":"INTRN"}]},"system":"urn:oid:1.2.3.4","value":"pl-thomas-1"}])");
  // Same practitioner on both schedules and roles.
  EXPECT_EQ(bv::actor(b, *sched1, "Practitioner"), bv::actor(b, *sched2, "Practitioner"));
  EXPECT_EQ(bv::ref(role1->at("practitioner")), "Practitioner/pr-thomas");
}

TEST(SlotBundle, SlotsOfTwoDoctorsGoToTheRightDoctor) {
  const auto b = build(query(), agenda());
  const auto practitioner_of = [&](const std::string& slot_id) {
    const auto* sched = bv::resolve(b, bv::ref(by_id(b, "Slot", slot_id).at("schedule")));
    return std::string(bv::actor(b, *sched, "Practitioner")->at("identifier").as_array()[0].at("value").as_string());
  };
  EXPECT_EQ(practitioner_of("s1"), kThomas);
  EXPECT_EQ(practitioner_of("s2"), kThomas);
  EXPECT_EQ(practitioner_of("s3"), kMarcel);
}

TEST(SlotBundle, PractitionerIdentifierIsPrefixedWhateverWasStored) {
  const auto b = build(query(), agenda());
  const auto& thomas = by_id(b, "Practitioner", "pr-thomas");  // stored unprefixed
  EXPECT_EQ(json::serialize(thomas.at("identifier")),
            R"([{"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-v2-0203","code":"IDNPS"}]},)"
            R"("system":"urn:oid:1.2.250.1.71.4.2.1","value":"810100050075"}])");
  EXPECT_EQ(json::serialize(thomas.at("name")), R"([{"family":"THOMAS","given":["Sébastien"]}])");
  EXPECT_EQ(json::serialize(by_id(b, "Practitioner", "pr-marcel").at("name")),
            R"([{"family":"MARCEL","given":["Guillaume","Jean"]}])");

  // ADELI stored unprefixed, asked prefixed.
  pb::SearchSlotsResponse r;
  practitioner(r, "adeli", "123456789", "DURAND");
  place(r, "pl", "adeli", {"2 rue X"}, "75001", "PARIS");
  slot(r, "sa", "pl", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00");
  const auto b2 = build(
      query("_include=Slot:schedule&_include:iterate=Schedule:actor", "urn:oid:1.2.250.1.71.4.2.1|0123456789"), r);
  EXPECT_EQ(by_id(b2, "Practitioner", "adeli").at("identifier").as_array()[0].at("value").as_string(), "0123456789");
}

TEST(SlotBundle, OrganizationIsFinessElseSiretElseRppsRang) {
  const auto b = build(query(), agenda());
  const auto org = [&](const std::string& role) {
    return std::string(by_id(b, "PractitionerRole", role).at("organization").at("identifier").at("value").as_string());
  };
  EXPECT_EQ(org("pl-thomas-1"), "1810004421");
  EXPECT_EQ(org("pl-thomas-2"), "312345678901234");
  EXPECT_EQ(org("pl-marcel"), "410002673899001");
  EXPECT_EQ(json::serialize(by_id(b, "PractitionerRole", "pl-thomas-1").at("organization")),
            R"({"identifier":{"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-v2-0203",)"
            R"("code":"IDNST"}]},"system":"urn:oid:1.2.250.1.71.4.2.2","value":"1810004421"}})");

  // FINESS first even when SIRET is there; an invalid FINESS falls through to SIRET; none: omitted.
  pb::SearchSlotsResponse r = agenda();
  r.mutable_places(0)->set_siret("12345678901234");
  r.mutable_places(1)->set_finess("12");
  r.mutable_places(2)->clear_rpps_rang();
  ss::BuildReport report;
  const auto b2 = build(query(), r, &report);
  EXPECT_EQ(by_id(b2, "PractitionerRole", "pl-thomas-1").at("organization").at("identifier").at("value").as_string(),
            "1810004421");
  EXPECT_EQ(by_id(b2, "PractitionerRole", "pl-thomas-2").at("organization").at("identifier").at("value").as_string(),
            "312345678901234");
  EXPECT_EQ(by_id(b2, "PractitionerRole", "pl-marcel").if_contains("organization"), nullptr);
  EXPECT_FALSE(report.warnings.empty());
}

TEST(SlotBundle, PhonesArePlus33PlaceFirst) {
  const auto b = build(query(), agenda());
  EXPECT_EQ(json::serialize(by_id(b, "PractitionerRole", "pl-thomas-1").at("telecom")),
            R"([{"system":"phone","value":"+33553000001"}])");
  EXPECT_EQ(by_id(b, "PractitionerRole", "pl-thomas-2").if_contains("telecom"), nullptr);
  // No place phone: the practitioner's.
  EXPECT_EQ(json::serialize(by_id(b, "PractitionerRole", "pl-marcel").at("telecom")),
            R"([{"system":"phone","value":"+33658913859"}])");

  pb::SearchSlotsResponse r = agenda();
  r.mutable_places(0)->set_phone("12345");  // not a French number: never sent as is
  ss::BuildReport report;
  const auto b2 = build(query(), r, &report);
  EXPECT_EQ(by_id(b2, "PractitionerRole", "pl-thomas-1").if_contains("telecom"), nullptr);
  EXPECT_FALSE(report.warnings.empty());
}

TEST(SlotBundle, WhatNeverLeaves) {
  pb::SearchSlotsResponse r = agenda();
  const char* d = "2026-01-14T10:00:00+01:00";
  const char* e = "2026-01-14T10:15:00+01:00";
  slot(r, "busy", "pl-thomas-1", d, e).set_status(pb::SLOT_BUSY);
  slot(r, "unspecified-status", "pl-thomas-1", d, e).set_status(pb::SLOT_STATUS_UNSPECIFIED);
  slot(r, "patientele", "pl-thomas-1", d, e, {pb::AUDIENCE_PATIENTELE_ONLY});
  slot(r, "no-audience", "pl-thomas-1", d, e, {});
  slot(r, "unspecified-audience", "pl-thomas-1", d, e, {pb::AUDIENCE_UNSPECIFIED});
  slot(r, "before", "pl-thomas-1", "2026-01-11T23:59:59+01:00", "2026-01-12T00:30:00+01:00");
  slot(r, "after", "pl-thomas-1", "2026-01-19T00:00:00+01:00", "2026-01-19T00:30:00+01:00");
  slot(r, "backwards", "pl-thomas-1", e, d);
  slot(r, "zero-length", "pl-thomas-1", d, d);
  slot(r, "", "pl-thomas-1", d, e);
  slot(r, "unknown-place", "nowhere", d, e);
  slot(r, "s1", "pl-thomas-2", d, e);  // duplicate id: the first one wins
  // Not asked for, even though the plugin returned it.
  practitioner(r, "pr-other", "810000000001", "OTHER");
  place(r, "pl-other", "pr-other", {"x"}, "75001", "PARIS");
  slot(r, "other", "pl-other", d, e);
  // Invalid national id.
  practitioner(r, "pr-bad", "12", "BAD");
  place(r, "pl-bad", "pr-bad", {"x"}, "75001", "PARIS");
  slot(r, "bad", "pl-bad", d, e);
  // Place of an unknown practitioner.
  place(r, "pl-orphan", "pr-ghost", {"x"}, "75001", "PARIS");
  slot(r, "orphan", "pl-orphan", d, e);
  // Times no window holds: milliseconds, and the extremes of int64 (no overflow on the way).
  slot(r, "millis", "pl-thomas-1", d, e).set_start(1768381200000);
  slot(r, "max", "pl-thomas-1", d, e).set_start(std::numeric_limits<int64_t>::max());
  slot(r, "end-min", "pl-thomas-1", d, e).set_end(std::numeric_limits<int64_t>::min());
  // Boundaries are inclusive.
  slot(r, "at-ge", "pl-thomas-1", "2026-01-12T00:00:00+01:00", "2026-01-12T00:15:00+01:00");
  slot(r, "at-le", "pl-thomas-1", "2026-01-18T23:59:59+01:00", "2026-01-19T00:15:00+01:00");
  // Patientèle plus SNP: the SNP type leaves, the patientèle marker does not.
  slot(r, "patientele-snp", "pl-thomas-1", d, e, {pb::AUDIENCE_PATIENTELE_ONLY, pb::AUDIENCE_SNP});
  // CPTS visibility is INT_R04's business: INT_R01 binds meta.security to PUBLIC/PRO/SNP.
  slot(r, "cpts", "pl-thomas-1", d, e, {pb::AUDIENCE_CPTS, pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PUBLIC});
  slot(r, "cpts-only", "pl-thomas-1", d, e, {pb::AUDIENCE_CPTS});

  ss::BuildReport report;
  const auto b = build(query(), r, &report);
  auto ids = slot_ids(b);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"at-ge", "at-le", "cpts", "patientele-snp", "s1", "s2", "s3"}));
  EXPECT_EQ(b.at("total").as_int64(), 7);
  EXPECT_EQ(report.matches, 7u);
  EXPECT_EQ(report.emitted, 7u);
  EXPECT_EQ(report.dropped_not_free, 2u);
  EXPECT_EQ(report.dropped_no_audience, 4u);
  EXPECT_EQ(report.dropped_outside_window, 5u);
  EXPECT_EQ(report.dropped_invalid, 4u);  // backwards, zero-length, empty id, duplicate
  EXPECT_EQ(report.dropped_not_requested, 4u);
  EXPECT_EQ(security(by_id(b, "Slot", "patientele-snp")), std::vector<std::string>{"SNP"});
  EXPECT_EQ(security(by_id(b, "Slot", "cpts")), (std::vector<std::string>{"PUBLIC"}));
  EXPECT_EQ(bv::resolve(b, "Practitioner/pr-other"), nullptr);
  EXPECT_EQ(bv::resolve(b, "Practitioner/pr-bad"), nullptr);
  // The first "s1" (place 1) was kept.
  EXPECT_EQ(bv::ref(by_id(b, "Slot", "s1").at("schedule")), "Schedule/pl-thomas-1");
  EXPECT_FALSE(report.warnings.empty());
}

TEST(SlotBundle, OnlyReferencedResourcesAreIncluded) {
  pb::SearchSlotsResponse r = agenda();
  place(r, "pl-no-slot", "pr-thomas", {"x"}, "75001", "PARIS");
  practitioner(r, "pr-no-slot", "810000000002", "NOSLOT");
  r.mutable_slots()->DeleteSubrange(2, 1);  // Dr MARCEL has nothing left
  const auto b = build(query(), r);
  EXPECT_EQ(bv::resources(b, "Practitioner").size(), 1u);
  EXPECT_EQ(bv::resources(b, "Schedule").size(), 2u);
  EXPECT_EQ(bv::resources(b, "PractitionerRole").size(), 2u);
}

TEST(SlotBundle, IncludesFollowTheRequest) {
  const auto none = build(query(""), agenda());
  EXPECT_EQ(bv::entry_count(none), 3u);
  EXPECT_EQ(bv::resources(none, "Slot").size(), 3u);
  const auto schedules = build(query("_include=Slot:schedule"), agenda());
  EXPECT_EQ(bv::entry_count(schedules), 6u);
  EXPECT_EQ(bv::resources(schedules, "Practitioner").size(), 0u);
}

TEST(SlotBundle, OrderIsByStartThenIdAndIncludesFollowTheirFirstSlot) {
  const auto b = build(query(), agenda());
  EXPECT_EQ(slot_ids(b), (std::vector<std::string>{"s2", "s3", "s1"}));
  std::vector<std::string> order;
  for (const auto& e : b.at("entry").as_array()) {
    const auto& r = e.at("resource").as_object();
    order.push_back(std::string(r.at("resourceType").as_string()) + "/" + std::string(r.at("id").as_string()));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"Slot/s2", "Schedule/pl-thomas-2", "Practitioner/pr-thomas",
                                             "PractitionerRole/pl-thomas-2", "Slot/s3", "Schedule/pl-marcel",
                                             "Practitioner/pr-marcel", "PractitionerRole/pl-marcel", "Slot/s1",
                                             "Schedule/pl-thomas-1", "PractitionerRole/pl-thomas-1"}));

  // Same start: by id. And the input order does not matter.
  pb::SearchSlotsResponse r = agenda();
  for (const char* id : {"t-b", "t-c", "t-a"})
    slot(r, id, "pl-marcel", "2026-01-15T08:00:00+01:00", "2026-01-15T08:10:00+01:00");
  const std::string first = sas::host::fhir::serialize(build(query(), r));
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    pb::SearchSlotsResponse shuffled = r;
    auto* slots = shuffled.mutable_slots();
    std::shuffle(slots->pointer_begin(), slots->pointer_end(), rng);
    EXPECT_EQ(sas::host::fhir::serialize(build(query(), shuffled)), first);
  }
  const auto ids = slot_ids(build(query(), r));
  EXPECT_EQ(std::vector<std::string>(ids.begin() + 3, ids.end()), (std::vector<std::string>{"t-a", "t-b", "t-c"}));
}

TEST(SlotBundle, CountCapsEntriesNotTotal) {
  ss::BuildReport report;
  const auto b = build(query("_include=Slot:schedule&_include:iterate=Schedule:actor&_count=1"), agenda(), &report);
  EXPECT_EQ(b.at("total").as_int64(), 3);
  EXPECT_EQ(slot_ids(b), std::vector<std::string>{"s2"});
  EXPECT_EQ(bv::entry_count(b), 4u);
  EXPECT_EQ(report.emitted, 1u);
  const auto zero = build(query("_count=0"), agenda());
  EXPECT_EQ(zero.at("total").as_int64(), 3);
  EXPECT_EQ(zero.if_contains("entry"), nullptr);
}

TEST(SlotBundle, VendorIdsThatAreNotFhirIdsAreMadeValidAndStable) {
  pb::SearchSlotsResponse r;
  practitioner(r, "praticien n°1", kMarcel, "MARCEL");
  place(r, "cabinet/1", "praticien n°1", {"x"}, "75001", "PARIS");
  place(r, "cabinet 1", "praticien n°1", {"y"}, "75001", "PARIS");
  slot(r, "slot_1", "cabinet/1", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00");
  slot(r, "slot:1", "cabinet 1", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00");
  slot(r, std::string(100, 'a'), "cabinet 1", "2026-01-13T10:00:00+01:00", "2026-01-13T10:30:00+01:00");
  const auto b = build(query(), r);
  ASSERT_EQ(b.at("total").as_int64(), 3);
  std::set<std::string> urls;
  for (const auto& e : b.at("entry").as_array()) {
    const auto& res = e.at("resource").as_object();
    EXPECT_TRUE(bv::valid_fhir_id(res.at("id").as_string())) << res.at("id").as_string();
    EXPECT_TRUE(urls.insert(std::string(e.at("fullUrl").as_string())).second) << "duplicate fullUrl";
  }
  EXPECT_EQ(bv::resources(b, "Schedule").size(), 2u);
  // Every reference resolves inside the bundle.
  for (const auto* s : bv::resources(b, "Slot")) {
    const auto* sched = bv::resolve(b, bv::ref(s->at("schedule")));
    ASSERT_NE(sched, nullptr);
    ASSERT_NE(bv::actor(b, *sched, "Practitioner"), nullptr);
    ASSERT_NE(bv::actor(b, *sched, "PractitionerRole"), nullptr);
  }
  EXPECT_EQ(sas::host::fhir::serialize(build(query(), r)), sas::host::fhir::serialize(b));
}

TEST(SlotBundle, ParisOffsetsAcrossDaylightSavingAndUtcOption) {
  auto r = ss::parse_slot_query(
      "/Slot?start=ge2026-03-28T00:00:00Z&start=le2026-03-30T00:00:00Z&status=free"
      "&schedule.actor:Practitioner.identifier=810002673899");
  const auto q = std::get<ss::ParsedSlotQuery>(r);
  pb::SearchSlotsResponse resp;
  practitioner(resp, "p", kMarcel, "MARCEL");
  place(resp, "pl", "p", {"x"}, "75001", "PARIS");
  slot(resp, "w", "pl", "2026-03-28T09:00:00Z", "2026-03-28T09:30:00Z");
  slot(resp, "s", "pl", "2026-03-29T09:00:00Z", "2026-03-29T09:30:00Z");
  const auto b = build(q, resp);
  EXPECT_EQ(by_id(b, "Slot", "w").at("start").as_string(), "2026-03-28T10:00:00.000+01:00");
  EXPECT_EQ(by_id(b, "Slot", "s").at("start").as_string(), "2026-03-29T11:00:00.000+02:00");
  auto o = options();
  o.paris_offsets = false;
  const auto utc = build(q, resp, nullptr, o);
  EXPECT_EQ(by_id(utc, "Slot", "s").at("end").as_string(), "2026-03-29T09:30:00.000+00:00");
}

TEST(SlotBundle, NothingEmptyWhenTheVendorKnowsLittle) {
  pb::SearchSlotsResponse r;
  auto& p = practitioner(r, "p", kMarcel, "");
  specialty(p, "", "");
  place(r, "pl", "p", {"", " ", "1 rue X"}, "47000", "AGEN");  // the address the profile requires, nothing more
  auto& s = slot(r, "s", "pl", "2026-01-13T09:00:00+01:00", "2026-01-13T09:30:00+01:00");
  s.add_modes(pb::MODE_UNSPECIFIED);
  s.add_motives(" ");
  s.set_booking_url("");
  ss::BuildReport report;
  auto o = options();
  o.place_identifier_system.clear();             // falls back to the base URL
  const auto b = build(query(), r, &report, o);  // build() checks for empty elements
  EXPECT_EQ(b.at("total").as_int64(), 1);
  const auto& role = by_id(b, "PractitionerRole", "pl");
  EXPECT_EQ(role.at("contained").as_array()[0].at("identifier").as_array()[0].at("system").as_string(), kBase);
  EXPECT_EQ(by_id(b, "Practitioner", "p").if_contains("name"), nullptr);
  EXPECT_GE(report.warnings.size(), 2u);  // no name, no organization
}

TEST(SlotBundle, ServiceTypeModesDedupedThenMotives) {
  pb::SearchSlotsResponse r = agenda();
  auto* s = r.mutable_slots(0);
  s->add_modes(pb::MODE_AT_PRACTICE);
  s->add_motives("Visite de contrôle");
  s->add_motives(" Renouvellement ");
  const auto b = build(query(), r);
  const auto& st = by_id(b, "Slot", "s1").at("serviceType").as_array();
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].at("coding").as_array()[0].at("code").as_string(), "AMB");
  EXPECT_EQ(st[1].at("coding").as_array()[0].at("code").as_string(), "VR");
  EXPECT_EQ(st[2].at("text").as_string(), "Visite de contrôle");
  EXPECT_EQ(st[3].at("text").as_string(), "Renouvellement");
}

// 25 practitioners x 2 places x 7 days x 20 free slots, plus as many busy ones the host must
// drop: every free slot reaches the Bundle once. (How fast: benchmarks/slot_search.)
TEST(SlotBundle, ThousandsOfSlotsAllReachTheBundle) {
  pb::SearchSlotsResponse r;
  std::string ids;
  const auto day0 = epoch("2026-01-12T08:00:00+01:00");
  for (int p = 0; p < 25; ++p) {
    const std::string rpps = "8100000000" + std::string(p < 10 ? "0" : "") + std::to_string(p);
    ids += (p ? "," : "") + std::string("urn:oid:1.2.250.1.71.4.2.1|") + rpps;
    auto& pr = practitioner(r, "p" + std::to_string(p), rpps.substr(1), "NOM", {"Prénom"});
    specialty(pr, "SM54");
    for (int pl = 0; pl < 2; ++pl) {
      const std::string place_id = "p" + std::to_string(p) + "-l" + std::to_string(pl);
      place(r, place_id, pr.id(), {"1 rue X"}, "75001", "PARIS").set_finess("750000001");
      for (int d = 0; d < 7; ++d) {
        for (int k = 0; k < 40; ++k) {
          auto& s = *r.add_slots();
          s.set_id(place_id + "-" + std::to_string(d) + "-" + std::to_string(k));
          s.set_place_id(place_id);
          s.set_start(day0 + d * 86400 + k * 900);
          s.set_end(s.start() + 900);
          s.set_status(k % 2 ? pb::SLOT_FREE : pb::SLOT_BUSY);
          s.add_audiences(pb::AUDIENCE_PUBLIC);
          s.add_modes(pb::MODE_AT_PRACTICE);
          s.add_motives("Consultation");
          s.set_booking_url("https://x/rdv");
        }
      }
    }
  }
  const auto q = query("_include=Slot:schedule&_include:iterate=Schedule:actor", ids);
  const auto b = ss::build_search_bundle(q, r, options());
  EXPECT_EQ(b.at("total").as_int64(), 25 * 2 * 7 * 20);
  std::set<std::string> slot_ids;
  std::size_t schedules = 0;
  for (const auto& entry : b.at("entry").as_array()) {
    const auto& resource = entry.at("resource").as_object();
    if (resource.at("resourceType") == "Slot") {
      EXPECT_EQ(entry.at("search").at("mode"), "match");
      slot_ids.insert(std::string(resource.at("id").as_string()));
    }
    if (resource.at("resourceType") == "Schedule") ++schedules;
  }
  EXPECT_EQ(slot_ids.size(), 25U * 2 * 7 * 20);
  EXPECT_EQ(schedules, 25U * 2);  // one per consultation place
  const std::string json = sas::host::fhir::serialize(boost::json::object(b));
  EXPECT_EQ(boost::json::parse(json).at("total").as_int64(), 25 * 2 * 7 * 20);
}
