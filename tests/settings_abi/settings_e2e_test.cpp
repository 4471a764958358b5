// ABI 1.4 end to end: the real `sas-host serve` with the real reference plugin over mutual TLS.
// The vendor's UI writes a row in its agenda (sas_doctor_settings_change,
// sas_publication_rule_request); the plugin pushes it through the doctor settings host calls;
// the platform's next searches see the doctor hidden, back, and a slot retyped SNP by a rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "agenda.hpp"
#include "agenda_db.hpp"
#include "bundle_view.hpp"
#include "e2e_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace bv = sas::test::bundle;
namespace pb = sas::plugin::v1;
using namespace sas::test::agenda;
using namespace std::chrono;

constexpr const char* kDoctor = "810100050075";  // stored unprefixed: 10100050075
constexpr const char* kOther = "810002673899";   // stored prefixed; never changes its options

// Tuesday 10 March 2026 (Paris = UTC+1): three slots of one doctor, one of them for a fever,
// and one slot of another doctor.
pb::SearchSlotsResponse test_agenda() {
  pb::SearchSlotsResponse r;
  specialty(practitioner(r, "dr-a", "10100050075", "THOMAS", {"Sébastien"}), "SM54");
  specialty(practitioner(r, "dr-b", "810002673899", "MARCEL", {"Guillaume"}), "SM54");
  place(r, "pa1", "dr-a", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
  place(r, "pb1", "dr-b", {"5 place de la Mairie"}, "75011", "Paris").set_rpps_rang("10002673899001");
  slot(r, "a1", "pa1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:30:00+01:00");
  slot(r, "a-fever", "pa1", "2026-03-10T09:30:00+01:00", "2026-03-10T10:00:00+01:00").add_motives("Fièvre");
  slot(r, "a3", "pa1", "2026-03-10T10:00:00+01:00", "2026-03-10T10:30:00+01:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS});
  slot(r, "b1", "pb1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:20:00+01:00");
  return r;
}

class SettingsE2e : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("e2e-settings");
    sas::e2e::write_pki(dir_ / "pki");
    report_ = sas::e2e::write_agenda_db(test_agenda(), agenda());
    sas::e2e::HostOptions options;
    options.agenda = agenda();
    options.pki = dir_ / "pki";
    options.work = dir_;
    host_ = std::make_unique<sas::e2e::Host>(options);
    client_ = std::make_unique<sas::e2e::Client>(dir_ / "pki");
  }
  void TearDown() override {
    client_.reset();
    host_.reset();  // stops sas-host
    fs::remove_all(dir_);
  }
  fs::path agenda() const { return dir_ / "agenda.db"; }

  // The platform's search for both doctors on that day: the Slot resources by FHIR id.
  std::map<std::string, json::object> search() {
    const std::string query =
        "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-03-10T00:00:00%2B01:00"
        "&start=le2026-03-10T23:59:59%2B01:00&schedule.actor:Practitioner.identifier=" +
        sas::e2e::identifier_list({kDoctor, kOther}) + "&status=free";
    const auto r = client_->get(host_->base() + "/Slot?" + query);
    EXPECT_EQ(r.status, 200) << r.describe();
    std::map<std::string, json::object> slots;
    if (r.status != 200) return slots;
    const json::object bundle = r.json();
    for (const auto* s : bv::resources(bundle, "Slot")) slots[std::string(s->at("id").as_string())] = *s;
    return slots;
  }
  std::string id(const std::string& name) const { return std::to_string(report_.slot_ids.at(name)); }

  // Searches until `done` holds (15 s at most: the plugin pushes every 2 s by default).
  bool eventually(const std::function<bool(const std::map<std::string, json::object>&)>& done) {
    for (auto until = steady_clock::now() + seconds(15); steady_clock::now() < until;) {
      if (done(search())) return true;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return false;
  }

  // The meta.security codes of a Slot, in order.
  static std::vector<std::string> types(const json::object& slot) {
    std::vector<std::string> codes;
    for (const auto& c : slot.at("meta").at("security").as_array()) codes.emplace_back(c.at("code").as_string());
    return codes;
  }

  fs::path dir_;
  sas::e2e::AgendaDbReport report_;
  std::unique_ptr<sas::e2e::Host> host_;
  std::unique_ptr<sas::e2e::Client> client_;
};

TEST_F(SettingsE2e, TheDoctorHiddenInTheAgendaDisappearsFromSearchAndComesBack) {
  auto before = search();
  ASSERT_EQ(before.size(), 4U) << host_->output();
  ASSERT_TRUE(before.contains(id("a1")));

  sas::test::sqlite_exec(agenda(),
                         "INSERT INTO sas_doctor_settings_change (practitioner_id, visible, changed_by) VALUES "
                         "('dr-a', 0, 'dr-thomas')");
  EXPECT_TRUE(eventually([&](const auto& slots) {
    return slots.size() == 1 && slots.contains(id("b1"));  // only the other doctor's slot is left
  })) << host_->output();
  EXPECT_EQ(sas::e2e::sql(agenda(),
                          "SELECT pushed_at IS NOT NULL, COALESCE(error, '') FROM "
                          "sas_doctor_settings_change")[0],
            (std::vector<std::string>{"1", ""}));

  sas::test::sqlite_exec(agenda(),
                         "INSERT INTO sas_doctor_settings_change (practitioner_id, visible) VALUES "
                         "('dr-a', 1)");
  EXPECT_TRUE(eventually([&](const auto& slots) { return slots.size() == 4; })) << host_->output();
}

TEST_F(SettingsE2e, AnSnpMotivesRuleFromTheAgendaRetypesTheMatchingSlot) {
  auto before = search();
  ASSERT_EQ(before.size(), 4U) << host_->output();
  EXPECT_EQ(types(before.at(id("a-fever"))), std::vector<std::string>{"PUBLIC"});

  sas::test::sqlite_exec(agenda(),
                         "INSERT INTO sas_publication_rule_request (practitioner_id, action, rule_json) VALUES "
                         "('dr-a', 'add', '{\"kind\":\"snp-motives\",\"motives\":[\"Fièvre\"]}')");
  EXPECT_TRUE(eventually([&](const auto& slots) {
    return slots.contains(id("a-fever")) && types(slots.at(id("a-fever"))) == std::vector<std::string>{"SNP"};
  })) << host_->output();
  const auto after = search();
  ASSERT_EQ(after.size(), 4U);
  EXPECT_EQ(types(after.at(id("a1"))), std::vector<std::string>{"PUBLIC"});  // no fever: unchanged
  EXPECT_EQ(types(after.at(id("a3"))), (std::vector<std::string>{"PUBLIC", "PRO"}));
  const auto request = sas::e2e::sql(agenda(),
                                     "SELECT host_rule_id IS NOT NULL, COALESCE(error, '') FROM "
                                     "sas_publication_rule_request");
  ASSERT_EQ(request.size(), 1U);
  EXPECT_EQ(request[0], (std::vector<std::string>{"1", ""}));
}

}  // namespace
