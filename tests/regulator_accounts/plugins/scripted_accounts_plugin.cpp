// An SDK plugin whose answer to write_regulator_account is chosen by the family name, so that
// the tests see every plugin outcome the host must turn into HTTP: a throw, a refusal, a
// deadline, an unavailable agenda, a missing id, and a normal answer.
#include <sas/sdk/plugin.hpp>
#include <stdexcept>
#include <thread>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

class ScriptedAccountsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host&) override { return Status::ok(); }

  Status write_regulator_account(const v1::WriteRegulatorAccountRequest& request,
                                 v1::WriteRegulatorAccountResponse& response,
                                 const sas::sdk::CallContext& context) override {
    const std::string& family = request.account().family_name();
    if (family == "THROW") throw std::runtime_error("scripted plugin exploded");
    if (family == "REFUSE") return Status::invalid_argument("this e-mail is already used by another user");
    if (family == "BUSY") return Status::unavailable("database is locked");
    if (family == "SLOW") {
      while (!context.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return Status::deadline_exceeded("gave up at the deadline");
    }
    *response.mutable_account() = request.account();
    if (family != "NOID") response.mutable_account()->set_account_id("scripted-account");
    response.set_created(request.mode() == v1::ACCOUNT_CREATE);
    return Status::ok();
  }
};

}  // namespace

SAS_PLUGIN(ScriptedAccountsPlugin, "scripted-accounts", "tests", "0.0.1", "regulator-accounts", serialized)
