// INT_R01 request parsing: every form the platform sends, and every refusal.
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "sas/host/slot_search/query.hpp"
#include "sas/sdk/datetime.hpp"

namespace ss = sas::host::slot_search;
namespace dt = sas::sdk::datetime;
namespace json = boost::json;

namespace {

const std::string kIds =
    "schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899,urn:oid:1.2.250.1.71.4.2.1|"
    "810100050075";
const std::string kWindow = "start=ge2021-11-04T14:19:35.760+00:00&start=le2021-11-06T23:59:59.999+00:00";

dt::Instant at(const char* text) {
  const auto t = dt::parse_fhir(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(dt::Instant{});
}

ss::ParsedSlotQuery ok(const std::string& target) {
  auto r = ss::parse_slot_query(target);
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&r)) {
    ADD_FAILURE() << "refused (" << e->status << "): " << json::serialize(e->outcome) << "\n  " << target;
    return {};
  }
  return std::get<ss::ParsedSlotQuery>(std::move(r));
}

sas::host::fhir::HttpError refused(const std::string& target, unsigned status = 400) {
  auto r = ss::parse_slot_query(target);
  if (!std::holds_alternative<sas::host::fhir::HttpError>(r)) {
    ADD_FAILURE() << "accepted: " << target;
    return {};
  }
  auto e = std::get<sas::host::fhir::HttpError>(std::move(r));
  EXPECT_EQ(e.status, status) << target;
  // Every refusal is a well-formed OperationOutcome naming what was wrong.
  EXPECT_EQ(e.outcome.at("resourceType").as_string(), "OperationOutcome");
  for (const auto& issue : e.outcome.at("issue").as_array()) {
    EXPECT_EQ(issue.at("severity").as_string(), "error");
    EXPECT_FALSE(issue.at("code").as_string().empty());
    EXPECT_FALSE(issue.at("diagnostics").as_string().empty());
    EXPECT_FALSE(issue.at("expression").as_array().empty());
  }
  return e;
}

// True when some issue's expression is `param` (and, when given, its code is `code`).
bool names(const sas::host::fhir::HttpError& e, std::string_view param, std::string_view code = {}) {
  for (const auto& issue : e.outcome.at("issue").as_array()) {
    for (const auto& x : issue.at("expression").as_array()) {
      if (x.as_string() == param && (code.empty() || issue.at("code").as_string() == code)) return true;
    }
  }
  return false;
}

std::string q(const std::string& rest) { return "/Slot?" + rest; }
std::string base_query() { return kWindow + "&" + kIds + "&status=free"; }

}  // namespace

TEST(SlotQuery, PlatformExampleWithRawBarEncodedBarAndSpace) {
  const auto p =
      ok("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2021-11-04T14:19:35.760+00:00"
         "&start=le2021-11-06T23:59:59.999+00:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|"
         "810002673899, urn:oid:1.2.250.1.71.4.2.1%7C810100050075&status=free&_count=1000");
  EXPECT_EQ(p.practitioner_ids, (std::vector<std::string>{"810002673899", "810100050075"}));
  EXPECT_EQ(p.start_from, at("2021-11-04T14:19:35.760Z"));
  EXPECT_EQ(p.start_to, at("2021-11-06T23:59:59.999Z"));
  ASSERT_TRUE(p.count.has_value());
  EXPECT_EQ(*p.count, 1000u);
  EXPECT_TRUE(p.include_schedule);
  EXPECT_TRUE(p.include_actors);
}

TEST(SlotQuery, OfficialIgSelfLinkAsFullUrl) {
  const auto p =
      ok("https://exemple.com/ans-sas/Slot/?_include=Slot:schedule&_include:iterate=Schedule:actor&status=free&start="
         "ge2021-11-04T14:19:35.760+00:00&start=le2021-11-06T23:59:59.999+00:00&schedule.actor:Practitioner.identifier="
         "urn:oid:1.2.250.1.71.4.2.1%7C810002673899,urn:oid:1.2.250.1.71.4.2.1%7C810100050075&_count=1000");
  EXPECT_EQ(p.practitioner_ids.size(), 2u);
  EXPECT_EQ(p.start_to, at("2021-11-06T23:59:59.999+00:00"));
}

TEST(SlotQuery, BarRawEncodedUpperAndLowerCase) {
  for (const char* bar : {"|", "%7C", "%7c"}) {
    const auto p = ok(q(kWindow + "&status=free&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1" +
                        bar + "810002673899"));
    EXPECT_EQ(p.practitioner_ids, std::vector<std::string>{"810002673899"}) << bar;
  }
}

TEST(SlotQuery, SpacesAroundCommasRawPercentOrPlus) {
  for (const char* sep : {",", ", ", ",%20", ",+", " , ", "%2C", "%2C%20", ",%20%20"}) {
    const auto p = ok(q(kWindow +
                        "&status=free&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|"
                        "810002673899" +
                        sep + "urn:oid:1.2.250.1.71.4.2.1|810100050075"));
    EXPECT_EQ(p.practitioner_ids.size(), 2u) << "separator '" << sep << "'";
  }
}

TEST(SlotQuery, PlusInStartIsTheOffsetSignRawOrEncoded) {
  const auto raw =
      ok(q("start=ge2021-11-04T15:19:35.760+01:00&start=le2021-11-06T23:59:59.999+01:00&" + kIds + "&status=free"));
  const auto enc =
      ok(q("start=ge2021-11-04T15:19:35.760%2B01:00&start=le2021-11-06T23:59:59.999%2b01:00&" + kIds + "&status=free"));
  EXPECT_EQ(raw.start_from, at("2021-11-04T14:19:35.760Z"));
  EXPECT_EQ(enc.start_from, raw.start_from);
  EXPECT_EQ(enc.start_to, raw.start_to);
  const auto colon =
      ok(q("start=ge2021-11-04T15%3A19%3A35%2B01%3A00&start=le2021-11-06T23:59:59%2B01:00&" + kIds + "&status=free"));
  EXPECT_EQ(colon.start_from, at("2021-11-04T14:19:35Z"));
}

TEST(SlotQuery, SpaceWhereTheOffsetSignShouldBeIsReadAsPlus) {
  // A client that form-decoded '+' into a space and re-encoded it.
  const auto p =
      ok(q("start=ge2021-11-04T15:19:35.760%2001:00&start=le2021-11-06T23:59:59.999 01:00&" + kIds + "&status=free"));
  EXPECT_EQ(p.start_from, at("2021-11-04T14:19:35.760Z"));
  EXPECT_EQ(p.start_to, at("2021-11-06T22:59:59.999Z"));
}

TEST(SlotQuery, DateTimeVariants) {
  const std::string rest = "&" + kIds + "&status=free";
  EXPECT_EQ(ok(q("start=ge2021-11-04T14:19:35Z&start=le2021-11-06T23:59:59Z" + rest)).start_from,
            at("2021-11-04T14:19:35Z"));
  EXPECT_EQ(ok(q("start=ge2021-11-04T14:19:35.5-03:00&start=le2021-11-06T23:59:59.123456789Z" + rest)).start_from,
            at("2021-11-04T17:19:35.500Z"));
  EXPECT_EQ(ok(q("start=ge2021-11-04T14:19:35-03:00&start=le2021-11-06T23:59:59.123456789Z" + rest)).start_to,
            at("2021-11-06T23:59:59.123Z"));
}

TEST(SlotQuery, PlainDatesAreParisDays) {
  const auto winter = ok(q("start=ge2021-11-04&start=le2021-11-06&" + kIds + "&status=free"));
  EXPECT_EQ(winter.start_from, at("2021-11-03T23:00:00Z"));
  EXPECT_EQ(winter.start_to, at("2021-11-06T22:59:59.999Z"));
  const auto summer = ok(q("start=ge2021-07-01&start=le2021-07-01&" + kIds + "&status=free"));
  EXPECT_EQ(summer.start_from, at("2021-06-30T22:00:00Z"));
  EXPECT_EQ(summer.start_to, at("2021-07-01T21:59:59.999Z"));
}

TEST(SlotQuery, EqualBoundsAreAccepted) {
  const auto p = ok(q("start=ge2021-11-04T14:00:00Z&start=le2021-11-04T14:00:00Z&" + kIds + "&status=free"));
  EXPECT_EQ(p.start_from, p.start_to);
}

TEST(SlotQuery, IdentifiersAreNormalisedToThePrefixedForm) {
  const auto p =
      ok(q(kWindow + "&status=free&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|10002673899,"
                     "810100050075,urn:oid:1.2.250.1.71.4.2.1|123456789,0987654321,urn:oid:1.2.250.1.71.4.2.1|"
                     "810002673899"));
  // Unprefixed RPPS, bare prefixed value, unprefixed ADELI, prefixed ADELI; duplicates dropped.
  EXPECT_EQ(p.practitioner_ids, (std::vector<std::string>{"810002673899", "810100050075", "0123456789", "0987654321"}));
}

TEST(SlotQuery, TwentyFiveIdentifiersAreAccepted) {
  std::string ids = "schedule.actor:Practitioner.identifier=";
  for (int i = 0; i < 25; ++i)
    ids +=
        (i ? "," : "") + std::string("urn:oid:1.2.250.1.71.4.2.1|8100000000") + (i < 10 ? "0" : "") + std::to_string(i);
  const auto p = ok(q(kWindow + "&status=free&" + ids));
  EXPECT_EQ(p.practitioner_ids.size(), 25u);
}

TEST(SlotQuery, EmptySegmentsOrderAndFragmentDoNotMatter) {
  const auto a = ok("/Slot?&&status=free&&" + kIds + "&_include=Slot:schedule&" + kWindow + "&#ignored=1");
  const auto b = ok("/Slot?" + kWindow + "&_include=Slot:schedule&status=free&" + kIds);
  EXPECT_EQ(a.practitioner_ids, b.practitioner_ids);
  EXPECT_EQ(a.start_from, b.start_from);
  EXPECT_EQ(a.start_to, b.start_to);
  EXPECT_TRUE(a.include_schedule);
}

TEST(SlotQuery, PercentEncodedKeyIsDecoded) {
  const auto p = ok("/Slot?status=free&" + kWindow +
                    "&schedule.actor%3APractitioner.identifier=urn%3Aoid%3A1.2.250.1.71.4.2.1%7C810002673899#frag");
  EXPECT_EQ(p.practitioner_ids, std::vector<std::string>{"810002673899"});
  EXPECT_FALSE(p.include_schedule);
  EXPECT_FALSE(p.include_actors);
  EXPECT_FALSE(p.count.has_value());
}

TEST(SlotQuery, FormatJsonVariantsAndHarmlessParameters) {
  for (const char* f : {"json", "application/json", "application/fhir%2Bjson", "application/fhir+json",
                        "application/fhir%2Bjson%3B%20charset%3Dutf-8", "text/json"}) {
    ok(q(base_query() + "&_format=" + f));
  }
  ok(q(base_query() + "&_pretty=true&_total=accurate"));
}

TEST(SlotQuery, FormatXmlIsNotAcceptable) {
  for (const char* f : {"xml", "application/fhir%2Bxml", "application/fhir+xml", "text/xml", "text/html"}) {
    const auto e = refused(q(base_query() + "&_format=" + f), 406);
    EXPECT_TRUE(names(e, "_format", "not-supported")) << f;
  }
}

TEST(SlotQuery, CountZeroAndLarge) {
  EXPECT_EQ(*ok(q(base_query() + "&_count=0")).count, 0u);
  EXPECT_EQ(*ok(q(base_query() + "&_count=100000")).count, 100000u);
}

TEST(SlotQuery, SelfLinkIsAValidUri) {
  const auto p =
      ok("/Slot?_include=Slot:schedule&start=ge2021-11-04T14:19:35.760+00:00&start=le2021-11-06T23:59:59.999%2B00:00"
         "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899, "
         "urn:oid:1.2.250.1.71.4.2.1%7C810100050075&status=free");
  const std::string link = ss::self_link(p, "https://vendor.example/sas/");
  EXPECT_EQ(link,
            "https://vendor.example/sas/Slot?_include=Slot:schedule&start=ge2021-11-04T14:19:35.760+00:00"
            "&start=le2021-11-06T23:59:59.999%2B00:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1"
            "%7C810002673899,%20urn:oid:1.2.250.1.71.4.2.1%7C810100050075&status=free");
}

TEST(SlotQuery, PluginRequestRoundsInward) {
  const auto p = ok(q(base_query()));
  const auto r = ss::to_plugin_request(p);
  ASSERT_EQ(r.practitioner_national_ids_size(), 2);
  EXPECT_EQ(r.practitioner_national_ids(0), "810002673899");
  // ge 14:19:35.760 -> 14:19:36; le 23:59:59.999 -> 23:59:59.
  EXPECT_EQ(r.start_from(),
            std::chrono::ceil<std::chrono::seconds>(at("2021-11-04T14:19:35.760Z")).time_since_epoch().count());
  EXPECT_EQ(r.start_from(), 1636035576);
  EXPECT_EQ(r.start_to(), 1636243199);
}

// ---- Refusals (400 + OperationOutcome) ------------------------------------------------------

TEST(SlotQueryRefused, MissingStartBounds) {
  EXPECT_TRUE(names(refused(q("start=le2021-11-06T23:59:59Z&" + kIds + "&status=free")), "start", "required"));
  EXPECT_TRUE(names(refused(q("start=ge2021-11-06T23:59:59Z&" + kIds + "&status=free")), "start", "required"));
  const auto none = refused(q(kIds + "&status=free"));
  EXPECT_EQ(none.outcome.at("issue").as_array().size(), 2u);
}

TEST(SlotQueryRefused, MalformedDates) {
  for (const char* bad :
       {"ge2021-13-01T00:00:00Z", "geyesterday", "ge2021-11-04T14:19:35", "ge2021-11-04T14:19Z", "ge2021-02-30",
        "ge2021-11-04T25:00:00Z", "ge", "ge2021-11-04T14:19:35+25:00", "ge2021-11-04T14:19:35.Z"}) {
    const auto e = refused(q(std::string("start=") + bad + "&start=le2021-11-06T23:59:59Z&" + kIds + "&status=free"));
    EXPECT_TRUE(names(e, "start", "invalid")) << bad;
  }
}

TEST(SlotQueryRefused, UnsupportedPrefixesAndDuplicates) {
  for (const char* bad :
       {"gt2021-11-04T00:00:00Z", "eq2021-11-04T00:00:00Z", "2021-11-04T00:00:00Z", "sa2021-11-04T00:00:00Z"}) {
    const auto e = refused(q(std::string("start=") + bad + "&start=le2021-11-06T23:59:59Z&" + kIds + "&status=free"));
    EXPECT_TRUE(names(e, "start", "not-supported")) << bad;
  }
  EXPECT_TRUE(
      names(refused(q(kWindow + "&start=ge2021-11-05T00:00:00Z&" + kIds + "&status=free")), "start", "invalid"));
}

TEST(SlotQueryRefused, LeBeforeGe) {
  const auto e = refused(q("start=ge2021-11-06T00:00:00Z&start=le2021-11-05T23:59:59.999Z&" + kIds + "&status=free"));
  EXPECT_TRUE(names(e, "start", "invalid"));
}

TEST(SlotQueryRefused, Status) {
  EXPECT_TRUE(names(refused(q(kWindow + "&" + kIds)), "status", "required"));
  EXPECT_TRUE(names(refused(q(kWindow + "&" + kIds + "&status=busy")), "status", "not-supported"));
  EXPECT_TRUE(names(refused(q(kWindow + "&" + kIds + "&status=free,busy")), "status"));
  EXPECT_TRUE(names(refused(q(kWindow + "&" + kIds + "&status=")), "status"));
  EXPECT_TRUE(names(refused(q(kWindow + "&" + kIds + "&status=free&status=busy")), "status"));
}

TEST(SlotQueryRefused, Identifiers) {
  const std::string p = "schedule.actor:Practitioner.identifier";
  EXPECT_TRUE(names(refused(q(kWindow + "&status=free")), p, "required"));
  EXPECT_TRUE(names(refused(q(kWindow + "&status=free&" + p + "=")), p, "required"));
  EXPECT_TRUE(names(refused(q(kWindow + "&status=free&" + p + "=,%20,")), p, "required"));
  // Another system (the structure OID, a vendor URL) is refused.
  EXPECT_TRUE(
      names(refused(q(kWindow + "&status=free&" + p + "=urn:oid:1.2.250.1.71.4.2.2|1810004421")), p, "not-supported"));
  EXPECT_TRUE(names(refused(q(kWindow + "&status=free&" + p + "=https://editeur.com|810002673899")), p));
  // Malformed ids.
  for (const char* bad : {"urn:oid:1.2.250.1.71.4.2.1|123", "8abcdefghijk", "urn:oid:1.2.250.1.71.4.2.1|",
                          "910002673899", "8100 02673899"}) {
    EXPECT_TRUE(names(refused(q(kWindow + "&status=free&" + p + "=" + bad)), p, "invalid")) << bad;
  }
  // Given twice.
  EXPECT_TRUE(names(refused(q(base_query() + "&" + p + "=810002673899")), p, "invalid"));
}

TEST(SlotQueryRefused, MoreThanTwentyFiveIdentifiers) {
  std::string ids = "schedule.actor:Practitioner.identifier=";
  for (int i = 0; i < 26; ++i)
    ids +=
        (i ? "," : "") + std::string("urn:oid:1.2.250.1.71.4.2.1|8100000000") + (i < 10 ? "0" : "") + std::to_string(i);
  EXPECT_TRUE(names(refused(q(kWindow + "&status=free&" + ids)), "schedule.actor:Practitioner.identifier", "invalid"));
  // Duplicates count: the platform promises at most 25 tokens.
  std::string dup = "schedule.actor:Practitioner.identifier=";
  for (int i = 0; i < 26; ++i) dup += (i ? "," : "") + std::string("810002673899");
  refused(q(kWindow + "&status=free&" + dup));
}

TEST(SlotQueryRefused, UnknownAndUnsupportedParameters) {
  EXPECT_TRUE(names(refused(q(base_query() + "&foo=bar")), "foo", "not-supported"));
  EXPECT_TRUE(names(refused(q(base_query() + "&schedule.actor.identifier=810002673899")), "schedule.actor.identifier",
                    "not-supported"));
  EXPECT_TRUE(names(refused(q(base_query() + "&status:not=busy")), "status:not"));
  for (const char* p : {"_summary=count", "_elements=start", "_sort=start", "_id=1", "_revinclude=Slot:schedule"}) {
    const std::string name(p, std::string_view(p).find('='));
    EXPECT_TRUE(names(refused(q(base_query() + "&" + p)), name, "not-supported")) << p;
  }
  EXPECT_TRUE(names(refused(q(base_query() + "&_include=Slot:practitioner")), "_include", "not-supported"));
  EXPECT_TRUE(
      names(refused(q(base_query() + "&_include:iterate=Organization:partof")), "_include:iterate", "not-supported"));
}

// ---- INT_R04, the CPTS search ----------------------------------------------------------------

// The request as the IG writes it (specifications_techniques-cpts-recherche_creneaux).
TEST(CptsQuery, TheIgsRequestIsTheCptsSearch) {
  const auto p =
      ok("/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference"
         "&_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:00.000+02:00"
         "&start=le2024-06-12T17:20:00.000+02:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|"
         "810002909371,urn:oid:1.2.250.1.71.4.2.1|810002673899&status=free");
  EXPECT_TRUE(p.cpts);
  EXPECT_TRUE(p.include_schedule);
  EXPECT_TRUE(p.include_actors);
  EXPECT_EQ(p.practitioner_ids, (std::vector<std::string>{"810002909371", "810002673899"}));
  EXPECT_TRUE(ss::to_plugin_request(p).cpts_search());
}

// The official examples' self links (Bundle-ExampleBundleCPTS1/2) leave the organization include
// out, at the end: the same search.
TEST(CptsQuery, TheExamplesFormWithoutTheOrganizationInclude) {
  const auto p =
      ok("http://hapi.fhir.org/baseR4/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
         "&start=ge2024-06-12T16:20:00.000+02:00&start=le2024-06-12T17:20:00.000+02:00"
         "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371&status=free"
         "&_include=Slot:service-type-reference");
  EXPECT_TRUE(p.cpts);
  EXPECT_EQ(p.start_from, at("2024-06-12T14:20:00Z"));
  // Either key works for either include, as for INT_R01's.
  EXPECT_TRUE(ok(q(base_query() + "&_include:iterate=Slot:service-type-reference&_include=HealthcareService:"
                                  "organization"))
                  .cpts);
}

TEST(CptsQuery, IntR01IsNotTheCptsSearch) {
  const auto p = ok(q(base_query() + "&_include=Slot:schedule&_include:iterate=Schedule:actor"));
  EXPECT_FALSE(p.cpts);
  EXPECT_FALSE(ss::to_plugin_request(p).cpts_search());
}

TEST(CptsQuery, TheOrganizationIncludeAloneIsRefusedNamingIt) {
  const auto e = refused(q(base_query() + "&_include:iterate=HealthcareService:organization"));
  EXPECT_TRUE(names(e, "_include:iterate", "invalid"));
  const std::string diagnostics(e.outcome.at("issue").as_array()[0].at("diagnostics").as_string());
  EXPECT_NE(diagnostics.find("needs _include=Slot:service-type-reference"), std::string::npos) << diagnostics;
  EXPECT_TRUE(names(refused(q(base_query() + "&_include=HealthcareService:organization")), "_include", "invalid"));
}

TEST(CptsQuery, SlotQueryTargetWritesTheIgsCptsRequest) {
  const std::string target =
      ss::slot_query_target({"810002909371"}, "2024-06-12T16:20:00+02:00", "2024-06-12T17:20:00+02:00", true);
  EXPECT_NE(target.find("&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"),
            std::string::npos)
      << target;
  const auto p = ok(target);
  EXPECT_TRUE(p.cpts);
  EXPECT_EQ(p.start_to, at("2024-06-12T15:20:00Z"));
  EXPECT_FALSE(
      ok(ss::slot_query_target({"810002909371"}, "2024-06-12T16:20:00+02:00", "2024-06-12T17:20:00+02:00")).cpts);
}

TEST(SlotQueryRefused, BadCount) {
  for (const char* c : {"-1", "abc", "", "1e3", "10000000000"}) {
    EXPECT_TRUE(names(refused(q(base_query() + "&_count=" + c)), "_count", "invalid")) << c;
  }
  EXPECT_TRUE(names(refused(q(base_query() + "&_count=1&_count=2")), "_count"));
}

TEST(SlotQueryRefused, MalformedPercentEncoding) {
  EXPECT_FALSE(refused(q(base_query() + "&_count=%zz")).outcome.at("issue").as_array().empty());
  refused(q(base_query() + "&%G1=1"));
  refused(q("start=ge2021-11-04T14:19:35%2&start=le2021-11-06T23:59:59Z&" + kIds + "&status=free"));
}

TEST(SlotQueryRefused, EveryProblemIsReportedAtOnce) {
  const auto e = refused(q("start=gt2021-11-04T00:00:00Z&status=busy&foo=1"));
  EXPECT_TRUE(names(e, "start"));
  EXPECT_TRUE(names(e, "status"));
  EXPECT_TRUE(names(e, "foo"));
  EXPECT_TRUE(names(e, "schedule.actor:Practitioner.identifier", "required"));
}

TEST(SlotQueryRefused, NoQueryAtAll) {
  const auto e = refused("/Slot");
  EXPECT_TRUE(names(e, "start"));
  EXPECT_TRUE(names(e, "status"));
}
