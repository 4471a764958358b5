// INT_R03 outbox rows (schema 4). Each call is one transaction on the outbox's own connection;
// a claim is a lease: the claimed rows' next_attempt_at becomes the lease's end.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::sqlite {
namespace {

using appointment_notifications::DeliveryOutcome;
using appointment_notifications::Notification;
using appointment_notifications::NotificationIds;
using appointment_notifications::NotificationInput;
using appointment_notifications::OutboxCounts;

class SqliteOutbox final : public appointment_notifications::OutboxRepository {
 public:
  SqliteOutbox(const std::string& path, const std::string& url) : db_(path, url) {}

  std::vector<NotificationIds> enqueue(const std::vector<NotificationInput>& inputs) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    Statement insert(db_,
                     "INSERT INTO appointment_outbox (appointment_key, sequence, event, event_json, resource, "
                     "reported_at, next_attempt_at) VALUES (?1, (SELECT COALESCE(MAX(sequence), 0) + 1 FROM "
                     "appointment_outbox WHERE appointment_key = ?1), ?2, ?3, ?4, ?5, ?5) RETURNING id, sequence");
    std::vector<NotificationIds> ids;
    ids.reserve(inputs.size());
    for (const auto& input : inputs) {
      insert.bind(1, input.appointment_key).bind(2, input.event).bind(3, input.event_json);
      insert.bind(4, input.resource).bind(5, to_micros(input.reported_at));
      if (!insert.step()) throw StoreError("--store " + db_.url() + ": the notification was not recorded");
      ids.push_back({insert.integer(0), insert.integer(1)});
      insert.reset();
    }
    transaction.commit();
    return ids;
  }

  // The lease is the row's next_attempt_at, set in the claim's BEGIN IMMEDIATE transaction:
  // another claim, in this process or another, finds the row not due until it expires.
  std::vector<Notification> claim(std::chrono::system_clock::time_point now, std::size_t limit,
                                  std::chrono::system_clock::time_point lease_until) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    std::vector<Notification> rows = select(
        "WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 AND NOT EXISTS (SELECT 1 FROM appointment_outbox p "
        "WHERE p.appointment_key = o.appointment_key AND p.sequence < o.sequence AND p.state <> 'delivered') "
        "ORDER BY o.id LIMIT ?2",
        to_micros(now), static_cast<int64_t>(limit));
    Statement attempt(db_, "UPDATE appointment_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?");
    for (auto& row : rows) {
      attempt.bind(1, to_micros(lease_until)).bind(2, row.id);
      attempt.step();
      attempt.reset();
      ++row.attempts;
      row.next_attempt_at = lease_until;
    }
    transaction.commit();
    return rows;
  }

  void finish(const std::vector<DeliveryOutcome>& outcomes) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    Statement update(db_,
                     "UPDATE appointment_outbox SET state = ?2, method = ?3, http_status = ?4, last_error = ?5, "
                     "outcome = ?6, delivered_at = ?7, next_attempt_at = ?8 WHERE id = ?1");
    for (const auto& o : outcomes) {
      const char* state = o.kind == DeliveryOutcome::Kind::delivered ? "delivered"
                          : o.kind == DeliveryOutcome::Kind::dead    ? "dead"
                                                                     : "pending";
      update.bind(1, o.id).bind(2, state).bind_or_null(3, o.method).bind(4, int64_t{o.http_status});
      update.bind_or_null(5, o.error).bind_or_null(6, o.outcome);
      if (o.kind == DeliveryOutcome::Kind::delivered) {
        update.bind(7, to_micros(o.at));
      } else {
        update.bind_null(7);
      }
      update.bind(8, to_micros(o.kind == DeliveryOutcome::Kind::retry ? o.next_attempt_at : o.at));
      update.step();
      update.reset();
    }
    transaction.commit();
  }

  std::optional<std::chrono::system_clock::time_point> next_due() override {
    std::lock_guard lock(db_.mutex());
    Statement min(db_,
                  "SELECT MIN(o.next_attempt_at) FROM appointment_outbox o WHERE o.state = 'pending' AND NOT EXISTS "
                  "(SELECT 1 FROM appointment_outbox p WHERE p.appointment_key = o.appointment_key AND p.sequence < "
                  "o.sequence AND p.state <> 'delivered')");
    if (!min.step() || min.is_null(0)) return std::nullopt;
    return from_micros(min.integer(0));
  }

  std::vector<Notification> rows(const std::string& state, int64_t after_id, std::size_t limit) override {
    std::lock_guard lock(db_.mutex());
    if (state.empty()) return select("WHERE o.id > ?1 ORDER BY o.id LIMIT ?2", after_id, static_cast<int64_t>(limit));
    return select("WHERE o.state = ?3 AND o.id > ?1 ORDER BY o.id LIMIT ?2", after_id, static_cast<int64_t>(limit),
                  state);
  }

  OutboxCounts counts() override {
    std::lock_guard lock(db_.mutex());
    OutboxCounts counts;
    Statement by_state(db_, "SELECT state, COUNT(*), MIN(reported_at) FROM appointment_outbox GROUP BY state");
    while (by_state.step()) {
      const std::string state = by_state.text(0);
      if (state == "pending") {
        counts.pending = by_state.integer(1);
        counts.oldest_pending = from_micros(by_state.integer(2));
      } else if (state == "delivered") {
        counts.delivered = by_state.integer(1);
      } else if (state == "dead") {
        counts.dead = by_state.integer(1);
      }
    }
    Statement blocked(db_,
                      "SELECT COUNT(*) FROM appointment_outbox o WHERE o.state = 'pending' AND EXISTS (SELECT 1 FROM "
                      "appointment_outbox p WHERE p.appointment_key = o.appointment_key AND p.sequence < o.sequence "
                      "AND p.state = 'dead')");
    if (blocked.step()) counts.blocked = blocked.integer(0);
    return counts;
  }

  std::size_t replay(std::optional<int64_t> id, std::chrono::system_clock::time_point now) override {
    std::lock_guard lock(db_.mutex());
    Statement update(db_, id ? "UPDATE appointment_outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = "
                               "'dead' AND id = ?2"
                             : "UPDATE appointment_outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = "
                               "'dead'");
    update.bind(1, to_micros(now));
    if (id) update.bind(2, *id);
    update.step();
    return static_cast<std::size_t>(update.changes());
  }

 private:
  std::vector<Notification> select(const std::string& where, int64_t p1, int64_t p2, const std::string& p3 = {}) {
    Statement query(db_,
                    "SELECT o.id, o.appointment_key, o.sequence, o.event, o.event_json, o.resource, o.reported_at, "
                    "o.state, o.attempts, o.next_attempt_at, o.delivered_at, o.method, o.http_status, o.last_error, "
                    "o.outcome FROM appointment_outbox o " +
                        where);
    query.bind(1, p1).bind(2, p2);
    if (!p3.empty()) query.bind(3, p3);
    std::vector<Notification> rows;
    while (query.step()) {
      Notification& n = rows.emplace_back();
      n.id = query.integer(0);
      n.appointment_key = query.text(1);
      n.sequence = query.integer(2);
      n.event = query.text(3);
      n.event_json = query.text(4);
      n.resource = query.text(5);
      n.reported_at = from_micros(query.integer(6));
      n.state = query.text(7);
      n.attempts = static_cast<int>(query.integer(8));
      n.next_attempt_at = from_micros(query.integer(9));
      if (!query.is_null(10)) n.delivered_at = from_micros(query.integer(10));
      n.method = query.text(11);
      n.http_status = static_cast<int>(query.integer(12));
      n.last_error = query.text(13);
      n.outcome = query.text(14);
    }
    return rows;
  }

  Connection db_;
};

}  // namespace

std::shared_ptr<appointment_notifications::OutboxRepository> open_outbox(const std::string& path,
                                                                         const std::string& url) {
  return std::make_shared<SqliteOutbox>(path, url);
}

}  // namespace sas::host::store::sqlite
