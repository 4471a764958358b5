// SAS-origin consultations (schema 3). The SNP count and the insert it leads to run in one
// BEGIN IMMEDIATE transaction: the weekly cap holds across host processes sharing the file.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::sqlite {
namespace {

using billing::ConsultationRecord;

#define CONSULTATION_COLUMNS                                                                           \
  "id, consultation_id, practitioner_id, consulted_at, regulated_at, week_start, consultation, code, " \
  "parcours_indicator, amount_cents, rule_set, decision, recorded_at"

class SqliteConsultationLedger final : public billing::ConsultationLedger {
 public:
  SqliteConsultationLedger(const std::string& path, const std::string& url) : db_(path, url) {}

  std::pair<ConsultationRecord, bool> record(const ConsultationRecord& facts,
                                             const std::function<void(int, ConsultationRecord&)>& decide) override {
    std::lock_guard lock(db_.mutex());
    Transaction transaction(db_);
    if (auto existing = find(facts.practitioner_id, facts.consultation_id)) return {std::move(*existing), false};
    ConsultationRecord record = facts;
    decide(count_snp(facts.practitioner_id, facts.week_start, facts.consultation_id), record);
    Statement insert(db_,
                     "INSERT INTO sas_consultation (consultation_id, practitioner_id, consulted_at, regulated_at, "
                     "week_start, consultation, code, parcours_indicator, amount_cents, rule_set, decision, "
                     "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    insert.bind(1, record.consultation_id).bind(2, record.practitioner_id).bind(3, to_micros(record.consulted_at));
    insert.bind(4, to_micros(record.regulated_at)).bind(5, record.week_start).bind(6, record.consultation);
    insert.bind(7, record.code).bind(8, record.parcours_indicator).bind(9, record.amount_cents);
    insert.bind(10, record.rule_set).bind(11, record.decision).bind(12, to_micros(record.recorded_at));
    if (!insert.step()) throw StoreError("--store " + db_.url() + ": the consultation was not recorded");
    record.id = insert.integer(0);
    insert.step();  // finish the statement before COMMIT
    transaction.commit();
    return {std::move(record), true};
  }

  int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                        const std::string& except_consultation_id) override {
    std::lock_guard lock(db_.mutex());
    return count_snp(practitioner_id, week_start, except_consultation_id);
  }

  std::vector<ConsultationRecord> consultations(const std::string& practitioner_id,
                                                std::chrono::system_clock::time_point from,
                                                std::chrono::system_clock::time_point to) override {
    std::lock_guard lock(db_.mutex());
    Statement select(db_, "SELECT " CONSULTATION_COLUMNS
                          " FROM sas_consultation WHERE practitioner_id = ? AND consulted_at >= ? AND consulted_at < ? "
                          "ORDER BY consulted_at, id");
    select.bind(1, practitioner_id).bind(2, to_micros(from)).bind(3, to_micros(to));
    std::vector<ConsultationRecord> records;
    while (select.step()) records.push_back(read(select));
    return records;
  }

 private:
  int count_snp(const std::string& practitioner_id, const std::string& week_start,
                const std::string& except_consultation_id) {
    Statement count(db_,
                    "SELECT count(*) FROM sas_consultation WHERE practitioner_id = ? AND week_start = ? AND "
                    "code = 'SNP' AND consultation_id <> ?");
    count.bind(1, practitioner_id).bind(2, week_start).bind(3, except_consultation_id);
    return count.step() ? static_cast<int>(count.integer(0)) : 0;
  }

  std::optional<ConsultationRecord> find(const std::string& practitioner_id, const std::string& consultation_id) {
    Statement select(
        db_, "SELECT " CONSULTATION_COLUMNS " FROM sas_consultation WHERE practitioner_id = ? AND consultation_id = ?");
    select.bind(1, practitioner_id).bind(2, consultation_id);
    if (!select.step()) return std::nullopt;
    return read(select);
  }

  static ConsultationRecord read(const Statement& row) {
    ConsultationRecord r;
    r.id = row.integer(0);
    r.consultation_id = row.text(1);
    r.practitioner_id = row.text(2);
    r.consulted_at = from_micros(row.integer(3));
    r.regulated_at = from_micros(row.integer(4));
    r.week_start = row.text(5);
    r.consultation = row.text(6);
    r.code = row.text(7);
    r.parcours_indicator = row.text(8);
    r.amount_cents = row.integer(9);
    r.rule_set = row.text(10);
    r.decision = row.text(11);
    r.recorded_at = from_micros(row.integer(12));
    return r;
  }

  Connection db_;
};

}  // namespace

std::shared_ptr<billing::ConsultationLedger> open_consultation_ledger(const std::string& path, const std::string& url) {
  return std::make_shared<SqliteConsultationLedger>(path, url);
}

}  // namespace sas::host::store::sqlite
