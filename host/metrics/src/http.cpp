#include "sas/host/metrics/http.hpp"

#include <charconv>

namespace sas::host::metrics {

HttpMetrics::HttpMetrics(Registry& registry)
    : requests_(registry.counter("sas_http_requests_total",
                                 "HTTP answers by listener (fhir, admin), route and status, the server's own included",
                                 {"listener", "route", "status"})),
      duration_(registry.histogram("sas_http_request_duration_seconds",
                                   "Time from a request's last byte received to its answer's last byte written",
                                   {"listener", "route"}, latency_buckets())),
      handshake_failures_(registry.counter("sas_tls_handshake_failures_total",
                                           "Connections that ended before their TLS handshake did, by reason",
                                           {"listener", "reason"})),
      limit_refusals_(registry.counter("sas_limit_refusals_total",
                                       "Requests and connections refused for going past a limit (size, time, "
                                       "connections), by limit",
                                       {"listener", "limit"})) {}

void HttpMetrics::add_listener(std::string_view listener, const std::vector<std::string_view>& reasons,
                               const std::vector<std::string_view>& limits) {
  for (const auto reason : reasons) handshake_failures_.with({listener, reason});
  for (const auto limit : limits) limit_refusals_.with({listener, limit});
}

void HttpMetrics::exchange(std::string_view listener, std::string_view route, int status,
                           std::chrono::steady_clock::duration duration) {
  char digits[12];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
  const std::string_view status_text(digits, ec == std::errc() ? static_cast<std::size_t>(end - digits) : 0);
  requests_.with({listener, route, status_text}).inc();
  duration_.with({listener, route}).observe(std::chrono::duration<double>(duration).count());
}

void HttpMetrics::handshake_failure(std::string_view listener, std::string_view reason) {
  handshake_failures_.with({listener, reason}).inc();
}

void HttpMetrics::limit_refusal(std::string_view listener, std::string_view limit) {
  limit_refusals_.with({listener, limit}).inc();
}

}  // namespace sas::host::metrics
