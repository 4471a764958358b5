// Issue #4 end to end: settings and rules changed through the host's admin API (JSON over
// HTTPS, bearer token), their effect observed through real INT_R01 searches over mutual TLS,
// against expectations written by hand for a small agenda; and the admin API's explanations
// checked against what the same searches returned.
#include <gtest/gtest.h>
#include <sas_test/host_log.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "agenda_db.hpp"
#include "bundle_view.hpp"
#include "e2e_support.hpp"
#include "sas/sdk/datetime.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace bv = sas::test::bundle;
namespace pb = sas::plugin::v1;
using namespace std::chrono;

const std::string kDoctorA = "810001234567";  // stored unprefixed below
const std::string kDoctorB = "810007654321";
const std::string kToken = "0123456789abcdef0123456789abcdef-admin";

// Tuesday 16 June 2026, Europe/Paris (+02:00).
int64_t paris(int hour, int minute = 0) {
  return sys_seconds(sys_days{year{2026} / June / 16}).time_since_epoch().count() + (hour - 2) * 3600 + minute * 60;
}

pb::SearchSlotsResponse agenda() {
  pb::SearchSlotsResponse r;
  sas::e2e::add_paris_doctor(r, "a", "10001234567", "MARTIN");
  sas::e2e::add_paris_doctor(r, "b", "10007654321", "DURAND");
  auto slot = [&](const std::string& id, const std::string& doctor_id, int64_t start, pb::SlotStatus status,
                  std::vector<pb::Audience> audiences, std::vector<std::string> motives) {
    auto* s = r.add_slots();
    s->set_id(id);
    s->set_place_id("place-" + doctor_id);
    s->set_start(start);
    s->set_end(start + 900);
    s->set_status(status);
    for (auto a : audiences) s->add_audiences(a);
    for (auto& m : motives) s->add_motives(m);
    s->add_modes(pb::MODE_AT_PRACTICE);
  };
  using enum pb::Audience;
  slot("a1", "a", paris(9), pb::SLOT_FREE, {AUDIENCE_PUBLIC}, {"Consultation"});
  slot("a2", "a", paris(10), pb::SLOT_FREE, {AUDIENCE_PUBLIC, AUDIENCE_PROFESSIONALS}, {"Vaccination"});
  slot("a3", "a", paris(17, 30), pb::SLOT_FREE, {AUDIENCE_PUBLIC}, {"Consultation de suivi"});
  slot("a4", "a", paris(11), pb::SLOT_FREE, {AUDIENCE_PUBLIC}, {"IVG", "Consultation"});
  slot("a5", "a", paris(12), pb::SLOT_FREE, {AUDIENCE_PUBLIC}, {"IVG"});
  slot("a6", "a", paris(13), pb::SLOT_FREE, {AUDIENCE_PATIENTELE_ONLY}, {"Consultation"});
  slot("a7", "a", paris(14), pb::SLOT_BUSY, {AUDIENCE_PUBLIC}, {"Consultation"});
  slot("a8", "a", paris(15), pb::SLOT_FREE, {AUDIENCE_PROFESSIONALS}, {"Consultation"});
  slot("b1", "b", paris(9), pb::SLOT_FREE, {AUDIENCE_PUBLIC}, {"Consultation"});
  return r;
}

// Slot id (as the agenda names it) -> its types in meta.security, and its motives.
struct Seen {
  std::vector<std::string> types;
  std::vector<std::string> motives;
};

class SearchEffects : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("search-effects");
    sas::e2e::write_pki(dir_ / "pki");
    const auto written = sas::e2e::write_agenda_db(agenda(), dir_ / "agenda.db");
    for (const auto& [name, row] : written.slot_ids) names_[std::to_string(row)] = name;
    {
      std::ofstream token(dir_ / "admin.token");
      token << kToken << "\n";
    }
    fs::permissions(dir_ / "admin.token", fs::perms::owner_read | fs::perms::owner_write);
    sas::e2e::HostOptions options;
    options.agenda = dir_ / "agenda.db";
    options.pki = dir_ / "pki";
    options.work = dir_;
    options.extra_arguments = {"--admin-listen", "127.0.0.1:0", "--admin-token-file", (dir_ / "admin.token").string()};
    host_ = std::make_unique<sas::e2e::Host>(options);
    ASSERT_TRUE(host_->log_contains("admin API listening on", 5000)) << host_->output();
    const uint16_t admin_port = sas::test::listening_port(host_->output(), "admin");
    ASSERT_NE(admin_port, 0) << host_->output();
    admin_ = "https://localhost:" + std::to_string(admin_port) + "/admin/v1";
    client_ = std::make_unique<sas::e2e::Client>(dir_ / "pki");
  }
  void TearDown() override {
    client_.reset();
    host_.reset();
    fs::remove_all(dir_);
  }

  sas::e2e::Response admin(const std::string& method, const std::string& path, const std::string& body = "") {
    sas::e2e::RequestOptions o;
    o.method = method;
    o.client = std::nullopt;
    o.accept = "application/json";
    o.headers = {"Authorization: Bearer " + kToken, "Content-Type: application/json"};
    if (!body.empty()) o.body = body;
    return client_->get(admin_ + path, o);
  }

  void patch(const std::string& doctor, const std::string& body) {
    const auto r = admin("PATCH", "/practitioners/" + doctor + "/settings", body);
    ASSERT_EQ(r.status, 200) << r.describe();
  }
  int64_t add_rule(const std::string& doctor, const std::string& rule) {
    const auto r = admin("POST", "/practitioners/" + doctor + "/rules", rule);
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.status == 201 ? r.json().at("id").as_int64() : 0;
  }

  json::object search() {
    const std::string query =
        "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2026-06-16T00:00:00%2B02:00"
        "&start=le2026-06-16T23:59:00%2B02:00&schedule.actor:Practitioner.identifier=" +
        sas::e2e::identifier_list({kDoctorA, kDoctorB}) + "&status=free";
    const auto r = client_->get(host_->base() + "/Slot?" + query);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json::object();
  }

  // The answer's slots by the agenda's slot names.
  std::map<std::string, Seen> slots(const json::object& bundle) {
    std::map<std::string, Seen> out;
    for (const auto* slot : bv::resources(bundle, "Slot")) {
      Seen seen;
      for (const auto& l : slot->at("meta").at("security").as_array())
        seen.types.emplace_back(l.at("code").as_string());
      for (const auto& t : slot->at("serviceType").as_array()) {
        if (const auto* text = t.as_object().if_contains("text")) seen.motives.emplace_back(text->as_string());
      }
      out[names_.at(std::string(slot->at("id").as_string()))] = seen;
    }
    return out;
  }
  std::set<std::string> ids(const json::object& bundle) {
    std::set<std::string> out;
    for (const auto& [name, seen] : slots(bundle)) out.insert(name);
    return out;
  }
  static std::vector<std::string> types(std::initializer_list<const char*> list) { return {list.begin(), list.end()}; }

  fs::path dir_;
  std::map<std::string, std::string> names_;  // agenda row id -> a1, a2, ...
  std::unique_ptr<sas::e2e::Host> host_;
  std::unique_ptr<sas::e2e::Client> client_;
  std::string admin_;
};

const std::set<std::string> kEverythingPublishable = {"a1", "a2", "a3", "a4", "a5", "a8", "b1"};

TEST_F(SearchEffects, VisibilityAndParticipationDecideWhetherAnySlotLeaves) {
  EXPECT_EQ(ids(search()), kEverythingPublishable) << "never set: published as the agenda types them";

  patch(kDoctorA, R"({"visible":false,"changed_by":"dr-martin"})");
  auto bundle = search();
  EXPECT_EQ(ids(bundle), (std::set<std::string>{"b1"}));
  EXPECT_EQ(bundle.at("total").as_int64(), 1);
  EXPECT_EQ(bv::resources(bundle, "Practitioner").size(), 1U) << "a hidden doctor is not in the answer at all";

  patch(kDoctorA, R"({"visible":true,"volunteer":false})");
  EXPECT_EQ(ids(search()), (std::set<std::string>{"b1"})) << "participation withdrawn";
  patch(kDoctorA, R"({"volunteer":true})");
  EXPECT_EQ(ids(search()), kEverythingPublishable);

  // The history says who changed what, through what.
  const auto history = admin("GET", "/practitioners/" + kDoctorA + "/settings/history");
  ASSERT_EQ(history.status, 200) << history.describe();
  const auto history_json = history.json();
  const auto& changes = history_json.at("changes").as_array();
  ASSERT_EQ(changes.size(), 4U) << history.body;  // visible off, on; volunteer off, on
  EXPECT_EQ(changes[0].at("field"), "visible");
  EXPECT_EQ(changes[0].at("value"), false);
  EXPECT_EQ(changes[0].at("changed_by"), "dr-martin");
  EXPECT_EQ(changes[0].at("source"), "admin-api");
}

TEST_F(SearchEffects, ConsentToCallPutsTheNumberFirstAndSaysSo) {
  patch(kDoctorA, R"({"consent_to_call":true,"phone":"06 12 34 56 78"})");
  const auto bundle = search();
  int roles = 0;
  for (const auto* role : bv::resources(bundle, "PractitionerRole")) {
    const auto* practitioner = bv::resolve(bundle, bv::ref(role->at("practitioner")));
    ASSERT_NE(practitioner, nullptr);
    const std::string national_id(practitioner->at("identifier").as_array()[0].at("value").as_string());
    const auto& telecom = role->at("telecom").as_array();
    if (national_id == kDoctorA) {
      ++roles;
      ASSERT_EQ(telecom.size(), 2U) << json::serialize(*role);
      EXPECT_EQ(telecom[0].at("value"), "+33612345678");
      EXPECT_EQ(telecom[0].at("rank"), 1);
      EXPECT_EQ(telecom[1].at("value"), "+33145678901") << "the place's phone follows";
      EXPECT_EQ(role->at("availabilityExceptions"),
                "Appeler le médecin avant toute orientation de patient : +33612345678.");
    } else {
      EXPECT_EQ(telecom.size(), 1U);
      EXPECT_FALSE(telecom[0].as_object().contains("rank"));
      EXPECT_FALSE(role->contains("availabilityExceptions"));
    }
  }
  EXPECT_EQ(roles, 1);

  patch(kDoctorA, R"({"consent_to_call":false})");
  const auto after = search();
  for (const auto* role : bv::resources(after, "PractitionerRole"))
    EXPECT_FALSE(role->contains("availabilityExceptions"));
}

TEST_F(SearchEffects, EachRuleTypesOrHidesExactlyItsSlots) {
  const int64_t vaccination = add_rule(kDoctorA, R"({"kind":"snp-motives","motives":["Vaccination"]})");
  auto seen = slots(search());
  EXPECT_EQ(seen.at("a2").types, types({"SNP"})) << "PUBLIC+PRO made SNP-only";
  EXPECT_EQ(seen.at("a1").types, types({"PUBLIC"}));
  EXPECT_EQ(seen.at("b1").types, types({"PUBLIC"})) << "another doctor's rule";

  add_rule(kDoctorA, R"({"kind":"hide-motives","motives":["ivg"]})");
  seen = slots(search());
  EXPECT_FALSE(seen.contains("a5")) << "its only motive is hidden";
  ASSERT_TRUE(seen.contains("a4"));
  EXPECT_EQ(seen.at("a4").motives, std::vector<std::string>{"Consultation"});

  add_rule(kDoctorA, R"({"kind":"snp-hours","days":["tue"],"from":"17:00","to":"19:00"})");
  seen = slots(search());
  EXPECT_EQ(seen.at("a3").types, types({"SNP"})) << "Tuesday 17:30";
  EXPECT_EQ(seen.at("a1").types, types({"PUBLIC"})) << "Tuesday 09:00";

  add_rule(kDoctorA, R"({"kind":"public-also-snp"})");
  seen = slots(search());
  EXPECT_EQ(seen.at("a1").types, types({"PUBLIC", "SNP"}));
  EXPECT_EQ(seen.at("a4").types, types({"PUBLIC", "SNP"}));
  EXPECT_EQ(seen.at("a8").types, types({"PRO"})) << "not public: unchanged";
  EXPECT_EQ(seen.at("a2").types, types({"SNP"})) << "SNP-only wins over also-SNP";
  EXPECT_EQ(seen.at("a3").types, types({"SNP"}));
  EXPECT_EQ(seen.at("b1").types, types({"PUBLIC"}));
  EXPECT_EQ(ids(search()), (std::set<std::string>{"a1", "a2", "a3", "a4", "a8", "b1"}))
      << "rules never publish a busy or own-patients-only slot";

  // A conflicting rule is refused with a message naming the rule it conflicts with.
  const auto conflict =
      admin("POST", "/practitioners/" + kDoctorA + "/rules", R"({"kind":"hide-motives","motives":["vaccination"]})");
  EXPECT_EQ(conflict.status, 409) << conflict.describe();
  EXPECT_NE(conflict.body.find("rule " + std::to_string(vaccination)), std::string::npos) << conflict.body;
  const auto malformed =
      admin("POST", "/practitioners/" + kDoctorA + "/rules", R"({"kind":"snp-hours","days":["mon"],"from":"19:00"})");
  EXPECT_EQ(malformed.status, 400) << malformed.describe();
  EXPECT_NE(malformed.body.find("to:"), std::string::npos) << malformed.body;
  const auto listed = admin("GET", "/practitioners/" + kDoctorA + "/rules");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_EQ(listed.json().at("rules").as_array().size(), 4U) << "nothing half-saved";

  // Removing a rule undoes its effect.
  const auto removed = admin("DELETE", "/practitioners/" + kDoctorA + "/rules/" + std::to_string(vaccination));
  EXPECT_EQ(removed.status, 204) << removed.describe();
  EXPECT_EQ(slots(search()).at("a2").types, types({"PUBLIC", "PRO", "SNP"}));
}

TEST_F(SearchEffects, TheExplanationMatchesWhatSearchDid) {
  add_rule(kDoctorA, R"({"kind":"snp-motives","motives":["Vaccination"]})");
  add_rule(kDoctorA, R"({"kind":"hide-motives","motives":["IVG"]})");
  add_rule(kDoctorA, R"({"kind":"snp-hours","days":["tue"],"from":"17:00","to":"19:00"})");
  add_rule(kDoctorA, R"({"kind":"public-also-snp"})");
  const auto check = [&](const std::string& doctor) {
    const auto seen = slots(search());
    const auto r = admin("GET", "/practitioners/" + doctor +
                                    "/explain?start=2026-06-16T00:00:00%2B02:00&end=2026-06-16T23:59:00%2B02:00");
    ASSERT_EQ(r.status, 200) << r.describe();
    const auto answer = r.json();
    const auto& explained = answer.at("slots").as_array();
    EXPECT_FALSE(explained.empty());
    for (const auto& e : explained) {
      const std::string name = names_.at(std::string(e.at("slot").as_string()));
      SCOPED_TRACE(name + ": " + json::serialize(e));
      EXPECT_EQ(e.at("published").as_bool(), seen.contains(name));
      for (const auto& step : e.at("steps").as_array()) {
        EXPECT_FALSE(step.at("fr").as_string().empty()) << "every reason is also said in French";
      }
      if (!seen.contains(name)) {
        EXPECT_FALSE(e.at("steps").as_array().empty()) << "a withheld slot says why";
        continue;
      }
      std::vector<std::string> types;
      for (const auto& t : e.at("types").as_array()) types.emplace_back(t.as_string());
      EXPECT_EQ(types, seen.at(name).types);
      std::vector<std::string> motives;
      for (const auto& m : e.at("motives").as_array()) motives.emplace_back(m.as_string());
      EXPECT_EQ(motives, seen.at(name).motives);
    }
  };
  check(kDoctorA);
  patch(kDoctorA, R"({"visible":false})");
  check(kDoctorA);
}

}  // namespace
