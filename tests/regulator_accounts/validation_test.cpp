// What the host checks in an INT_R02 Practitioner before any plugin sees it, in process: the
// IG's four examples pass and come out normalised; each broken variant gets the right status
// and an issue naming the element; and the host never accepts what the IG's profile refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <sas/host/regulator_accounts/validation.hpp>

#include "accounts_harness.hpp"
#ifdef SAS_HAVE_VALIDATOR
#include "sas/conformance/profile_validator.hpp"
#endif

namespace {

namespace json = boost::json;
namespace v1 = sas::plugin::v1;
using sas::accounts_test::example;
using sas::accounts_test::kNational;
using sas::accounts_test::kRegulProfile;
using sas::accounts_test::kSas;
using sas::host::regulator_accounts::AccountAddress;
using sas::host::regulator_accounts::ParsedPractitioner;
using testing::HasSubstr;

std::variant<ParsedPractitioner, sas::host::fhir::HttpError> parse(const json::object& p) {
  return sas::host::regulator_accounts::parse_practitioner(json::serialize(p));
}

v1::RegulatorAccount accepted(const std::string& body) {
  auto result = sas::host::regulator_accounts::parse_practitioner(body);
  if (auto* error = std::get_if<sas::host::fhir::HttpError>(&result)) {
    ADD_FAILURE() << "refused with " << error->status << ": " << json::serialize(error->outcome);
    return {};
  }
  return std::get<ParsedPractitioner>(result).account;
}

#ifdef SAS_HAVE_VALIDATOR
const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}
#endif

TEST(PractitionerValidation, TheFourOfficialExamplesAreAcceptedAndNormalised) {
  const auto one = accepted(json::serialize(example(1)));
  EXPECT_EQ(one.national_id(), "3456780581/11242343");  // the structure form, kept as sent
  EXPECT_EQ(one.sas_id(), "");
  EXPECT_TRUE(one.active());
  EXPECT_EQ(one.family_name(), "Loridon");
  EXPECT_EQ(one.given_name(), "Sébastien");
  EXPECT_EQ(one.email(), "sebastien.loridon@test.com");

  const auto two = accepted(json::serialize(example(2)));
  EXPECT_EQ(two.national_id(), "810002673899");
  EXPECT_TRUE(two.active());
  EXPECT_EQ(two.family_name(), "MARIUS");

  const auto three = accepted(json::serialize(example(3)));
  EXPECT_EQ(three.national_id(), "810002673899");
  EXPECT_FALSE(three.active());

  const auto four = accepted(json::serialize(example(4)));
  EXPECT_EQ(four.national_id(), "");
  EXPECT_EQ(four.sas_id(), "1ef1c748-01a3-6180-b098-73283ce4e5b1");
  EXPECT_EQ(four.account_id(), "");
}

TEST(PractitionerValidation, NormalisesIdsEmailsAndNames) {
  json::object p = example(2);
  p["identifier"].as_array()[0].as_object()["value"] = " 10002673899 ";  // unprefixed RPPS
  p["identifier"].as_array().emplace_back(
      json::object{{"system", kSas}, {"value", "1EF1C748-01A3-6180-B098-73283CE4E5B1"}});
  p["name"] = json::array{json::object{{"family", " Marius "}, {"given", json::array{" Jules"}}}};
  p["telecom"] = json::array{json::object{{"system", "email"}, {"value", " Jules.Marius@TEST.COM "}},
                             json::object{{"system", "email"}, {"value", "second@test.com"}}};
  const auto account = accepted(json::serialize(p));
  EXPECT_EQ(account.national_id(), "810002673899");
  EXPECT_EQ(account.sas_id(), "1ef1c748-01a3-6180-b098-73283ce4e5b1");  // no type: the profile's pattern is optional
  EXPECT_EQ(account.family_name(), "Marius");
  EXPECT_EQ(account.given_name(), "Jules");
  EXPECT_EQ(account.email(), "Jules.Marius@test.com");  // the first address; domain in lower case
  const auto adeli = accepted(json::serialize(sas::accounts_test::regulator("0751234567")));
  EXPECT_EQ(adeli.national_id(), "0751234567");
}

struct Variant {
  const char* name;
  std::function<void(json::object&)> change;
  unsigned status;
  std::string expression;
  std::string words;
  int base = 2;  // the example it starts from
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const Variant& v, std::ostream* out) { *out << v.name; }

json::object& first(json::object& p, const char* key) { return p[key].as_array()[0].as_object(); }

std::vector<Variant> variants() {
  return {
      {"MissingEmail", [](json::object& p) { p.erase("telecom"); }, 422, "Practitioner.telecom", "e-mail"},
      {"MalformedEmail", [](json::object& p) { first(p, "telecom")["value"] = "jules.marius@"; }, 422,
       "Practitioner.telecom[0].value", "not a well-formed e-mail"},
      {"EmailWithSpace", [](json::object& p) { first(p, "telecom")["value"] = "jules marius@test.com"; }, 422,
       "Practitioner.telecom[0].value", "e-mail"},
      {"EmailWithoutDomainDot", [](json::object& p) { first(p, "telecom")["value"] = "jules@localhost"; }, 422,
       "Practitioner.telecom[0].value", "e-mail"},
      {"EmailDoubleDot", [](json::object& p) { first(p, "telecom")["value"] = "jules..marius@test.com"; }, 422,
       "Practitioner.telecom[0].value", "e-mail"},
      {"PhoneInsteadOfEmail", [](json::object& p) { first(p, "telecom")["system"] = "phone"; }, 422,
       "Practitioner.telecom[0].system", "e-mail addresses only"},
      {"WrongMetaSource", [](json::object& p) { p["meta"].as_object()["source"] = "urn:oid:1.2.250.1.71.4.2.1"; }, 422,
       "Practitioner.meta.source", "must be urn:oid:1.2.250.1.213.3.6"},
      {"MissingMetaSource", [](json::object& p) { p["meta"].as_object().erase("source"); }, 422,
       "Practitioner.meta.source", "required"},
      {"UnknownIdentifierSystem", [](json::object& p) { first(p, "identifier")["system"] = "urn:oid:1.2.3.4"; }, 422,
       "Practitioner.identifier[0].system", "not an account identifier system"},
      {"IdnpsTypeWithTheSasSystem",
       [](json::object& p) {
         first(p, "identifier")["system"] = kSas;
         first(p, "identifier")["value"] = "1ef1c748-01a3-6180-b098-73283ce4e5b1";
       },
       422, "Practitioner.identifier[0].type", "type IDNPS does not match system urn:oid:1.2.250.1.213.3.6"},
      {"IntrnTypeWithTheNationalSystem",
       [](json::object& p) {
         first(p, "identifier")["system"] = kNational;
         first(p, "identifier")["value"] = "810002673899";
       },
       422, "Practitioner.identifier[0].type", "type INTRN does not match system urn:oid:1.2.250.1.71.4.2.1", 4},
      {"ForeignIdentifierType",
       [](json::object& p) {
         first(p, "identifier")["type"] =
             json::object{{"coding", json::array{json::object{{"system", "http://x"}, {"code", "IDNPS"}}}}};
       },
       422, "Practitioner.identifier[0].type", "must be the code IDNPS"},
      {"MalformedNationalId", [](json::object& p) { first(p, "identifier")["value"] = "8100026738"; }, 422,
       "Practitioner.identifier[0].value", "not a national practitioner id"},
      {"MalformedSasId", [](json::object& p) { first(p, "identifier")["value"] = "1ef1c748-01a3"; }, 422,
       "Practitioner.identifier[0].value", "UUID", 4},
      {"TwoNationalIds", [](json::object& p) { p["identifier"].as_array().push_back(p["identifier"].as_array()[0]); },
       422, "Practitioner.identifier[1]", "more than one IDNPS"},
      {"MissingIdentifier", [](json::object& p) { p.erase("identifier"); }, 422, "Practitioner.identifier", "required"},
      {"MissingIdentifierValue", [](json::object& p) { first(p, "identifier").erase("value"); }, 422,
       "Practitioner.identifier[0].value", "required"},
      {"EmptyFamilyName", [](json::object& p) { first(p, "name")["family"] = ""; }, 400, "Practitioner.name[0].family",
       "empty string"},
      {"BlankFamilyName", [](json::object& p) { first(p, "name")["family"] = "   "; }, 422,
       "Practitioner.name[0].family", "blank"},
      {"MissingFamilyName", [](json::object& p) { first(p, "name").erase("family"); }, 422,
       "Practitioner.name[0].family", "required"},
      {"MissingGivenName", [](json::object& p) { first(p, "name").erase("given"); }, 422, "Practitioner.name[0].given",
       "required"},
      {"EmptyGivenName", [](json::object& p) { first(p, "name")["given"] = json::array{""}; }, 400,
       "Practitioner.name[0].given[0]", "empty string"},
      {"TwoGivenNames",
       [](json::object& p) {
         first(p, "name")["given"] = json::array{"Jules", "Pierre"};
       },
       422, "Practitioner.name[0].given", "one given name"},
      {"MissingName", [](json::object& p) { p.erase("name"); }, 422, "Practitioner.name", "required"},
      {"MissingActive", [](json::object& p) { p.erase("active"); }, 422, "Practitioner.active", "required"},
      {"ActiveAsString", [](json::object& p) { p["active"] = "true"; }, 400, "Practitioner.active",
       "must be a boolean"},
      {"NullActive", [](json::object& p) { p["active"] = nullptr; }, 400, "Practitioner.active", "null"},
      {"IdentifierNotAnArray", [](json::object& p) { p["identifier"] = p["identifier"].as_array()[0]; }, 400,
       "Practitioner.identifier", "must be an array"},
      {"EmptyTelecomArray", [](json::object& p) { p["telecom"] = json::array(); }, 400, "Practitioner.telecom",
       "empty array"},
      {"NotAPractitioner", [](json::object& p) { p["resourceType"] = "Patient"; }, 400, "Practitioner.resourceType",
       "expected a Practitioner"},
  };
}

class VariantTest : public testing::TestWithParam<Variant> {};

TEST_P(VariantTest, IsRefusedWithTheElementNamed) {
  const Variant& v = GetParam();
  json::object p = example(v.base);
  v.change(p);
  auto result = parse(p);
  ASSERT_TRUE(std::holds_alternative<sas::host::fhir::HttpError>(result)) << "accepted";
  const auto& error = std::get<sas::host::fhir::HttpError>(result);
  EXPECT_EQ(error.status, v.status) << json::serialize(error.outcome);
  sas::accounts_test::Response as_response;
  as_response.body = json::serialize(error.outcome);
  EXPECT_TRUE(as_response.has_issue(v.expression, v.words)) << json::serialize(error.outcome);
}

INSTANTIATE_TEST_SUITE_P(Refusals, VariantTest, testing::ValuesIn(variants()),
                         [](const testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

TEST(PractitionerValidation, MalformedBodiesAre400) {
  for (const std::string body : {"", "   ", "{", "[]", "\"Practitioner\"", "{\"resourceType\":1}", "{}"}) {
    auto result = sas::host::regulator_accounts::parse_practitioner(body);
    ASSERT_TRUE(std::holds_alternative<sas::host::fhir::HttpError>(result)) << body;
    EXPECT_EQ(std::get<sas::host::fhir::HttpError>(result).status, 400U) << body;
  }
  auto result = sas::host::regulator_accounts::parse_practitioner("{\"resourceType\": \"Practitioner\",");
  EXPECT_THAT(json::serialize(std::get<sas::host::fhir::HttpError>(result).outcome), HasSubstr("not valid JSON"));
}

TEST(PractitionerValidation, ReportsEveryProblemOfABodyAtOnce) {
  json::object p = example(2);
  p["meta"].as_object()["source"] = "urn:oid:9";
  p.erase("telecom");
  p.erase("active");
  auto result = parse(p);
  const auto& error = std::get<sas::host::fhir::HttpError>(result);
  EXPECT_EQ(error.status, 422U);
  EXPECT_EQ(error.outcome.at("issue").as_array().size(), 3U) << json::serialize(error.outcome);
}

#ifdef SAS_HAVE_VALIDATOR
// The host may refuse more than the profile (an unknown identifier system, a malformed e-mail or
// id), never less: whatever the IG's profile refuses, the host refuses too.
TEST(PractitionerValidation, NeverAcceptsWhatTheProfileRefuses) {
  for (int n = 1; n <= 4; ++n) {
    EXPECT_TRUE(profiles().validate(example(n), kRegulProfile).empty()) << "example " << n;
  }
  for (const auto& v : variants()) {
    json::object p = example(v.base);
    v.change(p);
    const auto issues = profiles().validate(p, kRegulProfile);
    const bool host_accepts = std::holds_alternative<ParsedPractitioner>(parse(p));
    if (!issues.empty()) {
      EXPECT_FALSE(host_accepts) << v.name << ": " << sas::conformance::to_string(issues[0]);
    }
  }
}
#endif

TEST(AccountQuery, AddressesOneAccountByOneIdentifier) {
  using sas::host::regulator_accounts::parse_account_query;
  auto national = std::get<AccountAddress>(parse_account_query("identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899"));
  EXPECT_EQ(national.kind, AccountAddress::Kind::national_id);
  EXPECT_EQ(national.value, "810002673899");
  auto encoded = std::get<AccountAddress>(
      parse_account_query("identifier=urn%3Aoid%3A1.2.250.1.71.4.2.1%7C10002673899&_format=json&_pretty=true"));
  EXPECT_EQ(encoded.value, "810002673899");
  auto sas = std::get<AccountAddress>(
      parse_account_query("identifier=urn:oid:1.2.250.1.213.3.6|1EF1C748-01A3-6180-B098-73283CE4E5B1"));
  EXPECT_EQ(sas.kind, AccountAddress::Kind::sas_id);
  EXPECT_EQ(sas.value, "1ef1c748-01a3-6180-b098-73283ce4e5b1");
  auto structure =
      std::get<AccountAddress>(parse_account_query("identifier=urn:oid:1.2.250.1.71.4.2.1|3456780581/11242343"));
  EXPECT_EQ(structure.value, "3456780581/11242343");
}

TEST(AccountQuery, RefusesWhatDoesNotAddressExactlyOneAccount) {
  using sas::host::regulator_accounts::parse_account_query;
  struct Case {
    std::string query;
    unsigned status;
    std::string words;
  };
  for (const auto& c : std::vector<Case>{
           {"", 400, "needs ?identifier"},
           {"identifier=810002673899", 400, "needs a system"},
           {"identifier=|810002673899", 400, "needs a system"},
           {"identifier=urn:oid:1.2.3|810002673899", 400, "not an account identifier system"},
           {"identifier=urn:oid:1.2.250.1.71.4.2.1|81000", 400, "not a national practitioner id"},
           {"identifier=urn:oid:1.2.250.1.213.3.6|abc", 400, "UUID"},
           {"identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899&identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899",
            400, "repeated"},
           {"identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899&name=MARIUS", 400, "unknown parameter"},
           {"identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899&_format=xml", 406, "application/fhir+json"},
           {"identifier=urn:oid:1.2.250.1.71.4.2.1%7", 400, "percent-encoding"},
       }) {
    auto result = parse_account_query(c.query);
    ASSERT_TRUE(std::holds_alternative<sas::host::fhir::HttpError>(result)) << c.query;
    const auto& error = std::get<sas::host::fhir::HttpError>(result);
    EXPECT_EQ(error.status, c.status) << c.query;
    EXPECT_THAT(json::serialize(error.outcome), HasSubstr(c.words)) << c.query;
  }
}

TEST(Identifiers, NationalAndSasIdForms) {
  using sas::host::regulator_accounts::normalize_national_id;
  using sas::host::regulator_accounts::normalize_sas_id;
  EXPECT_EQ(normalize_national_id("810002673899"), "810002673899");
  EXPECT_EQ(normalize_national_id("10002673899"), "810002673899");
  EXPECT_EQ(normalize_national_id("0751234567"), "0751234567");
  EXPECT_EQ(normalize_national_id("3456780581/11242343"), "3456780581/11242343");
  for (const char* bad : {"", "81000267389X", "3456780581/", "/11242343", "8456780581/1", "3456780581/1 2", "3/1/2x"}) {
    std::string error;
    EXPECT_FALSE(normalize_national_id(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_EQ(normalize_sas_id("1EF1C748-01A3-6180-B098-73283CE4E5B1"), "1ef1c748-01a3-6180-b098-73283ce4e5b1");
  for (const char* bad : {"", "1ef1c74801a36180b09873283ce4e5b1", "1ef1c748-01a3-6180-b098-73283ce4e5bz",
                          "{1ef1c748-01a3-6180-b098-73283ce4e5b1}"}) {
    EXPECT_FALSE(normalize_sas_id(bad)) << bad;
  }
}

TEST(Identifiers, EmailForms) {
  using sas::host::regulator_accounts::is_valid_email;
  for (const char* good :
       {"a@b.fr", "jules.marius@test.com", "o'neil+sas@hopital-nord.ap-hm.fr", "élodie@médecins.fr"}) {
    EXPECT_TRUE(is_valid_email(good)) << good;
  }
  for (const char* bad : {"", "a", "@b.fr", "a@", "a@b", "a@@b.fr", "a@b..fr", ".a@b.fr", "a.@b.fr", "a b@c.fr",
                          "a@-b.fr", "a@b-.fr", "a@b.fr.", "a@b_c.fr", "<a@b.fr>"}) {
    EXPECT_FALSE(is_valid_email(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_email(std::string(65, 'a') + "@b.fr"));
}

}  // namespace
