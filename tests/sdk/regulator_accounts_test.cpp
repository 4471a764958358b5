// The INT_R02 account rules (sas/sdk/regulator_accounts.hpp), one table row per rule of
// docs/regulator-accounts.md ("Accounts and identifiers") and plugin.proto
// (WriteRegulatorAccountRequest), over an in-memory account table: the lookup is the vendor's
// side of the interface, so a small store of our own is the right stand-in here. The reference
// plugin's own tests (tests/regulator_accounts) run the same rules end to end over mTLS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sas/sdk/regulator_accounts.hpp>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
namespace ra = sas::sdk::regulator_accounts;
using testing::HasSubstr;

constexpr const char* kX = "810100050075";  // an IDNPS
constexpr const char* kY = "810002673899";
constexpr const char* kU1 = "2b0a4b5e-3f4c-4d7e-9a1b-0c2d3e4f5a6b";  // INTRNs
constexpr const char* kU2 = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

// Accounts in the order they were last written (the last one most recently).
class MemoryStore : public ra::AccountStore {
 public:
  std::optional<ra::StoredAccount> by_id(const std::string& id) override {
    return find([&](const ra::StoredAccount& a) { return a.id == id; });
  }
  std::optional<ra::StoredAccount> by_sas_id(const std::string& sas_id) override {
    return find([&](const ra::StoredAccount& a) { return a.fields.sas_id == sas_id; });
  }
  std::vector<ra::StoredAccount> by_national_id(const std::string& national_id) override {
    std::vector<ra::StoredAccount> out;
    for (auto it = accounts.rbegin(); it != accounts.rend(); ++it) {
      if (it->fields.national_id == national_id) out.push_back(*it);
    }
    return out;
  }
  std::string create(const ra::AccountFields& fields) override {
    accounts.push_back({"acc-" + std::to_string(accounts.size() + 1), fields});
    return accounts.back().id;
  }
  void update(const std::string& id, const ra::AccountFields& fields) override {
    auto it = std::find_if(accounts.begin(), accounts.end(), [&](const auto& a) { return a.id == id; });
    ASSERT_NE(it, accounts.end());
    ra::StoredAccount updated{id, fields};
    accounts.erase(it);
    accounts.push_back(updated);  // now the most recently written
  }
  // Adds an account as it is, without the rules (a store's prior state).
  void seed(std::string id, std::string national_id, std::string sas_id, bool active) {
    accounts.push_back({std::move(id), {std::move(national_id), std::move(sas_id), "OLD", "Old", "old@x.fr", active}});
  }

  std::vector<ra::StoredAccount> accounts;

 private:
  template <class Pred>
  std::optional<ra::StoredAccount> find(Pred pred) {
    auto it = std::find_if(accounts.begin(), accounts.end(), pred);
    if (it == accounts.end()) return std::nullopt;
    return *it;
  }
};

struct Seed {
  std::string id, national_id, sas_id;
  bool active = true;
};

enum class Kind { create, update, refuse };

// One write as the host sends it: how the platform addressed the account, and its new state.
struct Write {
  v1::AccountWriteMode mode;
  std::string match_national_id, match_sas_id, match_account_id;
  std::string national_id, sas_id;
  bool active;
};

struct Case {
  std::string name;
  std::vector<Seed> store;
  Write write;
  Kind expected = Kind::refuse;
  std::string account_id;                             // update: which account
  std::string expected_national_id, expected_sas_id;  // create / update: the identifiers written
  sas_status code = SAS_OK;                           // refuse
  std::string message;                                // refuse: the platform's message, exactly
};

Case creates(std::string name, std::vector<Seed> store, Write write, std::string national_id, std::string sas_id) {
  Case c;
  c.name = std::move(name);
  c.store = std::move(store);
  c.write = std::move(write);
  c.expected = Kind::create;
  c.expected_national_id = std::move(national_id);
  c.expected_sas_id = std::move(sas_id);
  return c;
}

Case updates(std::string name, std::vector<Seed> store, Write write, std::string account_id, std::string national_id,
             std::string sas_id) {
  Case c = creates(std::move(name), std::move(store), std::move(write), std::move(national_id), std::move(sas_id));
  c.expected = Kind::update;
  c.account_id = std::move(account_id);
  return c;
}

Case refuses(std::string name, std::vector<Seed> store, Write write, sas_status code, std::string message) {
  Case c;
  c.name = std::move(name);
  c.store = std::move(store);
  c.write = std::move(write);
  c.expected = Kind::refuse;
  c.code = code;
  c.message = std::move(message);
  return c;
}

v1::WriteRegulatorAccountRequest request_of(const Write& w) {
  v1::WriteRegulatorAccountRequest r;
  r.set_mode(w.mode);
  r.set_match_national_id(w.match_national_id);
  r.set_match_sas_id(w.match_sas_id);
  r.set_match_account_id(w.match_account_id);
  v1::RegulatorAccount& a = *r.mutable_account();
  a.set_national_id(w.national_id);
  a.set_sas_id(w.sas_id);
  a.set_family_name("DURAND");
  a.set_given_name("Jules");
  a.set_email("jules.durand@hopital.fr");
  a.set_active(w.active);
  return r;
}

const auto POST = v1::ACCOUNT_CREATE;
const auto PUT_IF = v1::ACCOUNT_CREATE_OR_UPDATE;
const auto PUT_ID = v1::ACCOUNT_UPDATE;

std::vector<Case> cases() {
  return {
      // Rule 1.
      refuses("NoIdentifierAtAll", {}, {PUT_IF, "", "", "", "", "", true}, SAS_ERR_INVALID_ARGUMENT,
              "an account needs a national id or a SAS id"),
      // Rule 4: POST.
      creates("PostNew", {}, {POST, "", "", "", kX, kU1, true}, kX, kU1),
      refuses("PostReplayedByNationalId", {{"A", kX, "", true}}, {POST, "", "", "", kX, "", true},
              SAS_ERR_ALREADY_EXISTS, std::string("IDNPS ") + kX + " is held by active account A"),
      refuses("PostReplayedBySasId", {{"A", "", kU1, true}}, {POST, "", "", "", "", kU1, true}, SAS_ERR_ALREADY_EXISTS,
              std::string("INTRN ") + kU1 + " is the SAS id of account A"),
      refuses("PostSasIdOfAnInactiveAccount", {{"A", "", kU1, false}}, {POST, "", "", "", "", kU1, true},
              SAS_ERR_ALREADY_EXISTS, std::string("INTRN ") + kU1 + " is the SAS id of account A"),
      creates("PostNationalIdFreedByADeactivation", {{"A", kX, "", false}}, {POST, "", "", "", kX, kU1, true}, kX, kU1),
      // Rule 5: conditional PUT, by the URL's identifier.
      updates("PutByNationalIdFound", {{"A", kX, "", true}}, {PUT_IF, kX, "", "", kX, "", true}, "A", kX, ""),
      creates("PutByNationalIdNotFoundCreates", {{"A", kY, "", true}}, {PUT_IF, kX, "", "", kX, "", true}, kX, ""),
      updates("PutBySasIdFound", {{"A", kX, kU1, true}}, {PUT_IF, "", kU1, "", kX, kU1, true}, "A", kX, kU1),
      updates("PutBySasIdFindsAnInactiveAccount", {{"A", kX, kU1, false}}, {PUT_IF, "", kU1, "", kX, kU1, true}, "A",
              kX, kU1),
      creates("PutBySasIdNotFoundCreates", {}, {PUT_IF, "", kU1, "", "", kU1, true}, "", kU1),
      // Rule 5: not found by the URL, the body's INTRN then IDNPS.
      updates("NationalIdAddedToAnAccountKnownBySasId", {{"A", "", kU1, true}}, {PUT_IF, kX, "", "", kX, kU1, true},
              "A", kX, kU1),
      updates("SasIdAddedToAnAccountKnownByNationalId", {{"A", kX, "", true}}, {PUT_IF, "", kU1, "", kX, kU1, true},
              "A", kX, kU1),
      // Rule 3: which account an IDNPS addresses.
      updates("NationalIdAddressesTheActiveHolderFirst", {{"A", kX, "", true}, {"B", kX, "", false}},
              {PUT_IF, kX, "", "", kX, "", true}, "A", kX, ""),
      updates("ElseTheMostRecentlyWrittenInactiveOne", {{"A", kX, "", false}, {"B", kX, "", false}},
              {PUT_IF, kX, "", "", kX, "", true}, "B", kX, ""),
      updates("AnInactiveHolderOfTheSameSasIdIsReactivated", {{"A", kX, kU1, false}},
              {PUT_IF, kX, "", "", kX, kU1, true}, "A", kX, kU1),
      creates("AFreedNationalIdUnderANewSasIdMakesANewAccount", {{"A", kX, kU1, false}},
              {PUT_IF, "", kU2, "", kX, kU2, true}, kX, kU2),
      updates("AnInactiveHolderOfAnotherSasIdIsSkipped", {{"A", kX, "", false}, {"B", kX, kU1, false}},
              {PUT_IF, kX, "", "", kX, kU2, true}, "A", kX, kU2),
      // Re-attribution of an IDNPS freed by a deactivation (the issue's scenario).
      updates("FreedNationalIdGivenToAnotherAccount", {{"A", kX, "", false}, {"B", "", kU1, true}},
              {PUT_IF, "", kU1, "", kX, kU1, true}, "B", kX, kU1),
      // Rule 9: identifiers held elsewhere.
      refuses("NationalIdHeldByAnotherActiveAccount", {{"A", kX, "", true}, {"B", "", kU1, true}},
              {PUT_IF, "", kU1, "", kX, kU1, true}, SAS_ERR_ALREADY_EXISTS,
              std::string("IDNPS ") + kX + " is held by active account A"),
      updates("AnInactiveStateMayShareTheNationalId", {{"A", kX, "", true}, {"B", "", kU1, true}},
              {PUT_IF, "", kU1, "", kX, kU1, false}, "B", kX, kU1),
      refuses("SasIdHeldByAnotherAccount", {{"A", kX, "", true}, {"B", "", kU1, false}},
              {PUT_IF, kX, "", "", kX, kU1, true}, SAS_ERR_ALREADY_EXISTS,
              std::string("INTRN ") + kU1 + " is the SAS id of account B"),
      refuses("ReactivationByIdWhileAnotherHoldsTheNationalId", {{"A", kX, "", false}, {"B", kX, kU1, true}},
              {PUT_ID, "", "", "A", kX, "", true}, SAS_ERR_ALREADY_EXISTS,
              std::string("IDNPS ") + kX + " is held by active account B"),
      // Rule 8: a SAS id never changes.
      refuses("AnotherSasIdForTheAddressedAccount", {{"A", kX, kU1, true}}, {PUT_IF, kX, "", "", kX, kU2, true},
              SAS_ERR_INVALID_ARGUMENT,
              std::string("account A has the SAS id ") + kU1 + ", not " + kU2 + ": a SAS technical id never changes"),
      refuses("AnotherSasIdByAccountId", {{"A", "", kU1, true}}, {PUT_ID, "", "", "A", "", kU2, true},
              SAS_ERR_INVALID_ARGUMENT,
              std::string("account A has the SAS id ") + kU1 + ", not " + kU2 + ": a SAS technical id never changes"),
      // Rule 6: PUT by id.
      updates("PutByIdFound", {{"A", kX, "", true}}, {PUT_ID, "", "", "A", kX, "", false}, "A", kX, ""),
      refuses("PutByIdNotFound", {{"A", kX, "", true}}, {PUT_ID, "", "", "nope", kX, "", true}, SAS_ERR_NOT_FOUND,
              "no account nope"),
      // Rule 7: identifiers added or replaced, never removed.
      updates("AnUpdateWithoutSasIdKeepsIt", {{"A", kX, kU1, true}}, {PUT_IF, kX, "", "", kX, "", true}, "A", kX, kU1),
      updates("AnUpdateWithoutNationalIdKeepsIt", {{"A", kX, kU1, true}}, {PUT_IF, "", kU1, "", "", kU1, true}, "A", kX,
              kU1),
      updates("ANationalIdIsReplaced", {{"A", kY, kU1, true}}, {PUT_IF, "", kU1, "", kX, kU1, true}, "A", kX, kU1),
      refuses("UnknownMode", {}, {v1::ACCOUNT_WRITE_UNSPECIFIED, "", "", "", kX, "", true}, SAS_ERR_INVALID_ARGUMENT,
              "unknown account write mode 0"),
  };
}

class PlanAccountWrite : public testing::TestWithParam<Case> {};

TEST_P(PlanAccountWrite, FollowsTheRule) {
  const Case& c = GetParam();
  MemoryStore store;
  for (const Seed& s : c.store) store.seed(s.id, s.national_id, s.sas_id, s.active);
  const auto before = store.accounts;
  const ra::AccountPlan plan = ra::plan_account_write(request_of(c.write), store);
  EXPECT_EQ(store.accounts, before);  // planning reads only

  const ra::AccountFields* fields = nullptr;
  switch (c.expected) {
    case Kind::create: {
      const auto* create = std::get_if<ra::Create>(&plan);
      ASSERT_NE(create, nullptr) << "expected a create, got plan #" << plan.index();
      fields = &create->fields;
      break;
    }
    case Kind::update: {
      const auto* update = std::get_if<ra::Update>(&plan);
      ASSERT_NE(update, nullptr) << "expected an update, got plan #" << plan.index();
      EXPECT_EQ(update->account_id, c.account_id);
      fields = &update->fields;
      break;
    }
    case Kind::refuse: {
      const auto* refuse = std::get_if<ra::Refuse>(&plan);
      ASSERT_NE(refuse, nullptr) << "expected a refusal, got plan #" << plan.index();
      EXPECT_EQ(refuse->status.code(), c.code);
      EXPECT_EQ(refuse->status.message(), c.message);
      return;
    }
  }
  EXPECT_EQ(fields->national_id, c.expected_national_id);
  EXPECT_EQ(fields->sas_id, c.expected_sas_id);
  // Names, e-mail and active are the new state's, whatever was stored.
  EXPECT_EQ(fields->family_name, "DURAND");
  EXPECT_EQ(fields->given_name, "Jules");
  EXPECT_EQ(fields->email, "jules.durand@hopital.fr");
  EXPECT_EQ(fields->active, c.write.active);
}

INSTANTIATE_TEST_SUITE_P(Rules, PlanAccountWrite, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

// write_account carries out the plan and answers what the host expects.
TEST(WriteAccount, CreatesThenUpdatesTheSameAccountAndAnswersAsStored) {
  MemoryStore store;
  Write w{PUT_IF, kX, "", "", kX, "", true};
  v1::WriteRegulatorAccountResponse created;
  ASSERT_TRUE(ra::write_account(request_of(w), store, created).is_ok());
  EXPECT_TRUE(created.created());
  EXPECT_EQ(created.account().account_id(), "acc-1");
  EXPECT_EQ(created.account().national_id(), kX);
  EXPECT_EQ(created.account().email(), "jules.durand@hopital.fr");
  EXPECT_TRUE(created.account().active());

  w.sas_id = kU1;  // the same PUT again, now with the SAS id: the same account
  v1::WriteRegulatorAccountResponse updated;
  ASSERT_TRUE(ra::write_account(request_of(w), store, updated).is_ok());
  EXPECT_FALSE(updated.created());
  EXPECT_EQ(updated.account().account_id(), "acc-1");
  EXPECT_EQ(updated.account().sas_id(), kU1);
  ASSERT_EQ(store.accounts.size(), 1U);
  EXPECT_EQ(store.accounts[0].fields.sas_id, kU1);
}

TEST(WriteAccount, ARefusalWritesNothing) {
  MemoryStore store;
  store.seed("A", kX, "", true);
  const auto before = store.accounts;
  v1::WriteRegulatorAccountResponse response;
  const sas::sdk::Status status = ra::write_account(request_of(Write{POST, "", "", "", kX, "", true}), store, response);
  EXPECT_EQ(status.code(), SAS_ERR_ALREADY_EXISTS);
  EXPECT_THAT(status.message(), HasSubstr("held by active account A"));
  EXPECT_FALSE(response.has_account());
  EXPECT_EQ(store.accounts, before);
}

// The issue's sequence: deactivate A holding X, create B with a SAS id, put X onto B; X then
// addresses B; giving it back to A while B holds it is refused.
TEST(WriteAccount, ANationalIdMovesOnlyOnceFreed) {
  MemoryStore store;
  auto write = [&](Write w) {
    v1::WriteRegulatorAccountResponse response;
    const sas::sdk::Status status = ra::write_account(request_of(w), store, response);
    return std::pair(status, response);
  };
  auto a = write({POST, "", "", "", kX, "", true});
  ASSERT_TRUE(a.first.is_ok());
  const std::string a_id = a.second.account().account_id();
  EXPECT_EQ(write({POST, "", "", "", "", kU1, true}).first.code(), SAS_OK);
  EXPECT_EQ(write({PUT_IF, "", kU1, "", kX, kU1, true}).first.code(), SAS_ERR_ALREADY_EXISTS);
  ASSERT_TRUE(write({PUT_IF, kX, "", "", kX, "", false}).first.is_ok());  // A withdrawn
  auto moved = write({PUT_IF, "", kU1, "", kX, kU1, true});
  ASSERT_TRUE(moved.first.is_ok()) << moved.first.message();
  EXPECT_NE(moved.second.account().account_id(), a_id);
  auto renamed = write({PUT_IF, kX, "", "", kX, "", true});
  EXPECT_EQ(renamed.second.account().account_id(), moved.second.account().account_id());
  EXPECT_EQ(write({PUT_ID, "", "", a_id, kX, "", true}).first.code(), SAS_ERR_ALREADY_EXISTS);
  EXPECT_EQ(store.accounts.size(), 2U);
}

}  // namespace
