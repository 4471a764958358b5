#include "sas/host/regulator_accounts/account_endpoint.hpp"

#include <sas/host/fhir/builders.hpp>
#include <sas/host/fhir/constants.hpp>
#include <sas/host/fhir/http.hpp>
#include <sas/host/fhir/json.hpp>
#include <sas/host/fhir/operation_outcome.hpp>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/regulator_accounts/validation.hpp>

namespace sas::host::regulator_accounts {
namespace {

namespace json = boost::json;
namespace v1 = sas::plugin::v1;

using fhir::error_response;

// "IDNPS 810002673899, INTRN 1ef1…": how the account was named, for messages and logs.
std::string identifiers_text(const v1::RegulatorAccount& account) {
  std::string out;
  if (!account.national_id().empty()) out = "IDNPS " + account.national_id();
  if (!account.sas_id().empty()) out += (out.empty() ? "" : ", ") + std::string("INTRN ") + account.sas_id();
  return out;
}

// The account as stored, as a FrPractitionerRegul resource.
json::object practitioner_resource(const v1::RegulatorAccount& account, std::string_view id) {
  json::object p;
  p["resourceType"] = "Practitioner";
  p["id"] = id;
  json::object meta = fhir::meta(fhir::profile::kPractitionerRegul);
  meta["source"] = fhir::kSasPlatformSystem;
  p["meta"] = std::move(meta);
  json::array identifiers;
  if (!account.national_id().empty()) {
    identifiers.emplace_back(fhir::practitioner_national_identifier(account.national_id()));
  }
  if (!account.sas_id().empty()) {
    identifiers.emplace_back(
        fhir::identifier(fhir::kIdentifierTypeSystem, fhir::code::kIntrn, fhir::kSasPlatformSystem, account.sas_id()));
  }
  fhir::put(p, "identifier", std::move(identifiers));
  p["active"] = account.active();
  json::object name;
  fhir::put(name, "family", account.family_name());
  if (!account.given_name().empty()) name["given"] = json::array{json::string(account.given_name())};
  fhir::put(p, "name", json::array{std::move(name)});
  if (!account.email().empty()) {
    p["telecom"] = json::array{json::object{{"system", "email"}, {"value", account.email()}}};
  }
  return p;
}

std::string client_text(const server::ClientSubject& client) {
  if (client.cn.empty() && client.ou.empty()) return {};
  return "CN=" + client.cn + ",OU=" + client.ou;
}

// The `return=` preference of a Prefer header: minimal, OperationOutcome or representation.
std::string return_preference(const server::Request& request) {
  const auto prefer = request.header("Prefer");
  if (!prefer) return "representation";
  const auto at = prefer->find("return=");
  if (at == std::string_view::npos) return "representation";
  auto value = prefer->substr(at + 7);
  value = value.substr(0, value.find_first_of(" ;,"));
  return std::string(value);
}

}  // namespace

AccountEndpoint::AccountEndpoint(std::shared_ptr<plugin_loader::Plugin> plugin, std::shared_ptr<AccountAudit> audit,
                                 AccountEndpointOptions options)
    : plugin_(std::move(plugin)), audit_(std::move(audit)), options_(std::move(options)) {
  routed_ = plugin_ != nullptr && plugin_->manifest().declares_flow(std::string(kFlow));
}

server::Response AccountEndpoint::create(const server::Request& request) const {
  return write(request, Operation::create, {});
}

server::Response AccountEndpoint::conditional_update(const server::Request& request, std::string_view query) const {
  return write(request, Operation::conditional_update, query);
}

server::Response AccountEndpoint::update(const server::Request& request, std::string_view id) const {
  return write(request, Operation::update, id);
}

server::Response AccountEndpoint::write(const server::Request& request, Operation operation,
                                        std::string_view query_or_id) const {
  const auto now = [this] { return options_.now ? options_.now() : std::chrono::system_clock::now(); };
  if (audit_ == nullptr) {
    const auto error = fhir::http_error(500, fhir::issue_type::kException,
                                        "this host has no store to record account requests in: nothing was done");
    return error_response(error);
  }
  // Recorded before anything else: an audit must show every request, even one the host died on.
  AccountRequest received;
  received.received_at = now();
  received.method = request.method;
  received.target = request.target;
  received.client = client_text(request.client);
  received.remote = request.remote;
  received.content_type = std::string(request.header("Content-Type").value_or(""));
  received.body = request.body;
  int64_t audit_id = 0;
  try {
    audit_id = audit_->record_request(received);
  } catch (const std::exception& e) {
    const auto error = fhir::http_error(
        503, "transient",
        std::string("the host cannot record the request, so nothing was done; retry later (") + e.what() + ")");
    return error_response(error);
  }

  AccountRequestOutcome outcome;
  outcome.operation = operation == Operation::create               ? "create"
                      : operation == Operation::conditional_update ? "conditional-update"
                                                                   : "update";
  server::Response response = decide(request, operation, query_or_id, audit_id, outcome);
  if (response.status >= 400) outcome.diagnostics = fhir::diagnostics_of(json::parse(response.body).as_object());
  outcome.finished_at = now();
  outcome.http_status = response.status;
  // The path only: a conditional update's query holds the regulator's identifier (personal data,
  // kept in the audit under this number).
  const std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
  std::string line = "INT_R02 #" + std::to_string(audit_id) + " " + request.method + " " + std::string(path) + ": " +
                     std::to_string(response.status) + " " + outcome.outcome;
  if (!outcome.account_id.empty()) line += " account " + outcome.account_id;
  if (!outcome.plugin_status.empty()) line += " (" + outcome.plugin_status + ")";
  try {
    audit_->record_outcome(audit_id, outcome);
  } catch (const std::exception& e) {
    line += "; THE OUTCOME WAS NOT RECORDED: " + std::string(e.what());
  }
  if (options_.log) options_.log(line);
  return response;
}

server::Response AccountEndpoint::decide(const server::Request& request, Operation operation,
                                         std::string_view query_or_id, int64_t audit_id,
                                         AccountRequestOutcome& outcome) const {
  auto refuse = [&](const fhir::HttpError& error, std::string_view kind) {
    outcome.outcome = std::string(kind);
    return error_response(error);
  };
  if (!routed_) {
    return refuse(fhir::http_error(501, fhir::issue_type::kNotSupported,
                                   "the agenda plugin " + plugin_->manifest().name +
                                       " does not declare the regulator-accounts flow (INT_R02): this server "
                                       "cannot create or update regulator accounts"),
                  "unsupported");
  }
  if (const auto type = request.header("Content-Type")) {
    const auto format = fhir::classify_format(*type);
    if (format != fhir::Format::json && format != fhir::Format::any) {
      return refuse(fhir::http_error(415, fhir::issue_type::kNotSupported,
                                     "Content-Type " + std::string(*type) +
                                         " is not supported: send the Practitioner as application/fhir+json"),
                    "invalid");
    }
  }
  v1::PluginRequest plugin_request;
  v1::WriteRegulatorAccountRequest& write = *plugin_request.mutable_write_regulator_account();
  write.set_request_id(audit_id);
  std::string addressed_sas_id;
  switch (operation) {
    case Operation::create:
      write.set_mode(v1::ACCOUNT_CREATE);
      break;
    case Operation::conditional_update: {
      write.set_mode(v1::ACCOUNT_CREATE_OR_UPDATE);
      auto address = parse_account_query(query_or_id);
      if (auto* error = std::get_if<fhir::HttpError>(&address)) return refuse(*error, "invalid");
      const auto& a = std::get<AccountAddress>(address);
      if (a.kind == AccountAddress::Kind::sas_id) {
        write.set_match_sas_id(a.value);
        addressed_sas_id = a.value;
      } else {
        write.set_match_national_id(a.value);
      }
      break;
    }
    case Operation::update:
      write.set_mode(v1::ACCOUNT_UPDATE);
      if (!fhir::is_valid_id(query_or_id)) {
        return refuse(fhir::http_error(400, fhir::issue_type::kInvalid,
                                       "\"" + std::string(query_or_id) + "\" is not a FHIR resource id"),
                      "invalid");
      }
      write.set_match_account_id(std::string(query_or_id));
      break;
  }

  auto parsed = parse_practitioner(request.body);
  if (auto* error = std::get_if<fhir::HttpError>(&parsed)) return refuse(*error, "invalid");
  auto& practitioner = std::get<ParsedPractitioner>(parsed);
  const v1::RegulatorAccount& account = practitioner.account;
  outcome.national_id = account.national_id();
  outcome.sas_id = account.sas_id();
  outcome.active = account.active();
  // Update by id: FHIR requires the body's id to be the URL's. POST and conditional PUT ignore
  // it: the platform sends its own ids there, never ours.
  if (operation == Operation::update && practitioner.id != query_or_id) {
    return refuse(fhir::http_error(400, fhir::issue_type::kInvalid,
                                   "Practitioner.id must be the id of the URL (" + std::string(query_or_id) + ")",
                                   "Practitioner.id"),
                  "invalid");
  }
  if (!addressed_sas_id.empty() && !account.sas_id().empty() && account.sas_id() != addressed_sas_id) {
    return refuse(fhir::http_error(422, fhir::issue_type::kBusinessRule,
                                   "the INTRN identifier of the body (" + account.sas_id() +
                                       ") differs from the one the URL addresses (" + addressed_sas_id +
                                       "): the SAS technical id of an account never changes",
                                   "Practitioner.identifier"),
                  "refused");
  }
  *write.mutable_account() = account;

  v1::PluginResponse plugin_response;
  const plugin_loader::CallResult result = plugin_->call(
      plugin_request, plugin_response, std::chrono::system_clock::now() + options_.plugin_deadline, request.stop);
  if (!result.ok()) {
    outcome.plugin_status = plugin_loader::status_name(result.status);
    const std::string agenda = result.message.empty() ? std::string() : " (agenda: " + result.message + ")";
    // The host's one status mapping (fhir/plugin_failure.hpp), worded for accounts. The IG
    // defines the exception: a refusal by the agenda (an account that already exists, or one it
    // will not write) is a business rule violated, 422 (docs/regulator-accounts.md).
    const unsigned status = fhir::plugin_failure_status(result.status);
    switch (result.status) {
      case SAS_ERR_ALREADY_EXISTS:
        if (operation == Operation::create) {
          return refuse(
              fhir::http_error(422, "duplicate",
                               "a regulator account already exists for " + identifiers_text(account) +
                                   ": a create (POST) never changes an existing account, and nothing was changed; "
                                   "update it with PUT [base]/Practitioner?identifier=SYSTEM|VALUE" +
                                   agenda,
                               "Practitioner.identifier"),
              "refused");
        }
        return refuse(fhir::http_error(422, "duplicate",
                                       "an identifier of the body belongs to another regulator account, so "
                                       "nothing was changed" +
                                           agenda,
                                       "Practitioner.identifier"),
                      "refused");
      case SAS_ERR_INVALID_ARGUMENT:
        return refuse(fhir::http_error(422, fhir::issue_type::kBusinessRule,
                                       "the agenda refused the account, nothing was changed" + agenda),
                      "refused");
      case SAS_ERR_NOT_FOUND:
        if (operation == Operation::update) {
          return refuse(fhir::http_error(status, fhir::issue_type::kNotFound,
                                         "no regulator account has the id " + std::string(query_or_id) +
                                             "; PUT [base]/Practitioner?identifier=SYSTEM|VALUE creates one" + agenda),
                        "refused");
        }
        break;
      case SAS_ERR_UNIMPLEMENTED:
        return refuse(fhir::http_error(status, fhir::issue_type::kNotSupported,
                                       "the agenda plugin " + plugin_->manifest().name +
                                           " does not implement regulator accounts (INT_R02)" + agenda),
                      "unsupported");
      default:
        break;
    }
    return refuse(fhir::plugin_failure(result.status, result.message), "failed");
  }
  const auto& written = plugin_response.write_regulator_account();
  if (!plugin_response.has_write_regulator_account() || written.account().account_id().empty()) {
    return refuse(fhir::bad_plugin_answer("it answered without the account's id; the account may have been written"),
                  "failed");
  }
  outcome.account_id = written.account().account_id();
  outcome.outcome = written.created() ? "created" : "updated";
  const std::string id = fhir::resource_id(written.account().account_id());
  const std::string preference = return_preference(request);
  server::Response success;
  success.status = written.created() ? 201 : 200;
  success.headers.emplace_back("Location", fhir::full_url(options_.base_url, "Practitioner", id));
  if (preference == "minimal") {
    success.content_type.clear();
  } else if (preference == "OperationOutcome") {
    fhir::Issue issue{fhir::Severity::information,
                      "informational",
                      std::string(written.created() ? "created" : "updated") + " regulator account " + id,
                      {}};
    success.body = fhir::serialize(fhir::operation_outcome(issue));
  } else {
    success.body = fhir::serialize(practitioner_resource(written.account(), id));
  }
  return success;
}

}  // namespace sas::host::regulator_accounts
