// INT_R03: the durable outbox. report() checks an event, builds its FrAppointmentSAS resource and
// returns only once both are committed to the host's store; the Delivery worker (delivery.hpp)
// sends them afterwards. Concurrent reports are committed together (group commit): one disk
// sync for all the events waiting at that moment, so durability does not cost one sync each.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <sas/host/appointment_notifications/outbox_repository.hpp>

#include "sas/host/appointment_notifications/event.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace sas::host::appointment_notifications {

// The event was refused; what() lists the problems, one per line.
class InvalidEvent : public std::invalid_argument {
 public:
  InvalidEvent(const std::vector<std::string>& problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct Reported {
  int64_t outbox_id = 0;
  int64_t sequence = 0;  // 1 for the appointment's first event
};

class Outbox {
 public:
  explicit Outbox(std::shared_ptr<OutboxRepository> repository);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  ~Outbox();  // commits what is queued, then stops

  // Thread-safe. Returns once the event is on disk. Throws InvalidEvent (nothing recorded) or
  // StoreError (nothing recorded; the caller must keep the event and report it again).
  Reported report(Event event);
  // Several events, committed together and numbered in this order; all are checked first and
  // none is recorded if one is invalid.
  std::vector<Reported> report(std::vector<Event> events);
  // The plugin's entry point (HostRequest.appointment_event, ABI 1.3): the same, from the message.
  Reported report(const sas::plugin::v1::AppointmentEvent& message);

  // Called after each commit (e.g. to wake the delivery worker). Set before reporting.
  void on_committed(std::function<void()> callback) { on_committed_ = std::move(callback); }

  const std::shared_ptr<OutboxRepository>& repository() const { return repository_; }

 private:
  struct Waiting {
    NotificationInput input;
    std::promise<NotificationIds> done;
  };
  void commit_loop();

  std::shared_ptr<OutboxRepository> repository_;
  std::function<void()> on_committed_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Waiting> queue_;
  bool stopping_ = false;
  std::thread committer_;
};

// The SOS Médecins association's SIRET (3 + 14 digits) of a row reported for an SOS appointment,
// read from its event_json (the resource names no one); "" for any other row.
std::string sos_association_siret(const Notification& notification);

// One outbox row as JSON, for operators (`sas-host outbox`, the admin API): id, appointment,
// sequence, event, state, reported_at (UTC), attempts, method, http_status, error, and the
// platform's answer as `outcome` (parsed when it is JSON); `sos_association_siret` for an SOS
// Médecins appointment's row.
boost::json::object to_json(const Notification& notification);

}  // namespace sas::host::appointment_notifications
