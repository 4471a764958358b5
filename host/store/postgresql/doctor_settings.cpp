// Doctor settings history and publication rules (schema 5).
// - add_rule / remove_rule take a transaction-scoped advisory lock on the practitioner: a
//   rule's check sees the active rules as they are when it is inserted, on every host;
// - version(): every write bumps the row host_counter('doctor_settings') in its own
//   transaction, so the counter moves exactly when a change commits, whichever host made it,
//   and reading it is one primary-key lookup (cheap to poll before each search). LISTEN/NOTIFY
//   would need a connection kept listening per host and would lose what happened while it
//   was reconnecting; the row cannot.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::postgresql {
namespace {

using doctor_settings::PublicationRuleRecord;
using doctor_settings::SettingChangeRecord;

class PgDoctorSettings final : public doctor_settings::SettingsRepository {
 public:
  explicit PgDoctorSettings(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  void record_changes(const std::vector<SettingChangeRecord>& changes) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    for (const auto& c : changes) {
      db->exec(
          "INSERT INTO doctor_setting_change (practitioner, field, value, effective_at, recorded_at, changed_by, "
          "source) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {p(c.practitioner), p(c.field), p(c.value), p(to_micros(c.effective_at)), p(to_micros(c.recorded_at)),
           p(c.changed_by), p(c.source)});
    }
    bump(*db);
    transaction.commit();
  }

  std::vector<SettingChangeRecord> changes(const std::string& practitioner) override {
    auto db = pool_->acquire();
    const Result rows = db->exec(
        "SELECT id, practitioner, field, value, effective_at, recorded_at, changed_by, source "
        "FROM doctor_setting_change WHERE $1 = '' OR practitioner = $1 ORDER BY effective_at, id",
        {p(practitioner)});
    std::vector<SettingChangeRecord> out;
    for (int i = 0; i < rows.rows(); ++i) {
      SettingChangeRecord& c = out.emplace_back();
      c.id = rows.integer(i, 0);
      c.practitioner = rows.text(i, 1);
      c.field = rows.text(i, 2);
      c.value = rows.text(i, 3);
      c.effective_at = from_micros(rows.integer(i, 4));
      c.recorded_at = from_micros(rows.integer(i, 5));
      c.changed_by = rows.text(i, 6);
      c.source = rows.text(i, 7);
    }
    return out;
  }

  int64_t add_rule(const PublicationRuleRecord& rule,
                   const std::function<void(const std::vector<PublicationRuleRecord>& active)>& check) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    advisory_lock(*db, "publication_rule", rule.practitioner);
    check(select_rules(*db, rule.practitioner, false));
    const Result row = db->exec(
        "INSERT INTO publication_rule (practitioner, rule, created_at, created_by, source) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        {p(rule.practitioner), p(rule.rule), p(to_micros(rule.created_at)), p(rule.created_by), p(rule.source)});
    const int64_t id = row.integer(0, 0);
    bump(*db);
    transaction.commit();
    return id;
  }

  bool remove_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                   const std::string& by) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    advisory_lock(*db, "publication_rule", practitioner);
    const Result updated = db->exec(
        "UPDATE publication_rule SET removed_at = $1, removed_by = $2 "
        "WHERE id = $3 AND practitioner = $4 AND removed_at IS NULL",
        {p(to_micros(at)), p(by), p(id), p(practitioner)});
    const bool removed = updated.affected() == 1;
    if (removed) bump(*db);
    transaction.commit();
    return removed;
  }

  std::vector<PublicationRuleRecord> rules(const std::string& practitioner, bool include_removed) override {
    auto db = pool_->acquire();
    return select_rules(*db, practitioner, include_removed);
  }

  uint64_t version() override {
    auto db = pool_->acquire();
    const Result row = db->exec("SELECT value FROM host_counter WHERE name = 'doctor_settings'");
    return row.rows() == 0 ? 0 : static_cast<uint64_t>(row.integer(0, 0));
  }

 private:
  static void bump(Connection& db) {
    db.exec("UPDATE host_counter SET value = value + 1 WHERE name = 'doctor_settings'");
  }

  static std::vector<PublicationRuleRecord> select_rules(Connection& db, const std::string& practitioner,
                                                         bool include_removed) {
    const Result rows = db.exec(
        "SELECT id, practitioner, rule, created_at, created_by, source, removed_at, removed_by "
        "FROM publication_rule WHERE ($1 = '' OR practitioner = $1) AND ($2 OR removed_at IS NULL) ORDER BY id",
        {p(practitioner), p(include_removed ? "true" : "false")});
    std::vector<PublicationRuleRecord> out;
    for (int i = 0; i < rows.rows(); ++i) {
      PublicationRuleRecord& r = out.emplace_back();
      r.id = rows.integer(i, 0);
      r.practitioner = rows.text(i, 1);
      r.rule = rows.text(i, 2);
      r.created_at = from_micros(rows.integer(i, 3));
      r.created_by = rows.text(i, 4);
      r.source = rows.text(i, 5);
      if (!rows.is_null(i, 6)) r.removed_at = from_micros(rows.integer(i, 6));
      r.removed_by = rows.text(i, 7);
    }
    return out;
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::shared_ptr<doctor_settings::SettingsRepository> open_doctor_settings(std::shared_ptr<Pool> pool) {
  return std::make_shared<PgDoctorSettings>(std::move(pool));
}

}  // namespace sas::host::store::postgresql
