// GOLDEN comparisons of an SOS Médecins searchset Bundle against the IG's official
// Bundle-ExampleBundleAgregateurSOS, shared by the in-process golden test (bundle built from the
// hand-written plugin response of sos_agenda.hpp) and the end-to-end one (the real sas-host over
// mutual TLS on the same agenda written to SQLite). Expected values are read from the official
// file, never copied here; only ids, narrative and base URLs may differ.
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
#include "sas/host/sos_search/query.hpp"
#include "sas_test/support.hpp"

namespace sas::test::sos_golden {

namespace json = boost::json;

// The official self link's origin and path (the Schedule search's base).
inline constexpr const char* kOfficialSelfBase = "https://editeur.fr";

inline json::object official() {
  const auto path = sas::test::ig_dir() / "example" / "Bundle-ExampleBundleAgregateurSOS.json";
  return json::parse(sas::test::read_file(path)).as_object();
}

inline std::string official_self_link(const json::object& bundle) {
  for (const auto& l : bundle.at("link").as_array()) {
    if (l.at("relation").as_string() == "self") return std::string(l.at("url").as_string());
  }
  return {};
}

inline const json::array& entries(const json::object& bundle) { return bundle.at("entry").as_array(); }

inline std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? "<absent>" : json::serialize(*v);
}

// The index of the entry a "Type/id" reference names, or -1.
inline long entry_of(const json::object& bundle, const json::value& reference) {
  const auto* target = sas::test::bundle::resolve(bundle, sas::test::bundle::ref(reference));
  const auto& list = entries(bundle);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (&list[i].at("resource").as_object() == target) return static_cast<long>(i);
  }
  return -1;
}

// Bundle-level members; the self link carries the same search; fullUrls are `base_url`/Type/id.
inline void expect_bundle_level(const json::object& expected, const json::object& actual, std::string_view base_url) {
  namespace sos = sas::host::sos_search;
  ASSERT_FALSE(actual.empty());
  for (const char* key : {"resourceType", "type", "meta", "total"}) {
    EXPECT_EQ(str(actual, key), str(expected, key)) << key;
  }
  EXPECT_EQ(sas::test::bundle::empty_paths(actual), std::vector<std::string>{});
  const auto again = sos::parse_sos_query(std::string(actual.at("link").as_array()[0].at("url").as_string()));
  const auto orig = sos::parse_sos_query(official_self_link(expected));
  ASSERT_TRUE(std::holds_alternative<sos::ParsedSosQuery>(orig));
  ASSERT_TRUE(std::holds_alternative<sos::ParsedSosQuery>(again));
  const auto& a = std::get<sos::ParsedSosQuery>(again);
  const auto& o = std::get<sos::ParsedSosQuery>(orig);
  EXPECT_EQ(a.association_sirets, o.association_sirets);
  EXPECT_EQ(a.start_from, o.start_from);
  EXPECT_EQ(a.start_to, o.start_to);
  EXPECT_EQ(a.count, o.count);
  EXPECT_EQ(actual.at("link").as_array()[0].at("url").as_string().find(std::string(base_url) + "/Schedule?"), 0U);
  for (const auto& e : entries(actual)) {
    const auto& r = e.at("resource").as_object();
    EXPECT_EQ(e.at("fullUrl").as_string(), std::string(base_url) + "/" + std::string(r.at("resourceType").as_string()) +
                                               "/" + std::string(r.at("id").as_string()));
  }
}

// The same entries in the same order: resource type and search.mode, one by one.
inline void expect_same_entry_sequence(const json::object& expected, const json::object& actual) {
  const auto& exp = entries(expected);
  const auto& act = entries(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (std::size_t i = 0; i < exp.size(); ++i) {
    SCOPED_TRACE("entry " + std::to_string(i));
    EXPECT_EQ(act[i].at("resource").at("resourceType"), exp[i].at("resource").at("resourceType"));
    EXPECT_EQ(act[i].at("search"), exp[i].at("search"));
  }
}

// Entry by entry (the sequence is the same): every member of each resource but id and text, and
// every reference pointing at the entry at the same position as the official one's.
inline void expect_same_resources(const json::object& expected, const json::object& actual) {
  const auto& exp = entries(expected);
  const auto& act = entries(actual);
  ASSERT_EQ(act.size(), exp.size());
  for (std::size_t i = 0; i < exp.size(); ++i) {
    const auto& e = exp[i].at("resource").as_object();
    const auto& a = act[i].at("resource").as_object();
    const std::string type(e.at("resourceType").as_string());
    SCOPED_TRACE("entry " + std::to_string(i) + " (" + type + " " + std::string(e.at("id").as_string()) + ")");
    ASSERT_EQ(a.at("resourceType"), e.at("resourceType"));
    std::set<std::string> exp_keys, act_keys;
    for (const auto& m : e) {
      if (m.key() != "id" && m.key() != "text") exp_keys.insert(std::string(m.key()));
    }
    for (const auto& m : a) {
      if (m.key() != "id" && m.key() != "text") act_keys.insert(std::string(m.key()));
    }
    EXPECT_EQ(act_keys, exp_keys);
    // References: to the same position; their members compared that way, the others as values.
    const std::set<std::string> references = {"schedule", "actor", "managingOrganization"};
    for (const auto& key : exp_keys) {
      if (!a.contains(key)) continue;
      if (!references.contains(key)) {
        EXPECT_EQ(str(a, key), str(e, key)) << key;
        continue;
      }
      const auto& ev = e.at(key);
      const auto& av = a.at(key);
      if (ev.is_array()) {
        ASSERT_TRUE(av.is_array()) << key;
        ASSERT_EQ(av.as_array().size(), ev.as_array().size()) << key;
        for (std::size_t k = 0; k < ev.as_array().size(); ++k) {
          EXPECT_EQ(entry_of(actual, av.as_array()[k]), entry_of(expected, ev.as_array()[k])) << key;
          EXPECT_NE(entry_of(actual, av.as_array()[k]), -1) << key << " resolves";
        }
      } else {
        EXPECT_EQ(entry_of(actual, av), entry_of(expected, ev)) << key;
        EXPECT_NE(entry_of(actual, av), -1) << key << " resolves";
      }
    }
  }
}

}  // namespace sas::test::sos_golden
