// The plugin's answer to a slot search as the host turns it into the Bundle it sends: the
// SearchSlotsResponse bytes parsed as the host parses them (ParseFromArray), then
// serialize_search_bundle, the search service's Bundle step. Whatever the plugin answers, the
// Bundle must be valid against the SAS profiles (checked with the SDK's profile validator, as
// the tests and sas-conformance check it); bytes that are no SearchSlotsResponse are the
// host's clear error (a protocol error), not a Bundle.
//
// The Bundle must also be, byte for byte and report included, the one the tree builder the host
// used before issue #22 writes (tests/bundle_oracle).
//
// Input: one byte of options (bit 0: the CPTS search, INT_R04; bit 1: UTC offsets rather than
// Paris; bit 2: _count=2), then the message. The query names the answer's own practitioners
// (those with a valid national id, at most 25), so that the builder has slots to keep, over a
// window from 2000 to 2099.
#include <boost/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "bundle_oracle/dom_search_bundle.hpp"
#include "fuzz_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/host/slot_search/bundle.hpp"
#include "sas/host/slot_search/query.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace ss = sas::host::slot_search;
namespace pb = sas::plugin::v1;
namespace json = boost::json;

namespace {

constexpr const char* kFrom = "2000-01-01T00:00:00+01:00";
constexpr const char* kTo = "2099-12-31T23:59:59+01:00";

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::fuzz::ig_dir());
  return set;
}

bool parses(const std::string& target) {
  return std::holds_alternative<ss::ParsedSlotQuery>(ss::parse_slot_query(target));
}

ss::ParsedSlotQuery query_for(const pb::SearchSlotsResponse& response, bool cpts, bool count) {
  std::vector<std::string> ids;
  for (const auto& practitioner : response.practitioners()) {
    if (ids.size() == ss::kMaxPractitioners) break;
    if (parses(ss::slot_query_target({practitioner.national_id()}, kFrom, kTo)))
      ids.push_back(practitioner.national_id());
  }
  if (ids.empty()) ids.push_back("810002673899");
  std::string target = ss::slot_query_target(ids, kFrom, kTo, cpts);
  if (count) target += "&_count=2";
  auto parsed = ss::parse_slot_query(target);
  if (auto* error = std::get_if<sas::host::fhir::HttpError>(&parsed)) {
    sas::fuzz::finding("the query of valid ids is refused: " + target + "\n" + json::serialize(error->outcome));
  }
  return std::get<ss::ParsedSlotQuery>(std::move(parsed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  (void)profiles();  // loaded before the first input, not counted against it
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  pb::SearchSlotsResponse response;
  if (!response.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;  // the host's protocol error

  const ss::ParsedSlotQuery query = query_for(response, (flags & 1) != 0, (flags & 4) != 0);
  ss::BundleOptions options;
  options.base_url = "https://agenda.example.fr/sas";
  options.place_identifier_system = "urn:oid:1.2.250.1.999.1";
  options.paris_offsets = (flags & 2) == 0;
  ss::BuildReport report;
  const std::string text = ss::serialize_search_bundle(query, response, options, &report);
  boost::system::error_code ec;
  const json::value bundle = json::parse(text, ec);
  if (ec) sas::fuzz::finding("the Bundle is not JSON: " + ec.message() + "\n" + text);
  auto issues = profiles().validate_bundle(bundle);
  if (query.cpts && bundle.as_object().if_contains("entry") == nullptr) {
    // The one documented exception (docs/cpts-search.md, "Empty answers"): an empty CPTS answer
    // cannot have the four entries sas-cpts-bundle-aggregator asks for.
    std::erase_if(issues, [](const sas::conformance::Issue& issue) {
      return issue.kind == "cardinality" && issue.element_id.rfind("Bundle.entry", 0) == 0;
    });
  }
  sas::fuzz::note("total " + std::to_string(report.matches) + ", " + std::to_string(report.emitted) + " Slots, " +
                  std::to_string(text.size()) + " bytes");
  if (!issues.empty()) {
    std::string message = "the Bundle is invalid against the SAS profiles:\n";
    for (const auto& issue : issues) message += "  " + sas::conformance::to_string(issue) + "\n";
    sas::fuzz::finding(message + text);
  }
  sas::fuzz::require(bundle.at("total").as_int64() == static_cast<int64_t>(report.matches),
                     "Bundle.total is not the report's count of matches");
  ss::BuildReport oracle_report;
  const std::string expected = sas::test::oracle::dom_search_bundle(query, response, options, &oracle_report);
  if (text != expected) sas::fuzz::finding("the written Bundle is not the tree builder's:\n" + expected + "\n" + text);
  sas::fuzz::require(oracle_report.warnings == report.warnings && oracle_report.matches == report.matches &&
                         oracle_report.emitted == report.emitted &&
                         oracle_report.dropped_invalid == report.dropped_invalid &&
                         oracle_report.dropped_not_requested == report.dropped_not_requested,
                     "the written Bundle's report is not the tree builder's");
  return 0;
}
