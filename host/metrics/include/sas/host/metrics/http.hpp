// What the HTTPS listeners count (the server's observers feed it: ServerConfig::on_exchange and
// on_handshake_failure): sas_http_requests_total{listener,route,status},
// sas_http_request_duration_seconds{listener,route} and
// sas_tls_handshake_failures_total{listener,reason}. Labels are the server's own small sets
// (route labels, HTTP status, failure reasons), never a raw path.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include <sas/host/metrics/registry.hpp>

namespace sas::host::metrics {

class HttpMetrics {
 public:
  explicit HttpMetrics(Registry& registry);

  // Creates the listener's handshake failure series at 0, one per reason, so that an alert on
  // their rate sees them before the first failure.
  void add_listener(std::string_view listener, const std::vector<std::string_view>& handshake_failure_reasons);
  // One answer; thread-safe and cheap (atomics, a shared lock to find the series).
  void exchange(std::string_view listener, std::string_view route, int status,
                std::chrono::steady_clock::duration duration);
  void handshake_failure(std::string_view listener, std::string_view reason);

 private:
  CounterFamily& requests_;
  HistogramFamily& duration_;
  CounterFamily& handshake_failures_;
};

}  // namespace sas::host::metrics
