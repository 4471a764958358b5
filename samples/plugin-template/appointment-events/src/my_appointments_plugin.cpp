// A SAS plugin template for appointment notifications (INT_R03, flow appointments): every change
// of an appointment a regulator booked through SAS (booked, moved, cancelled, honoured, missed)
// goes to the host, which keeps it in its outbox and notifies the platform. The SDK's reporter
// sends the pending events with the host's policy (sas/sdk/reporter.hpp): accepted -> done (the
// host delivers it from now on), refused -> kept with the reason, outage -> retried later, in order.
// Guide: docs/plugin-guide.md (INT_R03) and docs/plugin-guide/accounts-and-reports.md.
#include <sas/sdk/plugin.hpp>
#include <sas/sdk/reporter.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace {

namespace v1 = sas::sdk::v1;
namespace rp = sas::sdk::reporter;
using sas::sdk::Status;

// Stand-in for your agenda: the changes of SAS-origin appointments, in the order they happened
// (e.g. rows your booking module appends), and why the host refused one. Replace with your tables.
struct MyAgenda {
  std::mutex mutex;
  std::deque<v1::AppointmentEvent> pending;  // oldest first
  std::map<std::string, std::string> refused;
};

// One event as your booking module would record it. Appointment ids are yours, never reused.
v1::AppointmentEvent event(v1::AppointmentEventType type, int64_t start, int64_t booked_at) {
  v1::AppointmentEvent e;
  e.set_type(type);
  e.set_appointment_system("urn:oid:1.2.250.1.999.1.9");  // your OID or URL for appointment ids
  e.set_appointment_id("A-1");
  e.set_regulator_id_type(v1::REGULATOR_ID_IDNPS);
  e.set_regulator_id("810000000001");             // as received through INT_R02
  e.set_practitioner_national_id("10002673899");  // as stored: the host prefixes it
  e.set_start_time(start);
  e.set_end_time(start + 15 * 60);
  e.set_created_time(booked_at);
  return e;
}

class MyAppointmentsPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host& host) override {
    if (config == "demo") {  // a regulator booked A-1 an hour ago for tomorrow; then it was moved
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(host.now().time_since_epoch()).count();
      agenda_.pending.push_back(event(v1::APPOINTMENT_BOOKED, now + 86400, now - 3600));
      agenda_.pending.push_back(event(v1::APPOINTMENT_RESCHEDULED, now + 86400 + 1800, now - 3600));
    }
    if (!host.has_host_calls()) return Status::ok();  // a host older than ABI 1.3: events wait
    reporter_.add_stream("appointment events", [this](rp::Round& round) { report(round); });
    reporter_.start(host, {std::chrono::milliseconds(500)});
    return Status::ok();
  }

  void shutdown() override { reporter_.stop(); }  // before the host goes away

 private:
  void report(rp::Round& round) {
    std::lock_guard lock(agenda_.mutex);
    while (!agenda_.pending.empty()) {
      const v1::AppointmentEvent e = agenda_.pending.front();
      const std::string what = "appointment " + e.appointment_id() + " event " + std::to_string(e.type());
      const bool go_on = round.send(
          what, e, [&](const v1::AppointmentEventResponse&) { agenda_.pending.pop_front(); },
          [&](const std::string& reason) {
            agenda_.refused[what] = reason;  // show it to the doctor's office; never resent
            agenda_.pending.pop_front();
          });
      if (!go_on) break;  // the host is unavailable: this event and the later ones wait, in order
    }
  }

  MyAgenda agenda_;
  rp::Reporter reporter_;
};

}  // namespace

SAS_PLUGIN(MyAppointmentsPlugin, "my-appointments", "Example vendor", "1.0.0", "appointments", free_threaded)
