// INT_R02 end to end: the real `sas-host serve` with the reference plugin, the IG's regulator
// examples and their variants over mutual TLS; the accounts read straight from the agenda file,
// the audit straight from the host's store file.
#include <gmock/gmock.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <thread>

#include "accounts_harness.hpp"
#ifdef SAS_HAVE_VALIDATOR
#include "sas/conformance/profile_validator.hpp"
#endif

namespace {

namespace json = boost::json;
using namespace sas::accounts_test;
using testing::HasSubstr;
using testing::StartsWith;

constexpr const char* kIdnps2 = "810002673899";                          // examples 2 and 3
constexpr const char* kIntrn4 = "1ef1c748-01a3-6180-b098-73283ce4e5b1";  // example 4

std::string body(const json::object& p) { return json::serialize(p); }

// The Location's last segment.
std::string id_of(const Response& r) {
  const std::string location = r.header("location");
  return location.substr(location.rfind('/') + 1);
}

json::object with_identifiers(json::object p, const std::string& national, const std::string& sas) {
  const auto fresh = regulator(national, sas);
  p["identifier"] = fresh.at("identifier");
  return p;
}

#ifdef SAS_HAVE_VALIDATOR
const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}
#endif

class AccountsE2e : public testing::Test {
 protected:
  void SetUp() override { host_ = std::make_unique<Host>(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "host log:\n" << host_->output();
  }

  // A success: the status, a Location under the base and a Practitioner body with that id.
  void expect_written(const Response& r, long status) {
    ASSERT_EQ(r.status, status) << r.describe();
    EXPECT_THAT(r.header("location"), StartsWith(host_->base() + "/Practitioner/"));
    EXPECT_THAT(r.header("content-type"), StartsWith("application/fhir+json"));
    const auto p = r.json();
    EXPECT_EQ(p.at("resourceType"), "Practitioner");
    EXPECT_EQ(p.at("id").as_string(), id_of(r));
#ifdef SAS_HAVE_VALIDATOR
    const auto issues = profiles().validate(p, kRegulProfile);
    EXPECT_TRUE(issues.empty()) << sas::conformance::to_string(issues.front());
#endif
  }

  // A refusal: the status, an OperationOutcome with an issue on `expression` saying `words`.
  void expect_refused(const Response& r, long status, const std::string& expression, const std::string& words) {
    ASSERT_EQ(r.status, status) << r.describe();
    EXPECT_THAT(r.header("content-type"), StartsWith("application/fhir+json"));
    EXPECT_EQ(r.json().at("resourceType"), "OperationOutcome");
    EXPECT_TRUE(r.has_issue(expression, words))
        << "no issue on " << expression << " saying \"" << words << "\" in " << r.body;
    EXPECT_EQ(r.header("location"), "");
  }

  std::unique_ptr<Host> host_;
};

TEST_F(AccountsE2e, TheFourOfficialExamplesCreateAndUpdateAccounts) {
  const auto one = post(*host_, example(1));
  expect_written(one, 201);
  const auto two = post(*host_, example(2));
  expect_written(two, 201);
  const auto three = put(*host_, kNational, kIdnps2, example(3));
  expect_written(three, 200);
  EXPECT_EQ(three.header("location"), two.header("location")) << "example 3 deactivates example 2's account";
  const auto four = post(*host_, example(4));
  expect_written(four, 201);

  const auto rows = accounts(*host_);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].at("id"), id_of(one));
  EXPECT_EQ(rows[0].at("national_id"), "3456780581/11242343");
  EXPECT_EQ(rows[0].at("sas_id"), "NULL");
  EXPECT_EQ(rows[0].at("family_name"), "Loridon");
  EXPECT_EQ(rows[0].at("given_names"), "Sébastien");
  EXPECT_EQ(rows[0].at("email"), "sebastien.loridon@test.com");
  EXPECT_EQ(rows[0].at("active"), "1");
  EXPECT_THAT(rows[0].at("password_hash"), StartsWith("pbkdf2_sha256$"));  // generated, never sent
  EXPECT_EQ(rows[0].at("terms_accepted_at"), "NULL");                      // accepted at first login
  EXPECT_EQ(rows[1].at("id"), id_of(two));
  EXPECT_EQ(rows[1].at("national_id"), kIdnps2);
  EXPECT_EQ(rows[1].at("family_name"), "MARIUS");
  EXPECT_EQ(rows[1].at("active"), "0");
  EXPECT_EQ(rows[2].at("id"), id_of(four));
  EXPECT_EQ(rows[2].at("national_id"), "NULL");
  EXPECT_EQ(rows[2].at("sas_id"), kIntrn4);
  EXPECT_EQ(three.json().at("active"), false);

  const auto log = audit(*host_);
  ASSERT_EQ(log.size(), 4U);
  const std::vector<std::string> outcomes = {"created", "created", "updated", "created"};
  const std::vector<std::string> statuses = {"201", "201", "200", "201"};
  const std::vector<std::string> ids = {id_of(one), id_of(two), id_of(two), id_of(four)};
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].at("outcome"), outcomes[i]) << i;
    EXPECT_EQ(log[i].at("http_status"), statuses[i]) << i;
    EXPECT_EQ(log[i].at("account_id"), ids[i]) << i;
    EXPECT_EQ(log[i].at("client"), "CN=sas.sante.fr,OU=SAS");
    EXPECT_NE(log[i].at("finished_at"), "NULL");
  }
  EXPECT_EQ(log[0].at("method"), "POST");
  EXPECT_EQ(log[0].at("target"), "/sas/Practitioner");
  EXPECT_EQ(log[0].at("operation"), "create");
  EXPECT_EQ(log[0].at("body"), body(example(1)));  // verbatim, for a replay
  EXPECT_EQ(log[2].at("method"), "PUT");
  EXPECT_EQ(log[2].at("target"), "/sas/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810002673899");
  EXPECT_EQ(log[2].at("operation"), "conditional-update");
  EXPECT_EQ(log[2].at("national_id"), kIdnps2);
  EXPECT_EQ(log[2].at("active"), "0");
  EXPECT_EQ(log[3].at("sas_id"), kIntrn4);
  EXPECT_TRUE(host_->running());
}

TEST_F(AccountsE2e, TheNationalIdAddedLaterKeepsTheSameAccount) {
  const auto created = post(*host_, example(4));
  expect_written(created, 201);
  const auto both = with_identifiers(example(4), "810100050075", kIntrn4);
  const auto added = put(*host_, kSas, kIntrn4, both);
  expect_written(added, 200);
  EXPECT_EQ(added.header("location"), created.header("location"));
  // Addressed by the national id this time: still the same account, never a second one.
  auto renamed = both;
  renamed["name"].as_array()[0].as_object()["family"] = "Loridon-Martin";
  const auto again = put(*host_, kNational, "810100050075", renamed);
  expect_written(again, 200);
  EXPECT_EQ(again.header("location"), created.header("location"));

  const auto rows = accounts(*host_);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].at("id"), id_of(created));
  EXPECT_EQ(rows[0].at("national_id"), "810100050075");
  EXPECT_EQ(rows[0].at("sas_id"), kIntrn4);
  EXPECT_EQ(rows[0].at("family_name"), "Loridon-Martin");
  // The answer carries both identifiers, as stored.
  EXPECT_EQ(again.json().at("identifier").as_array().size(), 2U);
}

TEST_F(AccountsE2e, ActiveFalseWithdrawsTheHabilitationAndTrueGivesItBack) {
  const auto created = post(*host_, example(2));
  expect_written(created, 201);
  expect_written(put(*host_, kNational, kIdnps2, example(3)), 200);
  EXPECT_EQ(accounts(*host_).at(0).at("active"), "0");
  const auto back = put(*host_, kNational, kIdnps2, example(2));
  expect_written(back, 200);
  EXPECT_EQ(back.header("location"), created.header("location"));
  const auto rows = accounts(*host_);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].at("active"), "1");
}

struct Refusal {
  const char* name;
  std::string body;
  long status;
  std::string expression;
  std::string words;
};

std::vector<Refusal> refusals() {
  auto change = [](int n, const std::function<void(json::object&)>& f) {
    json::object p = example(n);
    f(p);
    return body(p);
  };
  auto first = [](json::object& p, const char* key) -> json::object& { return p[key].as_array()[0].as_object(); };
  return {
      {"MissingEmail", change(2, [](json::object& p) { p.erase("telecom"); }), 422, "Practitioner.telecom",
       "e-mail address (system email): it is required"},
      {"MalformedEmail", change(2, [&](json::object& p) { first(p, "telecom")["value"] = "jules.marius@test"; }), 422,
       "Practitioner.telecom[0].value", "not a well-formed e-mail address"},
      {"WrongMetaSource", change(2, [](json::object& p) { p["meta"].as_object()["source"] = "https://sas.sante.fr"; }),
       422, "Practitioner.meta.source", "it must be urn:oid:1.2.250.1.213.3.6"},
      {"MalformedJson", body(example(2)).substr(0, 100), 400, "Practitioner", "not valid JSON"},
      {"UnknownIdentifierSystem",
       change(2, [&](json::object& p) { first(p, "identifier")["system"] = "urn:oid:1.2.250.1.71.4.2.9"; }), 422,
       "Practitioner.identifier[0].system", "not an account identifier system"},
      {"EmptyFamilyName", change(2, [&](json::object& p) { first(p, "name")["family"] = ""; }), 400,
       "Practitioner.name[0].family", "empty string"},
      {"BlankFamilyName", change(2, [&](json::object& p) { first(p, "name")["family"] = " "; }), 422,
       "Practitioner.name[0].family", "blank"},
      {"IdnpsWithTheSasOid",
       change(2,
              [&](json::object& p) {
                first(p, "identifier")["system"] = kSas;
                first(p, "identifier")["value"] = kIntrn4;
              }),
       422, "Practitioner.identifier[0].type", "does not match system urn:oid:1.2.250.1.213.3.6"},
      {"IntrnWithTheNationalOid",
       change(4,
              [&](json::object& p) {
                first(p, "identifier")["system"] = kNational;
                first(p, "identifier")["value"] = kIdnps2;
              }),
       422, "Practitioner.identifier[0].type", "does not match system urn:oid:1.2.250.1.71.4.2.1"},
      {"MissingActive", change(2, [](json::object& p) { p.erase("active"); }), 422, "Practitioner.active", "required"},
      {"MissingGivenName", change(2, [&](json::object& p) { first(p, "name").erase("given"); }), 422,
       "Practitioner.name[0].given", "required"},
  };
}

TEST_F(AccountsE2e, RefusalsNameTheElementAndChangeNothing) {
  size_t sent = 0;
  for (const auto& refusal : refusals()) {
    SCOPED_TRACE(refusal.name);
    Request request;
    request.body = refusal.body;
    expect_refused(send(*host_, request), refusal.status, refusal.expression, refusal.words);
    request.method = "PUT";
    request.path = std::string("/Practitioner?identifier=") + kNational + "|" + kIdnps2;
    expect_refused(send(*host_, request), refusal.status, refusal.expression, refusal.words);
    sent += 2;
  }
  EXPECT_TRUE(accounts(*host_).empty());
  const auto log = audit(*host_);
  ASSERT_EQ(log.size(), sent);
  for (const auto& row : log) {
    EXPECT_EQ(row.at("outcome"), "invalid");
    EXPECT_THAT(row.at("http_status"), testing::AnyOf("400", "422"));
    EXPECT_NE(row.at("diagnostics"), "NULL");
    EXPECT_EQ(row.at("account_id"), "NULL");
  }
}

TEST_F(AccountsE2e, TheSamePutTwiceIsOneAccountAndAPutBeforeAnyPostCreates) {
  const auto p = regulator("810100050075", "", "DURAND");
  const auto first = put(*host_, kNational, "810100050075", p);
  expect_written(first, 201);  // no such account yet: the conditional update creates it
  const auto second = put(*host_, kNational, "810100050075", p);
  expect_written(second, 200);
  EXPECT_EQ(second.header("location"), first.header("location"));
  EXPECT_EQ(second.body, first.body);
  ASSERT_EQ(accounts(*host_).size(), 1U);
  // Addressed by its unprefixed form too.
  const auto third = put(*host_, kNational, "10100050075", p);
  expect_written(third, 200);
  EXPECT_EQ(accounts(*host_).size(), 1U);
}

TEST_F(AccountsE2e, AReplayedPostIsRefusedAndChangesNothing) {
  expect_written(post(*host_, example(2)), 201);
  expect_written(post(*host_, example(4)), 201);
  const auto before = accounts(*host_);

  const auto replay = post(*host_, example(2));
  expect_refused(replay, 422, "Practitioner.identifier", "already exists for IDNPS 810002673899");
  EXPECT_EQ(replay.issue_code("Practitioner.identifier"), "duplicate");
  auto changed = example(2);
  changed["telecom"].as_array()[0].as_object()["value"] = "another@test.com";
  expect_refused(post(*host_, changed), 422, "Practitioner.identifier", "nothing was changed");
  expect_refused(post(*host_, example(4)), 422, "Practitioner.identifier",
                 "already exists for INTRN " + std::string(kIntrn4));
  EXPECT_EQ(accounts(*host_), before);

  const auto log = audit(*host_);
  ASSERT_EQ(log.size(), 5U);
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(log[i].at("outcome"), "refused");
    EXPECT_EQ(log[i].at("http_status"), "422");
    EXPECT_EQ(log[i].at("plugin_status"), "SAS_ERR_ALREADY_EXISTS");
    EXPECT_THAT(log[i].at("diagnostics"), HasSubstr("already exists"));
  }
}

TEST_F(AccountsE2e, TheAuditCommandShowsWhatWasAskedAndWhatWasDone) {
  expect_written(post(*host_, example(2)), 201);
  const std::string replayed = boost::json::serialize(example(2));
  expect_refused(send(*host_, Request{.body = replayed}), 422, "Practitioner.identifier", "already exists");

  const std::string store = "sqlite:" + host_->store().string();
  auto lines = [](const std::string& out) {
    std::vector<boost::json::object> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) rows.push_back(boost::json::parse(line).as_object());
    return rows;
  };
  const auto all = sas::test::run({sas::test::bin("sas-host").string(), "accounts", "audit", "--store", store});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto rows = lines(all.out);
  ASSERT_EQ(rows.size(), 2U) << all.out;
  EXPECT_EQ(rows[0].at("method"), "POST");
  EXPECT_EQ(rows[0].at("client"), "CN=sas.sante.fr,OU=SAS");
  EXPECT_FALSE(rows[0].contains("body"));
  const auto& created = rows[0].at("outcome").as_object();
  EXPECT_EQ(created.at("outcome"), "created");
  EXPECT_EQ(created.at("http_status"), 201);
  EXPECT_EQ(created.at("national_id"), "810002673899");
  EXPECT_EQ(created.at("active"), true);
  const auto& refused = rows[1].at("outcome").as_object();
  EXPECT_EQ(refused.at("outcome"), "refused");
  EXPECT_EQ(refused.at("http_status"), 422);
  EXPECT_EQ(refused.at("account_id"), "");

  // Paging, and the verbatim body for a replay.
  const auto after = sas::test::run({sas::test::bin("sas-host").string(), "accounts", "audit", "--store", store,
                                     "--after", std::to_string(rows[0].at("id").as_int64()), "--with-body"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  const auto later = lines(after.out);
  ASSERT_EQ(later.size(), 1U);
  EXPECT_EQ(later[0].at("id"), rows[1].at("id"));
  EXPECT_EQ(later[0].at("body").as_string(), replayed);

  const auto missing = sas::test::run({sas::test::bin("sas-host").string(), "accounts", "audit"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("store"));
}

TEST_F(AccountsE2e, ANationalIdFreedByADeactivationCanBeGivenToAnotherAccount) {
  const std::string x = "810100050075";
  const std::string u = "2b0a4b5e-3f4c-4d7e-9a1b-0c2d3e4f5a6b";
  const auto a = post(*host_, regulator(x, "", "ANCIEN"));
  expect_written(a, 201);
  expect_written(put(*host_, kNational, x,
                     [&] {
                       auto p = regulator(x, "", "ANCIEN");
                       p["active"] = false;
                       return p;
                     }()),
                 200);
  const auto b = post(*host_, regulator("", u, "NOUVEAU"));
  expect_written(b, 201);
  const auto moved = put(*host_, kSas, u, regulator(x, u, "NOUVEAU"));
  expect_written(moved, 200);
  EXPECT_EQ(moved.header("location"), b.header("location"));

  auto rows = accounts(*host_);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].at("id"), id_of(a));
  EXPECT_EQ(rows[0].at("active"), "0");
  EXPECT_EQ(rows[1].at("id"), id_of(b));
  EXPECT_EQ(rows[1].at("national_id"), x);
  EXPECT_EQ(rows[1].at("sas_id"), u);
  EXPECT_EQ(rows[1].at("active"), "1");

  // The national id now addresses the active holder.
  const auto renamed = put(*host_, kNational, x, regulator(x, u, "NOUVEAU-NOM"));
  expect_written(renamed, 200);
  EXPECT_EQ(renamed.header("location"), b.header("location"));
  // Giving it back to the first account while the second holds it is refused.
  auto back = regulator(x, "", "ANCIEN");
  back["id"] = id_of(a);
  Request request;
  request.method = "PUT";
  request.path = "/Practitioner/" + id_of(a);
  request.body = body(back);
  expect_refused(send(*host_, request), 422, "Practitioner.identifier", "IDNPS 810100050075 is held by active account");
  EXPECT_EQ(accounts(*host_, "WHERE id = '" + id_of(a) + "'").at(0).at("active"), "0");
}

TEST_F(AccountsE2e, AFreedNationalIdUnderANewSasIdMakesANewAccount) {
  const std::string x = "810100050075";
  const std::string u0 = "2b0a4b5e-3f4c-4d7e-9a1b-0c2d3e4f5a6b";
  const std::string u1 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
  const auto a = post(*host_, regulator(x, u0, "ANCIEN"));
  expect_written(a, 201);
  auto off = regulator(x, u0, "ANCIEN");
  off["active"] = false;
  expect_written(put(*host_, kSas, u0, off), 200);
  // The inactive account belongs to another SAS id: the freed national id goes to a new account.
  const auto b = put(*host_, kSas, u1, regulator(x, u1, "NOUVEAU"));
  expect_written(b, 201);
  EXPECT_NE(b.header("location"), a.header("location"));
  const auto rows = accounts(*host_);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].at("sas_id"), u0);
  EXPECT_EQ(rows[0].at("active"), "0");
  EXPECT_EQ(rows[1].at("sas_id"), u1);
  EXPECT_EQ(rows[1].at("national_id"), x);
  EXPECT_EQ(rows[1].at("active"), "1");
}

TEST_F(AccountsE2e, ANationalIdHeldByAnActiveAccountDoesNotMove) {
  const std::string x = "810100050075";
  const std::string u = "2b0a4b5e-3f4c-4d7e-9a1b-0c2d3e4f5a6b";
  expect_written(post(*host_, regulator(x, "", "TITULAIRE")), 201);
  expect_written(post(*host_, regulator("", u, "AUTRE")), 201);
  const auto before = accounts(*host_);
  expect_refused(put(*host_, kSas, u, regulator(x, u, "AUTRE")), 422, "Practitioner.identifier",
                 "is held by active account");
  EXPECT_EQ(accounts(*host_), before);
}

TEST_F(AccountsE2e, TheSasIdOfAnAccountNeverChanges) {
  const std::string u1 = "2b0a4b5e-3f4c-4d7e-9a1b-0c2d3e4f5a6b";
  const std::string u2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
  const auto a = post(*host_, regulator("", u1));
  expect_written(a, 201);
  expect_refused(put(*host_, kSas, u1, regulator("", u2)), 422, "Practitioner.identifier", "never changes");
  auto by_id = regulator("", u2);
  by_id["id"] = id_of(a);
  Request request;
  request.method = "PUT";
  request.path = "/Practitioner/" + id_of(a);
  request.body = body(by_id);
  expect_refused(send(*host_, request), 422, "", "a SAS technical id never changes");
  EXPECT_EQ(accounts(*host_).at(0).at("sas_id"), u1);
}

TEST_F(AccountsE2e, UpdateByTheAccountId) {
  const auto a = post(*host_, example(2));
  expect_written(a, 201);
  auto p = example(2);
  p["id"] = id_of(a);
  p["telecom"].as_array()[0].as_object()["value"] = "jules.marius@hopital.fr";
  Request request;
  request.method = "PUT";
  request.path = "/Practitioner/" + id_of(a);
  request.body = body(p);
  expect_written(send(*host_, request), 200);
  EXPECT_EQ(accounts(*host_).at(0).at("email"), "jules.marius@hopital.fr");

  request.body = body(example(2));  // its id is the IG's, not the URL's
  expect_refused(send(*host_, request), 400, "Practitioner.id", "must be the id of the URL");
  p["id"] = "4a0b27a5-0000-4000-8000-000000000000";
  request.path = "/Practitioner/4a0b27a5-0000-4000-8000-000000000000";
  request.body = body(p);
  expect_refused(send(*host_, request), 404, "", "no regulator account has the id");
}

TEST_F(AccountsE2e, ProtocolDetails) {
  Request get;
  get.method = "GET";
  EXPECT_EQ(send(*host_, get).status, 405);

  Request no_query;
  no_query.method = "PUT";
  no_query.body = body(example(2));
  expect_refused(send(*host_, no_query), 400, "identifier", "needs ?identifier=SYSTEM|VALUE");
  expect_refused(put(*host_, "urn:oid:1.2.3", kIdnps2, example(2)), 400, "identifier",
                 "not an account identifier system");

  Request xml;
  xml.body = "<Practitioner xmlns=\"http://hl7.org/fhir\"/>";
  xml.headers = {"Content-Type: application/fhir+xml"};
  expect_refused(send(*host_, xml), 415, "", "application/fhir+json");

  Request minimal;
  minimal.body = body(example(1));
  minimal.headers.push_back("Prefer: return=minimal");
  const auto created = send(*host_, minimal);
  ASSERT_EQ(created.status, 201) << created.describe();
  EXPECT_THAT(created.header("location"), StartsWith(host_->base() + "/Practitioner/"));
  EXPECT_EQ(created.body, "");

  Request outcome;
  outcome.body = body(example(4));
  outcome.headers.push_back("Prefer: return=OperationOutcome");
  const auto with_outcome = send(*host_, outcome);
  ASSERT_EQ(with_outcome.status, 201) << with_outcome.describe();
  EXPECT_EQ(with_outcome.json().at("resourceType"), "OperationOutcome");
  EXPECT_THAT(with_outcome.body, HasSubstr("created regulator account " + id_of(with_outcome)));

  Request metadata;
  metadata.method = "GET";
  metadata.path = "/metadata";
  const auto statement = send(*host_, metadata);
  ASSERT_EQ(statement.status, 200) << statement.describe();
  EXPECT_THAT(statement.body, HasSubstr("CapabilityStatement/SAS-GestionnaireStructure"));
  EXPECT_THAT(statement.body, HasSubstr(R"({"code":"create"})"));
  EXPECT_THAT(statement.body, HasSubstr(R"("conditionalUpdate":true)"));
  EXPECT_THAT(statement.body, HasSubstr(kRegulProfile));
}

TEST_F(AccountsE2e, OnlyTheSasPlatformCertificateGetsIn) {
  Request request;
  request.body = body(example(2));
  request.client = "client-wrong-ou";
  const auto refused = send(*host_, request);
  EXPECT_EQ(refused.status, 0) << "refused during the handshake, without an HTTP answer";
  EXPECT_TRUE(accounts(*host_).empty());
  EXPECT_TRUE(audit(*host_).empty());
}

TEST_F(AccountsE2e, ConcurrentPutsOfOneRegulatorMakeOneAccount) {
  const auto p = regulator("810100050075", "", "SIMULTANE");
  std::vector<long> statuses(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] { statuses[i] = put(*host_, kNational, "810100050075", p).status; });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 7);
  EXPECT_EQ(accounts(*host_).size(), 1U);
}

// ---- plugins without the flow, and every plugin outcome ------------------------------------

TEST(AccountsPlugins, APluginWithoutTheFlowIsAnswered501) {
  Host host(HostOptions{sas::test::test_plugin("raw_ok"), "none", {}});
  const auto r = post(host, example(2));
  ASSERT_EQ(r.status, 501) << r.describe();
  EXPECT_TRUE(r.has_issue("", "does not declare the regulator-accounts flow")) << r.body;
  const auto log = audit(host);
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].at("outcome"), "unsupported");
  Request metadata;
  metadata.method = "GET";
  metadata.path = "/metadata";
  EXPECT_THAT(send(host, metadata).body, testing::Not(HasSubstr("SAS-GestionnaireStructure")));
}

TEST(AccountsPlugins, AnAbi10PluginThatDeclaresTheFlowIsAnswered501) {
  Host host(HostOptions{sas::test::test_plugin("accounts_abi_1_0"), "none", {}});
  EXPECT_THAT(host.output(), HasSubstr("(ABI 1.0, "));
  const auto r = put(host, kNational, kIdnps2, example(2));
  ASSERT_EQ(r.status, 501) << r.describe();
  EXPECT_TRUE(r.has_issue("", "does not implement regulator accounts")) << r.body;
  EXPECT_EQ(audit(host).at(0).at("plugin_status"), "SAS_ERR_UNIMPLEMENTED");
}

TEST(AccountsPlugins, EveryPluginOutcomeBecomesAnHttpAnswer) {
  Host host(HostOptions{sas::test::test_plugin("scripted_accounts"), "none", {"--request-deadline-ms", "1500"}});
  struct Case {
    const char* family;
    long status;
    std::string words;
  };
  // The host's one plugin-status mapping (fhir/plugin_failure.hpp); 422 for a refusal, as the
  // IG defines INT_R02's errors.
  for (const auto& c : std::vector<Case>{{"THROW", 502, "scripted plugin exploded"},
                                         {"REFUSE", 422, "already used by another user"},
                                         {"BUSY", 503, "database is locked"},
                                         {"SLOW", 504, "did not answer in time"},
                                         {"NOID", 502, "without the account's id"}}) {
    const auto r = post(host, regulator(kIdnps2, "", c.family));
    ASSERT_EQ(r.status, c.status) << c.family << ": " << r.describe();
    EXPECT_TRUE(r.has_issue("", c.words)) << c.family << ": " << r.body;
  }
  const auto ok = put(host, kNational, kIdnps2, regulator(kIdnps2, "", "NORMAL"));
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.header("location"), host.base() + "/Practitioner/scripted-account");
  EXPECT_TRUE(host.running());
  const auto log = audit(host);
  ASSERT_EQ(log.size(), 6U);
  EXPECT_EQ(log[0].at("plugin_status"), "SAS_ERR_INTERNAL");
  EXPECT_EQ(log[1].at("outcome"), "refused");
  EXPECT_EQ(log[3].at("plugin_status"), "SAS_ERR_DEADLINE_EXCEEDED");
  EXPECT_EQ(log[4].at("outcome"), "failed");
  EXPECT_EQ(log[5].at("outcome"), "updated");
}

}  // namespace
