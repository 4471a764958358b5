// JSON bodies as the host's HTTP answers: the one definition of each response shape.
#pragma once

#include <sas/host/server/https_server.hpp>
#include <string_view>

#include <boost/json.hpp>

#include "sas/host/fhir/operation_outcome.hpp"

namespace sas::host::fhir {

// A FHIR resource: application/fhir+json, through fhir::serialize (empty elements pruned).
server::Response fhir_response(unsigned status, boost::json::object resource);
// A FHIR error: its status and OperationOutcome.
server::Response error_response(const HttpError& error);
server::Response error_response(unsigned status, std::string_view code, std::string_view diagnostics,
                                std::string_view expression = {});

// Plain JSON for people and scripts (the admin API): application/json, serialize_plain.
server::Response json_response(unsigned status, const boost::json::value& body);

// The HTTPS server's own errors (malformed request, body too large, deadline, handler failure)
// as OperationOutcomes, built with Boost.JSON so that any message is escaped: what the FHIR
// listener installs as ServerConfig::render_error.
server::Response render_server_error(int status, std::string_view message);

}  // namespace sas::host::fhir
