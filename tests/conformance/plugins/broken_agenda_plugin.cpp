// A deliberately broken agenda plugin for sas-conformance's self-test. Each defect is one of the
// IG FAQ's common errors, and the suite must name it:
// - ids stored unprefixed and compared as stored: the platform's prefixed ids never match
//   (R01-FAQ-01: a declared practitioner is missing);
// - a phone in a local format the host cannot read (R01-FAQ-02);
// - a place attached to a practitioner it never returns, a slot on a place that does not exist
//   (R01-FAQ-07);
// - blank strings for data it does not have (R01-FAQ-10).
// And it declares `appointments` (INT_R03) and reports, once after init, appointment events with
// the usual mistakes of a first integration:
// - an appointment booked without its regulator: refused by the host (R03-001, R03-005);
// - a regulator's RPPS sent unprefixed (R03-005);
// - an appointment whose first event is its cancellation (R03-004);
// - an appointment booked under one id and honoured under another (R03-003, R03-004).
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/plugin.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

class BrokenAgendaPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host& host) override {
    if (host.has_appointment_events()) pusher_ = std::thread([this, &host] { push(host); });
    return Status::ok();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    if (pusher_.joinable()) pusher_.join();
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext&) override {
    for (const std::string& wanted : request.practitioner_national_ids()) {
      if (wanted == "10002673899") add_durand(response);  // never true: the host sends "810002673899"
      if (wanted == "810100050075") add_thomas(request, response);
    }
    return Status::ok();
  }

 private:
  static v1::AppointmentEvent event(v1::AppointmentEventType type, const std::string& id, int64_t start) {
    v1::AppointmentEvent e;
    e.set_type(type);
    e.set_appointment_system("https://broken.example.fr/appointment-id");
    e.set_appointment_id(id);
    e.set_regulator_id_type(v1::REGULATOR_ID_IDNPS);
    e.set_regulator_id("810002673899");
    e.set_practitioner_national_id("810100050075");
    e.set_start_time(start);
    e.set_end_time(start + 1200);
    e.set_created_time(start - 86400);
    return e;
  }

  // The faulty events, once; each outcome is the host's business (the suite records them).
  void push(const sas::sdk::Host& host) {
    const int64_t start = 1795510800;  // 2026-11-24T06:00:00Z
    std::vector<v1::AppointmentEvent> events;
    auto no_regulator = event(v1::APPOINTMENT_BOOKED, "8e0c8f8a-0001-4b7e-9a51-000000000001", start);
    no_regulator.clear_regulator_id();
    events.push_back(no_regulator);
    auto unprefixed = event(v1::APPOINTMENT_BOOKED, "8e0c8f8a-0002-4b7e-9a51-000000000002", start + 3600);
    unprefixed.set_regulator_id("10002673899");
    events.push_back(unprefixed);
    events.push_back(event(v1::APPOINTMENT_CANCELLED, "8e0c8f8a-0003-4b7e-9a51-000000000003", start + 7200));
    events.push_back(event(v1::APPOINTMENT_BOOKED, "8e0c8f8a-0004-4b7e-9a51-000000000004", start + 10800));
    events.push_back(event(v1::APPOINTMENT_FULFILLED, "8e0c8f8a-0005-4b7e-9a51-000000000005", start + 10800));
    for (const auto& e : events) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      v1::AppointmentEventResponse response;
      (void)host.report_appointment_event(e, response);
    }
    std::unique_lock lock(mutex_);
    stop_.wait(lock, [this] { return stopping_; });
  }

  static void add_durand(v1::SearchSlotsResponse& response) {
    v1::Practitioner& p = *response.add_practitioners();
    p.set_id("durand");
    p.set_national_id("10002673899");
    p.set_family_name("DURAND");
  }

  static void add_thomas(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response) {
    v1::Practitioner& p = *response.add_practitioners();
    p.set_id("thomas");
    p.set_national_id("810100050075");
    p.set_family_name("THOMAS");
    p.add_given_names("Sébastien");
    p.add_given_names(" ");  // empty element
    p.add_specialties()->set_code("SM54");
    p.set_phone("45 67 89");  // local, incomplete: the host cannot send it

    v1::Place& home = *response.add_places();
    home.set_id("agen");
    home.set_practitioner_id("thomas");
    home.add_address_lines("1 rue Mme DELMAS");
    home.set_postal_code("47000");
    home.set_city("AGEN");
    home.set_finess("810004421");
    home.set_phone("45 67 89");

    v1::Place& stray = *response.add_places();
    stray.set_id("stray");
    stray.set_practitioner_id("someone-else");  // wrong attachment
    stray.add_address_lines("2 rue du Nord");
    stray.set_postal_code("47000");
    stray.set_city("AGEN");

    for (int i = 0; i < 3; ++i) {
      const int64_t start = request.start_from() + 3600 * (i + 1);
      v1::Slot& s = *response.add_slots();
      s.set_id("t" + std::to_string(i));
      s.set_place_id(i == 2 ? "nowhere" : "agen");  // the last one on a place that does not exist
      s.set_start(start);
      s.set_end(start + 1200);
      s.set_status(v1::SLOT_FREE);
      s.add_audiences(v1::AUDIENCE_PUBLIC);
      s.add_modes(v1::MODE_AT_PRACTICE);
      s.add_motives("Consultation");
      s.add_motives("");  // empty element
      s.set_booking_url("https://agenda.example.fr/thomas");
    }
  }

  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread pusher_;
};

}  // namespace

SAS_PLUGIN(BrokenAgendaPlugin, "broken-agenda", "SAS SDK tests", "0.0.1", "slot-search,appointments", free_threaded)
