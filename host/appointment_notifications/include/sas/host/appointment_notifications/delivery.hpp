// INT_R03: the delivery worker. Sends the outbox's notifications to the SAS platform with
// libcurl over mutual TLS: the first notification of an appointment as
// POST [base]/Appointment (201), every later one, and every retry of a first one whose fate is
// unknown, as the conditional PUT [base]/Appointment?identifier=SYSTEM|ID (200 or 201), which
// the platform treats as create-or-update: a POST that reached the platform before a timeout
// or a crash is never created twice.
//
// Order: one appointment's notifications go out one at a time, in sequence; different
// appointments go out in parallel over `connections` kept-alive connections.
// Failures: network errors, timeouts, 5xx and 429 are retried with exponential back-off and
// jitter, without limit (a notification is never dropped); any other 4xx makes the row a dead
// letter with the platform's OperationOutcome, holding back that appointment's later
// notifications until `sas-host outbox replay`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sas/host/appointment_notifications/outbox_repository.hpp>

namespace sas::host::appointment_notifications {

struct DeliveryOptions {
  std::string base;                             // the platform's FHIR base, e.g. https://sas.sante.fr/fhir
  std::string cert_file;                        // the vendor's client certificate (PEM)
  std::string key_file;                         // its private key (PEM)
  std::string ca_file;                          // CA bundle that signed the platform's server certificate (PEM)
  unsigned connections = 8;                     // parallel requests (one connection each)
  std::size_t batch = 128;                      // rows claimed per round
  std::chrono::milliseconds timeout{10000};     // one request, connection included
  std::chrono::milliseconds retry_base{500};    // first retry after 0.5 to 1 x this
  std::chrono::milliseconds retry_max{300000};  // back-off ceiling (5 min)
  // With nothing due, how often to look for rows that another process wrote (wake() is the
  // fast path for rows reported in this process).
  std::chrono::milliseconds poll{1000};
  std::function<void(std::string_view)> log;  // diagnostics, from the worker's threads
};

struct DeliveryStats {
  uint64_t delivered = 0;
  uint64_t retried = 0;  // attempts that failed and will be retried
  uint64_t dead = 0;
};

// The target URL of a conditional update: base + "/Appointment?identifier=" + system + "|" +
// value, the system and value percent-encoded (RFC 3986 unreserved and ':' kept), '|' raw as
// the platform itself writes it.
std::string conditional_url(std::string_view base, std::string_view appointment_key);

// The back-off before retry number `attempts` (1 = after the first failure): base x 2^(n-1),
// at most `max`, then a random point in [half, all] of it.
std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds base, std::chrono::milliseconds max);

class Delivery {
 public:
  Delivery(std::shared_ptr<OutboxRepository> outbox, DeliveryOptions options);
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  ~Delivery();  // stop()

  void start();  // starts the worker threads; throws std::runtime_error if libcurl cannot start
  // Finishes the round in flight (bounded by the timeout), then stops. Idempotent.
  void stop();
  void wake();  // new rows were committed: look now instead of at the next due time

  DeliveryStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sas::host::appointment_notifications
