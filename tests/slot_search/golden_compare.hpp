// GOLDEN comparisons of a searchset Bundle against the IG's official Bundle-ExampleBundlePSIndiv,
// shared by the in-process golden test (golden_test.cpp: bundle built from a hand-written plugin
// response) and the end-to-end one (tests/e2e: the real sas-host over mutual TLS on the same
// agenda written to SQLite). Expected values are read from the official file (never copied
// here); only ids, narrative, base URLs and the time zone offset of the (equal) instants may
// differ.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas_test/support.hpp"

namespace sas::test::golden {

namespace json = boost::json;

inline constexpr const char* kSpecialtySystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
inline constexpr const char* kVendorPlaceSystem = "urn:oid:1.1.111.1.111.1.1.1";  // the example vendor's OID

inline json::object official() {
  const auto path = sas::test::ig_dir() / "example" / "Bundle-ExampleBundlePSIndiv.json";
  return json::parse(sas::test::read_file(path)).as_object();
}

inline std::string official_self_link(const json::object& bundle) {
  for (const auto& l : bundle.at("link").as_array()) {
    if (l.at("relation").as_string() == "self") return std::string(l.at("url").as_string());
  }
  return {};
}

// Slots keyed by their start instant (distinct in the example).
inline std::map<sas::sdk::datetime::Instant, const json::object*> slots_by_start(const json::object& bundle) {
  std::map<sas::sdk::datetime::Instant, const json::object*> out;
  for (const auto* s : sas::test::bundle::resources(bundle, "Slot"))
    out[sas::test::bundle::instant(s->at("start"))] = s;
  return out;
}

inline const json::value* member(const json::object& o, std::string_view key) { return o.if_contains(key); }

inline std::string str(const json::value* v) { return v == nullptr ? "<absent>" : json::serialize(*v); }

// The coded TRE_R38 specialties and the text-only ones of a Slot.
struct Specialties {
  std::set<std::string> codes;
  std::set<std::string> texts;
};

inline Specialties specialties(const json::object& slot) {
  Specialties out;
  if (const auto* sp = slot.if_contains("specialty")) {
    for (const auto& cc : sp->as_array()) {
      if (const auto* coding = cc.as_object().if_contains("coding")) {
        for (const auto& c : coding->as_array()) {
          EXPECT_EQ(c.at("system").as_string(), kSpecialtySystem);
          out.codes.insert(std::string(c.at("code").as_string()));
        }
      } else {
        out.texts.insert(std::string(cc.at("text").as_string()));
      }
    }
  }
  return out;
}

// Bundle-level members, entry counts per type, the self link's search, fullUrls (`base_url` +
// "/Type/id") and search modes.
inline void expect_bundle_level(const json::object& expected, const json::object& actual, std::string_view base_url) {
  namespace ss = sas::host::slot_search;
  namespace bv = sas::test::bundle;
  ASSERT_FALSE(actual.empty());
  EXPECT_EQ(actual.at("resourceType"), expected.at("resourceType"));
  EXPECT_EQ(actual.at("type"), expected.at("type"));
  EXPECT_EQ(actual.at("meta"), expected.at("meta"));
  EXPECT_EQ(actual.at("total"), expected.at("total"));
  EXPECT_EQ(bv::empty_paths(actual), std::vector<std::string>{});
  for (const char* type : {"Slot", "Schedule", "Practitioner", "PractitionerRole"}) {
    EXPECT_EQ(bv::resources(actual, type).size(), bv::resources(expected, type).size()) << type;
  }
  // The self link carries the same search (reparsed: same ids and window).
  const auto again = ss::parse_slot_query(std::string(actual.at("link").as_array()[0].at("url").as_string()));
  const auto orig = ss::parse_slot_query(official_self_link(expected));
  ASSERT_TRUE(std::holds_alternative<ss::ParsedSlotQuery>(again));
  const auto& a = std::get<ss::ParsedSlotQuery>(again);
  const auto& o = std::get<ss::ParsedSlotQuery>(orig);
  EXPECT_EQ(a.practitioner_ids, o.practitioner_ids);
  EXPECT_EQ(a.start_from, o.start_from);
  EXPECT_EQ(a.start_to, o.start_to);
  EXPECT_EQ(a.count, o.count);
  // Every entry: fullUrl = base/Type/id, search.mode by role.
  for (const auto& e : actual.at("entry").as_array()) {
    const auto& r = e.at("resource").as_object();
    const std::string type(r.at("resourceType").as_string());
    EXPECT_EQ(e.at("fullUrl").as_string(),
              std::string(base_url) + "/" + type + "/" + std::string(r.at("id").as_string()));
    EXPECT_EQ(e.at("search").at("mode").as_string(), type == "Slot" ? "match" : "include");
  }
}

inline void expect_same_slots(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  const auto exp = slots_by_start(expected);
  const auto act = slots_by_start(actual);
  ASSERT_EQ(exp.size(), 4u);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    SCOPED_TRACE("slot starting " + std::string(e->at("start").as_string()));
    ASSERT_TRUE(act.contains(start));
    const auto& a = *act.at(start);
    EXPECT_EQ(bv::instant(a.at("end")), bv::instant(e->at("end")));
    EXPECT_NE(a.at("start").as_string().find(".000"), std::string::npos) << "milliseconds, as in the example";
    EXPECT_EQ(a.at("status"), e->at("status"));
    EXPECT_EQ(a.at("meta"), e->at("meta")) << "profile and every slot type, in the example's order";
    EXPECT_EQ(str(member(a, "serviceType")), str(member(*e, "serviceType"))) << "modes as codings, then motives";
    EXPECT_EQ(str(member(a, "appointmentType")), str(member(*e, "appointmentType")));
    EXPECT_EQ(str(member(a, "comment")), str(member(*e, "comment")));
    // Specialties: every specialty of the official slot is present, and nothing beyond what
    // the official bundle shows for the same practitioner (the exact per-slot comparison is
    // expect_per_slot_specialties_match_exactly).
    const auto exp_sp = specialties(*e);
    const auto act_sp = specialties(a);
    for (const auto& c : exp_sp.codes) EXPECT_TRUE(act_sp.codes.contains(c)) << "missing specialty " << c;
    for (const auto& t : exp_sp.texts) EXPECT_TRUE(act_sp.texts.contains(t)) << "missing specialty text " << t;
    const auto* e_sched = bv::resolve(expected, bv::ref(e->at("schedule")));
    ASSERT_NE(e_sched, nullptr);
    const std::string e_practitioner = bv::ref(e_sched->at("actor").as_array()[0]);
    Specialties all;
    for (const auto& [s, other] : exp) {
      const auto* sched = bv::resolve(expected, bv::ref(other->at("schedule")));
      if (bv::ref(sched->at("actor").as_array()[0]) != e_practitioner) continue;
      const auto sp = specialties(*other);
      all.codes.insert(sp.codes.begin(), sp.codes.end());
      all.texts.insert(sp.texts.begin(), sp.texts.end());
    }
    for (const auto& c : act_sp.codes) EXPECT_TRUE(all.codes.contains(c)) << "extra specialty " << c;
    for (const auto& t : act_sp.texts) EXPECT_TRUE(all.texts.contains(t)) << "extra specialty text " << t;
  }
}

inline void expect_same_schedule_structure(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  const auto exp = slots_by_start(expected);
  const auto act = slots_by_start(actual);
  ASSERT_EQ(act.size(), exp.size());
  // Two slots share a Schedule (resp. a Practitioner) in ours exactly when they do in the example.
  for (const auto& [t1, e1] : exp) {
    for (const auto& [t2, e2] : exp) {
      const auto* es1 = bv::resolve(expected, bv::ref(e1->at("schedule")));
      const auto* es2 = bv::resolve(expected, bv::ref(e2->at("schedule")));
      const auto* as1 = bv::resolve(actual, bv::ref(act.at(t1)->at("schedule")));
      const auto* as2 = bv::resolve(actual, bv::ref(act.at(t2)->at("schedule")));
      ASSERT_TRUE(es1 && es2 && as1 && as2);
      EXPECT_EQ(es1 == es2, as1 == as2);
      EXPECT_EQ(bv::actor(expected, *es1, "Practitioner") == bv::actor(expected, *es2, "Practitioner"),
                bv::actor(actual, *as1, "Practitioner") == bv::actor(actual, *as2, "Practitioner"));
    }
  }
}

inline void expect_same_practitioners_roles_locations(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  const auto exp = slots_by_start(expected);
  const auto act = slots_by_start(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    SCOPED_TRACE("slot starting " + std::string(e->at("start").as_string()));
    const auto* es = bv::resolve(expected, bv::ref(e->at("schedule")));
    const auto* as = bv::resolve(actual, bv::ref(act.at(start)->at("schedule")));
    ASSERT_TRUE(es && as);
    EXPECT_EQ(as->at("meta"), es->at("meta"));
    ASSERT_EQ(as->at("actor").as_array().size(), es->at("actor").as_array().size());
    // Actors in the same order: Practitioner then PractitionerRole.
    for (std::size_t i = 0; i < es->at("actor").as_array().size(); ++i) {
      const auto e_ref = bv::ref(es->at("actor").as_array()[i]);
      const auto a_ref = bv::ref(as->at("actor").as_array()[i]);
      EXPECT_EQ(e_ref.substr(0, e_ref.find('/')), a_ref.substr(0, a_ref.find('/')));
    }

    const auto* ep = bv::actor(expected, *es, "Practitioner");
    const auto* ap = bv::actor(actual, *as, "Practitioner");
    ASSERT_TRUE(ep && ap);
    EXPECT_EQ(ap->at("meta"), ep->at("meta"));
    EXPECT_EQ(ap->at("identifier"), ep->at("identifier")) << "IDNPS, prefixed (stored unprefixed for THOMAS)";
    EXPECT_EQ(ap->at("name"), ep->at("name"));

    const auto* er = bv::actor(expected, *es, "PractitionerRole");
    const auto* ar = bv::actor(actual, *as, "PractitionerRole");
    ASSERT_TRUE(er && ar);
    EXPECT_EQ(ar->at("meta"), er->at("meta"));
    EXPECT_EQ(bv::resolve(actual, bv::ref(ar->at("practitioner"))), ap) << "role -> the schedule's practitioner";
    EXPECT_EQ(str(member(*ar, "organization")), str(member(*er, "organization"))) << "IDNST, prefixed FINESS";
    EXPECT_EQ(str(member(*ar, "telecom")), str(member(*er, "telecom"))) << "+33";
    ASSERT_EQ(ar->at("location").as_array().size(), 1u);
    ASSERT_EQ(ar->at("contained").as_array().size(), er->at("contained").as_array().size());
    const auto* el = bv::contained(*er, bv::ref(er->at("location").as_array()[0]));
    const auto* al = bv::contained(*ar, bv::ref(ar->at("location").as_array()[0]));
    ASSERT_TRUE(el && al) << "location references the contained Location";
    EXPECT_EQ(al->at("resourceType"), el->at("resourceType"));
    EXPECT_EQ(al->at("meta"), el->at("meta"));
    EXPECT_EQ(al->at("address"), el->at("address"));
    // The INTRN identifier: same type and system; its value is the vendor's place id (an id).
    const auto& ei = el->at("identifier").as_array();
    const auto& ai = al->at("identifier").as_array();
    ASSERT_EQ(ai.size(), ei.size());
    EXPECT_EQ(ai[0].at("type"), ei[0].at("type"));
    EXPECT_EQ(ai[0].at("system"), ei[0].at("system"));
    EXPECT_FALSE(ai[0].at("value").as_string().empty());
    // Nothing in ours that the example's role does not have (narrative aside).
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

inline void expect_same_members(const json::object& expected, const json::object& actual) {
  namespace bv = sas::test::bundle;
  // For each type, the union of member names (narrative aside) is the same.
  for (const char* type : {"Slot", "Schedule", "Practitioner", "PractitionerRole"}) {
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

// The example gives two slots of one practitioner different specialties
// (ExampleSlotPSIndiv3: SM41 + "Pneumologie"; ExampleSlotPSIndiv4: SM41 + SM54): each slot's
// specialty element must be exactly the official one.
inline void expect_per_slot_specialties_match_exactly(const json::object& expected, const json::object& actual) {
  const auto exp = slots_by_start(expected);
  const auto act = slots_by_start(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    ASSERT_TRUE(act.contains(start));
    EXPECT_EQ(str(member(*act.at(start), "specialty")), str(member(*e, "specialty")));
  }
}

}  // namespace sas::test::golden
