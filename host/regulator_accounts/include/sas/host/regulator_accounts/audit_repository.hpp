// INT_R02: where the host keeps an audit of every account request (store schema 2). The flow
// declares what it needs; host/store implements it per backend (tests/store: the contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sas/host/store/error.hpp>

namespace sas::host::regulator_accounts {

// One account request as received, recorded before anything is done with it, so that an audit
// shows what was asked even if the host dies before answering, and a replay can resend the
// exact body.
struct AccountRequest {
  std::chrono::system_clock::time_point received_at;
  std::string method;        // POST or PUT
  std::string target;        // request target as received (path and query)
  std::string client;        // the authenticated client, "CN=...,OU=..." ("" for plain HTTP)
  std::string remote;        // "ip:port"
  std::string content_type;  // as received
  std::string body;          // verbatim (any bytes)
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

// Guarantees (every backend; thread-safe; each call throws store::StoreError when it cannot do
// its work, and then has changed nothing):
// - durable: a call that returned has its write on stable storage, seen by every handle on the
//   same store, in this process or another;
// - `record_request` returns an id greater than every id it returned before on this store;
// - text and body round-trip byte for byte (a body may hold any bytes, NUL included); an empty
//   optional text (operation, national_id, ...) reads back empty.
class AccountAudit {
 public:
  virtual ~AccountAudit() = default;
  // Records a request and returns its id.
  virtual int64_t record_request(const AccountRequest& request) = 0;
  // Completes the record `id` with its outcome; an unknown id throws StoreError.
  virtual void record_outcome(int64_t id, const AccountRequestOutcome& outcome) = 0;
  // Records with id > after_id, by id, at most `limit`.
  virtual std::vector<AccountRequestRecord> requests(int64_t after_id = 0, std::size_t limit = 1000) = 0;
};

}  // namespace sas::host::regulator_accounts
