#include <sas/host/logging/access_log.hpp>

namespace sas::host::logging {

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::function<void(const server::Exchange&)> access_log(Logger logger, std::string listener) {
  return [logger = std::move(logger), listener = std::move(listener)](const server::Exchange& exchange) {
    try {
      const std::string_view path = path_of(exchange.target);
      // Microseconds are precision enough.
      const double duration_ms =
          static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(exchange.duration).count()) /
          1000.0;
      Fields fields{{"request_id", exchange.id},
                    {"listener", listener},
                    {"route", exchange.route},
                    {"method", exchange.method},
                    {"path", path},
                    {"status", exchange.status},
                    {"duration_ms", duration_ms},
                    {"bytes", exchange.body_bytes}};
      if (exchange.client != nullptr && !exchange.client->cn.empty())
        fields["client"] = "CN=" + exchange.client->cn + ",OU=" + exchange.client->ou;
      fields["remote"] = exchange.remote;
      if (!exchange.written) fields["aborted"] = true;
      std::string message = exchange.method.empty() ? std::string("-") : std::string(exchange.method);
      message += ' ';
      message += path.empty() ? std::string_view("-") : path;
      message += ' ';
      message += std::to_string(exchange.status);
      logger.log(exchange.status >= 500 ? Level::warning : Level::info, "access", message, fields);
    } catch (...) {
      // An observer must not throw (server::ServerConfig::on_exchange).
    }
  };
}

}  // namespace sas::host::logging
