// The shared FHIR layer: builders never emit empty elements, pruning, OperationOutcome, formats.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/fhir/operation_outcome.hpp"
#include "sas/host/fhir/searchset.hpp"

namespace fhir = sas::host::fhir;
namespace json = boost::json;

TEST(FhirBuilders, PutSkipsEmptyValues) {
  json::object o;
  fhir::put(o, "a", "");
  fhir::put(o, "b", json::array{});
  fhir::put(o, "c", json::object{});
  fhir::put(o, "d", json::value(nullptr));
  fhir::put(o, "e", "x");
  fhir::put(o, "f", json::value(0));
  fhir::put(o, "g", json::value(false));
  EXPECT_EQ(json::serialize(o), R"({"e":"x","f":0,"g":false})");
}

TEST(FhirBuilders, CodingAndCodeableConcept) {
  EXPECT_EQ(json::serialize(fhir::coding("s", "c")), R"({"system":"s","code":"c"})");
  EXPECT_EQ(json::serialize(fhir::coding("s", "c", "d")), R"({"system":"s","code":"c","display":"d"})");
  EXPECT_EQ(json::serialize(fhir::codeable_concept("s", "c")), R"({"coding":[{"system":"s","code":"c"}]})");
  EXPECT_EQ(json::serialize(fhir::codeable_concept("s", "c", "t")),
            R"({"coding":[{"system":"s","code":"c"}],"text":"t"})");
  EXPECT_EQ(json::serialize(fhir::codeable_concept("s", "", "t")), R"({"text":"t"})");
  EXPECT_EQ(json::serialize(fhir::codeable_text("t")), R"({"text":"t"})");
  EXPECT_TRUE(fhir::codeable_text("").empty());
}

TEST(FhirBuilders, NationalIdentifiersMatchTheGuide) {
  const auto ps = fhir::practitioner_national_identifier("810100050075");
  EXPECT_EQ(json::serialize(ps),
            R"({"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-v2-0203","code":"IDNPS"}]},)"
            R"("system":"urn:oid:1.2.250.1.71.4.2.1","value":"810100050075"})");
  const auto st = fhir::structure_national_identifier("1810004421");
  EXPECT_EQ(json::serialize(st),
            R"({"type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-v2-0203","code":"IDNST"}]},)"
            R"("system":"urn:oid:1.2.250.1.71.4.2.2","value":"1810004421"})");
}

TEST(FhirBuilders, ReferencesMetaTelecom) {
  EXPECT_EQ(json::serialize(fhir::reference("Schedule", "s1")), R"({"reference":"Schedule/s1"})");
  EXPECT_TRUE(fhir::reference("Schedule", "").empty());
  EXPECT_EQ(json::serialize(fhir::contained_reference("loc")), R"({"reference":"#loc"})");
  EXPECT_EQ(json::serialize(fhir::identifier_reference(fhir::structure_national_identifier("1"))).find("identifier"),
            2u);
  EXPECT_TRUE(fhir::identifier_reference({}).empty());
  EXPECT_EQ(json::serialize(fhir::meta("p")), R"({"profile":["p"]})");
  EXPECT_EQ(json::serialize(fhir::meta("p", json::array{fhir::coding("s", "PUBLIC")})),
            R"({"profile":["p"],"security":[{"system":"s","code":"PUBLIC"}]})");
  EXPECT_TRUE(fhir::meta("").empty());
  EXPECT_EQ(json::serialize(fhir::phone_contact("+33123456789")), R"({"system":"phone","value":"+33123456789"})");
  EXPECT_TRUE(fhir::phone_contact("").empty());
}

TEST(FhirBuilders, IdentifierWithoutValueHasNoEmptyMembers) {
  const auto id = fhir::identifier("ts", "", "sys", "");
  EXPECT_EQ(json::serialize(id), R"({"system":"sys"})");
}

// The code type's regex in the FHIR R4 specification: [^\s]+( [^\s]+)*; and no control character.
TEST(FhirBuilders, CodesAreWhatTheFhirCodeTypeAllows) {
  for (const std::string& code : std::vector<std::string>{"SM54", "a", "Médecine générale", "x y z", "urn:oid:1.2|3"})
    EXPECT_TRUE(fhir::is_valid_code(code)) << code;
  for (const std::string& code : std::vector<std::string>{"", " ", " SM54", "SM54 ", "SM  54", "SM\t54", "SM\r54",
                                                          "SM\n", "SM\x7f", std::string("SM\0", 3)})
    EXPECT_FALSE(fhir::is_valid_code(code)) << code;
}

TEST(FhirBuilders, ResourceIdsAreValidStableAndDistinct) {
  EXPECT_EQ(fhir::resource_id("abc-1.2"), "abc-1.2");
  EXPECT_TRUE(fhir::is_valid_id("A"));
  EXPECT_FALSE(fhir::is_valid_id(""));
  EXPECT_FALSE(fhir::is_valid_id("a_b"));
  EXPECT_FALSE(fhir::is_valid_id(std::string(65, 'a')));
  const std::vector<std::string> vendor = {
      "a/b", "a b", "ab-", "a_b", "é", "", std::string(65, 'a'), std::string(200, 'z'), "slot:42", "slot 42", "{uuid}"};
  std::set<std::string> seen;
  for (const auto& v : vendor) {
    const auto id = fhir::resource_id(v);
    EXPECT_TRUE(sas::test::bundle::valid_fhir_id(id)) << v << " -> " << id;
    EXPECT_EQ(id, fhir::resource_id(v)) << "not stable";
    EXPECT_TRUE(seen.insert(id).second) << "collision for " << v;
  }
  EXPECT_TRUE(seen.insert(fhir::resource_id("ab")).second);
}

TEST(FhirBuilders, FullUrl) {
  EXPECT_EQ(fhir::full_url("https://x/fhir", "Slot", "1"), "https://x/fhir/Slot/1");
  EXPECT_EQ(fhir::full_url("https://x/fhir/", "Slot", "1"), "https://x/fhir/Slot/1");
}

TEST(FhirJson, PruneEmptyIsRecursiveAndKeepsOrder) {
  json::value v =
      json::parse(R"({"resourceType":"X","a":"","b":[],"c":{},"d":null,"e":[{"f":""},{"g":"1"},[]],"h":{"i":{"j":[]}},)"
                  R"("total":0,"active":false,"z":"last"})");
  fhir::prune_empty(v);
  EXPECT_EQ(json::serialize(v), R"({"resourceType":"X","e":[{"g":"1"}],"total":0,"active":false,"z":"last"})");
  EXPECT_EQ(fhir::serialize(json::parse(R"({"a":{"b":""}})")), "{}");
}

TEST(FhirJson, SerializeKeepsUtf8) {
  const auto s = fhir::serialize(json::object{{"text", "Sébastien"}});
  EXPECT_EQ(s, "{\"text\":\"Sébastien\"}");
}

TEST(FhirOperationOutcome, Shape) {
  const auto err = fhir::http_error(400, fhir::issue_type::kInvalid, "start: bad date", "start");
  EXPECT_EQ(err.status, 400u);
  EXPECT_EQ(json::serialize(err.outcome),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",)"
            R"("diagnostics":"start: bad date","expression":["start"]}]})");
  const auto none = fhir::operation_outcome(std::vector<fhir::Issue>{});
  EXPECT_EQ(none.at("issue").as_array().size(), 1u);
  const auto no_expr = fhir::http_error(500, fhir::issue_type::kProcessing, "plugin failed");
  EXPECT_EQ(no_expr.outcome.at("issue").as_array()[0].as_object().if_contains("expression"), nullptr);
  fhir::Issue w{fhir::Severity::warning, "", "", {}};
  const auto o = fhir::operation_outcome(w);
  EXPECT_EQ(json::serialize(o),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing"}]})");
}

TEST(FhirJson, ClassifyFormat) {
  using F = fhir::Format;
  EXPECT_EQ(fhir::classify_format("json"), F::json);
  EXPECT_EQ(fhir::classify_format("application/json"), F::json);
  EXPECT_EQ(fhir::classify_format("application/fhir+json"), F::json);
  EXPECT_EQ(fhir::classify_format(" Application/FHIR+JSON; charset=utf-8"), F::json);
  EXPECT_EQ(fhir::classify_format("text/json"), F::json);
  EXPECT_EQ(fhir::classify_format("xml"), F::xml);
  EXPECT_EQ(fhir::classify_format("application/fhir+xml"), F::xml);
  EXPECT_EQ(fhir::classify_format("text/xml"), F::xml);
  EXPECT_EQ(fhir::classify_format("*/*"), F::any);
  EXPECT_EQ(fhir::classify_format("text/html"), F::unsupported);
  EXPECT_EQ(fhir::classify_format("ttl"), F::unsupported);
}

TEST(FhirJson, AcceptHeader) {
  EXPECT_TRUE(fhir::accept_allows_json(""));
  EXPECT_TRUE(fhir::accept_allows_json("application/fhir+json"));
  EXPECT_TRUE(fhir::accept_allows_json("application/fhir+xml;q=0.9, application/fhir+json;q=0.8"));
  EXPECT_TRUE(fhir::accept_allows_json("*/*"));
  EXPECT_FALSE(fhir::accept_allows_json("application/fhir+xml"));
  EXPECT_FALSE(fhir::accept_allows_json("application/fhir+json;q=0, application/xml"));
  EXPECT_TRUE(fhir::accept_allows_json("application/json;q=0.5"));
}

TEST(WarningsLoggedOnce, EachDistinctWarningIsLoggedOnceWithItsFlow) {
  fhir::WarningsLoggedOnce once;
  std::vector<std::string> lines;
  const auto log = [&](std::string_view line) { lines.emplace_back(line); };
  once.log(log, "SOS search", {"place \"a\" has no name", "place \"a\" has no name"});
  once.log(log, "INT_R01 search", {"place \"a\" has no name", "slot \"s\" ends before it starts"});
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "SOS search: the agenda's data: place \"a\" has no name (logged once)",
                       "INT_R01 search: the agenda's data: slot \"s\" ends before it starts (logged once)"}));
}

TEST(WarningsLoggedOnce, BeyondItsCapacityItSaysSoOnceAndLogsNoMore) {
  fhir::WarningsLoggedOnce once(2);
  std::vector<std::string> lines;
  const auto log = [&](std::string_view line) { lines.emplace_back(line); };
  once.log(log, "F", {"a", "b", "c"});
  once.log(log, "F", {"d"});
  EXPECT_EQ(lines,
            (std::vector<std::string>{"F: the agenda's data: a (logged once)", "F: the agenda's data: b (logged once)",
                                      "F: 2 distinct data warnings logged; further ones are not"}));
}

TEST(WarningsLoggedOnce, WithoutALogNothingIsRemembered) {
  fhir::WarningsLoggedOnce once;
  once.log({}, "F", {"a"});
  std::vector<std::string> lines;
  once.log([&](std::string_view line) { lines.emplace_back(line); }, "F", {"a"});
  EXPECT_EQ(lines, (std::vector<std::string>{"F: the agenda's data: a (logged once)"}));
}

TEST(SearchsetEntry, HasFullUrlResourceAndSearchMode) {
  std::string out;
  fhir::JsonWriter w(out);
  w.begin_array();
  fhir::begin_searchset_entry(w, "https://v.example/fhir/", "Slot", "s1");
  w.string("status", "free");
  fhir::end_searchset_entry(w, "match");
  w.end_array();
  const json::value e = json::parse(out).at(0);
  EXPECT_EQ(e.at("fullUrl"), "https://v.example/fhir/Slot/s1");
  EXPECT_EQ(e.at("resource"), (json::object{{"resourceType", "Slot"}, {"id", "s1"}, {"status", "free"}}));
  EXPECT_EQ(e.at("search").at("mode"), "match");
}
