// The host's own state (settings, outbox, audit records as later flows add them), behind
// one interface: SQLite embedded by default, PostgreSQL for multi-instance deployments.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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

// A SAS-origin consultation the vendor reported once the appointment was honoured, and the
// SNP / MRT decision the host gave it (host/billing). One row per (practitioner, consultation).
struct ConsultationRecord {
  int64_t id = 0;
  std::string consultation_id;  // the vendor's id
  std::string practitioner_id;  // prefixed IDNPS
  std::chrono::system_clock::time_point consulted_at;
  std::chrono::system_clock::time_point regulated_at;  // the regulator's booking
  std::string week_start;                              // Monday of its calendar week, Europe/Paris, "YYYY-MM-DD"
  std::string consultation;                            // the consultation as JSON (docs/billing.md)
  // The decision: code "SNP", "MRT" or "none"; amount in euro cents; the JSON with every reason.
  std::string code;
  std::string parcours_indicator;
  int64_t amount_cents = 0;
  std::string rule_set;
  std::string decision;
  std::chrono::system_clock::time_point recorded_at;
};

// ---- INT_R03 appointment outbox (schema 4) ------------------------------------------------
// Every notification to the SAS platform is a row committed here before the report returns;
// the delivery worker (host/appointment_notifications) sends rows in order per appointment.
// state: pending (to send, or being retried) | delivered | dead (refused by the platform with
// a 4xx other than 429: kept with its OperationOutcome until replayed).

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

// ---- Doctor settings and publication rules (schema 5) --------------------------------------
// host/doctor_settings owns their meaning (docs/doctor-options.md); the store keeps them as a
// history that is only ever appended to, because the structure forfait is judged over a year.

// One change of one setting of one practitioner. field: volunteer | visible | consent_to_call |
// phone; value: "true" / "false" for the flags, "+33..." or "" (removed) for the phone.
struct SettingChangeRecord {
  int64_t id = 0;
  std::string practitioner;  // prefixed IDNPS
  std::string field;
  std::string value;
  std::chrono::system_clock::time_point effective_at;  // when the doctor's choice took effect
  std::chrono::system_clock::time_point recorded_at;   // when the host learnt of it
  std::string changed_by;                              // who: an operator, "doctor", a vendor user id...
  std::string source;                                  // admin-api | cli | plugin
};

// One publication rule, as its JSON form (docs/doctor-options.md); removed rules are kept.
struct PublicationRuleRecord {
  int64_t id = 0;
  std::string practitioner;
  std::string rule;  // JSON
  std::chrono::system_clock::time_point created_at;
  std::string created_by;
  std::string source;
  std::optional<std::chrono::system_clock::time_point> removed_at;
  std::string removed_by;
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

  // Consultations (schema 3). Thread-safe. Counts, under one lock with the insert, the SNP
  // already recorded for the practitioner in `facts.week_start`, lets `decide` fill the decision
  // fields from that count, and records the row. A consultation already recorded (same
  // practitioner and consultation_id) is returned as it was, without deciding again.
  // Returns the row and whether it is new. Throws StoreError.
  virtual std::pair<ConsultationRecord, bool> record_consultation(
      const ConsultationRecord& facts, const std::function<void(int snp_before, ConsultationRecord&)>& decide) = 0;
  // SNP recorded for `practitioner_id` in the week starting `week_start`, except `consultation_id`.
  virtual int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                                const std::string& except_consultation_id = "") = 0;
  // The practitioner's consultations with consulted_at in [from, to), oldest first.
  virtual std::vector<ConsultationRecord> consultations(const std::string& practitioner_id,
                                                        std::chrono::system_clock::time_point from,
                                                        std::chrono::system_clock::time_point to) = 0;

  // INT_R03 outbox. All thread-safe; each call is one transaction (synchronous=FULL: on disk
  // when it returns). Throw StoreError.
  // Appends notifications in the given order, numbering each appointment's sequence.
  virtual std::vector<NotificationIds> enqueue_notifications(const std::vector<NotificationInput>& inputs) = 0;
  // The next rows to send, oldest first, at most `limit`: pending, due at `now`, and the lowest
  // undelivered sequence of their appointment (a later update never overtakes an earlier one,
  // nor a dead letter). Increments their `attempts` before returning: an attempt is on disk
  // before it is made, so that after a crash the host knows a POST may have reached the platform.
  virtual std::vector<Notification> claim_notifications(std::chrono::system_clock::time_point now,
                                                        std::size_t limit) = 0;
  virtual void finish_notifications(const std::vector<DeliveryOutcome>& outcomes) = 0;
  // When the earliest pending row is due (nullopt: none pending).
  virtual std::optional<std::chrono::system_clock::time_point> next_notification_due() = 0;
  // Rows in `state` ("" = any) with id > after_id, oldest first.
  virtual std::vector<Notification> notifications(const std::string& state, int64_t after_id = 0,
                                                  std::size_t limit = 1000) = 0;
  virtual OutboxCounts outbox_counts() = 0;
  // Dead letters back to pending, due now (id nullopt: all of them). Returns how many.
  virtual std::size_t replay_notifications(std::optional<int64_t> id) = 0;

  // Doctor settings (schema 5). Thread-safe; each call is one transaction. Throw StoreError.
  // Appends changes, all or none.
  virtual void record_setting_changes(const std::vector<SettingChangeRecord>& changes) = 0;
  // Changes of `practitioner` ("" = every practitioner), by effective_at then id.
  virtual std::vector<SettingChangeRecord> setting_changes(const std::string& practitioner) = 0;
  // Adds a rule after `check` accepted it, in one transaction with the read of the
  // practitioner's active rules it is given: `check` throws to refuse (nothing is written).
  // Returns the new rule's id.
  virtual int64_t add_publication_rule(
      const PublicationRuleRecord& rule,
      const std::function<void(const std::vector<PublicationRuleRecord>& active)>& check) = 0;
  // Marks the practitioner's active rule `id` removed. false: no such active rule.
  virtual bool remove_publication_rule(const std::string& practitioner, int64_t id,
                                       std::chrono::system_clock::time_point at, const std::string& by) = 0;
  // Rules of `practitioner` ("" = all), by id; removed ones only when asked.
  virtual std::vector<PublicationRuleRecord> publication_rules(const std::string& practitioner,
                                                               bool include_removed = false) = 0;
  // Changes whenever settings or rules may have changed, by this process or another one
  // sharing the store: cheap enough to poll.
  virtual uint64_t doctor_settings_version() = 0;

  // `sqlite:PATH` (created if missing). Throws StoreError naming what is wrong.
  static std::unique_ptr<Store> open(const std::string& url);
};

}  // namespace sas::host
