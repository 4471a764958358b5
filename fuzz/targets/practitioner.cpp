// INT_R02: a Practitioner body (POST/PUT [base]/Practitioner) through parse_practitioner, the
// validation and normalisation the host does before any plugin sees it. A refusal is a 400 or a
// 422 with an OperationOutcome; an accepted body becomes an account the plugin can read.
#include <variant>

#include "fuzz_support.hpp"
#include "sas/host/regulator_accounts/validation.hpp"

namespace ra = sas::host::regulator_accounts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto result = ra::parse_practitioner(sas::fuzz::text(data, size));
  if (const auto* error = std::get_if<sas::host::fhir::HttpError>(&result)) {
    sas::fuzz::require(error->status == 400 || error->status == 422, "a refused Practitioner is not a 400 or 422");
    sas::fuzz::require(error->outcome.contains("issue"), "a refused Practitioner has no OperationOutcome issue");
    return 0;
  }
  const auto& parsed = std::get<ra::ParsedPractitioner>(result);
  sas::fuzz::require(parsed.account.account_id().empty(), "an account id was invented from the body");
  std::string bytes;
  sas::fuzz::require(parsed.account.SerializeToString(&bytes), "an accepted account does not serialize");
  return 0;
}
