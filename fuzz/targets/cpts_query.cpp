// INT_R04, the CPTS slot search: parse_slot_query on requests that carry the CPTS include, so
// that every input exercises the CPTS decisions (its second include, the plugin request's
// cpts_search). The input is the rest of the query after that include.
#include <string>
#include <variant>

#include "fuzz_support.hpp"
#include "sas/host/slot_search/query.hpp"

namespace ss = sas::host::slot_search;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string target = "/Slot?_include=Slot:service-type-reference&";
  target.append(sas::fuzz::text(data, size));
  const auto result = ss::parse_slot_query(target);
  if (const auto* error = std::get_if<sas::host::fhir::HttpError>(&result)) {
    sas::fuzz::require(error->status >= 400 && error->status < 500, "a refused CPTS query is not a 4xx");
    sas::fuzz::require(error->outcome.contains("issue"), "a refused CPTS query has no OperationOutcome issue");
    return 0;
  }
  const auto& query = std::get<ss::ParsedSlotQuery>(result);
  sas::fuzz::require(query.cpts, "a query with _include=Slot:service-type-reference is not the CPTS search");
  sas::fuzz::require(!query.practitioner_ids.empty() && query.practitioner_ids.size() <= ss::kMaxPractitioners,
                     "a parsed CPTS query names no practitioner or more than 25");
  sas::fuzz::require(query.start_from <= query.start_to, "a parsed CPTS query's window ends before it starts");
  sas::fuzz::require(ss::to_plugin_request(query).cpts_search(), "the plugin request lost the CPTS flag");
  (void)ss::self_link(query, "https://agenda.example.fr/sas/");
  return 0;
}
