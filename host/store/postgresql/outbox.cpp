// INT_R03 outbox rows (schema 4). Each call is one transaction on a pooled connection.
// - enqueue: a transaction-scoped advisory lock per appointment (taken in one order, so two
//   reports cannot deadlock) before its next sequence is read: two hosts cannot number the
//   same appointment twice;
// - claim: `FOR UPDATE OF o SKIP LOCKED`: two hosts claiming at once take different rows, and
//   each claimed row's next_attempt_at becomes the lease's end.
#include <algorithm>

#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::postgresql {
namespace {

using appointment_notifications::DeliveryOutcome;
using appointment_notifications::Notification;
using appointment_notifications::NotificationIds;
using appointment_notifications::NotificationInput;
using appointment_notifications::OutboxCounts;

#define OUTBOX_COLUMNS                                                                                           \
  "o.id, o.appointment_key, o.sequence, o.event, o.event_json, o.resource, o.reported_at, o.state, o.attempts, " \
  "o.next_attempt_at, o.delivered_at, o.method, o.http_status, o.last_error, o.outcome"

// A row is claimable when pending, due, and the lowest undelivered sequence of its appointment.
#define OUTBOX_CLAIMABLE                                                                              \
  "o.state = 'pending' AND NOT EXISTS (SELECT 1 FROM appointment_outbox p WHERE p.appointment_key = " \
  "o.appointment_key AND p.sequence < o.sequence AND p.state <> 'delivered')"

class PgOutbox final : public appointment_notifications::OutboxRepository {
 public:
  explicit PgOutbox(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  std::vector<NotificationIds> enqueue(const std::vector<NotificationInput>& inputs) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    std::vector<int64_t> keys;
    for (const auto& input : inputs) keys.push_back(lock_key("appointment_outbox", input.appointment_key));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (const int64_t key : keys) db->exec("SELECT pg_advisory_xact_lock($1::bigint)", {p(key)});
    std::vector<NotificationIds> ids;
    ids.reserve(inputs.size());
    for (const auto& input : inputs) {
      const Result row = db->exec(
          "INSERT INTO appointment_outbox (appointment_key, sequence, event, event_json, resource, reported_at, "
          "next_attempt_at) VALUES ($1, (SELECT COALESCE(MAX(sequence), 0) + 1 FROM appointment_outbox WHERE "
          "appointment_key = $1), $2, $3, $4, $5, $5) RETURNING id, sequence",
          {p(input.appointment_key), p(input.event), p(input.event_json), p(input.resource),
           p(to_micros(input.reported_at))});
      ids.push_back({row.integer(0, 0), row.integer(0, 1)});
    }
    transaction.commit();
    return ids;
  }

  // Rows another claim holds locked are skipped, not waited for; once it commits, their
  // next_attempt_at is its lease's end, so they are not due for anyone else until then.
  std::vector<Notification> claim(std::chrono::system_clock::time_point now, std::size_t limit,
                                  std::chrono::system_clock::time_point lease_until) override {
    auto db = pool_->acquire();
    const Result rows = db->exec(
        "WITH c AS (SELECT o.id FROM appointment_outbox o WHERE " OUTBOX_CLAIMABLE
        " AND o.next_attempt_at <= $1 ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED) "
        "UPDATE appointment_outbox o SET attempts = o.attempts + 1, next_attempt_at = $3 FROM c WHERE o.id = c.id "
        "RETURNING " OUTBOX_COLUMNS,
        {p(to_micros(now)), p(static_cast<int64_t>(limit)), p(to_micros(lease_until))});
    auto claimed = read(rows);
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return claimed;
  }

  void finish(const std::vector<DeliveryOutcome>& outcomes) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    for (const auto& o : outcomes) {
      const char* state = o.kind == DeliveryOutcome::Kind::delivered ? "delivered"
                          : o.kind == DeliveryOutcome::Kind::dead    ? "dead"
                                                                     : "pending";
      db->exec(
          "UPDATE appointment_outbox SET state = $2, method = $3, http_status = $4, last_error = $5, outcome = $6, "
          "delivered_at = $7, next_attempt_at = $8 WHERE id = $1",
          {p(o.id), p(state), or_null(o.method), p(int64_t{o.http_status}), or_null(o.error), or_null(o.outcome),
           o.kind == DeliveryOutcome::Kind::delivered ? p(to_micros(o.at)) : null(),
           p(to_micros(o.kind == DeliveryOutcome::Kind::retry ? o.next_attempt_at : o.at))});
    }
    transaction.commit();
  }

  std::optional<std::chrono::system_clock::time_point> next_due() override {
    auto db = pool_->acquire();
    const Result min = db->exec("SELECT MIN(o.next_attempt_at) FROM appointment_outbox o WHERE " OUTBOX_CLAIMABLE);
    if (min.rows() == 0 || min.is_null(0, 0)) return std::nullopt;
    return from_micros(min.integer(0, 0));
  }

  std::vector<Notification> rows(const std::string& state, int64_t after_id, std::size_t limit) override {
    auto db = pool_->acquire();
    if (state.empty()) {
      return read(db->exec("SELECT " OUTBOX_COLUMNS " FROM appointment_outbox o WHERE o.id > $1 ORDER BY o.id LIMIT $2",
                           {p(after_id), p(static_cast<int64_t>(limit))}));
    }
    return read(db->exec("SELECT " OUTBOX_COLUMNS
                         " FROM appointment_outbox o WHERE o.state = $3 AND o.id > $1 ORDER BY o.id LIMIT $2",
                         {p(after_id), p(static_cast<int64_t>(limit)), p(state)}));
  }

  OutboxCounts counts() override {
    auto db = pool_->acquire();
    // One snapshot for both queries: the counts agree with each other.
    db->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    Transaction transaction(*db, Transaction::already_begun);
    OutboxCounts counts;
    const Result by_state = db->exec("SELECT state, COUNT(*), MIN(reported_at) FROM appointment_outbox GROUP BY state");
    for (int i = 0; i < by_state.rows(); ++i) {
      const std::string state = by_state.text(i, 0);
      if (state == "pending") {
        counts.pending = by_state.integer(i, 1);
        counts.oldest_pending = from_micros(by_state.integer(i, 2));
      } else if (state == "delivered") {
        counts.delivered = by_state.integer(i, 1);
      } else if (state == "dead") {
        counts.dead = by_state.integer(i, 1);
      }
    }
    const Result blocked = db->exec(
        "SELECT COUNT(*) FROM appointment_outbox o WHERE o.state = 'pending' AND EXISTS (SELECT 1 FROM "
        "appointment_outbox p WHERE p.appointment_key = o.appointment_key AND p.sequence < o.sequence AND "
        "p.state = 'dead')");
    counts.blocked = blocked.integer(0, 0);
    transaction.commit();
    return counts;
  }

  std::size_t replay(std::optional<int64_t> id, std::chrono::system_clock::time_point now) override {
    auto db = pool_->acquire();
    const Result updated =
        id ? db->exec(
                 "UPDATE appointment_outbox SET state = 'pending', next_attempt_at = $1 WHERE state = 'dead' "
                 "AND id = $2",
                 {p(to_micros(now)), p(*id)})
           : db->exec("UPDATE appointment_outbox SET state = 'pending', next_attempt_at = $1 WHERE state = 'dead'",
                      {p(to_micros(now))});
    return static_cast<std::size_t>(updated.affected());
  }

 private:
  static std::vector<Notification> read(const Result& rows) {
    std::vector<Notification> out;
    out.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
      Notification& n = out.emplace_back();
      n.id = rows.integer(i, 0);
      n.appointment_key = rows.text(i, 1);
      n.sequence = rows.integer(i, 2);
      n.event = rows.text(i, 3);
      n.event_json = rows.text(i, 4);
      n.resource = rows.text(i, 5);
      n.reported_at = from_micros(rows.integer(i, 6));
      n.state = rows.text(i, 7);
      n.attempts = static_cast<int>(rows.integer(i, 8));
      n.next_attempt_at = from_micros(rows.integer(i, 9));
      if (!rows.is_null(i, 10)) n.delivered_at = from_micros(rows.integer(i, 10));
      n.method = rows.text(i, 11);
      n.http_status = static_cast<int>(rows.integer(i, 12));
      n.last_error = rows.text(i, 13);
      n.outcome = rows.text(i, 14);
    }
    return out;
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::shared_ptr<appointment_notifications::OutboxRepository> open_outbox(std::shared_ptr<Pool> pool) {
  return std::make_shared<PgOutbox>(std::move(pool));
}

}  // namespace sas::host::store::postgresql
