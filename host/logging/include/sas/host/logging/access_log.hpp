// The access log: one line per answer of a listener, from server::ServerConfig::on_exchange.
#pragma once

#include <functional>
#include <sas/host/logging/logger.hpp>
#include <sas/host/server/https_server.hpp>
#include <string>

namespace sas::host::logging {

// Component "access", level info (warning for a 5xx), message "METHOD PATH STATUS", and the
// fields request_id, listener, route, method, path, status, duration_ms, bytes, client (the
// certificate's "CN=...,OU=...", when there is one), remote, and aborted: true when the client
// was gone before the answer was written. The path never has its query: INT_R01 and INT_R02
// queries carry practitioners' and regulators' identifiers.
std::function<void(const server::Exchange&)> access_log(Logger logger, std::string listener);

// The target's path: everything before '?'.
std::string_view path_of(std::string_view target);

}  // namespace sas::host::logging
