// PROPERTY test of publication (issue #4), end to end: generated agendas, random doctor settings
// and publication rules recorded in the host's store, many random searches through the real
// sas-host over mutual TLS. Every answer must be a valid Bundle for the IG's profiles and equal
// what an oracle written here, independently of host/doctor_settings, computes from the agenda
// file with plain SQL and the rule texts of docs/doctor-options.md:
// - never a busy slot, a slot kept to the doctor's own patients (or CPTS only), a slot of a doctor
//   whose agenda is not visible or who withdrew, a slot outside the window;
// - hide-motives take the motives off a slot, and a slot left with none is withheld;
// - snp-motives and snp-hours make a slot SNP-only; public-also-snp adds SNP to a public slot;
// - a doctor who asked to be called first has the number first in the PractitionerRole telecom
//   and the notice in availabilityExceptions; nobody else has either.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bundle_view.hpp"
#include "e2e_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/host/doctor_settings/service.hpp"
#include "sas/host/store/store.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sim/agenda_generator.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace bv = sas::test::bundle;
namespace ds = sas::host::doctor_settings;
using namespace std::chrono;

constexpr int kPractitioners = 60;
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSearches = 25;
#else
constexpr int kSearches = 80;
#endif

const char* const kMotives[] = {"Consultation",          "Visite de contrôle",    "Renouvellement d'ordonnance",
                                "Première consultation", "Consultation de suivi", "Certificat médical",
                                "Vaccination",           "Consultation, adulte"};
const char* const kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

std::string prefixed(const std::string& stored) {
  if (stored.size() == 11) return "8" + stored;
  if (stored.size() == 9) return "0" + stored;
  return stored;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == separator) {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

// One doctor's choices, as the oracle reads them.
struct Doctor {
  bool hidden = false;                    // visible = false or volunteer = false
  std::optional<std::string> call_first;  // consent to call: the phone given ("" = none given)
  std::set<std::string> snp_motives;
  std::set<std::string> hidden_motives;
  bool public_also_snp = false;
  unsigned snp_days = 0;  // bit 0 = Monday
  int snp_from = 0, snp_to = 0;
};

struct Expected {
  std::vector<std::string> types;
  std::set<std::string> motives;
};

// The oracle: what SAS may see of one agenda row, or nullopt.
std::optional<Expected> expect(const Doctor& d, const std::string& status, const std::string& audiences, int64_t start,
                               const std::string& motives_text) {
  if (status != "free" || d.hidden) return std::nullopt;
  std::set<std::string> audience;
  for (auto& a : split(audiences, ',')) audience.insert(a);
  if (!audience.contains("PUBLIC") && !audience.contains("PRO") && !audience.contains("SNP")) return std::nullopt;
  std::vector<std::string> motives = split(motives_text, '\n');
  const bool had_motives = !motives.empty();
  std::erase_if(motives, [&](const std::string& m) { return d.hidden_motives.contains(m); });
  if (had_motives && motives.empty()) return std::nullopt;
  bool snp_only = std::any_of(motives.begin(), motives.end(), [&](const auto& m) { return d.snp_motives.contains(m); });
  if (d.snp_days != 0) {
    const auto local = sas::sdk::datetime::to_paris_local(sas::sdk::datetime::Instant(seconds(start)));
    const auto day = floor<days>(local);
    const unsigned iso = weekday(day).iso_encoding();
    const auto minute = duration_cast<minutes>(local - day).count();
    if ((d.snp_days & (1U << (iso - 1))) != 0 && minute >= d.snp_from && minute < d.snp_to) snp_only = true;
  }
  if (snp_only) {
    audience = {"SNP"};
  } else if (d.public_also_snp && audience.contains("PUBLIC")) {
    audience.insert("SNP");
  }
  Expected e;
  for (const char* code : {"PUBLIC", "PRO", "SNP"}) {
    if (audience.contains(code)) e.types.emplace_back(code);
  }
  e.motives.insert(motives.begin(), motives.end());
  return e;
}

struct Seed {
  uint64_t seed;
  year_month_day first_day;
};
void PrintTo(const Seed& s, std::ostream* os) { *os << "seed " << s.seed; }

class PublicationProperty : public testing::TestWithParam<Seed> {
 protected:
  void SetUp() override {
    dir_ = sas::test::make_temp_dir("publication-property");
    sas::e2e::write_pki(dir_ / "pki");
    sas::sim::AgendaSpec spec;
    spec.practitioners = kPractitioners;
    spec.days = 7;
    spec.seed = GetParam().seed;
    spec.first_day = GetParam().first_day;
    sas::sim::generate_agenda(agenda(), spec);
    for (auto& row : sas::e2e::sql(agenda(), "SELECT national_id FROM practitioner ORDER BY id")) {
      stored_ids_.push_back(row[0]);
    }
    choose_settings();
    sas::e2e::HostOptions options;
    options.agenda = agenda();
    options.pki = dir_ / "pki";
    options.work = dir_;
    options.store = store_url();
    host_ = std::make_unique<sas::e2e::Host>(options);
  }

  void TearDown() override {
    host_.reset();
    fs::remove_all(dir_);
  }

  fs::path agenda() const { return dir_ / "agenda.db"; }
  std::string store_url() const { return "sqlite:" + (dir_ / "host.db").string(); }

  // Random settings and rules, recorded through the settings service on the host's store file
  // (as `sas-host settings set --store` does), and mirrored in the oracle's Doctor records.
  void choose_settings() {
    std::mt19937_64 random(GetParam().seed * 7919);
    auto below = [&random](uint64_t n) { return static_cast<int>(random() % n); };
    ds::Service service(sas::host::store::open(store_url()).doctor_settings);
    const ds::Actor actor{"property-test", "cli"};
    for (const auto& stored : stored_ids_) {
      Doctor& d = doctors_[prefixed(stored)];
      ds::SettingsPatch patch;
      switch (below(6)) {
        case 0:
          patch.visible = false;
          d.hidden = true;
          break;
        case 1:
          patch.volunteer = false;
          patch.visible = true;
          d.hidden = true;
          break;
        case 2:
        case 3:
          patch.volunteer = true;
          patch.visible = true;
          break;
        default:
          break;  // never set: published (the default policy)
      }
      if (below(4) == 0) {
        patch.consent_to_call = true;
        d.call_first = "";
        if (below(2) == 0) {
          patch.phone = "06 12 34 " + std::to_string(10 + below(90)) + " " + std::to_string(10 + below(90));
          d.call_first = "+33" + std::string(*patch.phone).substr(1);
          std::erase(*d.call_first, ' ');
        }
      }
      if (!patch.empty()) service.set(stored, patch, actor);
      if (below(2) == 0) continue;  // no rules for half of the doctors
      const std::string hide = kMotives[below(8)];
      std::string reserve = kMotives[below(8)];
      if (reserve == hide)
        reserve = kMotives[(std::find(std::begin(kMotives), std::end(kMotives), hide) - kMotives + 1) % 8];
      if (below(2) == 0) {
        service.add_rule(stored, json::parse(R"({"kind":"hide-motives","motives":[")" + hide + R"("]})"), actor);
        d.hidden_motives.insert(hide);
      }
      if (below(2) == 0) {
        service.add_rule(stored, json::parse(R"({"kind":"snp-motives","motives":[")" + reserve + R"("]})"), actor);
        d.snp_motives.insert(reserve);
      }
      if (below(2) == 0) {
        service.add_rule(stored, json::parse(R"({"kind":"public-also-snp"})"), actor);
        d.public_also_snp = true;
      }
      if (below(2) == 0) {
        json::array days;
        for (int day = 0; day < 7; ++day) {
          if (below(3) == 0) {
            days.emplace_back(kDays[day]);
            d.snp_days |= 1U << day;
          }
        }
        if (days.empty()) {
          days.emplace_back("tue");
          d.snp_days = 2;
        }
        d.snp_from = (8 + below(10)) * 60 + 30 * below(2);
        d.snp_to = d.snp_from + 60 * (1 + below(4));
        auto hhmm = [](int m) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "%02d:%02d", (m / 60) % 100, m % 60);
          return std::string(buffer);
        };
        json::object rule{{"kind", "snp-hours"}, {"days", days}, {"from", hhmm(d.snp_from)}, {"to", hhmm(d.snp_to)}};
        service.add_rule(stored, rule, actor);
      }
    }
  }

  struct Search {
    std::vector<std::string> asked;  // stored national ids
    int64_t ge = 0, le = 0;          // seconds
    std::string query;
  };

  Search random_search(std::mt19937_64& random) const {
    auto below = [&random](uint64_t n) { return static_cast<int64_t>(random() % n); };
    Search s;
    std::vector<std::string> pool = stored_ids_;
    std::shuffle(pool.begin(), pool.end(), random);
    s.asked.assign(pool.begin(), pool.begin() + 1 + below(25));
    std::vector<std::string> ids;
    for (const auto& stored : s.asked) ids.push_back(prefixed(stored));
    const sys_days first{GetParam().first_day};
    const auto from = time_point_cast<seconds>(first - hours(6)) + seconds(below(int64_t{7} * 86400));
    const auto to = from + minutes(60 + below(3 * 24 * 60));
    s.ge = from.time_since_epoch().count();
    s.le = to.time_since_epoch().count();
    auto utc = [](sys_seconds t) { return sas::sdk::datetime::format_utc(sas::sdk::datetime::Instant(t), false); };
    s.query = "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + utc(from) + "&start=le" + utc(to) +
              "&schedule.actor:Practitioner.identifier=" + sas::e2e::identifier_list(ids) + "&status=free";
    std::string encoded;
    for (char c : s.query) encoded += c == '+' ? std::string("%2B") : std::string(1, c);
    s.query = encoded;
    return s;
  }

  // Returns how many slots the answer held.
  size_t check(const Search& s, const json::object& bundle) {
    const auto issues = profiles().validate_bundle(bundle);
    EXPECT_TRUE(issues.empty()) << issues.size() << " profile issue(s), first: "
                                << (issues.empty() ? "" : sas::conformance::to_string(issues[0]));

    std::string asked;
    for (const auto& stored : s.asked) asked += (asked.empty() ? "'" : ",'") + stored + "'";
    std::map<std::string, Expected> expected;
    for (auto& row : sas::e2e::sql(agenda(),
                                   "SELECT s.id, s.status, s.audiences, s.start_utc, coalesce(s.motives, ''), "
                                   "p.national_id FROM slot s JOIN place pl ON pl.id = s.place_id JOIN practitioner p "
                                   "ON p.id = pl.practitioner_id WHERE p.national_id IN (" +
                                       asked + ") AND s.start_utc >= " + std::to_string(s.ge) +
                                       " AND s.start_utc <= " + std::to_string(s.le))) {
      const Doctor& d = doctors_.at(prefixed(row[5]));
      if (auto e = expect(d, row[1], row[2], std::stoll(row[3]), row[4])) expected.emplace(row[0], std::move(*e));
    }
    const auto slots = bv::resources(bundle, "Slot");
    std::set<std::string> actual_ids;
    for (const auto* slot : slots) actual_ids.insert(std::string(slot->at("id").as_string()));
    std::set<std::string> expected_ids;
    for (const auto& [id, e] : expected) expected_ids.insert(id);
    EXPECT_EQ(actual_ids, expected_ids);
    EXPECT_EQ(bundle.at("total").to_number<int64_t>(), static_cast<int64_t>(expected.size()));

    for (const auto* slot : slots) {
      const std::string id(slot->at("id").as_string());
      SCOPED_TRACE("Slot/" + id);
      const auto e = expected.find(id);
      if (e == expected.end()) continue;  // reported above
      std::vector<std::string> types;
      for (const auto& label : slot->at("meta").at("security").as_array())
        types.emplace_back(label.at("code").as_string());
      EXPECT_EQ(types, e->second.types);
      std::set<std::string> motives;
      if (const auto* service_types = slot->if_contains("serviceType")) {
        for (const auto& t : service_types->as_array()) {
          if (const auto* text = t.as_object().if_contains("text")) motives.insert(std::string(text->as_string()));
        }
      }
      EXPECT_EQ(motives, e->second.motives);
    }
    // Call first: the roles of exactly the doctors who asked.
    for (const auto* schedule : bv::resources(bundle, "Schedule")) {
      const auto* practitioner = bv::actor(bundle, *schedule, "Practitioner");
      const auto* role = bv::actor(bundle, *schedule, "PractitionerRole");
      if (practitioner == nullptr || role == nullptr) {
        ADD_FAILURE() << "a Schedule without its actors";
        continue;
      }
      const std::string national_id(practitioner->at("identifier").as_array()[0].at("value").as_string());
      const Doctor& d = doctors_.at(national_id);
      SCOPED_TRACE("PractitionerRole/" + std::string(role->at("id").as_string()) + " of " + national_id);
      EXPECT_EQ(role->contains("availabilityExceptions"), d.call_first.has_value());
      if (d.call_first && !d.call_first->empty()) {
        const auto& first = role->at("telecom").as_array()[0].as_object();
        EXPECT_EQ(first.at("value").as_string(), *d.call_first);
        EXPECT_EQ(first.at("rank").to_number<int64_t>(), 1);
        EXPECT_NE(std::string(role->at("availabilityExceptions").as_string()).find(*d.call_first), std::string::npos);
      }
    }
    return slots.size();
  }

  fs::path dir_;
  std::vector<std::string> stored_ids_;
  std::map<std::string, Doctor> doctors_;  // by prefixed id
  std::unique_ptr<sas::e2e::Host> host_;
};

TEST_P(PublicationProperty, AnswersShowExactlyWhatEachDoctorChose) {
  ASSERT_TRUE(host_->running()) << host_->output();
  sas::e2e::Client client(dir_ / "pki");
  std::mt19937_64 random(GetParam().seed);
  size_t seen = 0;
  for (int i = 0; i < kSearches && !HasFailure(); ++i) {
    const Search s = random_search(random);
    SCOPED_TRACE("search " + std::to_string(i) + ": " + s.query);
    const auto r = client.get(host_->base() + "/Slot?" + s.query);
    ASSERT_EQ(r.status, 200) << r.describe();
    seen += check(s, r.json());
  }
  EXPECT_GT(seen, static_cast<size_t>(5 * kSearches)) << "the searches find too little to test anything";
}

INSTANTIATE_TEST_SUITE_P(GeneratedAgendas, PublicationProperty,
                         testing::Values(Seed{11, year{2026} / March / 26},    // spring DST change
                                         Seed{22, year{2026} / October / 22},  // autumn DST change
                                         Seed{33, year{2027} / January / 4}),  // winter time
                         [](const testing::TestParamInfo<Seed>& param_info) {
                           return "Seed" + std::to_string(param_info.param.seed);
                         });

}  // namespace
