#include "sas/host/slot_search/service.hpp"

#include <google/protobuf/arena.h>

#include <sas/plugin_abi.h>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/plugin_loader/manifest.hpp>

namespace sas::host::slot_search {

namespace v1 = sas::plugin::v1;

namespace {

// The flow a search is, as log lines name it.
std::string_view flow_name(bool cpts) { return cpts ? "INT_R04 CPTS search" : "INT_R01 search"; }

}  // namespace

bool offers_cpts_search(const plugin_loader::Plugin& plugin) {
  const uint32_t abi = plugin.abi_version();
  return plugin.manifest().declares_flow(std::string(kCptsSearchFlow)) && SAS_ABI_VERSION_MAJOR_OF(abi) == 1 &&
         SAS_ABI_VERSION_MINOR_OF(abi) >= 5;
}

SearchService::SearchService(std::shared_ptr<plugin_loader::Plugin> plugin, SearchServiceOptions options)
    : plugin_(std::move(plugin)), options_(std::move(options)) {
  cpts_offered_ = plugin_ != nullptr && offers_cpts_search(*plugin_);
}

std::optional<fhir::HttpError> SearchService::call_plugin(const v1::SearchSlotsRequest& request,
                                                          v1::PluginResponse& answer, Deadline deadline,
                                                          std::stop_token stop) const {
  if (deadline == Deadline{}) deadline = std::chrono::system_clock::now() + options_.plugin_deadline;
  v1::PluginRequest plugin_request;
  *plugin_request.mutable_search_slots() = request;
  const plugin_loader::CallResult result = plugin_->call(plugin_request, answer, deadline, std::move(stop));
  if (result.ok()) return std::nullopt;
  auto error = fhir::plugin_failure(result.status, result.message);
  if (options_.log) {
    options_.log(std::string(flow_name(request.cpts_search())) + ": the plugin answered " +
                 std::string(plugin_loader::status_name(result.status)) + " (" + result.message + "): HTTP " +
                 std::to_string(error.status));
  }
  return error;
}

SearchResult SearchService::search(std::string_view target, v1::PluginResponse& answer, Deadline deadline,
                                   std::stop_token stop) const {
  auto parsed = parse_slot_query(target);
  if (auto* error = std::get_if<fhir::HttpError>(&parsed)) return SearchResult{std::move(*error), {}, {}, 0, 0};
  return search(std::get<ParsedSlotQuery>(parsed), answer, deadline, std::move(stop));
}

SearchResult SearchService::search(const ParsedSlotQuery& query, v1::PluginResponse& answer, Deadline deadline,
                                   std::stop_token stop) const {
  SearchResult result;
  if (query.cpts && !cpts_offered_) {
    // Refused before the plugin is called: an agenda that does not know CPTS would answer the
    // INT_R01 slots, and the platform would read them as "no CPTS slot".
    result.error = fhir::http_error(
        400, fhir::issue_type::kNotSupported,
        "this agenda does not offer the CPTS search (INT_R04): its plugin " +
            (plugin_ != nullptr ? plugin_->manifest().name : std::string("(none)")) + " does not declare the " +
            std::string(kCptsSearchFlow) + " flow (ABI 1.5 or later); search without " + std::string(param::kInclude) +
            "=" + std::string(include::kSlotServiceTypeReference) + " for the INT_R01 slots",
        param::kInclude);
    return result;
  }
  if (auto error = call_plugin(to_plugin_request(query), answer, deadline, std::move(stop))) {
    result.error = std::move(error);
    return result;
  }
  BundleOptions options;
  options.base_url = options_.base_url;
  options.place_identifier_system = options_.place_identifier_system;
  if (options_.settings) {
    // What each doctor chose to show SAS (docs/doctor-options.md), before the Bundle is built.
    const auto published = doctor_settings::apply(*options_.settings->snapshot(), *answer.mutable_search_slots());
    for (const auto& [practitioner, call] : published.call_first) options.call_first.emplace(practitioner, call.phone);
    result.hidden_slots = published.hidden_slots;
    result.retyped_slots = published.retyped_slots;
  }
  result.bundle = serialize_search_bundle(query, answer.search_slots(), options, &result.report);
  warnings_.log(options_.log, flow_name(query.cpts), result.report.warnings);
  return result;
}

server::Response SearchService::handle(const server::Request& request) const {
  try {
    google::protobuf::Arena arena;  // the plugin's answer is hundreds of small messages
    auto& answer = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
    SearchResult result =
        search(request.target, answer, std::chrono::system_clock::now() + options_.plugin_deadline, request.stop);
    if (result.error) return fhir::error_response(*result.error);
    server::Response response;
    response.body = std::move(result.bundle);
    return response;
  } catch (const std::exception& e) {
    return fhir::error_response(500, fhir::issue_type::kException, std::string("internal error: ") + e.what());
  }
}

}  // namespace sas::host::slot_search
