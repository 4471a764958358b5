// GOLDEN, end to end: the agenda behind the IG's official Bundle-ExampleBundlePSIndiv
// (tests/slot_search/example_agenda.hpp, distractor slots included) written to a sqlite-agenda
// file, served by the real `sas-host serve` with the real reference plugin, searched over mutual
// TLS with the example's OWN query (its self link, only the base replaced), must give the
// official bundle by the same comparisons as the in-process golden test (golden_compare.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <set>
#include <string>

#include "agenda_db.hpp"
#include "e2e_support.hpp"
#include "example_agenda.hpp"
#include "golden_compare.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace golden = sas::test::golden;
namespace bv = sas::test::bundle;

constexpr const char* kOfficialBase = "https://exemple.com/ans-sas";

class GoldenE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("e2e-golden"));
    sas::e2e::write_pki(*dir_ / "pki");
    report_ = new sas::e2e::AgendaDbReport(
        sas::e2e::write_agenda_db(sas::test::agenda::example_agenda(), *dir_ / "agenda.db"));
    sas::e2e::HostOptions options;
    options.agenda = *dir_ / "agenda.db";
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    options.base_path = "/ans-sas";  // the official base's path: only the origin differs
    options.place_identifier_system = golden::kVendorPlaceSystem;
    host_ = new sas::e2e::Host(options);

    expected_ = new json::object(golden::official());
    const std::string self = golden::official_self_link(*expected_);
    ASSERT_EQ(self.rfind(kOfficialBase, 0), 0U) << self;
    url_ = new std::string(host_->base() + self.substr(std::string(kOfficialBase).size()));
    sas::e2e::Client client(*dir_ / "pki");
    response_ = new sas::e2e::Response(client.get(*url_));
  }

  static void TearDownTestSuite() {
    delete response_;
    delete url_;
    delete expected_;
    delete host_;
    delete report_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    response_ = nullptr;
    url_ = nullptr;
    expected_ = nullptr;
    host_ = nullptr;
    report_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(response_, nullptr);
    ASSERT_EQ(response_->curl_code, 0) << response_->describe();
    ASSERT_EQ(response_->status, 200) << response_->describe() << "\n" << host_->output();
    ASSERT_THAT(response_->content_type, testing::StartsWith("application/fhir+json"));
    actual_ = response_->json();
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::e2e::AgendaDbReport* report_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
  static inline json::object* expected_ = nullptr;
  static inline std::string* url_ = nullptr;
  static inline sas::e2e::Response* response_ = nullptr;
  json::object actual_;
};

TEST_F(GoldenE2e, SendsTheOfficialQueryAsWritten) {
  // The query part is byte for byte the official one (%7C, raw '+' in the offsets, "Slot/").
  const std::string self = golden::official_self_link(*expected_);
  EXPECT_EQ(url_->substr(url_->find("/Slot")), self.substr(self.find("/Slot")));
  EXPECT_NE(url_->find("%7C"), std::string::npos);
  EXPECT_NE(url_->find("+00:00"), std::string::npos);
}

// The same query with a raw '|' instead of %7C: the very same Bundle (the self link re-encodes).
TEST_F(GoldenE2e, RawBarGivesTheSameBundle) {
  std::string raw = *url_;
  for (auto at = raw.find("%7C"); at != std::string::npos; at = raw.find("%7C", at)) raw.replace(at, 3, "|");
  ASSERT_NE(raw, *url_);
  sas::e2e::Client client(*dir_ / "pki");
  const auto r = client.get(raw);
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), actual_);
}

TEST_F(GoldenE2e, BundleLevel) { golden::expect_bundle_level(*expected_, actual_, host_->base()); }

TEST_F(GoldenE2e, SameSlots) { golden::expect_same_slots(*expected_, actual_); }

TEST_F(GoldenE2e, SameScheduleStructure) { golden::expect_same_schedule_structure(*expected_, actual_); }

TEST_F(GoldenE2e, SamePractitionersRolesAndLocations) {
  golden::expect_same_practitioners_roles_locations(*expected_, actual_);
}

TEST_F(GoldenE2e, SameMembersOnEveryResource) { golden::expect_same_members(*expected_, actual_); }

// The slot ids of the example were renumbered for the INTEGER slot.id column; the distractor
// slots (busy, own patients only, just before the window, after it) must not be among them.
TEST_F(GoldenE2e, OnlyTheExamplesFourSlotsLeaveTheDatabase) {
  std::set<std::string> ids;
  for (const auto* s : bv::resources(actual_, "Slot")) ids.insert(std::string(s->at("id").as_string()));
  std::set<std::string> wanted;
  for (const char* id : {"slot-1", "slot-2", "slot-3", "slot-4"}) {
    wanted.insert(std::to_string(report_->slot_ids.at(id)));
  }
  EXPECT_EQ(ids, wanted);
}

// Per-slot specialties, exactly. The one difference allowed is what the sqlite-agenda schema
// cannot hold: slot.specialties is one TRE_R38 code OR one free text per line, so the label
// the example puts next to a slot's coded specialty (ExampleSlotPSIndiv2: SM54 + "Médecine
// générale") cannot be stored, and the host sends the coding alone. The agenda writer reports
// exactly that loss; on that slot the answer must equal the official specialty minus the label.
TEST_F(GoldenE2e, PerSlotSpecialtiesMatchExactlyBarTheSchemaGap) {
  EXPECT_EQ(report_->lost, std::vector<std::string>{"slot slot-2: label \"Médecine générale\" of specialty SM54"});
  const auto agenda = sas::test::agenda::example_agenda();
  const auto& lossy = agenda.slots(1);
  ASSERT_EQ(lossy.id(), "slot-2");
  const auto lossy_start = sas::sdk::datetime::Instant{std::chrono::seconds{lossy.start()}};

  const auto exp = golden::slots_by_start(*expected_);
  const auto act = golden::slots_by_start(actual_);
  ASSERT_EQ(act.size(), exp.size());
  for (const auto& [start, e] : exp) {
    ASSERT_TRUE(act.contains(start));
    json::value wanted = e->at("specialty");
    if (start == lossy_start) {
      for (auto& cc : wanted.as_array()) {
        if (cc.as_object().contains("coding")) cc.as_object().erase("text");
      }
      EXPECT_NE(wanted, e->at("specialty")) << "the known gap is no longer there: use the exact comparison";
    }
    EXPECT_EQ(golden::str(golden::member(*act.at(start), "specialty")), json::serialize(wanted));
  }
}

}  // namespace
