// INT_R02 regulator accounts: which account a write means, and whether it may be done. Pure
// rules over a lookup the vendor implements (reads of its own account table, no writes): every
// plugin then matches and refuses alike, and the platform reads the same messages from every
// vendor. The guide for vendors is docs/plugin-guide/accounts-and-reports.md.
//
// The rules (docs/regulator-accounts.md, plugin.proto WriteRegulatorAccountRequest):
//  1. an account needs a national id (IDNPS) or a SAS id (INTRN);
//  2. an INTRN addresses the one account holding it, active or not;
//  3. an IDNPS addresses the active account holding it, else the most recently written
//     inactive one whose INTRN is empty or the new state's (an IDNPS is unique among ACTIVE
//     accounts only: one freed by a deactivation may be given to another account);
//  4. POST (ACCOUNT_CREATE) creates; refused with SAS_ERR_ALREADY_EXISTS, nothing changed, when
//     any account holds the new INTRN or an active one holds the new IDNPS (a replayed POST);
//  5. conditional PUT (ACCOUNT_CREATE_OR_UPDATE) updates the account the URL's identifier
//     addresses; else the one the new state's INTRN, then its IDNPS, addresses; else creates;
//  6. PUT by id (ACCOUNT_UPDATE) updates that account, SAS_ERR_NOT_FOUND when there is none;
//  7. identifiers are added or replaced, never removed (an empty one keeps the stored one);
//     names, e-mail and `active` are replaced;
//  8. an account's INTRN never changes: another one is SAS_ERR_INVALID_ARGUMENT;
//  9. the new INTRN held by another account, or (when the new state is active) the new IDNPS
//     held by another active account: SAS_ERR_ALREADY_EXISTS, nothing changed.
// The host turns SAS_ERR_ALREADY_EXISTS into 422 `duplicate`, SAS_ERR_INVALID_ARGUMENT into
// 422 `business-rule`, SAS_ERR_NOT_FOUND into 404; the message below reaches the platform in
// the OperationOutcome's diagnostics as "(agenda: MESSAGE)".
//
// Run plan_account_write and the write it plans inside one write transaction of the vendor's
// store: two concurrent PUTs of one new regulator must not both plan a Create.
#pragma once

#include <optional>
#include <sas/sdk/plugin.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sas::sdk::regulator_accounts {

// What a regulator account holds besides its id: the state a write sets.
struct AccountFields {
  std::string national_id;  // IDNPS, prefixed, as the host normalised it; "" when none
  std::string sas_id;       // INTRN, a lower-case UUID; "" when none
  std::string family_name;
  std::string given_name;
  std::string email;
  bool active = true;  // false: the regulator habilitation is withdrawn (how SAS deletes)

  bool operator==(const AccountFields&) const = default;
};

// An account as the vendor's store has it.
struct StoredAccount {
  std::string id;  // the vendor's own account id
  AccountFields fields;

  bool operator==(const StoredAccount&) const = default;
};

// The reads the rules need, implemented by the vendor over its account table. Identifiers are
// compared as stored (the host sends them normalised, so a store written only through INT_R02
// holds them in the same form).
class AccountLookup {
 public:
  virtual ~AccountLookup() = default;
  virtual std::optional<StoredAccount> by_id(const std::string& account_id) = 0;
  virtual std::optional<StoredAccount> by_sas_id(const std::string& sas_id) = 0;
  // Every account holding this national id, active or not, most recently written first (rule 3
  // picks among the inactive ones by that order).
  virtual std::vector<StoredAccount> by_national_id(const std::string& national_id) = 0;
};

// The plan: create a new account with these fields; answer created = true.
struct Create {
  AccountFields fields;
};
// The plan: write these fields (the whole new state) to account `account_id`; created = false.
struct Update {
  std::string account_id;
  AccountFields fields;
};
// The plan: change nothing and answer `status` (its code and the platform's message).
struct Refuse {
  Status status;
};
using AccountPlan = std::variant<Create, Update, Refuse>;

// The rules above, for one request. Reads through `lookup`, writes nothing.
AccountPlan plan_account_write(const v1::WriteRegulatorAccountRequest& request, AccountLookup& lookup);

// A store that can also write: what write_account needs.
class AccountStore : public AccountLookup {
 public:
  // Writes a new account with these fields and answers the id given to it (the vendor's own
  // id). The guide: no e-mail verification, a generated password nobody knows.
  virtual std::string create(const AccountFields& fields) = 0;
  // Writes these fields, the whole new state, to the existing account `account_id`.
  virtual void update(const std::string& account_id, const AccountFields& fields) = 0;
};

// plan_account_write, the write it plans, and the response the host expects (the account as
// stored, with its id; `created`). Call it inside the store's write transaction and commit
// when it answers ok; a refusal has written nothing.
Status write_account(const v1::WriteRegulatorAccountRequest& request, AccountStore& store,
                     v1::WriteRegulatorAccountResponse& response);

// The response for a plan carried out: the stored account `account_id` with `fields`.
void fill_response(const std::string& account_id, const AccountFields& fields, bool created,
                   v1::WriteRegulatorAccountResponse& response);

}  // namespace sas::sdk::regulator_accounts
