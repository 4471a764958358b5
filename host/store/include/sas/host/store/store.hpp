// The host's own state (settings, outbox, audit records as later flows add them), behind
// one interface: SQLite embedded by default, PostgreSQL for multi-instance deployments.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sas::host {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// INT_R02: one account request as received, recorded before anything is done with it, so that
// an audit shows what was asked even if the host dies before answering, and a replay can
// resend the exact body.
struct AccountRequest {
  std::chrono::system_clock::time_point received_at;
  std::string method;        // POST or PUT
  std::string target;        // request target as received (path and query)
  std::string client;        // the authenticated client, "CN=...,OU=..." ("" for plain HTTP)
  std::string remote;        // "ip:port"
  std::string content_type;  // as received
  std::string body;          // verbatim
};

// What was done with it. `outcome`: created | updated | refused (a business rule or the agenda
// said no: 4xx) | invalid (malformed or not conformant: 4xx) | unsupported (the plugin has no
// such flow: 501) | failed (5xx).
struct AccountRequestOutcome {
  std::chrono::system_clock::time_point finished_at;
  std::string operation;       // create | conditional-update | update
  std::string national_id;     // normalised IDNPS of the new state ("" when none or invalid)
  std::string sas_id;          // normalised INTRN
  std::optional<bool> active;  // the new state's `active`, when valid
  std::string outcome;
  int http_status = 0;
  std::string account_id;     // the vendor's account id, when the plugin answered with one
  std::string plugin_status;  // "SAS_ERR_..." when the plugin refused or failed
  std::string diagnostics;    // the OperationOutcome's diagnostics, joined
};

// One audit row: the request, and its outcome once known (nullopt: the host never finished it).
struct AccountRequestRecord {
  int64_t id = 0;
  AccountRequest request;
  std::optional<AccountRequestOutcome> outcome;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string url() const = 0;
  virtual int schema_version() = 0;
  virtual std::string backend() const = 0;  // "sqlite" or "postgresql"

  // INT_R02 audit. Thread-safe. Records a request and returns its id; throws StoreError when
  // it cannot be written (the host then refuses the request rather than act unrecorded).
  virtual int64_t record_account_request(const AccountRequest& request) = 0;
  // Completes the record `id` with its outcome. Throws StoreError.
  virtual void record_account_outcome(int64_t id, const AccountRequestOutcome& outcome) = 0;
  // Records with id > after_id, oldest first, at most `limit`.
  virtual std::vector<AccountRequestRecord> account_requests(int64_t after_id = 0, std::size_t limit = 1000) = 0;

  // `sqlite:PATH` (created if missing). Throws StoreError naming what is wrong.
  static std::unique_ptr<Store> open(const std::string& url);
};

}  // namespace sas::host
