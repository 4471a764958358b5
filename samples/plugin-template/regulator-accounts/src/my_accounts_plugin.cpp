// A SAS plugin template for INT_R02 regulator accounts (flow regulator-accounts). The SDK decides
// which account a write means and what to refuse (sas/sdk/regulator_accounts.hpp); you implement
// the reads and the two writes over your user base, inside one transaction.
// Guide: docs/plugin-guide/accounts-and-reports.md.
#include <sas/sdk/plugin.hpp>
#include <sas/sdk/regulator_accounts.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
namespace ra = sas::sdk::regulator_accounts;
using sas::sdk::Status;

// Stand-in for your user base: accounts in memory, in the order they were last written. Replace
// each method with a query on your accounts table.
class MyUsers final : public ra::AccountStore {
 public:
  std::optional<ra::StoredAccount> by_id(const std::string& id) override {
    return first([&](const ra::StoredAccount& a) { return a.id == id; });
  }
  std::optional<ra::StoredAccount> by_sas_id(const std::string& sas_id) override {
    return first([&](const ra::StoredAccount& a) { return a.fields.sas_id == sas_id; });
  }
  // Every holder, active or not, most recently written first (the SDK's rules rely on it).
  std::vector<ra::StoredAccount> by_national_id(const std::string& national_id) override {
    std::vector<ra::StoredAccount> holders;
    for (auto it = accounts_.rbegin(); it != accounts_.rend(); ++it) {
      if (it->fields.national_id == national_id) holders.push_back(*it);
    }
    return holders;
  }
  // Your id for the new account. The guide: a generated password nobody knows, no e-mail check.
  std::string create(const ra::AccountFields& fields) override {
    accounts_.push_back({"acct-" + std::to_string(++last_id_), fields});
    return accounts_.back().id;
  }
  void update(const std::string& id, const ra::AccountFields& fields) override {
    std::erase_if(accounts_, [&](const ra::StoredAccount& a) { return a.id == id; });
    accounts_.push_back({id, fields});
  }

 private:
  template <class Match>
  std::optional<ra::StoredAccount> first(Match match) const {
    auto it = std::find_if(accounts_.begin(), accounts_.end(), match);
    return it == accounts_.end() ? std::nullopt : std::optional<ra::StoredAccount>(*it);
  }
  std::vector<ra::StoredAccount> accounts_;
  long last_id_ = 0;
};

class MyAccountsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host&) override { return Status::ok(); }

  Status write_regulator_account(const v1::WriteRegulatorAccountRequest& request,
                                 v1::WriteRegulatorAccountResponse& response, const sas::sdk::CallContext&) override {
    // One transaction around the SDK's reads and the write (here a lock; in SQL, BEGIN IMMEDIATE
    // or a lock row): two concurrent PUTs of one new regulator must make one account.
    std::lock_guard transaction(mutex_);
    return ra::write_account(request, users_, response);
  }

 private:
  std::mutex mutex_;
  MyUsers users_;
};

}  // namespace

SAS_PLUGIN(MyAccountsPlugin, "my-accounts", "Example vendor", "1.0.0", "regulator-accounts", free_threaded)
