// INT_R02 audit rows (schema 2): one insert per request, one update per outcome. Ids come from
// an identity: each is greater than every id handed out before, whichever host asked.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::postgresql {
namespace {

using regulator_accounts::AccountRequest;
using regulator_accounts::AccountRequestOutcome;
using regulator_accounts::AccountRequestRecord;

class PgAccountAudit final : public regulator_accounts::AccountAudit {
 public:
  explicit PgAccountAudit(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  int64_t record_request(const AccountRequest& r) override {
    auto db = pool_->acquire();
    const Result row = db->exec(
        "INSERT INTO regulator_account_request (received_at, method, target, client, remote, content_type, body) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        {p(to_micros(r.received_at)), p(r.method), p(r.target), p(r.client), p(r.remote), p(r.content_type),
         bytes(r.body)});
    return row.integer(0, 0);
  }

  void record_outcome(int64_t id, const AccountRequestOutcome& o) override {
    auto db = pool_->acquire();
    const Result row = db->exec(
        "UPDATE regulator_account_request SET finished_at = $1, operation = $2, national_id = $3, sas_id = $4, "
        "active = $5, outcome = $6, http_status = $7, account_id = $8, plugin_status = $9, diagnostics = $10 "
        "WHERE id = $11",
        {p(to_micros(o.finished_at)), or_null(o.operation), or_null(o.national_id), or_null(o.sas_id),
         o.active ? p(int64_t{*o.active ? 1 : 0}) : null(), p(o.outcome), p(int64_t{o.http_status}),
         or_null(o.account_id), or_null(o.plugin_status), or_null(o.diagnostics), p(id)});
    if (row.affected() != 1)
      throw StoreError("--store " + db->display() + ": no account request " + std::to_string(id));
  }

  std::vector<AccountRequestRecord> requests(int64_t after_id, std::size_t limit) override {
    auto db = pool_->acquire();
    const Result rows = db->exec(
        "SELECT id, received_at, method, target, client, remote, content_type, body, finished_at, operation, "
        "national_id, sas_id, active, outcome, http_status, account_id, plugin_status, diagnostics "
        "FROM regulator_account_request WHERE id > $1 ORDER BY id LIMIT $2",
        {p(after_id), p(static_cast<int64_t>(limit))});
    std::vector<AccountRequestRecord> records;
    records.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
      AccountRequestRecord& record = records.emplace_back();
      record.id = rows.integer(i, 0);
      AccountRequest& r = record.request;
      r.received_at = from_micros(rows.integer(i, 1));
      r.method = rows.text(i, 2);
      r.target = rows.text(i, 3);
      r.client = rows.text(i, 4);
      r.remote = rows.text(i, 5);
      r.content_type = rows.text(i, 6);
      r.body = rows.text(i, 7);
      if (rows.is_null(i, 8)) continue;
      AccountRequestOutcome& o = record.outcome.emplace();
      o.finished_at = from_micros(rows.integer(i, 8));
      o.operation = rows.text(i, 9);
      o.national_id = rows.text(i, 10);
      o.sas_id = rows.text(i, 11);
      if (!rows.is_null(i, 12)) o.active = rows.integer(i, 12) != 0;
      o.outcome = rows.text(i, 13);
      o.http_status = static_cast<int>(rows.integer(i, 14));
      o.account_id = rows.text(i, 15);
      o.plugin_status = rows.text(i, 16);
      o.diagnostics = rows.text(i, 17);
    }
    return records;
  }

 private:
  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::shared_ptr<regulator_accounts::AccountAudit> open_account_audit(std::shared_ptr<Pool> pool) {
  return std::make_shared<PgAccountAudit>(std::move(pool));
}

}  // namespace sas::host::store::postgresql
