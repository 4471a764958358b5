// Billing: a rule file (share/sas/billing/rules.json, `--rules FILE`) through RuleBook::parse,
// then each version looked up on its date of effect and one consultation judged by it. A bad
// file is a BillingError naming the key; nothing else may escape.
#include <chrono>

#include "fuzz_support.hpp"
#include "sas/host/billing/engine.hpp"
#include "sas/host/billing/rules.hpp"

namespace billing = sas::host::billing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  billing::RuleBook rules;
  try {
    rules = billing::RuleBook::parse(sas::fuzz::text(data, size), "fuzz");
  } catch (const billing::BillingError&) {
    return 0;
  }
  for (const auto& version : rules.versions()) {
    const billing::RuleSet* in_force = nullptr;
    try {
      in_force = &rules.in_force(version.effective_from);
    } catch (const billing::BillingError&) {
      sas::fuzz::finding("a version is not in force on its own date of effect: " + version.id);
    }
    sas::fuzz::require(in_force->effective_from == version.effective_from, "in_force gave a version of another date");
    // A Sunday-night consultation two hours after its regulation, judged by this version.
    const auto day = std::chrono::sys_days{version.effective_from};
    billing::Consultation consultation;
    consultation.id = "c1";
    consultation.practitioner_id = "810002673899";
    consultation.regulated_at = day + std::chrono::hours(21);
    consultation.consulted_at = day + std::chrono::hours(23);
    consultation.specialty = "SM54";
    consultation.opposable_tariff = true;
    consultation.region =
        rules.versions().front().regions.empty() ? "" : rules.versions().front().regions.begin()->first;
    try {
      (void)billing::decide(rules, consultation, 0);
    } catch (const billing::BillingError&) {
      // A consultation at 23:00 Paris may fall on the next date: no finding here.
    }
  }
  return 0;
}
