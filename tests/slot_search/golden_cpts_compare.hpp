// GOLDEN comparisons of an INT_R04 (CPTS) searchset Bundle against the IG's official
// Bundle-ExampleBundleCPTS1 and Bundle-ExampleBundleCPTS2, shared by the in-process golden test
// (cpts_golden_test.cpp: bundle built from a hand-written plugin response) and the end-to-end one
// (tests/e2e/cpts_e2e_test.cpp: the real sas-host over mutual TLS on the same agenda written to
// SQLite). Expected values are read from the official files (never copied here); only ids,
// narrative, base URLs and the time zone offset of the (equal) instants may differ. References
// are compared by what they lead to (Slot -> HealthcareService -> Organization), not by id.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "golden_compare.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas_test/support.hpp"

namespace sas::test::golden_cpts {

namespace json = boost::json;

inline constexpr const char* kServiceTypeR5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";

// Bundle-ExampleBundleCPTS1.json (example 1) or Bundle-ExampleBundleCPTS2.json (example 2).
inline json::object official(int example) {
  const auto path = sas::test::ig_dir() / "example" / ("Bundle-ExampleBundleCPTS" + std::to_string(example) + ".json");
  return json::parse(sas::test::read_file(path)).as_object();
}

// The resource types of the entries, in order.
inline std::vector<std::string> entry_types(const json::object& bundle) {
  std::vector<std::string> out;
  if (const auto* entries = bundle.if_contains("entry")) {
    for (const auto& e : entries->as_array()) out.emplace_back(e.at("resource").at("resourceType").as_string());
  }
  return out;
}

// The Organization a HealthcareService reference leads to (nullptr when the chain breaks).
inline const json::object* cpts_organization(const json::object& bundle, const json::value& reference) {
  namespace bv = sas::test::bundle;
  const auto* service = bv::resolve(bundle, bv::ref(reference));
  if (service == nullptr || !service->contains("providedBy")) return nullptr;
  return bv::resolve(bundle, bv::ref(service->at("providedBy")));
}

inline constexpr const char* kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

// A Slot's serviceType with each HealthcareService reference replaced by the identifier of the
// Organization it leads to, so that two Bundles with different ids compare equal exactly when
// their chains end at the same CPTS.
//
// One known divergence is normalised: Bundle-ExampleBundleCPTS2 writes its motive as the text of
// its AMB concept ({"coding": [AMB], "text": "Visite de contrôle"}), where Bundle-ExampleBundleCPTS1,
// Bundle-ExampleBundlePSIndiv and the FAQ (error 5) keep each motive as its own {"text"} after the
// coded entries. Such a text is moved to its own element at the end, where the host writes it.
inline json::value resolved_service_types(const json::object& bundle, const json::object& slot) {
  const auto* list = slot.if_contains("serviceType");
  if (list == nullptr) return nullptr;
  json::value out = *list;
  json::array motives_of_modes;
  for (auto& service_type : out.as_array()) {
    auto& concept_ = service_type.as_object();
    const auto* coding = concept_.if_contains("coding");
    if (coding != nullptr && concept_.contains("text") && !concept_.contains("extension") &&
        coding->as_array().size() == 1 && coding->as_array()[0].at("system") == kActCodeSystem) {
      motives_of_modes.emplace_back(json::object{{"text", concept_.at("text")}});
      concept_.erase("text");
    }
  }
  for (auto& motive : motives_of_modes) out.as_array().emplace_back(std::move(motive));
  for (auto& service_type : out.as_array()) {
    auto* extensions = service_type.as_object().if_contains("extension");
    if (extensions == nullptr) continue;
    for (auto& extension : extensions->as_array()) {
      auto& e = extension.as_object();
      if (e.at("url").as_string() != kServiceTypeR5 || !e.contains("valueReference")) continue;
      const auto* organization = cpts_organization(bundle, e.at("valueReference"));
      e["valueReference"] = json::object{
          {"leads to", organization == nullptr ? json::value("<broken chain>") : organization->at("identifier")}};
    }
  }
  return out;
}

// Bundle-level members, the entries' types in order (Slot, Schedule, Practitioner,
// PractitionerRole, then each HealthcareService followed by its Organization), the self link's
// search, fullUrls (`base_url` + "/Type/id") and search modes.
inline void expect_bundle_level(const json::object& expected, const json::object& actual, std::string_view base_url) {
  namespace ss = sas::host::slot_search;
  namespace bv = sas::test::bundle;
  ASSERT_FALSE(actual.empty());
  EXPECT_EQ(actual.at("resourceType"), expected.at("resourceType"));
  EXPECT_EQ(actual.at("type"), expected.at("type"));
  EXPECT_EQ(actual.at("meta"), expected.at("meta")) << "sas-cpts-bundle-aggregator";
  EXPECT_EQ(actual.at("total"), expected.at("total"));
  EXPECT_EQ(bv::empty_paths(actual), std::vector<std::string>{});
  EXPECT_EQ(entry_types(actual), entry_types(expected)) << "includes follow their first Slot, in the example's order";
  // The self link carries the same search (reparsed: same ids, window, and still the CPTS one).
  ASSERT_EQ(actual.at("link").as_array().size(), 1u);
  const auto again = ss::parse_slot_query(std::string(actual.at("link").as_array()[0].at("url").as_string()));
  const auto orig = ss::parse_slot_query(golden::official_self_link(expected));
  ASSERT_TRUE(std::holds_alternative<ss::ParsedSlotQuery>(again));
  ASSERT_TRUE(std::holds_alternative<ss::ParsedSlotQuery>(orig));
  const auto& a = std::get<ss::ParsedSlotQuery>(again);
  const auto& o = std::get<ss::ParsedSlotQuery>(orig);
  EXPECT_EQ(a.practitioner_ids, o.practitioner_ids);
  EXPECT_EQ(a.start_from, o.start_from);
  EXPECT_EQ(a.start_to, o.start_to);
  EXPECT_EQ(a.count, o.count);
  EXPECT_TRUE(o.cpts);
  EXPECT_TRUE(a.cpts);
  for (const auto& e : actual.at("entry").as_array()) {
    const auto& r = e.at("resource").as_object();
    const std::string type(r.at("resourceType").as_string());
    EXPECT_EQ(e.at("fullUrl").as_string(),
              std::string(base_url) + "/" + type + "/" + std::string(r.at("id").as_string()));
    EXPECT_EQ(e.at("search").at("mode").as_string(), type == "Slot" ? "match" : "include");
  }
}

// Each Slot, element by element: meta (profile, and every slot type in the example's order),
// serviceType (modes, then one 604 coding per CPTS whose reference leads to the same CPTS, then
// motives), specialty, appointmentType, status, the instants, comment.
inline void expect_same_slots(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  const auto exp = golden::slots_by_start(expected);
  const auto act = golden::slots_by_start(actual);
  ASSERT_FALSE(exp.empty());
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    SCOPED_TRACE("slot starting " + std::string(e->at("start").as_string()));
    ASSERT_TRUE(act.contains(start));
    const auto& a = *act.at(start);
    EXPECT_EQ(bv::instant(a.at("end")), bv::instant(e->at("end")));
    EXPECT_NE(a.at("start").as_string().find(".000"), std::string::npos) << "milliseconds, as in the example";
    EXPECT_EQ(a.at("status"), e->at("status"));
    EXPECT_EQ(a.at("meta"), e->at("meta")) << "sas-cpts-slot-aggregator and every slot type, CPTS last";
    EXPECT_EQ(json::serialize(resolved_service_types(actual, a)), json::serialize(resolved_service_types(expected, *e)))
        << "modes, then each CPTS (604 + the R5 reference to its HealthcareService), then motives";
    EXPECT_EQ(golden::str(golden::member(a, "specialty")), golden::str(golden::member(*e, "specialty")));
    EXPECT_EQ(golden::str(golden::member(a, "appointmentType")), golden::str(golden::member(*e, "appointmentType")));
    EXPECT_EQ(golden::str(golden::member(a, "comment")), golden::str(golden::member(*e, "comment")));
    ASSERT_NE(bv::resolve(actual, bv::ref(a.at("schedule"))), nullptr) << "the Slot's Schedule is in the Bundle";
  }
}

// Schedule, Practitioner and PractitionerRole of each slot, as in the example.
inline void expect_same_schedule_practitioner_role(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  const auto exp = golden::slots_by_start(expected);
  const auto act = golden::slots_by_start(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    SCOPED_TRACE("slot starting " + std::string(e->at("start").as_string()));
    ASSERT_TRUE(act.contains(start));
    const auto* es = bv::resolve(expected, bv::ref(e->at("schedule")));
    const auto* as = bv::resolve(actual, bv::ref(act.at(start)->at("schedule")));
    ASSERT_TRUE(es && as);
    EXPECT_EQ(as->at("meta"), es->at("meta"));
    ASSERT_EQ(as->at("actor").as_array().size(), es->at("actor").as_array().size());
    for (std::size_t i = 0; i < es->at("actor").as_array().size(); ++i) {
      const auto e_ref = bv::ref(es->at("actor").as_array()[i]);
      const auto a_ref = bv::ref(as->at("actor").as_array()[i]);
      EXPECT_EQ(e_ref.substr(0, e_ref.find('/')), a_ref.substr(0, a_ref.find('/')));
    }

    const auto* ep = bv::actor(expected, *es, "Practitioner");
    const auto* ap = bv::actor(actual, *as, "Practitioner");
    ASSERT_TRUE(ep && ap);
    EXPECT_EQ(ap->at("meta"), ep->at("meta"));
    EXPECT_EQ(ap->at("identifier"), ep->at("identifier")) << "IDNPS, prefixed (stored unprefixed)";
    EXPECT_EQ(ap->at("name"), ep->at("name"));

    const auto* er = bv::actor(expected, *es, "PractitionerRole");
    const auto* ar = bv::actor(actual, *as, "PractitionerRole");
    ASSERT_TRUE(er && ar);
    EXPECT_EQ(ar->at("meta"), er->at("meta"));
    EXPECT_EQ(bv::resolve(actual, bv::ref(ar->at("practitioner"))), ap) << "role -> the schedule's practitioner";
    // The examples write the structure's identifier as its value alone; ours also carries the
    // IDNST type and the system, as FrPractitionerRoleExerciceAgregateur and the INT_R01
    // example (Bundle-ExampleBundlePSIndiv) have them.
    const auto& e_org = er->at("organization").at("identifier");
    const auto& a_org = ar->at("organization").at("identifier");
    EXPECT_EQ(a_org.at("value"), e_org.at("value")) << "RPPS-rang, prefixed 4";
    EXPECT_EQ(a_org.at("system").as_string(), "urn:oid:1.2.250.1.71.4.2.2");
    EXPECT_EQ(golden::str(golden::member(*ar, "telecom")), golden::str(golden::member(*er, "telecom"))) << "+33";
    ASSERT_EQ(ar->at("location").as_array().size(), 1u);
    ASSERT_EQ(ar->at("contained").as_array().size(), er->at("contained").as_array().size());
    const auto* el = bv::contained(*er, bv::ref(er->at("location").as_array()[0]));
    const auto* al = bv::contained(*ar, bv::ref(ar->at("location").as_array()[0]));
    ASSERT_TRUE(el && al) << "location references the contained Location";
    EXPECT_EQ(al->at("resourceType"), el->at("resourceType"));
    EXPECT_EQ(al->at("meta"), el->at("meta"));
    EXPECT_EQ(al->at("address"), el->at("address"));
    EXPECT_EQ(al->at("identifier"), el->at("identifier")) << "INTRN: the vendor's system and place id";
    for (const auto& m : *ar) {
      if (m.key() != "id") {
        EXPECT_TRUE(er->contains(m.key())) << "extra PractitionerRole." << m.key();
      }
    }
    for (const auto& m : *er) {
      if (m.key() != "id" && m.key() != "text") {
        EXPECT_TRUE(ar->contains(m.key())) << "missing PractitionerRole." << m.key();
      }
    }
  }
}

// The CPTS chain: for each slot, each 604 serviceType's HealthcareService (its profile, and
// nothing but providedBy) and the Organization it leads to (profile, IDNST identifier with the
// FR Core type system, name, +33 phone), element by element; each CPTS included once.
inline void expect_same_cpts_chain(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  EXPECT_EQ(bv::resources(actual, "HealthcareService").size(), bv::resources(expected, "HealthcareService").size());
  EXPECT_EQ(bv::resources(actual, "Organization").size(), bv::resources(expected, "Organization").size());
  const auto exp = golden::slots_by_start(expected);
  const auto act = golden::slots_by_start(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    SCOPED_TRACE("slot starting " + std::string(e->at("start").as_string()));
    ASSERT_TRUE(act.contains(start));
    // The serviceType entries that reference a HealthcareService, in order (the motives'
    // placement aside: see resolved_service_types).
    auto references = [](const json::object& slot) {
      std::vector<const json::value*> out;
      for (const auto& st : slot.at("serviceType").as_array()) {
        if (const auto* ext = st.as_object().if_contains("extension"))
          out.push_back(&ext->as_array()[0].at("valueReference"));
      }
      return out;
    };
    const auto e_refs = references(*e);
    const auto a_refs = references(*act.at(start));
    ASSERT_EQ(a_refs.size(), e_refs.size()) << "one HealthcareService reference per CPTS";
    std::size_t chains = 0;
    for (std::size_t i = 0; i < e_refs.size(); ++i) {
      ++chains;
      const auto& e_ref = *e_refs[i];
      const auto& a_ref = *a_refs[i];
      const auto* e_service = bv::resolve(expected, bv::ref(e_ref));
      const auto* a_service = bv::resolve(actual, bv::ref(a_ref));
      ASSERT_TRUE(e_service && a_service) << "the reference resolves in the Bundle";
      EXPECT_EQ(a_service->at("meta"), e_service->at("meta"));
      for (const auto& m : *a_service) {
        if (m.key() != "id") {
          EXPECT_TRUE(e_service->contains(m.key())) << "extra HealthcareService." << m.key();
        }
      }
      const auto* e_org = cpts_organization(expected, e_ref);
      const auto* a_org = cpts_organization(actual, a_ref);
      ASSERT_TRUE(e_org && a_org) << "providedBy resolves in the Bundle";
      EXPECT_EQ(a_org->at("meta"), e_org->at("meta"));
      EXPECT_EQ(a_org->at("identifier"), e_org->at("identifier")) << "IDNST, 1 + FINESS (stored unprefixed)";
      EXPECT_EQ(golden::str(golden::member(*a_org, "name")), golden::str(golden::member(*e_org, "name")));
      EXPECT_EQ(golden::str(golden::member(*a_org, "telecom")), golden::str(golden::member(*e_org, "telecom")));
      for (const auto& m : *a_org) {
        if (m.key() != "id") {
          EXPECT_TRUE(e_org->contains(m.key())) << "extra Organization." << m.key();
        }
      }
    }
    EXPECT_GT(chains, 0u) << "the example's slot is open to at least one CPTS";
  }
}

// For each type, the union of member names (narrative aside) is the same.
inline void expect_same_members(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  for (const char* type :
       {"Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService", "Organization"}) {
    std::set<std::string> e_keys, a_keys;
    for (const auto* r : bv::resources(expected, type)) {
      for (const auto& m : *r) {
        if (m.key() != "text") e_keys.insert(std::string(m.key()));
      }
    }
    for (const auto* r : bv::resources(actual, type)) {
      for (const auto& m : *r) a_keys.insert(std::string(m.key()));
    }
    EXPECT_EQ(a_keys, e_keys) << type;
  }
}

// Every comparison above.
inline void expect_matches_official(const json::object& expected, const json::object& actual,
                                    std::string_view base_url) {
  expect_bundle_level(expected, actual, base_url);
  expect_same_slots(expected, actual);
  expect_same_schedule_practitioner_role(expected, actual);
  expect_same_cpts_chain(expected, actual);
  expect_same_members(expected, actual);
}

}  // namespace sas::test::golden_cpts
