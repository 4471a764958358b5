// SAS-origin consultations (schema 3). `record` takes a transaction-scoped advisory lock on the
// practitioner before it looks: every host recording for that doctor waits its turn, and under
// READ COMMITTED each statement after the lock sees what the previous holder committed, so the
// SNP count and the insert it leads to are one step and the weekly cap holds across hosts.
#include "connection.hpp"
#include "repositories.hpp"

namespace sas::host::store::postgresql {
namespace {

using billing::ConsultationRecord;

#define CONSULTATION_COLUMNS                                                                           \
  "id, consultation_id, practitioner_id, consulted_at, regulated_at, week_start, consultation, code, " \
  "parcours_indicator, amount_cents, rule_set, decision, recorded_at"

class PgConsultationLedger final : public billing::ConsultationLedger {
 public:
  explicit PgConsultationLedger(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  std::pair<ConsultationRecord, bool> record(const ConsultationRecord& facts,
                                             const std::function<void(int, ConsultationRecord&)>& decide) override {
    auto db = pool_->acquire();
    Transaction transaction(*db);
    advisory_lock(*db, "sas_consultation", facts.practitioner_id);
    const Result existing = db->exec("SELECT " CONSULTATION_COLUMNS
                                     " FROM sas_consultation WHERE practitioner_id = $1 AND consultation_id = $2",
                                     {p(facts.practitioner_id), p(facts.consultation_id)});
    if (existing.rows() > 0) return {read(existing, 0), false};
    ConsultationRecord record = facts;
    decide(count_snp(*db, facts.practitioner_id, facts.week_start, facts.consultation_id), record);
    const Result inserted = db->exec(
        "INSERT INTO sas_consultation (consultation_id, practitioner_id, consulted_at, regulated_at, week_start, "
        "consultation, code, parcours_indicator, amount_cents, rule_set, decision, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        {p(record.consultation_id), p(record.practitioner_id), p(to_micros(record.consulted_at)),
         p(to_micros(record.regulated_at)), p(record.week_start), p(record.consultation), p(record.code),
         p(record.parcours_indicator), p(record.amount_cents), p(record.rule_set), p(record.decision),
         p(to_micros(record.recorded_at))});
    record.id = inserted.integer(0, 0);
    transaction.commit();
    return {std::move(record), true};
  }

  int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                        const std::string& except_consultation_id) override {
    auto db = pool_->acquire();
    return count_snp(*db, practitioner_id, week_start, except_consultation_id);
  }

  std::vector<ConsultationRecord> consultations(const std::string& practitioner_id,
                                                std::chrono::system_clock::time_point from,
                                                std::chrono::system_clock::time_point to) override {
    auto db = pool_->acquire();
    const Result rows = db->exec("SELECT " CONSULTATION_COLUMNS
                                 " FROM sas_consultation WHERE practitioner_id = $1 AND consulted_at >= $2 AND "
                                 "consulted_at < $3 ORDER BY consulted_at, id",
                                 {p(practitioner_id), p(to_micros(from)), p(to_micros(to))});
    std::vector<ConsultationRecord> records;
    for (int i = 0; i < rows.rows(); ++i) records.push_back(read(rows, i));
    return records;
  }

 private:
  static int count_snp(Connection& db, const std::string& practitioner_id, const std::string& week_start,
                       const std::string& except_consultation_id) {
    const Result count = db.exec(
        "SELECT count(*) FROM sas_consultation WHERE practitioner_id = $1 AND week_start = $2 AND code = 'SNP' "
        "AND consultation_id <> $3",
        {p(practitioner_id), p(week_start), p(except_consultation_id)});
    return static_cast<int>(count.integer(0, 0));
  }

  static ConsultationRecord read(const Result& row, int i) {
    ConsultationRecord r;
    r.id = row.integer(i, 0);
    r.consultation_id = row.text(i, 1);
    r.practitioner_id = row.text(i, 2);
    r.consulted_at = from_micros(row.integer(i, 3));
    r.regulated_at = from_micros(row.integer(i, 4));
    r.week_start = row.text(i, 5);
    r.consultation = row.text(i, 6);
    r.code = row.text(i, 7);
    r.parcours_indicator = row.text(i, 8);
    r.amount_cents = row.integer(i, 9);
    r.rule_set = row.text(i, 10);
    r.decision = row.text(i, 11);
    r.recorded_at = from_micros(row.integer(i, 12));
    return r;
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::shared_ptr<billing::ConsultationLedger> open_consultation_ledger(std::shared_ptr<Pool> pool) {
  return std::make_shared<PgConsultationLedger>(std::move(pool));
}

}  // namespace sas::host::store::postgresql
