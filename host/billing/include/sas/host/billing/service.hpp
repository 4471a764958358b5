// Consultations reported by the vendor, judged and recorded in the host store; the per-doctor
// report. Used by `sas-host billing explain`, `sas-host report snp` and the plugin's
// report_consultation host call.
#pragma once

#include <memory>
#include <optional>
#include <sas/host/billing/consultation_ledger.hpp>
#include <sas/host/billing/engine.hpp>
#include <string>
#include <string_view>

namespace sas::host::billing {

class BillingService {
 public:
  // `ledger` may be null: then nothing is recorded and the weekly count comes from the
  // consultation itself (snp_count_this_week, 0 when absent).
  BillingService(std::shared_ptr<const RuleBook> rules, std::shared_ptr<ConsultationLedger> ledger);

  // Judges without recording (sas-host billing explain).
  Decision explain(const Consultation& consultation) const;

  // Judges and records. A consultation already recorded (same practitioner and id) gets the
  // decision it got then, so a vendor may report again after a crash without double counting.
  // Thread-safe. Throws BillingError (no rules that day, bad data) or StoreError.
  Decision report(const Consultation& consultation) const;

  const RuleBook& rules() const { return *rules_; }

 private:
  std::shared_ptr<const RuleBook> rules_;
  std::shared_ptr<ConsultationLedger> ledger_;
};

// "2026-11-23": the Europe/Paris Monday of the calendar week holding `t`.
std::string week_start_text(Instant t);

// The decision as recorded (decision_to_json) read back.
Decision decision_from_json(const std::string& json);

// `sas-host report snp` and the admin API's GET .../consultations: the practitioner's
// consultations with consulted_at in [from, to).
struct ReportOptions {
  std::string practitioner_id;  // prefixed IDNPS
  Instant from;
  Instant to;
};
// {"practitioner", "from", "to", "consultations": [...], "weeks": [{"week_start", "snp_count"}],
//  "totals": {"snp", "mrt", "none", "amount_euros"}}
std::string report_json(ConsultationLedger& ledger, const ReportOptions& options);
// One line per consultation: consultation_id,consulted_at,regulated_at,code,parcours_indicator,
// amount_euros,rule_set,week_start,week_snp_count,refusals
std::string report_csv(ConsultationLedger& ledger, const ReportOptions& options);

// A bound of the report's period as both doors take it (docs/billing.md, "The report"): a day
// YYYY-MM-DD in Europe/Paris, which starts the period or, as its `end`, ends it inclusively (the
// next day's midnight); or a FHIR dateTime with an offset, as is. nullopt, and why in *error.
std::optional<Instant> parse_report_bound(std::string_view text, bool end, std::string* error = nullptr);

}  // namespace sas::host::billing
