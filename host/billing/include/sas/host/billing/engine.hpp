// The decision for one SAS-origin consultation: SNP (parcours indicator U), MRT or none, and
// every reason, in French and English, with the rule's reference.
#pragma once

#include <cstdint>
#include <optional>
#include <sas/host/billing/rules.hpp>
#include <sas/sdk/datetime.hpp>
#include <string>
#include <vector>

namespace sas::host::billing {

using sas::sdk::datetime::Instant;

// One consultation the vendor reports once a SAS-origin appointment was honoured.
struct Consultation {
  std::string id;                        // the vendor's id of the consultation (or appointment)
  std::string practitioner_id;           // the doctor's prefixed IDNPS (8+RPPS, 0+ADELI)
  Instant consulted_at;                  // when the doctor saw the patient
  Instant regulated_at;                  // the regulation: when the regulator booked the appointment
  bool medecin_traitant = false;         // the doctor is the patient's médecin traitant (declared doctor)
  std::string specialty;                 // TRE_R38 code, e.g. SM54 (general medicine)
  bool opposable_tariff = false;         // billed at the agreed (opposable) tariff
  std::string tariff_sector;             // "1", "2", "2-OPTAM", ... as the vendor knows it (informative)
  std::vector<std::string> other_codes;  // the other NGAP codes billed with it ("G", "MCG", ...)
  std::string region;                    // a region of the rule file ("alsace-moselle"), "" = none
  // SNP already billed by this doctor earlier in the same calendar week, when the caller knows
  // it (a consultation file without a store); the store's count wins when there is one.
  std::optional<int> snp_count_this_week;
};

// One condition the decision checked.
struct Reason {
  std::string rule;  // stable key: "delay", "medecin_traitant", "specialty", "pdsa", "exclusions",
                     // "weekly_cap", "opposable_tariff"
  bool met = false;
  std::string fr;
  std::string en;
  std::string reference;
};

struct Decision {
  std::string code;                // "SNP", "MRT" or "" (none)
  std::string candidate;           // the majoration that was considered: "SNP" or "MRT"
  std::string parcours_indicator;  // "U" with SNP
  int64_t amount_cents = 0;
  std::string rule_set;         // id of the version in force on the consultation's date
  int snp_count_this_week = 0;  // SNP before this one in its calendar week
  std::vector<Reason> reasons;  // every condition, met or not, in a stable order
};

// Judges `consultation` by the rules in force on its date. `snp_before` is the number of SNP
// the doctor already billed in the consultation's calendar week. Throws BillingError when no
// rule set is in force on that date.
Decision decide(const RuleBook& rules, const Consultation& consultation, int snp_before);

// "15.00"
std::string format_euros(int64_t cents);

}  // namespace sas::host::billing
