// The suite's catalogue and resource checks against the official IG package: every official
// example passes every applicable check, and mutated copies of them (made here, never
// hand-edited files) are caught by exactly the check they break.
#include <sas/conformance/catalogue.hpp>
#include <sas/conformance/report.hpp>
#include <sas/conformance/resource_checks.hpp>
#include <sas_test/support.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <set>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace sas::conformance;

const ProfileSet& profiles() {
  static const ProfileSet set = ProfileSet::load(sas::test::ig_dir());
  return set;
}

const Catalogue& catalogue() {
  static const Catalogue cat = Catalogue::build(profiles());
  return cat;
}

json::value example(const std::string& file) {
  return json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / file));
}

std::set<std::string> failing_ids(const std::vector<Finding>& findings) {
  std::set<std::string> ids;
  for (const auto& f : findings) ids.insert(f.check_id);
  return ids;
}

std::string describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.check_id + " " + f.path + ": " + f.message + "\n";
  return out;
}

TEST(Catalogue, IdsAreUniqueAndEveryCheckIsComplete) {
  std::set<std::string> ids;
  for (const auto& c : catalogue().checks()) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_FALSE(c.title.empty()) << c.id;
    EXPECT_TRUE(c.reference.starts_with("https://")) << c.id;
    EXPECT_FALSE(c.modes.empty()) << c.id;
    EXPECT_FALSE(c.flow.empty()) << c.id;
  }
  for (int i = 1; i <= 11; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "R01-FAQ-%02d", i);
    EXPECT_NE(catalogue().find(id), nullptr) << id;
  }
}

TEST(Catalogue, ProfileChecksAreGeneratedFromTheStructureDefinitions) {
  std::map<std::string, int> per_profile;
  for (const auto& c : catalogue().checks())
    if (c.group == "PROFILE") ++per_profile[c.profile_url];
  for (const char* name : {"BundleAgregateur", "FrSlotAgregateur", "FrScheduleAgregateur", "FrPractitionerAgregateur",
                           "FrPractitionerRoleExerciceAgregateur", "FrLocationAgregateur"})
    EXPECT_GT(per_profile[std::string("http://sas.fr/fhir/StructureDefinition/") + name], 5) << name;
  // One check per enforced constraint (but "empty", which is R01-FAQ-10), in the same order.
  const std::string slot = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur";
  std::vector<std::string> expected, actual;
  for (const auto& c : profiles().constraints(slot))
    if (c.enforced && c.kind != "empty") expected.push_back(c.element_id + "|" + c.kind);
  for (const auto& c : catalogue().checks())
    if (c.profile_url == slot) actual.push_back(c.element_id + "|" + c.constraint_kind);
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(catalogue().find("R01-PROFILE-SLOT-001")->profile_url, slot);
  // Deterministic numbering.
  const Catalogue again = Catalogue::build(profiles());
  ASSERT_EQ(again.checks().size(), catalogue().checks().size());
  for (std::size_t i = 0; i < again.checks().size(); ++i) EXPECT_EQ(again.checks()[i].id, catalogue().checks()[i].id);
}

TEST(Catalogue, CoverageOfAnsRequirements) {
  auto requirements =
      load_requirements(sas::test::ig_dir().parent_path() / "ans-test-kit" / "sas_test_kit_requirements.csv");
  ASSERT_EQ(requirements.size(), 49U);
  EXPECT_EQ(requirements.front().id, "agg-psindiv@1");
  std::size_t covered = 0;
  for (const auto& [req, ids] : coverage(catalogue(), requirements)) covered += ids.empty() ? 0 : 1;
  EXPECT_GE(covered, 40U);
}

TEST(OfficialExamples, PassEveryApplicableCheck) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(sas::test::ig_dir() / "example")) {
    const std::string name = entry.path().filename().string();
    auto findings = check_document(catalogue(), profiles(), json::parse(sas::test::read_file(entry.path())), name);
    EXPECT_TRUE(findings.empty()) << name << ":\n" << describe(findings);
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

// --- Mutation self-test ---------------------------------------------------------------------------

json::object& first(json::value& bundle, const std::string& type) {
  for (auto& e : bundle.as_object()["entry"].as_array()) {
    auto& r = e.as_object()["resource"].as_object();
    if (r["resourceType"] == type.c_str()) return r;
  }
  throw std::runtime_error("no " + type);
}

struct Mutation {
  std::string check_id;
  std::string file;
  std::function<void(json::value&)> mutate;
  SearchContext context = {};
};

std::vector<Mutation> written_mutations() {
  const std::string psindiv = "Bundle-ExampleBundlePSIndiv.json";
  const std::string cpts = "Bundle-ExampleBundleCPTS1.json";
  SearchContext window;
  window.from = std::chrono::sys_days(std::chrono::year{2021} / 11 / 4);
  window.to = std::chrono::sys_days(std::chrono::year{2021} / 11 / 7);
  SearchContext asked;
  asked.practitioners = {"810002673899"};
  return {
      {"R01-BUNDLE-001", psindiv, [](json::value& b) { b.as_object()["total"] = 7; }},
      {"R01-BUNDLE-002", psindiv,
       [](json::value& b) {
         b.as_object()["entry"].as_array()[1].as_object()["search"].as_object()["mode"] = "match";
       }},
      {"R01-BUNDLE-003", psindiv,
       [](json::value& b) {
         first(b, "Slot")["start"] = "2021-11-08T09:00:00.000+00:00";
         first(b, "Slot")["end"] = "2021-11-08T09:30:00.000+00:00";
       },
       window},
      {"R01-BUNDLE-004", psindiv, [](json::value& b) { first(b, "Slot")["end"] = "2021-11-05T08:00:00.000+00:00"; }},
      {"R01-BUNDLE-005", psindiv,
       [](json::value& b) {
         auto& entries = b.as_object()["entry"].as_array();
         entries.push_back(entries[2]);  // the Practitioner again
       }},
      {"R01-BUNDLE-006", psindiv, [](json::value& b) { first(b, "Slot")["comment"] = "call the practice"; }},
      {"R01-BUNDLE-007", psindiv, [](json::value& b) { first(b, "Slot")["start"] = "2021-11-05T09:00:00+00:00"; }},
      {"R01-BUNDLE-008", psindiv,
       [](json::value& b) {
         first(b, "Slot")["appointmentType"].as_object()["coding"].as_array()[0].as_object()["code"] = "EMERGENCY";
       }},
      {"R01-FAQ-01", psindiv,
       [](json::value& b) {
         first(b, "Practitioner")["identifier"].as_array()[0].as_object()["value"] = "10100050075";
       }},
      {"R01-FAQ-02", psindiv,
       [](json::value& b) {
         first(b, "Practitioner")["telecom"] =
             json::array{json::object{{"system", "phone"}, {"value", "05 53 00 00 00"}}};
       }},
      {"R01-FAQ-03", psindiv,
       [](json::value& b) {
         first(b, "Slot")["specialty"].as_array()[0] =
             json::object{{"coding", json::array{json::object{{"system", "urn:oid:1.2.3"}, {"code", "SM54"}}}}};
       }},
      {"R01-FAQ-04", psindiv,
       [](json::value& b) {
         first(b, "Slot")["meta"].as_object()["security"].as_array()[0].as_object()["code"] = "PRIVATE";
       }},
      {"R01-FAQ-05", psindiv,
       [](json::value& b) {
         auto& st = first(b, "Slot")["serviceType"].as_array();
         st = json::array{st.back()};  // the motive only
       }},
      {"R01-FAQ-06", psindiv,
       [](json::value& b) {
         // Typed CPTS without the serviceType → HealthcareService → Organization chain.
         first(b, "Slot")["meta"].as_object()["security"].as_array().push_back(
             json::object{{"system", "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"},
                          {"code", "CPTS"}});
       }},
      {"R01-FAQ-07", psindiv,
       [](json::value& b) {
         // The second place's PractitionerRole claims the other doctor.
         for (auto& e : b.as_object()["entry"].as_array()) {
           auto& r = e.as_object()["resource"].as_object();
           if (r["resourceType"] == "PractitionerRole" && r["id"] == "ExamplePractitionerRoleAgregateur2")
             r["practitioner"].as_object()["reference"] = "Practitioner/ExamplePractitioner3";
         }
       }},
      {"R01-FAQ-08", psindiv, [](json::value&) {}, asked},
      {"R01-FAQ-10", psindiv, [](json::value& b) { first(b, "Slot")["comment"] = "  "; }},
      {"R01-FAQ-11", cpts,
       [](json::value& b) {
         auto& slot = first(b, "Slot");
         auto& st = slot["serviceType"].as_array();
         json::value copy = st[1];
         st.push_back(copy);  // the same CPTS twice
       }},
  };
}

TEST(MutationSelfTest, EachWrittenCheckCatchesItsMutationAndOnlyIt) {
  std::set<std::string> covered;
  for (const auto& m : written_mutations()) {
    json::value original = example(m.file);
    if (m.check_id != "R01-FAQ-08") {  // R01-FAQ-08's mutation is the context (a doctor not asked for)
      auto clean = check_search_bundle(catalogue(), profiles(), original, m.file, m.context);
      EXPECT_TRUE(clean.empty()) << m.check_id << " unmutated:\n" << describe(clean);
    }
    json::value mutated = original;
    m.mutate(mutated);
    auto findings = check_search_bundle(catalogue(), profiles(), mutated, m.file, m.context);
    EXPECT_EQ(failing_ids(findings), std::set<std::string>{m.check_id}) << describe(findings);
    covered.insert(m.check_id);
  }
  // Every written check that applies to resources has its mutation.
  for (const auto& c : catalogue().checks())
    if ((c.group == "BUNDLE" || c.group == "FAQ") && c.id != "R01-FAQ-09") {
      EXPECT_TRUE(covered.contains(c.id)) << c.id << " has no mutation";
    }
}

// Profile checks: one generated mutation per check where the official search Bundle has the
// element (remove a required element, change a fixed or pattern value, use a code outside a
// required value set), and for each profile's root rules (an unknown element, a wrong JSON type).
json::value* walk(json::value& v, const std::vector<std::string>& parts, std::size_t from) {
  json::value* cur = &v;
  for (std::size_t i = from; i + 1 < parts.size(); ++i) {
    if (cur->is_array()) {
      if (cur->as_array().empty()) return nullptr;
      cur = &cur->as_array()[0];
    }
    if (!cur->is_object()) return nullptr;
    auto* next = cur->as_object().if_contains(parts[i]);
    if (!next) return nullptr;
    cur = next;
  }
  if (cur->is_array()) {
    if (cur->as_array().empty()) return nullptr;
    cur = &cur->as_array()[0];
  }
  return cur->is_object() ? cur : nullptr;
}

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  std::string part;
  for (char ch : s) {
    if (ch == c) {
      out.push_back(part);
      part.clear();
    } else {
      part += ch;
    }
  }
  out.push_back(part);
  return out;
}

// The resources of the Bundle (entries and contained) that declare `profile`.
std::vector<json::object*> declaring(json::value& bundle, const std::string& profile) {
  std::vector<json::object*> out;
  auto declares = [&](json::object& r) {
    auto* meta = r.if_contains("meta");
    auto* list = meta && meta->is_object() ? meta->as_object().if_contains("profile") : nullptr;
    if (list && list->is_array())
      for (auto& p : list->as_array())
        if (p.is_string() && p.as_string() == profile) return true;
    return false;
  };
  auto visit = [&](json::object& r) {
    if (declares(r)) out.push_back(&r);
    if (auto* contained = r.if_contains("contained"); contained && contained->is_array())
      for (auto& c : contained->as_array())
        if (declares(c.as_object())) out.push_back(&c.as_object());
  };
  visit(bundle.as_object());
  if (auto* entries = bundle.as_object().if_contains("entry"); entries && entries->is_array())
    for (auto& e : entries->as_array())
      if (auto* r = e.as_object().if_contains("resource"); r && r->is_object()) visit(r->as_object());
  return out;
}

// Applies a mutation for `check` to the first resource where it can; false when none can.
bool mutate_for(const Check& check, json::value& bundle) {
  if (check.element_id.find(':') != std::string::npos) return false;  // slices: not generated
  const auto parts = split(check.element_id, '.');
  for (json::object* resource : declaring(bundle, check.profile_url)) {
    json::value holder(*resource);
    if (parts.size() == 1) {  // root rules
      if (check.constraint_kind == "unknown-element") {
        (*resource)["notAnElement"] = "x";
        return true;
      }
      if (check.constraint_kind == "type") {
        (*resource)["id"] = 42;  // a string element sent as a number
        return true;
      }
      const std::string type(resource->at("resourceType").as_string());
      if (check.constraint_kind == "contained" && type != "Bundle" && type != "Location") {
        auto& contained = (*resource)["contained"];
        if (!contained.is_array()) contained = json::array{};
        contained.as_array().push_back(json::object{{"resourceType", "Location"}, {"id", "orphan"}});
        return true;
      }
      return false;
    }
    json::value* parent = walk(holder, parts, 1);
    if (!parent) continue;
    auto& o = parent->as_object();
    const std::string& key = parts.back();
    auto* value = o.if_contains(key);
    if (check.constraint_kind == "cardinality") {
      if (!value || check.expected.empty() || check.expected[0] == '0') continue;
      o.erase(key);
    } else if (check.constraint_kind == "fixed" || check.constraint_kind == "pattern") {
      if (!value) continue;
      if (value->is_string())
        *value = "mutated-value";
      else if (value->is_array() && !value->as_array().empty() && value->as_array()[0].is_object())
        value->as_array()[0].as_object()["code"] = "mutated-value",
        value->as_array()[0].as_object()["system"] = "urn:x";
      else if (value->is_object() && value->as_object().contains("coding"))
        value->as_object()["coding"].as_array()[0].as_object()["code"] = "mutated-value";
      else if (value->is_object())
        value->as_object()["system"] = "urn:mutated";
      else
        continue;
    } else if (check.constraint_kind == "binding") {
      if (!value) continue;
      if (value->is_string())
        *value = "mutated-code";
      else
        continue;
    } else {
      continue;
    }
    *resource = holder.as_object();
    return true;
  }
  return false;
}

TEST(MutationSelfTest, GeneratedProfileMutationsAreCaughtByTheirCheck) {
  // The search Bundle first, then every other official example, in name order.
  std::vector<std::pair<std::string, json::value>> examples;
  examples.emplace_back("Bundle-ExampleBundlePSIndiv.json", example("Bundle-ExampleBundlePSIndiv.json"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(sas::test::ig_dir() / "example"))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names)
    if (name != examples.front().first) examples.emplace_back(name, example(name));
  int generated = 0, exact = 0, profile_checks = 0;
  std::string not_generated;
  for (const auto& c : catalogue().checks()) {
    if (c.group != "PROFILE") continue;
    ++profile_checks;
    bool done = false;
    for (const auto& [name, original] : examples) {
      json::value mutated = original;
      if (!mutate_for(c, mutated)) continue;
      done = true;
      ++generated;
      auto ids = failing_ids(check_document(catalogue(), profiles(), mutated, name));
      // Removing these takes the item out of its slice (or empties its parent): another check
      // (the slice's, R01-FAQ-10) catches the copy, which must still fail.
      static const std::set<std::string> caught_elsewhere = {
          "R02-PROFILE-PRACTITIONER-012", "R02-PROFILE-PRACTITIONER-014", "R03-PROFILE-APPOINTMENT-033"};
      if (caught_elsewhere.contains(c.id)) {
        EXPECT_FALSE(ids.empty()) << c.id;
      } else {
        EXPECT_TRUE(ids.contains(c.id)) << c.id << " (" << c.title << ") on " << name
                                        << " not caught; caught: " << testing::PrintToString(ids);
      }
      exact += ids == std::set<std::string>{c.id} ? 1 : 0;
      break;
    }
    if (!done) not_generated += c.id + " ";
  }
  std::cout << profile_checks << " profile checks: " << generated << " mutations generated, " << exact
            << " caught by exactly their check; not generated (slices, elements absent from every example, "
               "root rules without a generic mutation): "
            << not_generated << "\n";
  EXPECT_GE(generated, 100);
}

}  // namespace
