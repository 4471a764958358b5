#include "sas/sdk/regulator_accounts.hpp"

namespace sas::sdk::regulator_accounts {

namespace {

// Rule 3: the account an IDNPS addresses, for a new state whose INTRN is `sas_id` ("" none).
std::optional<StoredAccount> addressed_by_national_id(AccountLookup& lookup, const std::string& national_id,
                                                      const std::string& sas_id) {
  const std::vector<StoredAccount> holders = lookup.by_national_id(national_id);
  for (const StoredAccount& holder : holders) {
    if (holder.fields.active) return holder;
  }
  for (const StoredAccount& holder : holders) {
    // An inactive account of another SAS id keeps its history: the freed IDNPS is not its own.
    if (holder.fields.sas_id.empty() || sas_id.empty() || holder.fields.sas_id == sas_id) return holder;
  }
  return std::nullopt;
}

// The id of an active account holding `national_id` other than `except_id`.
std::optional<std::string> other_active_holder(AccountLookup& lookup, const std::string& national_id,
                                               const std::string& except_id) {
  for (const StoredAccount& holder : lookup.by_national_id(national_id)) {
    if (holder.fields.active && holder.id != except_id) return holder.id;
  }
  return std::nullopt;
}

Refuse sas_id_taken(const std::string& sas_id, const std::string& holder_id) {
  return {Status::already_exists("INTRN " + sas_id + " is the SAS id of account " + holder_id)};
}

Refuse national_id_taken(const std::string& national_id, const std::string& holder_id) {
  return {Status::already_exists("IDNPS " + national_id + " is held by active account " + holder_id)};
}

// The account a write addresses, per mode; nullopt: a new one; a Refuse: nothing to do.
using Target = std::variant<std::optional<StoredAccount>, Refuse>;

Target find_target(const v1::WriteRegulatorAccountRequest& request, AccountLookup& lookup) {
  const v1::RegulatorAccount& wanted = request.account();
  switch (request.mode()) {
    case v1::ACCOUNT_CREATE:  // rule 4
      if (!wanted.sas_id().empty()) {
        if (auto holder = lookup.by_sas_id(wanted.sas_id())) return sas_id_taken(wanted.sas_id(), holder->id);
      }
      if (!wanted.national_id().empty()) {
        if (auto holder = other_active_holder(lookup, wanted.national_id(), "")) {
          return national_id_taken(wanted.national_id(), *holder);
        }
      }
      return std::optional<StoredAccount>();
    case v1::ACCOUNT_CREATE_OR_UPDATE: {  // rule 5
      std::optional<StoredAccount> target;
      if (!request.match_sas_id().empty()) {
        target = lookup.by_sas_id(request.match_sas_id());
      } else if (!request.match_national_id().empty()) {
        target = addressed_by_national_id(lookup, request.match_national_id(), wanted.sas_id());
      }
      // Not found by the URL: the body's own identifiers, so that a PUT naming the national id
      // of an account known by its SAS id updates it instead of making a second account.
      if (!target && !wanted.sas_id().empty()) target = lookup.by_sas_id(wanted.sas_id());
      if (!target && !wanted.national_id().empty()) {
        target = addressed_by_national_id(lookup, wanted.national_id(), wanted.sas_id());
      }
      return target;
    }
    case v1::ACCOUNT_UPDATE:  // rule 6
      if (auto target = lookup.by_id(request.match_account_id())) return target;
      return Refuse{Status::not_found("no account " + request.match_account_id())};
    default:
      return Refuse{Status::invalid_argument("unknown account write mode " + std::to_string(request.mode()))};
  }
}

}  // namespace

AccountPlan plan_account_write(const v1::WriteRegulatorAccountRequest& request, AccountLookup& lookup) {
  const v1::RegulatorAccount& wanted = request.account();
  if (wanted.national_id().empty() && wanted.sas_id().empty()) {  // rule 1
    return Refuse{Status::invalid_argument("an account needs a national id or a SAS id")};
  }
  Target found = find_target(request, lookup);
  if (auto* refusal = std::get_if<Refuse>(&found)) return std::move(*refusal);
  const std::optional<StoredAccount>& target = std::get<std::optional<StoredAccount>>(found);

  // Rule 7: the new state.
  AccountFields next = target ? target->fields : AccountFields{};
  if (!wanted.national_id().empty()) next.national_id = wanted.national_id();
  if (!wanted.sas_id().empty()) {
    if (target && !next.sas_id.empty() && next.sas_id != wanted.sas_id()) {  // rule 8
      return Refuse{Status::invalid_argument("account " + target->id + " has the SAS id " + next.sas_id + ", not " +
                                             wanted.sas_id() + ": a SAS technical id never changes")};
    }
    next.sas_id = wanted.sas_id();
  }
  next.family_name = wanted.family_name();
  next.given_name = wanted.given_name();
  next.email = wanted.email();
  next.active = wanted.active();

  // Rule 9. A new account has no id yet: any holder is another account.
  const std::string self = target ? target->id : std::string();
  if (!next.sas_id.empty()) {
    if (auto holder = lookup.by_sas_id(next.sas_id); holder && (!target || holder->id != self)) {
      return sas_id_taken(next.sas_id, holder->id);
    }
  }
  if (next.active && !next.national_id.empty()) {
    for (const StoredAccount& holder : lookup.by_national_id(next.national_id)) {
      if (holder.fields.active && (!target || holder.id != self)) return national_id_taken(next.national_id, holder.id);
    }
  }
  if (target) return Update{target->id, std::move(next)};
  return Create{std::move(next)};
}

void fill_response(const std::string& account_id, const AccountFields& fields, bool created,
                   v1::WriteRegulatorAccountResponse& response) {
  v1::RegulatorAccount& stored = *response.mutable_account();
  stored.set_account_id(account_id);
  stored.set_national_id(fields.national_id);
  stored.set_sas_id(fields.sas_id);
  stored.set_family_name(fields.family_name);
  stored.set_given_name(fields.given_name);
  stored.set_email(fields.email);
  stored.set_active(fields.active);
  response.set_created(created);
}

Status write_account(const v1::WriteRegulatorAccountRequest& request, AccountStore& store,
                     v1::WriteRegulatorAccountResponse& response) {
  AccountPlan plan = plan_account_write(request, store);
  if (auto* refusal = std::get_if<Refuse>(&plan)) return refusal->status;
  if (auto* update = std::get_if<Update>(&plan)) {
    store.update(update->account_id, update->fields);
    fill_response(update->account_id, update->fields, false, response);
    return Status::ok();
  }
  const Create& create = std::get<Create>(plan);
  const std::string id = store.create(create.fields);
  if (id.empty()) return Status::internal("the store created an account without an id");
  fill_response(id, create.fields, true, response);
  return Status::ok();
}

}  // namespace sas::sdk::regulator_accounts
