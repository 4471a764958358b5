// An SOS Médecins plugin (flow sos-search) whose answer is chosen by the first SIRET asked for,
// so that one loaded plugin shows every outcome of the host's service: a throw, each failure
// status, a deadline it waits for; any other SIRETs get an echo of the request (one association,
// place and free slot at the window's start per SIRET, stored unprefixed, and one slot after the
// window that the host must drop).
#include <chrono>
#include <sas/sdk/plugin.hpp>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using sas::sdk::Status;

class SosScriptedPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host&) override { return Status::ok(); }

  Status search_sos_slots(const sas::sdk::v1::SearchSosSlotsRequest& request,
                          sas::sdk::v1::SearchSosSlotsResponse& response,
                          const sas::sdk::CallContext& context) override {
    const std::string first = request.association_sirets_size() > 0 ? request.association_sirets(0) : "";
    if (first == "300000000000011") throw std::runtime_error("the SOS agenda exploded");
    if (first == "300000000000022") return Status::unavailable("SOS agenda database is locked");
    if (first == "300000000000033") {
      while (!context.should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return Status::deadline_exceeded("gave up at the deadline");
    }
    if (first == "300000000000044") return Status::invalid_argument("the SOS agenda cannot search that window");
    if (first == "300000000000055") return Status::unimplemented("SOS search switched off in this agenda");
    int n = 0;
    for (const std::string& siret : request.association_sirets()) {
      const std::string stored = siret.substr(1);  // the vendor stored it unprefixed
      const std::string place_id = "place-" + std::to_string(++n);
      auto& association = *response.add_associations();
      association.set_siret(stored);
      association.set_name("SOS Médecins " + std::to_string(n));
      auto& place = *response.add_places();
      place.set_id(place_id);
      place.set_association_siret(stored);
      place.set_name("Centre " + std::to_string(n));
      place.add_address_lines(std::to_string(n) + " rue de la Gare");
      place.set_postal_code("35000");
      place.set_city("RENNES");
      place.set_phone("02 99 00 00 0" + std::to_string(n % 10));
      auto& hours = *place.add_opening_hours();
      hours.add_days("mon");
      hours.set_opening_time("08:00");
      hours.set_closing_time("20:00");
      for (const int64_t start : {request.start_from(), request.start_to() + 60}) {
        auto& slot = *response.add_slots();
        slot.set_id(place_id + "-" + std::to_string(start));
        slot.set_place_id(place_id);
        slot.set_start(start);
        slot.set_end(start + 20 * 60);
        slot.set_status(sas::sdk::v1::SLOT_FREE);
        slot.add_audiences(sas::sdk::v1::AUDIENCE_PUBLIC);
        slot.add_modes(sas::sdk::v1::MODE_AT_PRACTICE);
      }
    }
    return Status::ok();
  }
};

}  // namespace

SAS_PLUGIN(SosScriptedPlugin, "sos-scripted", "tests", "1.5.0", "sos-search", free_threaded)
