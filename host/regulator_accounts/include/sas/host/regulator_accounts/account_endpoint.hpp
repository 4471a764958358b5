// INT_R02 regulator accounts: POST [base]/Practitioner, PUT [base]/Practitioner?identifier=
// SYSTEM|VALUE and PUT [base]/Practitioner/{id}. The host validates and normalises the
// Practitioner, records the request in its store, asks the plugin to write the account, records
// the outcome and answers 201/200 with a Location, or an OperationOutcome.
// docs/regulator-accounts.md has the rules and the status codes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/server/https_server.hpp>
#include <sas/host/regulator_accounts/audit_repository.hpp>
#include <string>
#include <string_view>

namespace sas::host::regulator_accounts {

// The manifest flow a plugin declares to receive account requests.
inline constexpr std::string_view kFlow = "regulator-accounts";

struct AccountEndpointOptions {
  std::string base_url;                                        // Location = base_url + "/Practitioner/" + id
  std::chrono::milliseconds plugin_deadline{4000};             // per plugin call
  std::function<void(std::string_view)> log;                   // one line per request; none when empty
  std::function<std::chrono::system_clock::time_point()> now;  // default: the system clock
};

class AccountEndpoint {
 public:
  // `audit` may be null only in tests that never send an account request: without an audit every
  // request is refused (500), since the host must not act unrecorded.
  AccountEndpoint(std::shared_ptr<plugin_loader::Plugin> plugin, std::shared_ptr<AccountAudit> audit, AccountEndpointOptions options);

  // Whether the plugin declares the flow; when not, every request gets 501.
  bool routed() const { return routed_; }

  // Thread-safe; never throw.
  server::Response create(const server::Request& request) const;                                      // POST
  server::Response conditional_update(const server::Request& request, std::string_view query) const;  // PUT ?identifier
  server::Response update(const server::Request& request, std::string_view id) const;                 // PUT /{id}

 private:
  enum class Operation { create, conditional_update, update };
  // Records the request, decides, records the outcome.
  server::Response write(const server::Request& request, Operation operation, std::string_view query_or_id) const;
  server::Response decide(const server::Request& request, Operation operation, std::string_view query_or_id,
                          int64_t audit_id, AccountRequestOutcome& outcome) const;

  std::shared_ptr<plugin_loader::Plugin> plugin_;
  std::shared_ptr<AccountAudit> audit_;
  AccountEndpointOptions options_;
  bool routed_ = false;
};

}  // namespace sas::host::regulator_accounts
