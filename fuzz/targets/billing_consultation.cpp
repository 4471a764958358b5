// Billing: a consultation file (`sas-host billing explain --json`, docs/billing.md) through
// parse_consultation, then the decision under the rule file the host ships and its JSON forms.
// A bad file is a BillingError naming the field; nothing else may escape.
#include <string>

#include "fuzz_support.hpp"
#include "sas/host/billing/engine.hpp"
#include "sas/host/billing/json.hpp"
#include "sas/host/billing/rules.hpp"

namespace billing = sas::host::billing;

namespace {

const billing::RuleBook& shipped_rules() {
  static const auto rules = billing::RuleBook::load(SAS_FUZZ_SOURCE_DIR "/host/billing/rules/rules.json");
  return rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const billing::RuleBook& rules = shipped_rules();
  billing::Consultation consultation;
  try {
    consultation = billing::parse_consultation(sas::fuzz::text(data, size));
  } catch (const billing::BillingError&) {
    return 0;
  }
  (void)billing::consultation_to_json(consultation);
  billing::Decision decision;
  try {
    decision = billing::decide(rules, consultation, consultation.snp_count_this_week.value_or(0));
  } catch (const billing::BillingError&) {
    return 0;  // no rule set in force on its date
  }
  sas::fuzz::require(decision.code.empty() || decision.code == "SNP" || decision.code == "MRT",
                     "a decision codes something other than SNP, MRT or nothing: " + decision.code);
  (void)billing::decision_to_json(decision);
  return 0;
}
