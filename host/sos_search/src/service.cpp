#include "sas/host/sos_search/service.hpp"

#include <google/protobuf/arena.h>

#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/plugin_loader/manifest.hpp>

namespace sas::host::sos_search {

namespace v1 = sas::plugin::v1;

namespace {

// PluginRequest.search_sos_slots came with ABI 1.5.
constexpr uint32_t kFirstMinor = 5;

}  // namespace

SosSearchService::SosSearchService(std::shared_ptr<plugin_loader::Plugin> plugin, SosSearchServiceOptions options)
    : plugin_(std::move(plugin)), options_(std::move(options)) {
  if (plugin_ == nullptr) {
    unsupported_reason_ = "this host has no agenda plugin";
    return;
  }
  const auto& manifest = plugin_->manifest();
  if (!manifest.declares_flow(std::string(kFlow))) {
    unsupported_reason_ = "the agenda plugin " + manifest.name + " does not declare the flow " + std::string(kFlow) +
                          " (SOS Médecins search)";
  } else if (plugin_->abi_version() < SAS_ABI_MAKE_VERSION(1, kFirstMinor)) {
    unsupported_reason_ = "the agenda plugin " + manifest.name + " declares " + std::string(kFlow) +
                          " but speaks ABI 1." + std::to_string(SAS_ABI_VERSION_MINOR_OF(plugin_->abi_version())) +
                          "; the SOS Médecins search needs 1." + std::to_string(kFirstMinor);
  }
}

fhir::HttpError SosSearchService::not_offered() const {
  // 404, as FHIR answers a resource type a server does not serve: the request cannot be executed
  // here, whatever it holds.
  return fhir::http_error(
      404, fhir::issue_type::kNotSupported,
      "this server does not offer the SOS Médecins slot search (GET [base]/Schedule): " + unsupported_reason_);
}

std::optional<fhir::HttpError> SosSearchService::call_plugin(const v1::SearchSosSlotsRequest& request,
                                                             v1::PluginResponse& answer, Deadline deadline,
                                                             std::stop_token stop) const {
  if (!supported()) return not_offered();
  if (deadline == Deadline{}) deadline = std::chrono::system_clock::now() + options_.plugin_deadline;
  v1::PluginRequest plugin_request;
  *plugin_request.mutable_search_sos_slots() = request;
  const plugin_loader::CallResult result = plugin_->call(plugin_request, answer, deadline, std::move(stop));
  if (result.ok()) {
    if (answer.result_case() == v1::PluginResponse::kSearchSosSlots) return std::nullopt;
    auto error = fhir::bad_plugin_answer("no SearchSosSlotsResponse in its answer to the SOS Médecins search");
    if (options_.log) options_.log("SOS search: " + fhir::diagnostics_of(error.outcome) + ": HTTP 502");
    return error;
  }
  auto error = fhir::plugin_failure(result.status, result.message);
  if (options_.log) {
    options_.log("SOS search: the plugin answered " + std::string(plugin_loader::status_name(result.status)) + " (" +
                 result.message + "): HTTP " + std::to_string(error.status));
  }
  return error;
}

SosSearchResult SosSearchService::search(std::string_view target, v1::PluginResponse& answer, Deadline deadline,
                                         std::stop_token stop) const {
  // Not offered: said before anything about the request, which this server would not run anyway.
  if (!supported()) return SosSearchResult{not_offered(), {}, {}};
  auto parsed = parse_sos_query(target);
  if (auto* error = std::get_if<fhir::HttpError>(&parsed)) return SosSearchResult{std::move(*error), {}, {}};
  return search(std::get<ParsedSosQuery>(parsed), answer, deadline, std::move(stop));
}

SosSearchResult SosSearchService::search(const ParsedSosQuery& query, v1::PluginResponse& answer, Deadline deadline,
                                         std::stop_token stop) const {
  SosSearchResult result;
  if (auto error = call_plugin(to_plugin_request(query), answer, deadline, std::move(stop))) {
    result.error = std::move(error);
    return result;
  }
  SosBundleOptions options;
  options.base_url = options_.base_url;
  options.place_identifier_system = options_.place_identifier_system;
  result.bundle = serialize_sos_bundle(query, answer.search_sos_slots(), options, &result.report);
  warnings_.log(options_.log, "SOS search", result.report.warnings);
  return result;
}

server::Response SosSearchService::handle(const server::Request& request) const {
  try {
    google::protobuf::Arena arena;  // the plugin's answer is hundreds of small messages
    auto& answer = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
    SosSearchResult result =
        search(request.target, answer, std::chrono::system_clock::now() + options_.plugin_deadline, request.stop);
    if (result.error) return fhir::error_response(*result.error);
    server::Response response;
    response.body = std::move(result.bundle);
    return response;
  } catch (const std::exception& e) {
    return fhir::error_response(500, fhir::issue_type::kException, std::string("internal error: ") + e.what());
  }
}

}  // namespace sas::host::sos_search
