#include <boost/url/parse.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir/constants.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/host/fhir/operation_outcome.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/regulator_accounts/account_endpoint.hpp>
#include <sas/host/slot_search/bundle.hpp>
#include <sas/host/slot_search/capability.hpp>
#include <sas/host/slot_search/query.hpp>

namespace sas::host {
namespace {

namespace fhir = sas::host::fhir;
namespace json = boost::json;
namespace v1 = sas::plugin::v1;

server::Response json_response(unsigned status, boost::json::object body) {
  server::Response response;
  response.status = static_cast<int>(status);
  response.body = fhir::serialize(std::move(body));
  return response;
}

server::Response error_response(const fhir::HttpError& error) { return json_response(error.status, error.outcome); }

server::Response error_response(unsigned status, std::string_view code, std::string_view diagnostics,
                                std::string_view expression = {}) {
  return error_response(fhir::http_error(status, code, diagnostics, expression));
}

// The IG's statement for INT_R02 (regulator accounts); not in fhir/constants.hpp, which holds
// what the resources carry.
constexpr std::string_view kCapabilityStructure =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireStructure";

// The path part of a request target, without its query.
std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

FhirEndpoint::FhirEndpoint(std::shared_ptr<Plugin> plugin, FhirEndpointOptions options)
    : plugin_(std::move(plugin)), options_(std::move(options)) {
  auto url = boost::urls::parse_absolute_uri(options_.base_url);
  if (!url) throw std::invalid_argument("--base-url '" + options_.base_url + "' is not an absolute URL");
  base_path_ = std::string(url->encoded_path());
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  regulator_accounts::AccountEndpointOptions accounts;
  accounts.base_url = options_.base_url;
  accounts.plugin_deadline = options_.plugin_deadline;
  accounts.log = options_.log;
  accounts_ = std::make_shared<const regulator_accounts::AccountEndpoint>(plugin_, options_.store, std::move(accounts));
}

server::Response FhirEndpoint::handle(const server::Request& request) const {
  try {
    std::string_view path = path_of(request.target);
    if (path.substr(0, base_path_.size()) != base_path_) {
      return error_response(404, fhir::issue_type::kNotFound, "no FHIR endpoint at " + std::string(path));
    }
    path.remove_prefix(base_path_.size());
    if (auto accept = request.header("Accept"); accept && !fhir::accept_allows_json(*accept)) {
      return error_response(406, fhir::issue_type::kNotSupported,
                            "this server answers application/fhir+json only; Accept was " + std::string(*accept));
    }
    const bool read = request.method == "GET" || request.method == "HEAD";
    if (path == "/Slot" || path == "/Slot/") {
      if (!read) return error_response(405, fhir::issue_type::kNotSupported, "Slot supports GET (search) only");
      return search_slots(request);
    }
    if (path == "/Practitioner" || path.substr(0, 14) == "/Practitioner/") return practitioner(request, path);
    if (path == "/metadata") {
      if (!read) return error_response(405, fhir::issue_type::kNotSupported, "metadata supports GET only");
      return metadata();
    }
    return error_response(404, fhir::issue_type::kNotFound,
                          "no such FHIR interaction: " + request.method + " " + std::string(path));
  } catch (const std::exception& e) {
    return error_response(500, fhir::issue_type::kException, std::string("internal error: ") + e.what());
  }
}

server::Response FhirEndpoint::search_slots(const server::Request& request) const {
  auto parsed = slot_search::parse_slot_query(request.target);
  if (auto* error = std::get_if<fhir::HttpError>(&parsed)) return error_response(*error);
  const auto& query = std::get<slot_search::ParsedSlotQuery>(parsed);

  v1::PluginRequest plugin_request;
  *plugin_request.mutable_search_slots() = slot_search::to_plugin_request(query);
  google::protobuf::Arena arena;  // the plugin's answer is hundreds of small messages
  auto& plugin_response = *google::protobuf::Arena::CreateMessage<v1::PluginResponse>(&arena);
  CallResult result =
      plugin_->call(plugin_request, plugin_response, std::chrono::system_clock::now() + options_.plugin_deadline);
  if (!result.ok()) {
    switch (result.status) {
      case SAS_ERR_DEADLINE_EXCEEDED:
        return error_response(503, fhir::issue_type::kTimeout, "the agenda did not answer in time: " + result.message);
      case SAS_ERR_UNAVAILABLE:
        return error_response(503, "transient", "the agenda is unavailable: " + result.message);
      default:
        return error_response(
            500, fhir::issue_type::kException,
            std::string("the agenda plugin failed (") + status_name(result.status) + "): " + result.message);
    }
  }
  slot_search::BundleOptions options;
  options.base_url = options_.base_url;
  options.place_identifier_system = options_.place_identifier_system;
  if (options_.settings) {
    // What each doctor chose to show SAS (docs/doctor-options.md), before the Bundle is built.
    const auto published =
        doctor_settings::apply(*options_.settings->snapshot(), *plugin_response.mutable_search_slots());
    for (const auto& [practitioner, call] : published.call_first) options.call_first.emplace(practitioner, call.phone);
  }
  server::Response response;
  response.body = slot_search::serialize_search_bundle(query, plugin_response.search_slots(), options);
  return response;
}

// INT_R02: POST [base]/Practitioner, PUT [base]/Practitioner?identifier=..., PUT
// [base]/Practitioner/{id}.
server::Response FhirEndpoint::practitioner(const server::Request& request, std::string_view path) const {
  std::string_view id = path.substr(std::min<size_t>(path.size(), 14));
  if (!id.empty() && id.back() == '/') id.remove_suffix(1);
  const auto question = request.target.find('?');
  const std::string_view query =
      question == std::string::npos ? std::string_view() : std::string_view(request.target).substr(question + 1);
  if (id.empty() && request.method == "POST") return accounts_->create(request);
  if (id.empty() && request.method == "PUT") {
    if (query.empty()) {
      return error_response(400, fhir::issue_type::kRequired,
                            "PUT [base]/Practitioner needs ?identifier=SYSTEM|VALUE (conditional update)",
                            "identifier");
    }
    return accounts_->conditional_update(request, query);
  }
  if (!id.empty() && id.find('/') == std::string_view::npos && request.method == "PUT") {
    return accounts_->update(request, id);
  }
  return error_response(405, fhir::issue_type::kNotSupported,
                        "Practitioner supports POST (create), PUT ?identifier=SYSTEM|VALUE (conditional update) and "
                        "PUT /Practitioner/{id} (update); not " +
                            request.method + " " + std::string(path));
}

server::Response FhirEndpoint::metadata() const {
  slot_search::CapabilityOptions options;
  options.base_url = options_.base_url;
  options.software_version = SAS_HOST_VERSION;
  json::object statement = slot_search::build_capability_statement(options);
  if (accounts_->routed()) {
    // INT_R02: the Practitioner entry (one per type) also takes the account writes, as the IG's
    // SAS-GestionnaireStructure statement describes them.
    statement["instantiates"].as_array().emplace_back(kCapabilityStructure);
    for (auto& rest : statement["rest"].as_array()) {
      for (auto& resource : rest.as_object()["resource"].as_array()) {
        auto& r = resource.as_object();
        if (r["type"] != "Practitioner") continue;
        r["supportedProfile"] = json::array{fhir::profile::kPractitionerRegul};
        r["interaction"] = json::array{json::object{{"code", "create"}}, json::object{{"code", "update"}}};
        r["updateCreate"] = false;
        r["conditionalUpdate"] = true;
        r["documentation"] =
            "Returned with _include:iterate=Schedule:actor (INT_R01). Regulator accounts (INT_R02): POST, and PUT "
            "?identifier=SYSTEM|VALUE (IDNPS or INTRN), which creates the account when none matches.";
      }
    }
  }
  return json_response(200, std::move(statement));
}

}  // namespace sas::host
