// INT_R02 audit rows (schema 2): one insert per request, one update per outcome.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::sqlite {
namespace {

using regulator_accounts::AccountRequest;
using regulator_accounts::AccountRequestOutcome;
using regulator_accounts::AccountRequestRecord;

class SqliteAccountAudit final : public regulator_accounts::AccountAudit {
 public:
  SqliteAccountAudit(const std::string& path, const std::string& url) : db_(path, url) {}

  int64_t record_request(const AccountRequest& r) override {
    std::lock_guard lock(db_.mutex());
    Statement insert(db_,
                     "INSERT INTO regulator_account_request (received_at, method, target, client, remote, "
                     "content_type, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    insert.bind(1, to_micros(r.received_at)).bind(2, r.method).bind(3, r.target).bind(4, r.client);
    insert.bind(5, r.remote).bind(6, r.content_type).bind_blob(7, r.body);
    if (!insert.step()) throw StoreError("--store " + db_.url() + ": the account request was not recorded");
    const int64_t id = insert.integer(0);
    insert.step();  // finish the statement: the row is committed
    return id;
  }

  void record_outcome(int64_t id, const AccountRequestOutcome& o) override {
    std::lock_guard lock(db_.mutex());
    Statement update(db_,
                     "UPDATE regulator_account_request SET finished_at = ?, operation = ?, national_id = ?, "
                     "sas_id = ?, active = ?, outcome = ?, http_status = ?, account_id = ?, plugin_status = ?, "
                     "diagnostics = ? WHERE id = ? RETURNING id");
    update.bind(1, to_micros(o.finished_at)).bind_or_null(2, o.operation).bind_or_null(3, o.national_id);
    update.bind_or_null(4, o.sas_id);
    if (o.active) {
      update.bind(5, int64_t{*o.active ? 1 : 0});
    } else {
      update.bind_null(5);
    }
    update.bind(6, o.outcome).bind(7, int64_t{o.http_status}).bind_or_null(8, o.account_id);
    update.bind_or_null(9, o.plugin_status).bind_or_null(10, o.diagnostics).bind(11, id);
    if (!update.step()) throw StoreError("--store " + db_.url() + ": no account request " + std::to_string(id));
    update.step();
  }

  std::vector<AccountRequestRecord> requests(int64_t after_id, std::size_t limit) override {
    std::lock_guard lock(db_.mutex());
    Statement select(db_,
                     "SELECT id, received_at, method, target, client, remote, content_type, body, finished_at, "
                     "operation, national_id, sas_id, active, outcome, http_status, account_id, plugin_status, "
                     "diagnostics FROM regulator_account_request WHERE id > ? ORDER BY id LIMIT ?");
    select.bind(1, after_id).bind(2, static_cast<int64_t>(limit));
    std::vector<AccountRequestRecord> records;
    while (select.step()) {
      AccountRequestRecord& record = records.emplace_back();
      record.id = select.integer(0);
      AccountRequest& r = record.request;
      r.received_at = from_micros(select.integer(1));
      r.method = select.text(2);
      r.target = select.text(3);
      r.client = select.text(4);
      r.remote = select.text(5);
      r.content_type = select.text(6);
      r.body = select.text(7);
      if (select.is_null(8)) continue;
      AccountRequestOutcome& o = record.outcome.emplace();
      o.finished_at = from_micros(select.integer(8));
      o.operation = select.text(9);
      o.national_id = select.text(10);
      o.sas_id = select.text(11);
      if (!select.is_null(12)) o.active = select.integer(12) != 0;
      o.outcome = select.text(13);
      o.http_status = static_cast<int>(select.integer(14));
      o.account_id = select.text(15);
      o.plugin_status = select.text(16);
      o.diagnostics = select.text(17);
    }
    return records;
  }

 private:
  Connection db_;
};

}  // namespace

std::shared_ptr<regulator_accounts::AccountAudit> open_account_audit(const std::string& path, const std::string& url) {
  return std::make_shared<SqliteAccountAudit>(path, url);
}

}  // namespace sas::host::store::sqlite
