// INT_R03: the durable outbox's rows (store schema 4). Every notification to the SAS platform is
// a row committed here before the report returns; the delivery worker sends rows in order per
// appointment. The flow declares what it needs; host/store implements it per backend
// (tests/store: the contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sas/host/store/error.hpp>

namespace sas::host::appointment_notifications {

struct NotificationInput {
  std::string appointment_key;  // "SYSTEM|ID": the appointment's technical identifier
  std::string event;            // booked | rescheduled | cancelled | fulfilled | noshow
  std::string event_json;       // the event as reported (docs/appointment-notifications.md)
  std::string resource;         // the FrAppointmentSAS JSON to send
  std::chrono::system_clock::time_point reported_at;
};

struct NotificationIds {
  int64_t id = 0;        // outbox row, increasing in report order
  int64_t sequence = 0;  // 1, 2, 3, ... per appointment
};

// state: pending (to send, or being retried) | delivered | dead (refused by the platform with a
// 4xx other than 429: kept with its OperationOutcome until replayed).
struct Notification {
  int64_t id = 0;
  std::string appointment_key;
  int64_t sequence = 0;
  std::string event;
  std::string event_json;
  std::string resource;
  std::chrono::system_clock::time_point reported_at;
  std::string state;  // pending | delivered | dead
  int attempts = 0;   // sending attempts started (recorded before each one is sent)
  std::chrono::system_clock::time_point next_attempt_at;
  std::optional<std::chrono::system_clock::time_point> delivered_at;
  std::string method;      // of the last attempt: POST or PUT
  int http_status = 0;     // of the last attempt (0: no HTTP answer)
  std::string last_error;  // of the last failed attempt
  std::string outcome;     // the platform's answer body (its OperationOutcome for a refusal)
};

struct DeliveryOutcome {
  enum class Kind { delivered, retry, dead };
  int64_t id = 0;
  Kind kind = Kind::retry;
  std::string method;
  int http_status = 0;
  std::string error;
  std::string outcome;
  std::chrono::system_clock::time_point at;
  std::chrono::system_clock::time_point next_attempt_at;  // for retry
};

struct OutboxCounts {
  int64_t pending = 0;
  int64_t delivered = 0;
  int64_t dead = 0;
  // Pending rows held back behind a dead letter of the same appointment (order is kept).
  int64_t blocked = 0;
  std::optional<std::chrono::system_clock::time_point> oldest_pending;  // reported_at
};

// Guarantees (every backend; thread-safe; each call is one transaction: a call that throws
// store::StoreError changed nothing):
// - durable: a call that returned has its write on stable storage (power loss included), seen
//   by every handle on the same store;
// - `enqueue` appends all its inputs or none; ids increase in input order; each appointment's
//   sequence is 1, 2, 3, ... in report order, also when several handles enqueue at once;
// - `claim` never returns a row while an earlier sequence of its appointment is undelivered
//   (pending or dead): a later update never overtakes an earlier one, nor a dead letter; it
//   counts the attempt on disk before returning, so that after a crash the host knows a POST
//   may have reached the platform;
// - claims are exclusive leases, across handles and processes: a row `claim` returned is
//   returned by no other `claim` (this handle's or another's) before its `lease_until`, unless
//   `finish` recorded it first (then its own state and next_attempt_at rule). A host killed
//   mid-delivery leaves its rows claimable once their lease expires; until then `next_due`
//   gives the lease's end for them and `counts` still counts them pending.
class OutboxRepository {
 public:
  virtual ~OutboxRepository() = default;
  // Appends notifications in the given order, numbering each appointment's sequence.
  virtual std::vector<NotificationIds> enqueue(const std::vector<NotificationInput>& inputs) = 0;
  // The next rows to send, by id, at most `limit`: pending, due at `now`, not under another
  // claim's lease, and the lowest undelivered sequence of their appointment. Increments their
  // `attempts` and leases them to the caller until `lease_until` (their next_attempt_at).
  virtual std::vector<Notification> claim(std::chrono::system_clock::time_point now, std::size_t limit,
                                          std::chrono::system_clock::time_point lease_until) = 0;
  // Records what each delivery attempt gave: delivered, retry (pending again, due at
  // next_attempt_at) or dead.
  virtual void finish(const std::vector<DeliveryOutcome>& outcomes) = 0;
  // When the earliest claimable row is due (nullopt: none). A row held behind an undelivered
  // earlier event of its appointment is not claimable: it waits for that one, not for a clock.
  virtual std::optional<std::chrono::system_clock::time_point> next_due() = 0;
  // Rows in `state` ("" = any) with id > after_id, by id, at most `limit`.
  virtual std::vector<Notification> rows(const std::string& state, int64_t after_id = 0, std::size_t limit = 1000) = 0;
  virtual OutboxCounts counts() = 0;
  // Dead letters back to pending, due `now` (id nullopt: all of them). Returns how many.
  virtual std::size_t replay(std::optional<int64_t> id, std::chrono::system_clock::time_point now) = 0;
};

}  // namespace sas::host::appointment_notifications
