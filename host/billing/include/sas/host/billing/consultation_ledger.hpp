// SAS-origin consultations and the SNP / MRT decision each got (store schema 3). The flow
// declares what it needs; host/store implements it per backend (tests/store: the contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <sas/host/store/error.hpp>

namespace sas::host::billing {

// A consultation the vendor reported once the appointment was honoured, and the decision the
// host gave it. One row per (practitioner, consultation).
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

// Guarantees (every backend; thread-safe; a call that throws store::StoreError changed nothing):
// - `record` is atomic with respect to every other `record` on the same store, from any
//   process: the SNP count `decide` is given and the insert it leads to form one step, so the
//   weekly cap of 20 SNP holds however many hosts report at once;
// - idempotent: a (practitioner, consultation_id) already recorded is returned as it was and
//   `decide` is not called;
// - durable once returned; ids increase in recording order.
class ConsultationLedger {
 public:
  virtual ~ConsultationLedger() = default;
  // Counts the SNP already recorded for `facts.practitioner_id` in `facts.week_start` (other
  // consultations only), lets `decide` fill the decision fields, and records the row. Returns
  // the row and whether it is new. An exception from `decide` records nothing and propagates.
  virtual std::pair<ConsultationRecord, bool> record(
      const ConsultationRecord& facts, const std::function<void(int snp_before, ConsultationRecord&)>& decide) = 0;
  // SNP recorded for `practitioner_id` in the week starting `week_start`, except `consultation_id`.
  virtual int count_snp_in_week(const std::string& practitioner_id, const std::string& week_start,
                                const std::string& except_consultation_id = "") = 0;
  // The practitioner's consultations with consulted_at in [from, to), by consulted_at then id.
  virtual std::vector<ConsultationRecord> consultations(const std::string& practitioner_id,
                                                        std::chrono::system_clock::time_point from,
                                                        std::chrono::system_clock::time_point to) = 0;
};

}  // namespace sas::host::billing
