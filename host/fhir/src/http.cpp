#include "sas/host/fhir/http.hpp"

#include "sas/host/fhir/json.hpp"

namespace sas::host::fhir {

server::Response fhir_response(unsigned status, boost::json::object resource) {
  server::Response response;
  response.status = static_cast<int>(status);
  response.body = fhir::serialize(std::move(resource));
  return response;
}

server::Response error_response(const HttpError& error) { return fhir_response(error.status, error.outcome); }

server::Response error_response(unsigned status, std::string_view code, std::string_view diagnostics,
                                std::string_view expression) {
  return error_response(http_error(status, code, diagnostics, expression));
}

server::Response json_response(unsigned status, const boost::json::value& body) {
  server::Response response;
  response.status = static_cast<int>(status);
  response.content_type = "application/json";
  response.body = serialize_plain(body);
  return response;
}

server::Response render_server_error(int status, std::string_view message) {
  std::string_view code = issue_type::kProcessing;
  switch (status) {
    case 400:
      code = issue_type::kStructure;
      break;
    case 413:
    case 414:
    case 431:
      code = issue_type::kTooLong;
      break;
    case 408:
    case 503:
      code = issue_type::kTimeout;
      break;
    case 500:
      code = issue_type::kException;
      break;
    default:
      break;
  }
  return error_response(http_error(static_cast<unsigned>(status), code, message));
}

}  // namespace sas::host::fhir
