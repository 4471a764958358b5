// SOS Médecins request parsing: every form the platform sends, and every refusal.
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "sas/host/sos_search/query.hpp"
#include "sas/sdk/datetime.hpp"

namespace sos = sas::host::sos_search;
namespace dt = sas::sdk::datetime;
namespace json = boost::json;

namespace {

const std::string kIncludes =
    "_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization";
const std::string kWindow =
    "_has:Slot:schedule:start=ge2023-08-18T09:00:00+02:00&_has:Slot:schedule:start=le2023-08-20T08:00:00+02:00";
const std::string kStatus = "_has:Slot:schedule:status=free";
const std::string kIds =
    "actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2|334173748400020,urn:oid:1.2.250.1.71.4.2.2|"
    "392080466300010";

dt::Instant at(const char* text) {
  const auto t = dt::parse_fhir(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(dt::Instant{});
}

sos::ParsedSosQuery ok(const std::string& target) {
  auto r = sos::parse_sos_query(target);
  if (auto* e = std::get_if<sas::host::fhir::HttpError>(&r)) {
    ADD_FAILURE() << "refused (" << e->status << "): " << json::serialize(e->outcome) << "\n  " << target;
    return {};
  }
  return std::get<sos::ParsedSosQuery>(std::move(r));
}

sas::host::fhir::HttpError refused(const std::string& target, unsigned status = 400) {
  auto r = sos::parse_sos_query(target);
  if (!std::holds_alternative<sas::host::fhir::HttpError>(r)) {
    ADD_FAILURE() << "accepted: " << target;
    return {};
  }
  auto e = std::get<sas::host::fhir::HttpError>(std::move(r));
  EXPECT_EQ(e.status, status) << target;
  EXPECT_EQ(e.outcome.at("resourceType").as_string(), "OperationOutcome");
  for (const auto& issue : e.outcome.at("issue").as_array()) {
    EXPECT_EQ(issue.at("severity").as_string(), "error");
    EXPECT_FALSE(issue.at("code").as_string().empty());
    EXPECT_FALSE(issue.at("diagnostics").as_string().empty());
    EXPECT_FALSE(issue.at("expression").as_array().empty());
  }
  return e;
}

// The issue whose expression is `param` (and whose code is `code`, when given); null if none.
const json::object* issue(const sas::host::fhir::HttpError& e, std::string_view param, std::string_view code = {}) {
  for (const auto& i : e.outcome.at("issue").as_array()) {
    for (const auto& x : i.at("expression").as_array()) {
      if (x.as_string() == param && (code.empty() || i.at("code").as_string() == code)) return &i.as_object();
    }
  }
  return nullptr;
}

std::string diagnostics(const json::object* i) {
  return i == nullptr ? "<no such issue>" : std::string(i->at("diagnostics").as_string());
}

std::string q(const std::string& rest) { return "/Schedule?" + rest; }
std::string with_ids(const std::string& ids) {
  return q(kIncludes + "&" + kWindow + "&" + kStatus + "&actor:Location.organization.identifier=" + ids);
}

std::string sirets(int n, const std::string& bar = "|") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string digits = std::to_string(10000000000000LL + i);  // 14 digits
    out += (i ? "," : "") + std::string("urn:oid:1.2.250.1.71.4.2.2") + bar + "3" + digits;
  }
  return out;
}

}  // namespace

// The form the platform sends (the IG's request): raw '|', raw '+' in the offsets.
TEST(SosQuery, PlatformForm) {
  const auto p = ok(q(kIncludes + "&" + kWindow + "&" + kStatus + "&" + kIds));
  EXPECT_EQ(p.association_sirets, (std::vector<std::string>{"334173748400020", "392080466300010"}));
  EXPECT_EQ(p.start_from, at("2023-08-18T07:00:00Z"));
  EXPECT_EQ(p.start_to, at("2023-08-20T06:00:00Z"));
  EXPECT_FALSE(p.count.has_value());
  EXPECT_TRUE(p.include_slots);
  EXPECT_TRUE(p.include_locations);
  EXPECT_TRUE(p.include_organizations);
}

TEST(SosQuery, EncodedBarUpperAndLowerCaseAndFullUrl) {
  for (const char* bar : {"|", "%7C", "%7c"}) {
    const auto p = ok("https://editeur.fr/Schedule?" + kWindow + "&" + kStatus +
                      "&actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2" + bar + "334173748400020");
    EXPECT_EQ(p.association_sirets, std::vector<std::string>{"334173748400020"}) << bar;
  }
}

TEST(SosQuery, SpacesAroundCommasRawPercentOrPlus) {
  for (const char* sep : {",", ", ", ",%20", ",+", " , ", "%2C", "%2C%20"}) {
    const auto p = ok(with_ids("urn:oid:1.2.250.1.71.4.2.2|334173748400020" + std::string(sep) +
                               "urn:oid:1.2.250.1.71.4.2.2|392080466300010"));
    EXPECT_EQ(p.association_sirets.size(), 2u) << "separator '" << sep << "'";
  }
}

TEST(SosQuery, EncodedPlusInTheWindowAndPlainDates) {
  const auto p = ok(q("_has:Slot:schedule:start=ge2023-08-18T09:00:00%2B02:00&_has:Slot:schedule:start=le2023-08-20&" +
                      kStatus + "&" + kIds));
  EXPECT_EQ(p.start_from, at("2023-08-18T07:00:00Z"));
  EXPECT_EQ(p.start_to, at("2023-08-20T23:59:59.999+02:00"));  // the whole Paris day
}

TEST(SosQuery, UnprefixedSiretAndBareValuesAreAcceptedAndPrefixed) {
  const auto p = ok(with_ids("urn:oid:1.2.250.1.71.4.2.2|34173748400020,392080466300010, 34173748400020"));
  EXPECT_EQ(p.association_sirets, (std::vector<std::string>{"334173748400020", "392080466300010"}))
      << "prefixed, duplicates once, request order";
}

TEST(SosQuery, TwentyFiveSiretsAcceptedTwentySixRefused) {
  EXPECT_EQ(ok(with_ids(sirets(25))).association_sirets.size(), 25u);
  EXPECT_EQ(ok(with_ids(sirets(25, "%7C"))).association_sirets.size(), 25u);
  const auto e = refused(with_ids(sirets(26)));
  EXPECT_NE(diagnostics(issue(e, sos::param::kOrganizationIdentifier, "invalid")).find("at most 25"),
            std::string::npos);
}

// The IG's own example: "urn:oid:1.2.250.1.71.4.2.27C334173748400020" (a %7C that lost its %).
TEST(SosQuery, TheIgTypoIsRefusedWithWhatItProbablyIs) {
  const auto e = refused(with_ids("urn:oid:1.2.250.1.71.4.2.27C334173748400020"));
  const std::string d = diagnostics(issue(e, sos::param::kOrganizationIdentifier, "invalid"));
  EXPECT_NE(d.find("urn:oid:1.2.250.1.71.4.2.2|334173748400020"), std::string::npos) << d;
  EXPECT_NE(d.find("%7C"), std::string::npos) << d;
  // Lower case too, and an unprefixed SIRET behind it.
  const std::string lower = diagnostics(
      issue(refused(with_ids("urn:oid:1.2.250.1.71.4.2.27c34173748400020")), sos::param::kOrganizationIdentifier));
  EXPECT_NE(lower.find("|334173748400020"), std::string::npos) << lower;
  // The system glued to the value without the 7C: a plain missing '|'.
  const std::string glued = diagnostics(
      issue(refused(with_ids("urn:oid:1.2.250.1.71.4.2.2334173748400020")), sos::param::kOrganizationIdentifier));
  EXPECT_NE(glued.find("no '|'"), std::string::npos) << glued;
}

TEST(SosQuery, BadSiretsAndSystemsAreRefused) {
  EXPECT_NE(issue(refused(with_ids("urn:oid:1.2.250.1.71.4.2.1|334173748400020")), sos::param::kOrganizationIdentifier,
                  "not-supported"),
            nullptr)
      << "the practitioner system";
  for (const char* bad : {"3341737484", "434173748400020", "33417374840002X", "urn:oid:1.2.250.1.71.4.2.2|"}) {
    EXPECT_NE(issue(refused(with_ids(bad)), sos::param::kOrganizationIdentifier), nullptr) << bad;
  }
}

TEST(SosQuery, MissingParametersAreEachReported) {
  const auto e = refused(q(kIncludes));
  EXPECT_NE(issue(e, sos::param::kOrganizationIdentifier, "required"), nullptr);
  EXPECT_NE(issue(e, sos::param::kStatus, "required"), nullptr);
  EXPECT_EQ(e.outcome.at("issue").as_array().size(), 4u) << "identifiers, status, ge and le";
  const auto no_le = refused(q("_has:Slot:schedule:start=ge2023-08-18T09:00:00Z&" + kStatus + "&" + kIds));
  EXPECT_NE(diagnostics(issue(no_le, sos::param::kStart, "required")).find("le"), std::string::npos);
  EXPECT_NE(issue(refused(with_ids("")), sos::param::kOrganizationIdentifier, "required"), nullptr);
  EXPECT_NE(issue(refused(with_ids(" , ")), sos::param::kOrganizationIdentifier, "required"), nullptr);
}

TEST(SosQuery, WindowAndStatusRules) {
  EXPECT_NE(issue(refused(q("_has:Slot:schedule:start=ge2023-08-20T09:00:00Z&_has:Slot:schedule:start=le2023-08-18T"
                            "09:00:00Z&" +
                            kStatus + "&" + kIds)),
                  sos::param::kStart, "invalid"),
            nullptr)
      << "le before ge";
  EXPECT_NE(issue(refused(q("_has:Slot:schedule:start=gt2023-08-18T09:00:00Z&_has:Slot:schedule:start=le2023-08-20T09:"
                            "00:00Z&" +
                            kStatus + "&" + kIds)),
                  sos::param::kStart, "not-supported"),
            nullptr);
  EXPECT_NE(
      issue(refused(q(kWindow + "&_has:Slot:schedule:status=busy&" + kIds)), sos::param::kStatus, "not-supported"),
      nullptr);
  EXPECT_NE(issue(refused(q(kWindow + "&" + kStatus + "&" + kIds + "&" + kIds)), sos::param::kOrganizationIdentifier),
            nullptr)
      << "given twice";
}

TEST(SosQuery, UnknownParametersAndIncludesAreRefused) {
  const std::string base = kWindow + "&" + kStatus + "&" + kIds;
  for (const char* extra : {"_sort=start", "_summary=count", "_elements=id", "actor=Location/1", "status=free",
                            "_has:Slot:schedule:service-type=x", "_revinclude:iterate=Slot:schedule"}) {
    const auto e = refused(q(base + "&" + extra));
    const std::string key = std::string(extra).substr(0, std::string(extra).find('='));
    EXPECT_NE(issue(e, key, "not-supported"), nullptr) << extra;
  }
  for (const char* include :
       {"_include=Slot:schedule", "_include=Schedule:actor:Practitioner", "_include:iterate=Schedule:actor:Location",
        "_include=HealthcareService:organization", "_revinclude=Slot:service-type-reference"}) {
    const auto e = refused(q(base + "&" + include));
    const std::string key = std::string(include).substr(0, std::string(include).find('='));
    EXPECT_NE(issue(e, key, "not-supported"), nullptr) << include;
  }
}

TEST(SosQuery, IncludesAreOptionalAndAcceptedInTheirForms) {
  const auto none = ok(q(kWindow + "&" + kStatus + "&" + kIds));
  EXPECT_FALSE(none.include_slots || none.include_locations || none.include_organizations);
  const auto plain =
      ok(q(kWindow + "&" + kStatus + "&" + kIds + "&_include=Schedule:actor&_include=Location:organization"));
  EXPECT_TRUE(plain.include_locations);
  EXPECT_TRUE(plain.include_organizations);
}

TEST(SosQuery, CountFormatPrettyTotal) {
  const std::string base = kWindow + "&" + kStatus + "&" + kIds;
  EXPECT_EQ(ok(q(base + "&_count=1000")).count, 1000u);
  EXPECT_EQ(ok(q(base + "&_count=0")).count, 0u);
  EXPECT_NE(issue(refused(q(base + "&_count=-1")), "_count", "invalid"), nullptr);
  EXPECT_NE(issue(refused(q(base + "&_count=1&_count=2")), "_count", "invalid"), nullptr);
  ok(q(base + "&_format=json&_pretty=true&_total=accurate"));
  ok(q(base + "&_format=application/fhir%2Bjson"));
  const auto xml = refused(q(base + "&_format=xml"), 406);
  EXPECT_NE(issue(xml, "_format", "not-supported"), nullptr);
}

TEST(SosQuery, MalformedEscapeIsRefused) {
  EXPECT_NE(issue(refused(q(kWindow + "&" + kStatus + "&" + kIds + "%G1")), sos::param::kOrganizationIdentifier),
            nullptr);
}

TEST(SosQuery, PluginRequestAndSelfLink) {
  const auto p = ok(q(kIncludes +
                      "&_has:Slot:schedule:start=ge2023-08-18T09:00:00.500+02:00&_has:Slot:schedule:start="
                      "le2023-08-20T08:00:00.900+02:00&" +
                      kStatus +
                      "&actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2|34173748400020, "
                      "urn:oid:1.2.250.1.71.4.2.2%7C392080466300010"));
  const auto request = sos::to_plugin_request(p);
  ASSERT_EQ(request.association_sirets_size(), 2);
  EXPECT_EQ(request.association_sirets(0), "334173748400020");
  EXPECT_EQ(request.start_from(), 1692342001) << "ge rounded up to the second";
  EXPECT_EQ(request.start_to(), 1692511200) << "le rounded down";
  const std::string self = sos::self_link(p, "https://vendor.example/fhir/");
  EXPECT_EQ(self.find("https://vendor.example/fhir/Schedule?_revinclude=Slot:schedule"), 0u) << self;
  EXPECT_EQ(self.find('|'), std::string::npos) << "'|' re-encoded: " << self;
  EXPECT_EQ(self.find(' '), std::string::npos) << "spaces re-encoded: " << self;
  EXPECT_NE(self.find("%7C392080466300010"), std::string::npos) << "existing escapes kept: " << self;
  // The self link is itself a query this parser takes, with the same meaning.
  const auto again = ok(self);
  EXPECT_EQ(again.association_sirets, p.association_sirets);
  EXPECT_EQ(again.start_from, p.start_from);
}

TEST(SosQuery, TargetForToolsIsTheIgQuery) {
  const std::string target = sos::sos_query_target({"334173748400020", "392080466300010"}, "2023-08-18T09:00:00+02:00",
                                                   "2023-08-20T08:00:00+02:00");
  EXPECT_EQ(target.find("/Schedule?" + kIncludes + "&"), 0u) << target;
  const auto p = ok(target);
  EXPECT_EQ(p.association_sirets, (std::vector<std::string>{"334173748400020", "392080466300010"}));
  EXPECT_EQ(p.start_from, at("2023-08-18T07:00:00Z"));
  EXPECT_TRUE(p.include_organizations);
}
