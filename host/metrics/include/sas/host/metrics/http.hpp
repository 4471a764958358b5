// What the HTTPS listeners count (the server's observers feed it: ServerConfig::on_exchange and
// on_handshake_failure): sas_http_requests_total{listener,route,status},
// sas_http_request_duration_seconds{listener,route},
// sas_tls_handshake_failures_total{listener,reason} and sas_limit_refusals_total{listener,limit}.
// Labels are the server's own small sets (route labels, HTTP status, failure reasons, limit
// names), never a raw path.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include <sas/host/metrics/registry.hpp>

namespace sas::host::metrics {

class HttpMetrics {
 public:
  explicit HttpMetrics(Registry& registry);

  // Creates the listener's handshake failure and limit refusal series at 0, one per reason and
  // per limit, so that an alert on their rate sees them before the first one.
  void add_listener(std::string_view listener, const std::vector<std::string_view>& handshake_failure_reasons,
                    const std::vector<std::string_view>& limits = {});
  // One answer; thread-safe and cheap (atomics, a shared lock to find the series).
  void exchange(std::string_view listener, std::string_view route, int status,
                std::chrono::steady_clock::duration duration);
  void handshake_failure(std::string_view listener, std::string_view reason);
  void limit_refusal(std::string_view listener, std::string_view limit);

 private:
  CounterFamily& requests_;
  HistogramFamily& duration_;
  CounterFamily& handshake_failures_;
  CounterFamily& limit_refusals_;
};

}  // namespace sas::host::metrics
