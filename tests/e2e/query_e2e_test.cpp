// INT_R01 over HTTPS, end to end: the real sas-host and reference plugin on a small agenda
// written for these tests; every way the platform may spell a search, the links from each slot
// back to the right doctor and place (checked against the database rows), and every refusal
// (4xx with an OperationOutcome naming the parameter).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

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
using testing::StartsWith;

constexpr const char* kSystem = "urn:oid:1.2.250.1.71.4.2.1";
// The three doctors as the platform names them (prefixed), and as the agenda stored them.
constexpr const char* kA = "810100050075";  // RPPS, stored unprefixed: 10100050075
constexpr const char* kB = "810002673899";  // RPPS, stored prefixed
constexpr const char* kC = "0750000001";    // ADELI, stored unprefixed: 750000001

// One day (Tuesday 10 March 2026, Paris = UTC+1) of three doctors; A has two places.
pb::SearchSlotsResponse test_agenda() {
  pb::SearchSlotsResponse r;
  auto& a = practitioner(r, "dr-a", "10100050075", "THOMAS", {"Sébastien"});
  specialty(a, "SM54", "Médecine générale");
  auto& b = practitioner(r, "dr-b", "810002673899", "MARCEL", {"Guillaume"});
  specialty(b, "SM41");
  b.set_phone("+33 1 23 45 67 89");
  practitioner(r, "dr-c", "750000001", "PETIT", {"Léa", "Marie"});
  place(r, "pa1", "dr-a", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
  auto& pa2 = place(r, "pa2", "dr-a", {"30 rue Victor Hugo", "Bâtiment B"}, "69003", "Lyon");
  pa2.set_siret("12345678901234");
  pa2.set_phone("06 58 91 38 59");
  place(r, "pb1", "dr-b", {"5 place de la Mairie"}, "75011", "Paris").set_rpps_rang("10002673899001");
  place(r, "pc1", "dr-c", {"2 allée des Tilleuls"}, "44000", "Nantes").set_finess("440000123");

  slot(r, "a1", "pa1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:30:00+01:00", {pb::AUDIENCE_PUBLIC});
  slot(r, "a2", "pa1", "2026-03-10T09:30:00+01:00", "2026-03-10T10:00:00+01:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS});
  slot(r, "a-busy", "pa1", "2026-03-10T10:00:00+01:00", "2026-03-10T10:30:00+01:00").set_status(pb::SLOT_BUSY);
  slot(r, "a-own", "pa1", "2026-03-10T10:30:00+01:00", "2026-03-10T11:00:00+01:00", {pb::AUDIENCE_PATIENTELE_ONLY});
  slot(r, "a3", "pa2", "2026-03-10T14:00:00+01:00", "2026-03-10T14:20:00+01:00", {pb::AUDIENCE_PROFESSIONALS})
      .add_modes(pb::MODE_TELECONSULTATION);
  slot(r, "a4", "pa2", "2026-03-10T14:30:00+01:00", "2026-03-10T14:50:00+01:00", {pb::AUDIENCE_SNP}).set_walk_in(true);
  slot(r, "a-next-week", "pa1", "2026-03-17T09:00:00+01:00", "2026-03-17T09:30:00+01:00");
  slot(r, "b1", "pb1", "2026-03-10T09:00:00+01:00", "2026-03-10T09:20:00+01:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS});
  slot(r, "b2", "pb1", "2026-03-10T11:00:00+01:00", "2026-03-10T11:20:00+01:00");
  slot(r, "c1", "pc1", "2026-03-10T09:15:00+01:00", "2026-03-10T09:45:00+01:00",
       {pb::AUDIENCE_SNP, pb::AUDIENCE_PUBLIC});
  // Visible to a CPTS only: an INT_R04 slot, not part of this search.
  slot(r, "c-cpts", "pc1", "2026-03-10T10:00:00+01:00", "2026-03-10T10:30:00+01:00", {pb::AUDIENCE_CPTS})
      .add_cpts_finess("440000123");
  return r;
}

const std::vector<std::string> kAllInWindow = {"a1", "a2", "a3", "a4", "b1", "b2", "c1"};

// Independent of the SDK: the prefixed form of a stored RPPS (11 digits) or ADELI (9).
std::string prefixed(const std::string& stored) {
  if (stored.size() == 11) return "8" + stored;
  if (stored.size() == 9) return "0" + stored;
  return stored;
}

class QueryE2e : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(sas::test::make_temp_dir("e2e-query"));
    sas::e2e::write_pki(*dir_ / "pki");
    report_ = new sas::e2e::AgendaDbReport(sas::e2e::write_agenda_db(test_agenda(), db()));
    sas::e2e::HostOptions options;
    options.agenda = db();
    options.pki = *dir_ / "pki";
    options.work = *dir_;
    host_ = new sas::e2e::Host(options);
    client_ = new sas::e2e::Client(*dir_ / "pki");
  }

  static void TearDownTestSuite() {
    delete client_;
    delete host_;
    delete report_;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    client_ = nullptr;
    host_ = nullptr;
    report_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(host_, nullptr);
    ASSERT_TRUE(host_->running()) << host_->output();
  }

  static fs::path db() { return *dir_ / "agenda.db"; }

  // The platform's search, as documented: includes, window, identifiers, status.
  static std::string query(const std::string& identifiers, const std::string& ge = "2026-03-10T00:00:00%2B01:00",
                           const std::string& le = "2026-03-10T23:59:59%2B01:00") {
    return "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + ge + "&start=le" + le +
           "&schedule.actor:Practitioner.identifier=" + identifiers + "&status=free";
  }
  static std::string all_three() { return sas::e2e::identifier_list({kA, kB, kC}); }

  static sas::e2e::Response get(const std::string& query_string, const sas::e2e::RequestOptions& options = {}) {
    return client_->get(host_->base() + "/Slot?" + query_string, options);
  }

  // A search that must succeed: its Bundle (empty on failure, with the failure recorded).
  static json::object search(const std::string& query_string) {
    const auto r = get(query_string);
    EXPECT_EQ(r.status, 200) << query_string << "\n" << r.describe();
    EXPECT_THAT(r.content_type, StartsWith("application/fhir+json"));
    if (r.status != 200) return {};
    auto bundle = r.json();
    EXPECT_EQ(bundle.at("resourceType"), "Bundle");
    EXPECT_EQ(bundle.at("type"), "searchset");
    EXPECT_EQ(bv::empty_paths(bundle), std::vector<std::string>{});
    return bundle;
  }

  // The database ids (as FHIR Slot ids) of named slots of test_agenda().
  static std::set<std::string> ids(const std::vector<std::string>& names) {
    std::set<std::string> out;
    for (const auto& n : names) out.insert(std::to_string(report_->slot_ids.at(n)));
    return out;
  }

  static std::set<std::string> slot_ids(const json::object& bundle) {
    std::set<std::string> out;
    for (const auto* s : bv::resources(bundle, "Slot")) out.insert(std::string(s->at("id").as_string()));
    return out;
  }

  static int64_t total(const json::object& bundle) {
    return bundle.contains("total") ? bundle.at("total").to_number<int64_t>() : -1;
  }

  static inline fs::path* dir_ = nullptr;
  static inline sas::e2e::AgendaDbReport* report_ = nullptr;
  static inline sas::e2e::Host* host_ = nullptr;
  static inline sas::e2e::Client* client_ = nullptr;
};

// ---- spellings of the same search ------------------------------------------------------------

TEST_F(QueryE2e, RawBarAndEncodedBarFindTheSameSlots) {
  const auto raw = search(query(sas::e2e::identifier_list({kA, kB, kC}, "|")));
  const auto encoded = search(query(sas::e2e::identifier_list({kA, kB, kC}, "%7C")));
  EXPECT_EQ(slot_ids(raw), ids(kAllInWindow));
  EXPECT_EQ(slot_ids(encoded), ids(kAllInWindow));
  EXPECT_EQ(total(raw), 7);
  EXPECT_EQ(total(encoded), 7);
}

TEST_F(QueryE2e, SpacesAfterCommasEncodedAsPercent20OrPlus) {
  for (const std::string separator : {",%20", ",+", "%2C%20", ",%20%20"}) {
    SCOPED_TRACE("separator " + separator);
    const auto bundle = search(query(sas::e2e::identifier_list({kA, kB, kC}, "|", separator)));
    EXPECT_EQ(slot_ids(bundle), ids(kAllInWindow));
  }
}

// A literal space cannot travel in an HTTP/1.1 request line (RFC 9112 §3.2: the target ends at
// the first space), and libcurl refuses to send one (CURLE_URL_MALFORMAT), so a client sends
// %20 or '+' (above). Written byte for byte anyway, the host answers a clean 400 with an
// OperationOutcome and keeps serving.
TEST_F(QueryE2e, LiteralSpaceInTheRequestLineIsAMalformedHttpRequest) {
  const std::string target = "/Slot?" + query(sas::e2e::identifier_list({kA, kB}, "|", ", "));
  const std::string answer = sas::e2e::raw_tls_exchange(
      *dir_ / "pki", host_->port(), "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(answer, testing::HasSubstr("Content-Type: application/fhir+json"));
  EXPECT_THAT(answer, testing::HasSubstr(R"("resourceType":"OperationOutcome")"));
  EXPECT_TRUE(host_->log_contains("malformed request")) << host_->output();
  EXPECT_EQ(slot_ids(search(query(all_three()))), ids(kAllInWindow));
}

TEST_F(QueryE2e, PlusInOffsetsRawOrEncoded) {
  const auto raw = search(query(all_three(), "2026-03-10T00:00:00+01:00", "2026-03-10T23:59:59+01:00"));
  const auto encoded = search(query(all_three(), "2026-03-10T00:00:00%2B01:00", "2026-03-10T23:59:59%2b01:00"));
  EXPECT_EQ(slot_ids(raw), ids(kAllInWindow));
  EXPECT_EQ(slot_ids(encoded), ids(kAllInWindow));
  // A window of exactly 09:00..09:15 Paris: '+' kept as the offset sign, not read as a space
  // (which would make it 09:00 UTC = 10:00 Paris).
  const auto narrow = search(query(all_three(), "2026-03-10T09:00:00+01:00", "2026-03-10T09:15:00+01:00"));
  EXPECT_EQ(slot_ids(narrow), ids({"a1", "b1", "c1"}));
}

TEST_F(QueryE2e, WithAndWithoutMilliseconds) {
  const auto with = search(query(all_three(), "2026-03-10T09:00:00.000%2B01:00", "2026-03-10T09:15:00.000%2B01:00"));
  const auto without = search(query(all_three(), "2026-03-10T09:00:00%2B01:00", "2026-03-10T09:15:00%2B01:00"));
  EXPECT_EQ(slot_ids(with), ids({"a1", "b1", "c1"}));
  EXPECT_EQ(slot_ids(without), ids({"a1", "b1", "c1"}));
  // Bounds are inclusive to the millisecond: one past 09:00 drops the 09:00 slots, one before
  // 09:15 drops the 09:15 one.
  const auto later = search(query(all_three(), "2026-03-10T09:00:00.001%2B01:00", "2026-03-10T09:14:59.999%2B01:00"));
  EXPECT_EQ(slot_ids(later), std::set<std::string>{});
  EXPECT_EQ(total(later), 0);
  // The IG's own example form: 3-digit milliseconds with a +00:00 offset.
  const auto utc = search(query(all_three(), "2026-03-10T08:00:00.000+00:00", "2026-03-10T08:15:00.000+00:00"));
  EXPECT_EQ(slot_ids(utc), ids({"a1", "b1", "c1"}));
}

TEST_F(QueryE2e, ZuluOffset) {
  const auto z = search(query(all_three(), "2026-03-09T23:00:00Z", "2026-03-10T22:59:59Z"));
  EXPECT_EQ(slot_ids(z), ids(kAllInWindow));
  const auto narrow = search(query(all_three(), "2026-03-10T08:00:00Z", "2026-03-10T08:15:00.000Z"));
  EXPECT_EQ(slot_ids(narrow), ids({"a1", "b1", "c1"}));
}

// A plain date is the Europe/Paris day: ge its first, le its last millisecond.
TEST_F(QueryE2e, PlainDatesAreParisDays) {
  EXPECT_EQ(slot_ids(search(query(all_three(), "2026-03-10", "2026-03-10"))), ids(kAllInWindow));
  EXPECT_EQ(total(search(query(all_three(), "2026-03-11", "2026-03-16"))), 0);
  auto week = kAllInWindow;
  week.push_back("a-next-week");
  EXPECT_EQ(slot_ids(search(query(all_three(), "2026-03-10", "2026-03-17"))), ids(week));
}

TEST_F(QueryE2e, CountCapsTheEntriesNotTheTotal) {
  const auto two = search(query(all_three()) + "&_count=2");
  EXPECT_EQ(total(two), 7);
  EXPECT_EQ(slot_ids(two), ids({"a1", "b1"})) << "the earliest first";
  const auto zero = search(query(all_three()) + "&_count=0");
  EXPECT_EQ(total(zero), 7);
  EXPECT_EQ(bv::entry_count(zero), 0U);
  const auto many = search("_count=1000&" + query(all_three()));
  EXPECT_EQ(slot_ids(many), ids(kAllInWindow));
}

TEST_F(QueryE2e, FormatJsonAccepted) {
  for (const std::string format : {"json", "application/fhir%2Bjson", "application/json"}) {
    SCOPED_TRACE("_format=" + format);
    EXPECT_EQ(slot_ids(search(query(all_three()) + "&_format=" + format)), ids(kAllInWindow));
  }
}

TEST_F(QueryE2e, IncludeParametersDecideTheIncludedResources) {
  auto types = [](const json::object& bundle) {
    std::map<std::string, size_t> out;
    if (!bundle.contains("entry")) return out;
    for (const auto& e : bundle.at("entry").as_array()) {
      ++out[std::string(e.at("resource").at("resourceType").as_string())];
    }
    return out;
  };
  const std::string window = "start=ge2026-03-10T00:00:00%2B01:00&start=le2026-03-10T23:59:59%2B01:00&status=free";
  const std::string ids_param = "&schedule.actor:Practitioner.identifier=" + all_three();
  using Counts = std::map<std::string, size_t>;
  // 7 slots, 4 places (A has two), 3 doctors.
  EXPECT_EQ(types(search(window + ids_param)), (Counts{{"Slot", 7}}));
  EXPECT_EQ(types(search("_include=Slot:schedule&" + window + ids_param)), (Counts{{"Slot", 7}, {"Schedule", 4}}));
  const Counts all{{"Slot", 7}, {"Schedule", 4}, {"Practitioner", 3}, {"PractitionerRole", 4}};
  EXPECT_EQ(types(search(query(all_three()))), all);
  EXPECT_EQ(types(search("_include:iterate=Schedule:actor&" + window + "&_include=Slot:schedule" + ids_param)), all);
}

TEST_F(QueryE2e, OneIdentifierAndTwentyFive) {
  const auto one = search(query(sas::e2e::identifier_list({kB})));
  EXPECT_EQ(slot_ids(one), ids({"b1", "b2"}));
  EXPECT_EQ(bv::resources(one, "Practitioner").size(), 1U);

  std::vector<std::string> many = {kA, kB, kC};
  for (int i = 0; i < 22; ++i) many.push_back("0" + std::to_string(760000000 + i));  // unknown ADELI
  ASSERT_EQ(many.size(), 25U);
  const auto twenty_five = search(query(sas::e2e::identifier_list(many, "%7C")));
  EXPECT_EQ(slot_ids(twenty_five), ids(kAllInWindow));
  EXPECT_EQ(bv::resources(twenty_five, "Practitioner").size(), 3U);
}

// FAQ error 1: whatever form the vendor stored, the search matches and the answer is prefixed.
TEST_F(QueryE2e, PrefixedAndUnprefixedIdentifiersFindTheSameSlots) {
  struct Doctor {
    std::string prefixed, unprefixed;
    std::vector<std::string> slots;
  };
  for (const auto& d : {Doctor{kA, "10100050075", {"a1", "a2", "a3", "a4"}},  // stored unprefixed
                        Doctor{kB, "10002673899", {"b1", "b2"}},              // stored prefixed
                        Doctor{kC, "750000001", {"c1"}}}) {                   // ADELI, stored unprefixed
    SCOPED_TRACE(d.prefixed);
    for (const auto& asked : {d.prefixed, d.unprefixed}) {
      const auto bundle = search(query(sas::e2e::identifier_list({asked})));
      EXPECT_EQ(slot_ids(bundle), ids(d.slots)) << "asked as " << asked;
      const auto practitioners = bv::resources(bundle, "Practitioner");
      ASSERT_EQ(practitioners.size(), 1U);
      const auto& identifier = practitioners[0]->at("identifier").as_array()[0];
      EXPECT_EQ(identifier.at("system"), kSystem);
      EXPECT_EQ(identifier.at("value").as_string(), d.prefixed) << "asked as " << asked;
      EXPECT_EQ(identifier.at("type").at("coding").as_array()[0].at("code"), "IDNPS");
    }
  }
}

std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

// Joins every Slot of `bundle` back to its database row: Slot -> Schedule -> Practitioner and
// PractitionerRole (-> contained Location) must be the row's place and doctor.
void expect_joined_to_the_database(const json::object& bundle, const fs::path& db) {
  std::map<std::string, std::vector<std::string>> rows;  // slot id -> place, national id, family, city, postal code
  for (auto& row : sas::e2e::sql(db,
                                 "SELECT s.id, s.place_id, p.national_id, p.family_name, pl.city, pl.postal_code "
                                 "FROM slot s JOIN place pl ON pl.id = s.place_id "
                                 "JOIN practitioner p ON p.id = pl.practitioner_id")) {
    rows[row[0]] = {row[1], row[2], row[3], row[4], row[5]};
  }
  for (const auto* slot : bv::resources(bundle, "Slot")) {
    const std::string id(slot->at("id").as_string());
    SCOPED_TRACE("Slot/" + id);
    ASSERT_TRUE(rows.contains(id));
    const auto& row = rows.at(id);
    const auto* schedule = bv::resolve(bundle, bv::ref(slot->at("schedule")));
    ASSERT_NE(schedule, nullptr);
    EXPECT_EQ(text(schedule->at("id")), row[0]) << "one Schedule per place";
    const auto* practitioner = bv::actor(bundle, *schedule, "Practitioner");
    const auto* role = bv::actor(bundle, *schedule, "PractitionerRole");
    ASSERT_TRUE(practitioner != nullptr && role != nullptr);
    EXPECT_EQ(text(practitioner->at("identifier").as_array()[0].at("value")), prefixed(row[1]));
    EXPECT_EQ(text(practitioner->at("name").as_array()[0].at("family")), row[2]);
    EXPECT_EQ(bv::resolve(bundle, bv::ref(role->at("practitioner"))), practitioner);
    const auto* location = bv::contained(*role, bv::ref(role->at("location").as_array()[0]));
    ASSERT_NE(location, nullptr);
    EXPECT_EQ(text(location->at("identifier").as_array()[0].at("value")), row[0]) << "the place's own id (INTRN)";
    EXPECT_EQ(text(location->at("address").at("city")), row[3]);
    EXPECT_EQ(text(location->at("address").at("postalCode")), row[4]);
  }
}

// FAQ error 7: the slots of a doctor with several places on the right place.
TEST_F(QueryE2e, DoctorWithSeveralPlaces) {
  const auto bundle = search(query(sas::e2e::identifier_list({kA})));
  EXPECT_EQ(slot_ids(bundle), ids({"a1", "a2", "a3", "a4"}));
  expect_joined_to_the_database(bundle, db());
  std::set<std::string> schedules;
  for (const auto* s : bv::resources(bundle, "Schedule")) schedules.insert(std::string(s->at("id").as_string()));
  EXPECT_EQ(schedules, (std::set<std::string>{"pa1", "pa2"}));
  EXPECT_EQ(bv::resources(bundle, "PractitionerRole").size(), 2U);
  EXPECT_EQ(bv::resources(bundle, "Practitioner").size(), 1U);
  // Each place's own phone, else the doctor's (A has none: pa1 has no telecom).
  for (const auto* role : bv::resources(bundle, "PractitionerRole")) {
    if (role->at("id") == "pa2") {
      EXPECT_EQ(role->at("telecom").as_array()[0].at("value"), "+33658913859");
      EXPECT_EQ(role->at("contained").as_array()[0].at("address").at("line"),
                json::array{"30 rue Victor Hugo, Bâtiment B"});
    } else {
      EXPECT_FALSE(role->contains("telecom"));
    }
  }
}

// FAQ error 8: the slots of several doctors on the right doctor.
TEST_F(QueryE2e, SeveralDoctors) {
  const auto bundle = search(query(all_three()));
  EXPECT_EQ(slot_ids(bundle), ids(kAllInWindow));
  expect_joined_to_the_database(bundle, db());
  std::set<std::string> national_ids;
  for (const auto* p : bv::resources(bundle, "Practitioner")) {
    national_ids.insert(std::string(p->at("identifier").as_array()[0].at("value").as_string()));
  }
  EXPECT_EQ(national_ids, (std::set<std::string>{kA, kB, kC}));
  for (const auto* role : bv::resources(bundle, "PractitionerRole")) {
    if (role->at("id") == "pb1") {
      EXPECT_EQ(role->at("telecom").as_array()[0].at("value"), "+33123456789");
    }
  }
}

// Busy, own-patients-only, CPTS-only and out-of-window slots never leave.
TEST_F(QueryE2e, OnlyFreePublicProOrSnpSlotsInTheWindow) {
  const auto week = search(query(all_three(), "2026-03-09T00:00:00%2B01:00", "2026-03-20T00:00:00%2B01:00"));
  auto expected = kAllInWindow;
  expected.push_back("a-next-week");
  EXPECT_EQ(slot_ids(week), ids(expected));
  for (const auto* s : bv::resources(week, "Slot")) {
    std::vector<std::string> types;
    for (const auto& label : s->at("meta").at("security").as_array()) {
      types.emplace_back(label.at("code").as_string());
    }
    for (const auto& t : types) EXPECT_THAT(t, testing::AnyOf("PUBLIC", "PRO", "SNP"));
    if (s->at("id").as_string() == std::to_string(report_->slot_ids.at("c1"))) {
      EXPECT_EQ(types, (std::vector<std::string>{"PUBLIC", "SNP"}));
    }
  }
}

// FAQ error 9: nobody known, or nothing free, is a success with total 0.
TEST_F(QueryE2e, UnknownPractitionerIsAnEmptySuccess) {
  for (const auto& q : {query(sas::e2e::identifier_list({"899999999999"})),
                        query(all_three(), "2026-03-11T00:00:00%2B01:00", "2026-03-11T23:59:59%2B01:00")}) {
    const auto r = get(q);
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_THAT(r.content_type, StartsWith("application/fhir+json"));
    const auto bundle = r.json();
    EXPECT_EQ(bundle.at("resourceType"), "Bundle");
    EXPECT_EQ(bundle.at("type"), "searchset");
    EXPECT_EQ(total(bundle), 0);
    EXPECT_FALSE(bundle.contains("entry"));
    EXPECT_EQ(bv::empty_paths(bundle), std::vector<std::string>{});
  }
}

TEST_F(QueryE2e, MetadataIsACapabilityStatement) {
  const auto r = client_->get(host_->base() + "/metadata");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_THAT(r.content_type, StartsWith("application/fhir+json"));
  const auto statement = r.json();
  EXPECT_EQ(statement.at("resourceType"), "CapabilityStatement");
  EXPECT_EQ(statement.at("fhirVersion"), "4.0.1");
  EXPECT_EQ(statement.at("kind"), "instance");
  EXPECT_EQ(statement.at("implementation").at("url").as_string(), host_->base());
  std::set<std::string> resources;
  for (const auto& rest : statement.at("rest").as_array()) {
    for (const auto& resource : rest.at("resource").as_array()) resources.emplace(resource.at("type").as_string());
  }
  EXPECT_TRUE(resources.contains("Slot"));
}

// ---- refusals ------------------------------------------------------------------------------------

struct Refusal {
  const char* name;
  std::string target;  // after the base
  long status;
  std::string expression;  // an issue must name it; empty: none required
  std::string method = "GET";
  std::string accept = "application/fhir+json";
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

std::string ok_ids() { return "schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810100050075"; }
std::string ge() { return "start=ge2026-03-10T00:00:00%2B01:00"; }
std::string le() { return "start=le2026-03-10T23:59:59%2B01:00"; }
std::string slot_query(const std::string& rest) { return "/Slot?" + rest; }
std::string twenty_six() {
  std::vector<std::string> ids;
  for (int i = 0; i < 26; ++i) ids.push_back("0" + std::to_string(760000000 + i));
  return "schedule.actor:Practitioner.identifier=" + sas::e2e::identifier_list(ids);
}

const std::string kIdentifierParam = "schedule.actor:Practitioner.identifier";

std::vector<Refusal> refusals() {
  return {
      {"MissingStartGe", slot_query(le() + "&status=free&" + ok_ids()), 400, "start"},
      {"MissingStartLe", slot_query(ge() + "&status=free&" + ok_ids()), 400, "start"},
      {"MalformedDate", slot_query("start=ge10/03/2026&" + le() + "&status=free&" + ok_ids()), 400, "start"},
      {"DateWithoutOffset", slot_query("start=ge2026-03-10T09:00:00&" + le() + "&status=free&" + ok_ids()), 400,
       "start"},
      {"ImpossibleDate", slot_query("start=ge2026-02-30T09:00:00%2B01:00&" + le() + "&status=free&" + ok_ids()), 400,
       "start"},
      {"LeBeforeGe",
       slot_query("start=ge2026-03-10T12:00:00%2B01:00&start=le2026-03-10T11:00:00%2B01:00&status=free&" + ok_ids()),
       400, "start"},
      {"MissingStatus", slot_query(ge() + "&" + le() + "&" + ok_ids()), 400, "status"},
      {"StatusNotFree", slot_query(ge() + "&" + le() + "&status=busy&" + ok_ids()), 400, "status"},
      {"MissingIdentifier", slot_query(ge() + "&" + le() + "&status=free"), 400, kIdentifierParam},
      {"EmptyIdentifier", slot_query(ge() + "&" + le() + "&status=free&" + kIdentifierParam + "="), 400,
       kIdentifierParam},
      {"TwentySixIdentifiers", slot_query(ge() + "&" + le() + "&status=free&" + twenty_six()), 400, kIdentifierParam},
      {"UnknownIdentifierSystem",
       slot_query(ge() + "&" + le() + "&status=free&" + kIdentifierParam + "=urn:oid:1.2.250.1.71.4.2.2|810100050075"),
       400, kIdentifierParam},
      {"MalformedIdentifier",
       slot_query(ge() + "&" + le() + "&status=free&" + kIdentifierParam + "=urn:oid:1.2.250.1.71.4.2.1%7C12AB"), 400,
       kIdentifierParam},
      {"UnknownParameter", slot_query(ge() + "&" + le() + "&status=free&" + ok_ids() + "&specialty=SM54"), 400,
       "specialty"},
      {"FormatXml", slot_query(ge() + "&" + le() + "&status=free&" + ok_ids() + "&_format=xml"), 406, "_format"},
      {"AcceptXml", slot_query(ge() + "&" + le() + "&status=free&" + ok_ids()), 406, "", "GET", "application/fhir+xml"},
      {"UnknownPath", "/Patient?identifier=x", 404, ""},
      {"PostSlot", slot_query(ge() + "&" + le() + "&status=free&" + ok_ids()), 405, "", "POST"},
  };
}

class RefusalE2e : public QueryE2e, public testing::WithParamInterface<Refusal> {};

TEST_P(RefusalE2e, AnsweredWithAnOperationOutcome) {
  const Refusal& c = GetParam();
  sas::e2e::RequestOptions options;
  options.method = c.method;
  options.accept = c.accept;
  const auto r = client_->get(host_->base() + c.target, options);
  ASSERT_EQ(r.curl_code, 0) << r.describe();
  EXPECT_EQ(r.status, c.status) << r.describe();
  EXPECT_THAT(r.content_type, StartsWith("application/fhir+json"));
  const auto outcome = r.json();
  EXPECT_EQ(outcome.at("resourceType"), "OperationOutcome");
  ASSERT_FALSE(outcome.at("issue").as_array().empty());
  bool named = c.expression.empty();
  for (const auto& issue : outcome.at("issue").as_array()) {
    EXPECT_EQ(issue.at("severity"), "error");
    EXPECT_FALSE(issue.at("diagnostics").as_string().empty());
    if (const auto* expression = issue.as_object().if_contains("expression")) {
      for (const auto& e : expression->as_array()) named = named || e.as_string() == c.expression;
    }
  }
  EXPECT_TRUE(named) << "no issue names " << c.expression << ": " << r.body;
  EXPECT_EQ(bv::empty_paths(outcome), std::vector<std::string>{});
  EXPECT_TRUE(host_->running());
}

INSTANTIATE_TEST_SUITE_P(Requests, RefusalE2e, testing::ValuesIn(refusals()),
                         [](const testing::TestParamInfo<Refusal>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
