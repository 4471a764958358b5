// The settings service over a real SQLite store: history, all-or-nothing writes, rules with
// conflicts, the snapshot search reads, and explanations.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "sas/host/doctor_settings/service.hpp"
#include "sas/host/store/store.hpp"
#include "sas_test/support.hpp"

namespace {

namespace ds = sas::host::doctor_settings;
namespace json = boost::json;
namespace pb = sas::plugin::v1;
using std::chrono::hours;
using Clock = std::chrono::system_clock;

const ds::Actor kDoctor{"dr-martin", "admin-api"};

class ServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("doctor-settings");
    repository_ = sas::host::store::open(url()).doctor_settings;
    service_ = std::make_unique<ds::Service>(repository_, ds::PublicationPolicy{}, [this] { return now_; });
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string url() const { return "sqlite:" + (dir_ / "host.db").string(); }

  std::filesystem::path dir_;
  std::shared_ptr<ds::SettingsRepository> repository_;
  std::unique_ptr<ds::Service> service_;
  Clock::time_point now_ = Clock::time_point(std::chrono::sys_days{std::chrono::year{2026} / 6 / 15});
};

TEST_F(ServiceTest, ChangesAreHistoryAndTheLatestWins) {
  // Any form of the id: bare RPPS, prefixed RPPS.
  ds::Settings s = service_->get("10001234567");
  EXPECT_EQ(s.practitioner, "810001234567");
  EXPECT_FALSE(s.volunteer || s.visible || s.consent_to_call || s.phone);

  s = service_->set("810001234567", {.volunteer = true, .visible = true, .phone = "06 12 34 56 78"}, kDoctor);
  EXPECT_EQ(s.volunteer, true);
  EXPECT_EQ(s.visible, true);
  EXPECT_EQ(s.phone, "+33612345678");
  now_ += hours(2);
  s = service_->set("10001234567", {.visible = false, .consent_to_call = true}, {"ops", "cli"});
  EXPECT_EQ(s.visible, false);
  EXPECT_EQ(s.consent_to_call, true);
  EXPECT_EQ(s.updated_at, now_);

  // An unchanged value is not a change: only volunteer = false is recorded.
  now_ += hours(1);
  service_->set("810001234567", {.volunteer = false, .visible = false}, kDoctor);
  const auto history = service_->history("810001234567");
  ASSERT_EQ(history.size(), 6U);
  EXPECT_EQ(history[0].field, "volunteer");
  EXPECT_EQ(history[2].field, "phone");
  EXPECT_EQ(history[2].value, "+33612345678");
  EXPECT_EQ(history[3].field, "visible");
  EXPECT_EQ(history[3].value, "false");
  EXPECT_EQ(history[3].changed_by, "ops");
  EXPECT_EQ(history[3].source, "cli");
  EXPECT_EQ(history[5].field, "volunteer");
  EXPECT_EQ(history[5].value, "false");

  // Removing the phone is a change too.
  s = service_->set("810001234567", {.phone = ""}, kDoctor);
  EXPECT_EQ(s.phone, std::nullopt);
}

TEST_F(ServiceTest, BadInputChangesNothing) {
  auto refusal = [&](const ds::SettingsPatch& patch, std::optional<Clock::time_point> when = std::nullopt) {
    try {
      service_->set("810001234567", patch, kDoctor, when);
      return std::string();
    } catch (const ds::SettingsError& e) {
      return std::string(e.what());
    }
  };
  // The valid flag in the same patch is not recorded either.
  EXPECT_EQ(refusal({.volunteer = true, .phone = "12"}).rfind("phone:", 0), 0U);
  EXPECT_EQ(refusal({}).rfind("nothing to change", 0), 0U);
  EXPECT_EQ(refusal({.visible = true}, now_ + hours(1)).rfind("effective_at:", 0), 0U);
  EXPECT_THROW(service_->set("12345", {.visible = true}, kDoctor), ds::SettingsError);
  EXPECT_TRUE(service_->history("810001234567").empty());

  // Far dates would wrap round the nanosecond clock: refused, not recorded in another century.
  EXPECT_THROW(ds::parse_instant("2999-01-01T00:00:00+01:00", "effective_at"), ds::SettingsError);
  EXPECT_EQ(ds::parse_instant("2026-03-01T09:00:00+01:00", "effective_at"),
            Clock::time_point(std::chrono::sys_days{std::chrono::year{2026} / 3 / 1}) + hours(8));
  EXPECT_THROW(ds::patch_from_json(json::parse(R"({"visible":"yes"})")), ds::SettingsError);
  EXPECT_THROW(ds::patch_from_json(json::parse(R"({"visibility":true})")), ds::SettingsError);
  EXPECT_THROW(ds::patch_from_json(json::parse(R"({"phone":"abc"})")), ds::SettingsError);
  const auto patch = ds::patch_from_json(json::parse(R"({"volunteer":true,"phone":null})"));
  EXPECT_EQ(patch.volunteer, true);
  EXPECT_EQ(patch.phone, "");
}

TEST_F(ServiceTest, BackDatedChangesTakeTheirPlaceInHistory) {
  service_->set("810001234567", {.visible = true}, kDoctor);
  service_->set("810001234567", {.visible = false}, kDoctor, now_ - hours(24 * 30));
  // The later change still wins now; a month ago the agenda was hidden.
  EXPECT_EQ(service_->get("810001234567").visible, true);
  const auto history = service_->history("810001234567");
  ASSERT_EQ(history.size(), 2U);
  EXPECT_EQ(history[0].value, "false");
  EXPECT_EQ(history[0].effective_at, now_ - hours(24 * 30));
  EXPECT_EQ(history[0].recorded_at, now_);
}

TEST_F(ServiceTest, RulesAreCheckedAndStoredAtomically) {
  const ds::Rule first =
      service_->add_rule("810001234567", json::parse(R"({"kind":"snp-motives","motives":["A"]})"), kDoctor);
  EXPECT_GT(first.id, 0);
  try {
    service_->add_rule("810001234567", json::parse(R"({"kind":"hide-motives","motives":["a"]})"), kDoctor);
    FAIL() << "a conflicting rule was accepted";
  } catch (const ds::RuleError& e) {
    EXPECT_NE(std::string(e.what()).find("rule " + std::to_string(first.id)), std::string::npos) << e.what();
  }
  EXPECT_THROW(service_->add_rule("810001234567", json::parse(R"({"kind":"x"})"), kDoctor), ds::RuleError);
  ASSERT_EQ(service_->rules("810001234567").size(), 1U);
  EXPECT_EQ(repository_->rules("", true).size(), 1U);  // nothing half-saved

  EXPECT_THROW(service_->remove_rule("810001234567", first.id + 100, kDoctor), ds::NotFound);
  EXPECT_THROW(service_->remove_rule("810009999999", first.id, kDoctor), ds::NotFound);  // not that doctor's
  service_->remove_rule("810001234567", first.id, kDoctor);
  EXPECT_TRUE(service_->rules("810001234567").empty());
  EXPECT_THROW(service_->remove_rule("810001234567", first.id, kDoctor), ds::NotFound);  // already removed
  // Kept, marked removed; the same motive may now be hidden.
  const auto all = repository_->rules("810001234567", true);
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].removed_by, "dr-martin");
  service_->add_rule("810001234567", json::parse(R"({"kind":"hide-motives","motives":["a"]})"), kDoctor);
}

TEST_F(ServiceTest, TheSnapshotFollowsOwnWritesAtOnceAndOtherProcessesWithinASecond) {
  EXPECT_EQ(service_->snapshot()->find("810001234567"), nullptr);
  service_->set("810001234567", {.visible = false}, kDoctor);
  const auto* doctor = service_->snapshot()->find("810001234567");
  ASSERT_NE(doctor, nullptr);
  EXPECT_EQ(doctor->settings.visible, false);

  // Another process on the same file (an offline `sas-host settings set --store`).
  ds::Service other(sas::host::store::open(url()).doctor_settings, ds::PublicationPolicy{}, [this] { return now_; });
  other.add_rule("810001234567", json::parse(R"({"kind":"public-also-snp"})"), kDoctor);
  other.set("810001234567", {.visible = true}, kDoctor);
  bool seen = false;
  for (int i = 0; i < 30 && !seen; ++i) {
    const auto* d = service_->snapshot()->find("810001234567");
    seen = d != nullptr && d->settings.visible == true && d->rules.size() == 1;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(seen) << "an external change did not reach the snapshot within 3 s";
}

// A two-slot agenda of one doctor, for explanations.
pb::SearchSlotsResponse agenda(int64_t start) {
  pb::SearchSlotsResponse r;
  auto* p = r.add_practitioners();
  p->set_id("p1");
  p->set_national_id("10001234567");
  auto* place = r.add_places();
  place->set_id("pl1");
  place->set_practitioner_id("p1");
  for (int i = 0; i < 2; ++i) {
    auto* s = r.add_slots();
    s->set_id("s" + std::to_string(i));
    s->set_place_id("pl1");
    s->set_start(start + i * 3600);
    s->set_end(start + i * 3600 + 900);
    s->set_status(pb::SLOT_FREE);
    s->add_audiences(pb::AUDIENCE_PUBLIC);
    s->add_motives("Consultation");
  }
  return r;
}

json::array types(const json::object& explanation) { return explanation.at("types").as_array(); }

TEST_F(ServiceTest, ExplanationsMatchWhatSearchDoes) {
  // Tuesday 2026-06-16 17:30 and 18:30 in Paris (+02:00): 15:30Z and 16:30Z.
  const int64_t start =
      std::chrono::sys_seconds(std::chrono::sys_days{std::chrono::year{2026} / 6 / 16}).time_since_epoch().count() +
      15 * 3600 + 1800;
  auto response = agenda(start);
  service_->add_rule("810001234567", json::parse(R"({"kind":"snp-hours","days":["tue"],"from":"17:00","to":"18:00"})"),
                     kDoctor);
  service_->add_rule("810001234567", json::parse(R"({"kind":"public-also-snp"})"), kDoctor);
  auto snapshot = service_->snapshot();

  const auto first = ds::explain(*snapshot, response, response.slots(0), 0, 0);
  EXPECT_EQ(first.at("published"), true);
  EXPECT_EQ(types(first), json::array({"SNP"}));
  EXPECT_EQ(first.at("steps").as_array()[0].at("kind"), "snp-hours");
  EXPECT_NE(std::string(first.at("steps").as_array()[0].at("why").as_string()).find("Tuesday at 17:30"),
            std::string::npos);
  // The doctor's panel shows the French sentence as is.
  EXPECT_EQ(first.at("steps").as_array()[0].at("fr"),
            "réservé SNP : commence mardi à 17:30, dans la plage 17:00-18:00");
  const auto second = ds::explain(*snapshot, response, response.slots(1), 0, 0);
  EXPECT_EQ(types(second), json::array({"PUBLIC", "SNP"}));
  EXPECT_EQ(second.at("steps").as_array()[0].at("kind"), "public-also-snp");
  EXPECT_EQ(second.at("steps").as_array()[0].at("fr"),
            "aussi proposé en SNP : un créneau public est aussi proposé aux régulateurs du SAS");

  // apply() does what the explanations say.
  auto applied = response;
  ds::apply(*snapshot, applied);
  ASSERT_EQ(applied.slots_size(), 2);
  EXPECT_EQ(applied.slots(0).audiences_size(), 1);
  EXPECT_EQ(applied.slots(0).audiences(0), pb::AUDIENCE_SNP);
  EXPECT_EQ(applied.slots(1).audiences_size(), 2);

  // Busy, outside the window, own patients only: the search's own checks, each explained.
  response.mutable_slots(0)->set_status(pb::SLOT_BUSY);
  EXPECT_EQ(ds::explain(*snapshot, response, response.slots(0), 0, 0).at("published"), false);
  EXPECT_EQ(
      ds::explain(*snapshot, response, response.slots(1), start - 7200, start).at("steps").as_array()[0].at("kind"),
      "start");
  response.mutable_slots(1)->clear_audiences();
  response.mutable_slots(1)->add_audiences(pb::AUDIENCE_PATIENTELE_ONLY);
  const auto own = ds::explain(*snapshot, response, response.slots(1), 0, 0);
  EXPECT_EQ(own.at("published"), false);
  EXPECT_EQ(own.at("steps").as_array()[0].at("kind"), "audiences");

  // A hidden agenda hides everything, and says why.
  service_->set("810001234567", {.visible = false}, kDoctor);
  snapshot = service_->snapshot();
  const auto hidden = ds::explain(*snapshot, response, response.slots(0), 0, 0);
  EXPECT_EQ(hidden.at("published"), false);
  const auto& hidden_steps = hidden.at("steps").as_array();
  EXPECT_EQ(hidden_steps[0].at("fr"), "non publié : le créneau n'est pas libre");
  EXPECT_EQ(hidden_steps.back().at("fr"),
            "non publié : l'agenda n'est pas visible par le SAS (option « Mon agenda est visible par le SAS » "
            "désactivée)");
  applied = agenda(start);
  const auto result = ds::apply(*snapshot, applied);
  EXPECT_EQ(applied.slots_size(), 0);
  EXPECT_EQ(result.hidden_doctors, 1U);
}

TEST_F(ServiceTest, TheWithholdPolicyNeedsBothChoices) {
  ds::Service strict(repository_, ds::PublicationPolicy{.publish_unset = false}, [this] { return now_; });
  auto response = agenda(0);
  auto copy = response;
  ds::apply(*strict.snapshot(), copy);
  EXPECT_EQ(copy.slots_size(), 0) << "nothing set: withheld";
  strict.set("810001234567", {.volunteer = true, .visible = true}, kDoctor);
  copy = response;
  ds::apply(*strict.snapshot(), copy);
  EXPECT_EQ(copy.slots_size(), 2);
}

}  // namespace
