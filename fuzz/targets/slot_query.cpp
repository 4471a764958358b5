// INT_R01 (and INT_R04) slot search: the whole request target as the platform sends it, through
// parse_slot_query, then what the search service does with a parsed query (the plugin request,
// the self link). Bad input must be a 4xx with an OperationOutcome; a parsed query must keep the
// documented bounds.
#include <variant>

#include "fuzz_support.hpp"
#include "sas/host/slot_search/query.hpp"

namespace ss = sas::host::slot_search;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto result = ss::parse_slot_query(sas::fuzz::text(data, size));
  if (const auto* error = std::get_if<sas::host::fhir::HttpError>(&result)) {
    sas::fuzz::require(error->status >= 400 && error->status < 500, "a refused query is not a 4xx");
    sas::fuzz::require(error->outcome.contains("issue"), "a refused query has no OperationOutcome issue");
    return 0;
  }
  const auto& query = std::get<ss::ParsedSlotQuery>(result);
  sas::fuzz::require(!query.practitioner_ids.empty() && query.practitioner_ids.size() <= ss::kMaxPractitioners,
                     "a parsed query names no practitioner or more than 25");
  sas::fuzz::require(query.start_from <= query.start_to, "a parsed query's window ends before it starts");
  const auto request = ss::to_plugin_request(query);
  sas::fuzz::require(request.cpts_search() == query.cpts, "the plugin request lost the CPTS flag");
  (void)ss::self_link(query, "https://agenda.example.fr/sas");
  return 0;
}
