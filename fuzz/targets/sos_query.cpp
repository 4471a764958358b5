// SOS Médecins search: the whole request target (GET [base]/Schedule?...) through
// parse_sos_query, then the plugin request and the self link of a parsed query.
#include <variant>

#include "fuzz_support.hpp"
#include "sas/host/sos_search/query.hpp"

namespace sos = sas::host::sos_search;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto result = sos::parse_sos_query(sas::fuzz::text(data, size));
  if (const auto* error = std::get_if<sas::host::fhir::HttpError>(&result)) {
    sas::fuzz::require(error->status >= 400 && error->status < 500, "a refused SOS query is not a 4xx");
    sas::fuzz::require(error->outcome.contains("issue"), "a refused SOS query has no OperationOutcome issue");
    return 0;
  }
  const auto& query = std::get<sos::ParsedSosQuery>(result);
  sas::fuzz::require(!query.association_sirets.empty() && query.association_sirets.size() <= sos::kMaxAssociations,
                     "a parsed SOS query names no association or more than 25");
  for (const auto& siret : query.association_sirets) {
    sas::fuzz::require(siret.size() == 15 && siret.front() == '3', "a parsed SIRET is not 3 + 14 digits");
  }
  sas::fuzz::require(query.start_from <= query.start_to, "a parsed SOS query's window ends before it starts");
  (void)sos::to_plugin_request(query);
  (void)sos::self_link(query, "https://agenda.example.fr/sas");
  return 0;
}
