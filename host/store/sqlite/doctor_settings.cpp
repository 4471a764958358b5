// Doctor settings history and publication rules (schema 5), on their own connection: a rule is
// checked and added in one BEGIN IMMEDIATE transaction, atomic across processes.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::sqlite {
namespace {

using doctor_settings::PublicationRuleRecord;
using doctor_settings::SettingChangeRecord;

class SqliteDoctorSettings final : public doctor_settings::SettingsRepository {
 public:
  SqliteDoctorSettings(const std::string& path, const std::string& url) : db_(path, url) {}

  void record_changes(const std::vector<SettingChangeRecord>& changes) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    Statement insert(db_,
                     "INSERT INTO doctor_setting_change (practitioner, field, value, effective_at, recorded_at, "
                     "changed_by, source) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& c : changes) {
      insert.bind(1, c.practitioner).bind(2, c.field).bind(3, c.value).bind(4, to_micros(c.effective_at));
      insert.bind(5, to_micros(c.recorded_at)).bind(6, c.changed_by).bind(7, c.source);
      insert.step();
      insert.reset();
    }
    transaction.commit();
    ++own_writes_;
  }

  std::vector<SettingChangeRecord> changes(const std::string& practitioner) override {
    std::lock_guard lock(db_.mutex());
    Statement select(db_,
                     "SELECT id, practitioner, field, value, effective_at, recorded_at, changed_by, source "
                     "FROM doctor_setting_change WHERE ?1 = '' OR practitioner = ?1 ORDER BY effective_at, id");
    select.bind(1, practitioner);
    std::vector<SettingChangeRecord> rows;
    while (select.step()) {
      SettingChangeRecord& c = rows.emplace_back();
      c.id = select.integer(0);
      c.practitioner = select.text(1);
      c.field = select.text(2);
      c.value = select.text(3);
      c.effective_at = from_micros(select.integer(4));
      c.recorded_at = from_micros(select.integer(5));
      c.changed_by = select.text(6);
      c.source = select.text(7);
    }
    return rows;
  }

  int64_t add_rule(const PublicationRuleRecord& rule,
                   const std::function<void(const std::vector<PublicationRuleRecord>& active)>& check) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    check(select_rules(rule.practitioner, false));
    Statement insert(db_,
                     "INSERT INTO publication_rule (practitioner, rule, created_at, created_by, source) "
                     "VALUES (?, ?, ?, ?, ?) RETURNING id");
    insert.bind(1, rule.practitioner).bind(2, rule.rule).bind(3, to_micros(rule.created_at));
    insert.bind(4, rule.created_by).bind(5, rule.source);
    if (!insert.step()) throw StoreError("--store " + db_.url() + ": the rule was not recorded");
    const int64_t id = insert.integer(0);
    insert.step();  // finish the statement before COMMIT
    transaction.commit();
    ++own_writes_;
    return id;
  }

  bool remove_rule(const std::string& practitioner, int64_t id, std::chrono::system_clock::time_point at,
                   const std::string& by) override {
    std::lock_guard lock(db_.mutex());
    Statement update(db_,
                     "UPDATE publication_rule SET removed_at = ?, removed_by = ? "
                     "WHERE id = ? AND practitioner = ? AND removed_at IS NULL RETURNING id");
    update.bind(1, to_micros(at)).bind(2, by).bind(3, id).bind(4, practitioner);
    const bool removed = update.step();
    if (removed) {
      update.step();
      ++own_writes_;
    }
    return removed;
  }

  std::vector<PublicationRuleRecord> rules(const std::string& practitioner, bool include_removed) override {
    std::lock_guard lock(db_.mutex());
    return select_rules(practitioner, include_removed);
  }

  // PRAGMA data_version moves with other connections' commits only (other processes, other
  // handles); this connection's own are counted here.
  uint64_t version() override {
    std::lock_guard lock(db_.mutex());
    Statement pragma(db_, "PRAGMA data_version");
    const uint64_t others = pragma.step() ? static_cast<uint64_t>(pragma.integer(0)) : 0;
    return (others << 32U) + own_writes_;
  }

 private:
  std::vector<PublicationRuleRecord> select_rules(const std::string& practitioner, bool include_removed) {
    Statement select(db_,
                     "SELECT id, practitioner, rule, created_at, created_by, source, removed_at, removed_by "
                     "FROM publication_rule WHERE (?1 = '' OR practitioner = ?1) AND (?2 OR removed_at IS NULL) "
                     "ORDER BY id");
    select.bind(1, practitioner).bind(2, int64_t{include_removed ? 1 : 0});
    std::vector<PublicationRuleRecord> rows;
    while (select.step()) {
      PublicationRuleRecord& r = rows.emplace_back();
      r.id = select.integer(0);
      r.practitioner = select.text(1);
      r.rule = select.text(2);
      r.created_at = from_micros(select.integer(3));
      r.created_by = select.text(4);
      r.source = select.text(5);
      if (!select.is_null(6)) r.removed_at = from_micros(select.integer(6));
      r.removed_by = select.text(7);
    }
    return rows;
  }

  Connection db_;
  uint64_t own_writes_ = 0;
};

}  // namespace

std::shared_ptr<doctor_settings::SettingsRepository> open_doctor_settings(const std::string& path,
                                                                          const std::string& url) {
  return std::make_shared<SqliteDoctorSettings>(path, url);
}

}  // namespace sas::host::store::sqlite
