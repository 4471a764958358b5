// A SAS agenda plugin template. Replace MyAgenda's data access with your agenda's; keep the
// shape: parse --plugin-config in init, answer searches with data as you store it (the host
// normalises ids, phones and time zones), poll should_stop() in long loops.
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

// Stand-in for your database: one doctor, one practice, a free 20-minute slot every hour
// from 09:00 to 17:00 (Paris time), every day but Sunday.
struct MyAgenda {
  std::string rpps = "10002673899";  // stored without the 8 prefix, as many agendas do
  std::string booking_url = "https://agenda.example.fr/dr-durand";

  std::vector<v1::Slot> free_slots(int64_t from, int64_t to) const {
    using namespace std::chrono;
    std::vector<v1::Slot> slots;
    auto first = floor<days>(sas::sdk::datetime::to_paris_local(sys_seconds(seconds(from))));
    for (auto day = first; day <= sas::sdk::datetime::to_paris_local(sys_seconds(seconds(to))); day += days(1)) {
      if (weekday(day) == Sunday) continue;
      for (int hour = 9; hour < 17; ++hour) {
        auto start = sas::sdk::datetime::from_paris_local(day + hours(hour));
        int64_t start_s = duration_cast<seconds>(start.time_since_epoch()).count();
        if (start_s < from || start_s > to) continue;
        v1::Slot& slot = slots.emplace_back();
        slot.set_id("S" + std::to_string(start_s));
        slot.set_place_id("cabinet");
        slot.set_start(start_s);
        slot.set_end(start_s + 20 * 60);
        slot.set_status(v1::SLOT_FREE);
        slot.add_audiences(v1::AUDIENCE_PUBLIC);
        if (hour >= 16) slot.add_audiences(v1::AUDIENCE_SNP);  // late slots also offered to SAS
        slot.add_modes(v1::MODE_AT_PRACTICE);
        slot.add_motives("Consultation");
        slot.set_booking_url(booking_url);
      }
    }
    return slots;
  }
};

class MyAgendaPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view config, const sas::sdk::Host& host) override {
    if (!config.empty() && config != "demo") {
      return Status::invalid_argument("unknown --plugin-config '" + std::string(config) + "' (expected: demo)");
    }
    host.log(sas::sdk::LogLevel::info, "my-agenda ready");
    return Status::ok();
  }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext& context) override {
    for (const std::string& wanted : request.practitioner_national_ids()) {
      if (context.should_stop()) return Status::deadline_exceeded("stopped at the host's deadline");
      bool ours = false;
      for (const std::string& form : sas::sdk::ids::stored_forms(wanted)) ours = ours || form == agenda_.rpps;
      if (!ours) continue;  // an unknown practitioner is not an error

      v1::Practitioner& doctor = *response.add_practitioners();
      doctor.set_id("durand");
      doctor.set_national_id(agenda_.rpps);
      doctor.set_family_name("DURAND");
      doctor.add_given_names("Claire");
      doctor.add_specialties()->set_code("SM54");  // TRE_R38: médecine générale
      doctor.set_phone("01 23 45 67 89");

      v1::Place& place = *response.add_places();
      place.set_id("cabinet");
      place.set_practitioner_id("durand");
      place.add_address_lines("12 rue de la République");
      place.set_postal_code("69002");
      place.set_city("Lyon");
      place.set_siret("73282932000074");

      for (v1::Slot& slot : agenda_.free_slots(request.start_from(), request.start_to())) {
        *response.add_slots() = std::move(slot);
      }
    }
    return Status::ok();
  }

 private:
  MyAgenda agenda_;
};

}  // namespace

// Name, vendor, version, the flows implemented, and the threading model (this plugin holds
// no mutable state, so the host may call it from many threads at once).
SAS_PLUGIN(MyAgendaPlugin, "my-agenda", "Example Vendor", "1.0.0", "slot-search", free_threaded)
