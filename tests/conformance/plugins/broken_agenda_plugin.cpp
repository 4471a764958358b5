// A deliberately broken agenda plugin for sas-conformance's self-test. Each defect is one of the
// IG FAQ's common errors, and the suite must name it:
// - ids stored unprefixed and compared as stored: the platform's prefixed ids never match
//   (R01-FAQ-01: a declared practitioner is missing);
// - a phone in a local format the host cannot read (R01-FAQ-02);
// - a place attached to a practitioner it never returns, a slot on a place that does not exist
//   (R01-FAQ-07);
// - blank strings for data it does not have (R01-FAQ-10).
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/plugin.hpp>

#include <string>

namespace {

namespace v1 = sas::sdk::v1;
using sas::sdk::Status;

class BrokenAgendaPlugin final : public sas::sdk::AgendaPlugin {
 public:
  Status init(std::string_view, const sas::sdk::Host&) override { return Status::ok(); }

  Status search_slots(const v1::SearchSlotsRequest& request, v1::SearchSlotsResponse& response,
                      const sas::sdk::CallContext&) override {
    for (const std::string& wanted : request.practitioner_national_ids()) {
      if (wanted == "10002673899") add_durand(response);  // never true: the host sends "810002673899"
      if (wanted == "810100050075") add_thomas(request, response);
    }
    return Status::ok();
  }

 private:
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
};

}  // namespace

SAS_PLUGIN(BrokenAgendaPlugin, "broken-agenda", "SAS SDK tests", "0.0.1", "slot-search", free_threaded)
