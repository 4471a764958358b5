#include <boost/url/parse.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir/constants.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/host/fhir/operation_outcome.hpp>
#include <sas/host/fhir/search_query.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/regulator_accounts/account_endpoint.hpp>
#include <sas/host/slot_search/capability.hpp>
#include <sas/host/slot_search/query.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/host/sos_search/capability.hpp>
#include <sas/host/sos_search/service.hpp>

namespace sas::host::fhir_server {
namespace {

namespace fhir = sas::host::fhir;
namespace json = boost::json;

using fhir::error_response;

// "/Practitioner/{id}": the INT_R02 update by id.
constexpr std::string_view kPractitionerPrefix = "/Practitioner/";

// The IG's statement for INT_R02 (regulator accounts); not in fhir/constants.hpp, which holds
// what the resources carry.
constexpr std::string_view kCapabilityStructure =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireStructure";

// The path part of a request target, without its query.
std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

std::string base_path_of(std::string_view base_url) {
  auto url = boost::urls::parse_absolute_uri(base_url);
  if (!url) throw std::invalid_argument("--base-url '" + std::string(base_url) + "' is not an absolute URL");
  std::string path(url->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string route_of(std::string_view base_path, std::string_view method, std::string_view target) {
  std::string_view path = path_of(target.substr(0, target.find('#')));
  if (path.substr(0, base_path.size()) != base_path) return std::string(route::kOther);
  path.remove_prefix(base_path.size());
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const bool read = method == "GET" || method == "HEAD";
  if (path == "/Slot" && read) {
    // INT_R04 is the Slot search with the CPTS include (the search parser decides the same way).
    bool cpts = false;
    fhir::for_each_parameter(
        fhir::query_of(target),
        [&cpts](std::string_view key, std::string_view value) {
          if (key == slot_search::param::kInclude &&
              fhir::trim_token(value) == slot_search::include::kSlotServiceTypeReference)
            cpts = true;
        },
        [](std::string, std::string_view) {});
    return std::string(cpts ? route::kCptsSearch : route::kSlotSearch);
  }
  if (path == "/Schedule" && read) return std::string(route::kSosSearch);
  if (path == "/metadata" && read) return std::string(route::kMetadata);
  if (path == "/Practitioner" && method == "POST") return std::string(route::kAccountCreate);
  if ((path == "/Practitioner" || path.substr(0, kPractitionerPrefix.size()) == kPractitionerPrefix) && method == "PUT")
    return std::string(route::kAccountUpdate);
  return std::string(route::kOther);
}

FhirEndpoint::FhirEndpoint(std::shared_ptr<plugin_loader::Plugin> plugin, FhirEndpointOptions options)
    : plugin_(std::move(plugin)), options_(std::move(options)) {
  base_path_ = base_path_of(options_.base_url);
  regulator_accounts::AccountEndpointOptions accounts;
  accounts.base_url = options_.base_url;
  accounts.plugin_deadline = options_.plugin_deadline;
  accounts.log = options_.accounts_log ? options_.accounts_log : options_.log;
  accounts_ =
      std::make_shared<const regulator_accounts::AccountEndpoint>(plugin_, options_.account_audit, std::move(accounts));
  slot_search::SearchServiceOptions search;
  search.base_url = options_.base_url;
  search.place_identifier_system = options_.place_identifier_system;
  search.plugin_deadline = options_.plugin_deadline;
  search.settings = options_.settings;
  search.log = options_.log;
  search_ = std::make_shared<const slot_search::SearchService>(plugin_, std::move(search));
  sos_search::SosSearchServiceOptions sos;
  sos.base_url = options_.base_url;
  sos.place_identifier_system = options_.place_identifier_system;
  sos.plugin_deadline = options_.plugin_deadline;
  sos.log = options_.log;
  sos_search_ = std::make_shared<const sos_search::SosSearchService>(plugin_, std::move(sos));
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
      return search_->handle(request);
    }
    if (path == "/Schedule" || path == "/Schedule/") {  // SOS Médecins; not offered: 404 saying why
      if (!read) return error_response(405, fhir::issue_type::kNotSupported, "Schedule supports GET (search) only");
      return sos_search_->handle(request);
    }
    if (path == "/Practitioner" || path.substr(0, kPractitionerPrefix.size()) == kPractitionerPrefix)
      return practitioner(request, path);
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

// INT_R02: POST [base]/Practitioner, PUT [base]/Practitioner?identifier=..., PUT
// [base]/Practitioner/{id}.
server::Response FhirEndpoint::practitioner(const server::Request& request, std::string_view path) const {
  std::string_view id = path.substr(std::min(path.size(), kPractitionerPrefix.size()));
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
  options.cpts = search_->cpts_offered();  // INT_R04, as the plugin's manifest declares it
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
  if (sos_search_->supported()) sos_search::add_to_capability_statement(statement);
  return fhir::fhir_response(200, std::move(statement));
}

}  // namespace sas::host::fhir_server
