// The host state two real `sas-host serve` share on one real PostgreSQL (issue #15): the SNP
// weekly cap, publication rule conflicts, doctor settings freshness, INT_R02 accounts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <map>
#include <thread>

#include "multihost_harness.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace sas::multihost_test;
using namespace std::chrono;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Polls `holds` every 10 ms for up to `bound`; returns how long it took, or nullopt.
template <typename F>
std::optional<milliseconds> time_until(F holds, milliseconds bound) {
  const auto start = steady_clock::now();
  while (steady_clock::now() - start < bound) {
    if (holds()) return duration_cast<milliseconds>(steady_clock::now() - start);
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// The SNP weekly cap: for each of 4 doctors, 25 honoured SAS-origin consultations in one week
// (weekdays, 5 a day from 09:00 Paris, each 2 h after its regulation: every other SNP condition
// met; each doctor in another past week, so that both hosts report one doctor at a time), 13 in
// one host's agenda and 12 in the other's, written into both agendas at the same moment; each
// host's reference plugin reports its own (report_interval_ms=20) into the shared ledger.
// Exactly 20 of each doctor's are SNP, whichever host reported them. (Four doctors rather than
// one: four chances per run that the two hosts decide a doctor's 20th and 21st at once.)

constexpr int kSnpDoctors = 4;

std::string doctor_national_id(int d) { return "1010005007" + std::to_string(5 + d); }

std::string doctors_sql() {
  std::string sql;
  for (int d = 0; d < kSnpDoctors; ++d) {
    const std::string n = std::to_string(d);
    sql += "INSERT INTO practitioner (id, national_id, family_name) VALUES ('P" + n + "', '" + doctor_national_id(d) +
           "', 'Durand');"
           "INSERT INTO practitioner_specialty (practitioner_id, code) VALUES ('P" +
           n +
           "', 'SM54');"
           "INSERT INTO place (id, practitioner_id, address, postal_code, city) VALUES ('L" +
           n + "', 'P" + n + "', 'x', '75002', 'Paris');";
  }
  return sql;
}

// Doctor d's week: Mondays in the past with no public holiday in the week.
const sys_days kWeeks[kSnpDoctors] = {sys_days{year{2026} / October / 19}, sys_days{year{2026} / October / 26},
                                      sys_days{year{2026} / November / 16}, sys_days{year{2026} / November / 23}};

std::string consultation_sql(int d, int i) {
  const int64_t monday = sys_seconds(kWeeks[d]).time_since_epoch().count();
  // 08:00-12:00 UTC: 09:00-13:00 Paris (10:00-14:00 before the end of summer time on 25 October).
  const int64_t at = monday + (i / 5) * 86400 + (8 + i % 5) * 3600;
  const std::string n = std::to_string(d * 100 + i);
  return "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (" + n + ", 'L" +
         std::to_string(d) + "', " + std::to_string(at) + ", " + std::to_string(at + 900) +
         ", 'busy', 'SNP');"
         "INSERT INTO appointment (id, slot_id, sas_origin, booked_at, status) VALUES ('A" +
         n + "', " + n + ", 1, " + std::to_string(at - 7200) +
         ", 'fulfilled');"
         "INSERT INTO consultation (id, appointment_id, consulted_at, other_codes) VALUES ('C" +
         n + "', 'A" + n + "', " + std::to_string(at) + ", 'G');";
}

TEST(MultiHostBilling, TwentyFiveConsultationsOfOneDoctorInOneWeekSplitAcrossTwoHostsGiveExactlyTwentySnp) {
  World world;
  const std::array<fs::path, 2> agendas = {world.work() / "agenda-a.db", world.work() / "agenda-b.db"};
  for (int host = 0; host < 2; ++host) {
    empty_agenda(agendas.at(static_cast<std::size_t>(host)));
    sas::test::sqlite_exec(agendas.at(static_cast<std::size_t>(host)), doctors_sql());
    world.start_host(host, {agendas.at(static_cast<std::size_t>(host)), ";report_interval_ms=20", false, {}});
  }
  // Consultation i of doctor d in host (i + d) % 2's agenda: both hosts report through the week.
  std::array<std::string, 2> sql = {"BEGIN;", "BEGIN;"};
  for (int d = 0; d < kSnpDoctors; ++d) {
    for (int i = 0; i < 25; ++i) sql.at(static_cast<std::size_t>((i + d) % 2)) += consultation_sql(d, i);
  }
  {
    std::latch go(2);
    std::vector<std::thread> writers;
    for (int host = 0; host < 2; ++host) {
      writers.emplace_back([&, host] {
        go.arrive_and_wait();
        sas::test::sqlite_exec(agendas.at(static_cast<std::size_t>(host)),
                               sql.at(static_cast<std::size_t>(host)) + "COMMIT;");
      });
    }
    for (auto& w : writers) w.join();
  }
  for (int host = 0; host < 2; ++host) {
    const auto& agenda = agendas.at(static_cast<std::size_t>(host));
    ASSERT_TRUE(time_until(
        [&] {
          return sas::test::sqlite_rows(agenda, "SELECT count(*) FROM consultation WHERE reported_at IS NULL")[0][0] ==
                 "0";
        },
        120s))
        << world.host_output(host);
    EXPECT_EQ(sas::test::sqlite_rows(agenda, "SELECT count(*) FROM consultation WHERE report_error IS NOT NULL")[0][0],
              "0")
        << world.host_output(host);
  }

  // The shared ledger: per doctor 25 consultations, 20 SNP, 5 refused by the weekly cap.
  std::map<std::string, std::map<std::string, std::string>> codes;
  for (const auto& row : world.sql("SELECT practitioner_id, code, count(*) FROM sas_consultation GROUP BY 1, 2")) {
    codes[row[0]][row[1]] = row[2];
  }
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kSnpDoctors));
  for (const auto& [doctor, count] : codes) {
    EXPECT_EQ(count, (std::map<std::string, std::string>{{"SNP", "20"}, {"none", "5"}}))
        << doctor << ": the weekly cap across two hosts";
  }
  for (const auto& row : world.sql("SELECT consultation_id, decision FROM sas_consultation WHERE code <> 'SNP'")) {
    EXPECT_THAT(row[1], HasSubstr("weekly_cap")) << row[0] << " was refused for another reason";
  }
  // What the two plugins were told (their billing_decision tables): 20 SNP per doctor in all.
  std::map<std::string, int> snp;
  for (int host = 0; host < 2; ++host) {
    const auto rows = sas::test::sqlite_rows(agendas.at(static_cast<std::size_t>(host)),
                                             "SELECT p.national_id, count(*) FILTER (WHERE b.code = 'SNP'), "
                                             "count(*) FROM billing_decision b JOIN consultation c ON c.id = "
                                             "b.consultation_id JOIN appointment a ON a.id = c.appointment_id JOIN "
                                             "slot s ON s.id = a.slot_id JOIN place pl ON pl.id = s.place_id JOIN "
                                             "practitioner p ON p.id = pl.practitioner_id GROUP BY 1 ORDER BY 1");
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(kSnpDoctors));
    for (const auto& row : rows) {
      snp[row[0]] += std::stoi(row[1]);
      std::printf("host %c, doctor %s: %s decisions, %s SNP\n", host == 0 ? 'A' : 'B', row[0].c_str(), row[2].c_str(),
                  row[1].c_str());
    }
  }
  for (int d = 0; d < kSnpDoctors; ++d) EXPECT_EQ(snp[doctor_national_id(d)], 20) << doctor_national_id(d);

  // The report command over the shared store says the same.
  const auto report =
      sas::test::run({sas::test::bin("sas-host").string(), "report", "snp", "--store", world.store(), "--practitioner",
                      "8" + doctor_national_id(3), "--from", "2026-11-23", "--to", "2026-11-29", "--format", "json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_THAT(report.out, HasSubstr("\"snp_count\":20")) << report.out;
}

// ---------------------------------------------------------------------------------------------
// Publication rule conflicts: for each doctor of a generated agenda, 16 clients (8 per host) post at the same
// moment rules that all conflict with one another (the motive "grippe" SNP-reserved, or
// hidden). Exactly one is taken (201); the 15 others are 409s naming it.

TEST(MultiHostRules, ConflictingRulesPostedToBothHostsAtOnceExactlyOneWins) {
  World world;
  const auto agenda = world.work() / "agenda.db";
  const auto doctors = generate_agenda(agenda, 8, 2, 5);  // the RPPS ones (an ADELI doctor is no different)
  ASSERT_GE(doctors.size(), 4U);
  world.start_host(0, {agenda, "", false, {}});
  world.start_host(1, {agenda, "", false, {}});

  constexpr int kClients = 16;
  for (const auto& doctor : doctors) {
    const std::string path = "/admin/v1/practitioners/" + doctor + "/rules";
    std::vector<sas::host::admin_api::ClientAnswer> answers(kClients);
    std::latch go(kClients);
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        const std::string rule =
            c % 4 < 2 ? R"({"kind":"snp-motives","motives":["Grippe"],"note":"client )" + std::to_string(c) + "\"}"
                      : R"({"kind":"hide-motives","motives":["grippe "],"note":"client )" + std::to_string(c) + "\"}";
        go.arrive_and_wait();
        answers.at(static_cast<std::size_t>(c)) = world.admin(c % 2, "POST", path, rule);
      });
    }
    for (auto& t : clients) t.join();
    std::vector<int> created;
    for (int c = 0; c < kClients; ++c) {
      const auto& a = answers.at(static_cast<std::size_t>(c));
      if (a.status == 201) {
        created.push_back(c);
      } else {
        EXPECT_EQ(a.status, 409) << doctor << " client " << c << ": " << a.body << a.error;
      }
    }
    ASSERT_EQ(created.size(), 1U) << doctor << ": " << created.size() << " conflicting rules taken";
    const auto winner = json::parse(answers.at(static_cast<std::size_t>(created[0])).body).as_object();
    const std::string id = std::to_string(winner.at("id").as_int64());
    for (int c = 0; c < kClients; ++c) {
      const auto& a = answers.at(static_cast<std::size_t>(c));
      if (a.status == 409) {
        EXPECT_THAT(a.message(), HasSubstr("rule " + id)) << doctor << " client " << c;
      }
    }
    // Both hosts list the one rule.
    for (int host = 0; host < 2; ++host) {
      const auto list = world.admin(host, "GET", path);
      ASSERT_EQ(list.status, 200) << list.body;
      const auto rules = json::parse(list.body).at("rules").as_array();
      ASSERT_EQ(rules.size(), 1U) << list.body;
      EXPECT_EQ(rules[0].at("id").as_int64(), winner.at("id").as_int64());
    }
  }
  EXPECT_EQ(world.sql("SELECT count(*) FROM publication_rule")[0][0], std::to_string(doctors.size()));
}

// ---------------------------------------------------------------------------------------------
// Settings freshness: a doctor hidden through host A's admin API is gone from host B's INT_R01
// search (over mutual TLS) within 1 s (polled; the test fails past 3 s and prints the time),
// back when made visible again; a rule added through A types B's slots as fast.

std::string iso_utc(int64_t seconds) {
  const auto tp = sys_seconds(std::chrono::seconds(seconds));
  const auto day = floor<days>(tp);
  const year_month_day ymd(day);
  const hh_mm_ss hms(tp - day);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02lld:%02lld:%02lld%%2B00:00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return text;
}

TEST(MultiHostSettings, AChangeThroughHostAIsAppliedByHostBsSearchWithinOneSecond) {
  World world;
  const auto agenda = world.work() / "agenda.db";
  const auto doctors = generate_agenda(agenda, 4, 3, 7);
  world.start_host(0, {agenda, "", false, {}});
  world.start_host(1, {agenda, "", false, {}});
  const std::string doctor = doctors.at(0);
  const auto first = sas::test::sqlite_rows(
      agenda,
      "SELECT min(s.start_utc) FROM slot s JOIN place pl ON pl.id = s.place_id JOIN practitioner p ON p.id = "
      "pl.practitioner_id WHERE s.status = 'free' AND s.start_utc > strftime('%s','now') + 3600 AND "
      "(p.national_id = '" +
          doctor + "' OR '8' || p.national_id = '" + doctor + "')");
  ASSERT_FALSE(first.empty() || first[0][0].empty()) << doctor << " has no free slot";
  const int64_t from = std::stoll(first[0][0]) - 60;
  const std::string query = "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + iso_utc(from) +
                            "&start=le" + iso_utc(from + 24 * 3600) +
                            "&schedule.actor:Practitioner.identifier=" + kNational + "|" + doctor + "&status=free";
  // (number of slots, number of them typed SNP) in host B's answer.
  auto search_b = [&] {
    const auto r = world.fhir(1, "GET", query);
    EXPECT_EQ(r.status, 200) << r.describe();
    std::pair<int, int> seen{-1, 0};
    if (r.status != 200) return seen;
    seen.first = 0;
    const auto bundle = r.json();
    const auto* entries = bundle.if_contains("entry");
    if (entries == nullptr) return seen;
    for (const auto& entry : entries->as_array()) {
      const auto& resource = entry.at("resource").as_object();
      if (resource.at("resourceType") != "Slot") continue;
      ++seen.first;
      for (const auto& label : resource.at("meta").at("security").as_array()) {
        if (label.at("code") == "SNP") ++seen.second;
      }
    }
    return seen;
  };
  const auto before = search_b();
  ASSERT_GT(before.first, 0) << "the doctor's slots are published before any change";

  auto patch = [&](const std::string& body) {
    const auto r = world.admin(0, "PATCH", "/admin/v1/practitioners/" + doctor + "/settings", body);
    ASSERT_EQ(r.status, 200) << r.body << r.error;
  };
  patch(R"({"visible":false,"changed_by":"multihost test"})");
  const auto hidden = time_until([&] { return search_b().first == 0; }, 3000ms);
  ASSERT_TRUE(hidden) << "host B still publishes the doctor hidden through host A";

  patch(R"({"visible":true})");
  const auto shown = time_until([&] { return search_b().first == before.first; }, 3000ms);
  ASSERT_TRUE(shown) << "host B does not publish the doctor made visible again through host A";

  const auto rule =
      world.admin(0, "POST", "/admin/v1/practitioners/" + doctor + "/rules", R"({"kind":"public-also-snp"})");
  ASSERT_EQ(rule.status, 201) << rule.body;
  const auto typed = time_until([&] { return search_b().second > before.second; }, 3000ms);
  ASSERT_TRUE(typed) << "host B does not apply the rule added through host A";

  EXPECT_LE(hidden->count(), 1000);
  EXPECT_LE(shown->count(), 1000);
  EXPECT_LE(typed->count(), 1000);
  std::printf("host A change -> host B search: hidden after %lld ms, visible again after %lld ms, rule after %lld ms\n",
              static_cast<long long>(hidden->count()), static_cast<long long>(shown->count()),
              static_cast<long long>(typed->count()));
}

// ---------------------------------------------------------------------------------------------
// INT_R02: a regulator account created through host A and updated through host B (one shared
// agenda, as docs/deployment.md requires): one account, updated; the audit of the shared store,
// read by `sas-host accounts audit` as each host's operator would, has both requests.

json::object regulator(const std::string& family) {
  return json::object{
      {"resourceType", "Practitioner"},
      {"meta",
       json::object{
           {"source", "urn:oid:1.2.250.1.213.3.6"},
           {"profile",
            json::array{"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"}}}},
      {"identifier",
       json::array{json::object{
           {"type", json::object{{"coding", json::array{json::object{
                                                {"system", "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"},
                                                {"code", "IDNPS"}}}}}},
           {"system", kNational},
           {"value", "810002673899"}}}},
      {"active", true},
      {"name", json::array{json::object{{"family", family}, {"given", json::array{"Jules"}}}}},
      {"telecom", json::array{json::object{{"system", "email"}, {"value", "jules.marius@test.com"}}}}};
}

TEST(MultiHostAccounts, AnAccountWrittenThroughHostAAndUpdatedThroughHostBIsOneAccountAndBothRequestsAreAudited) {
  World world;
  const auto agenda = world.work() / "agenda.db";
  empty_agenda(agenda);
  world.start_host(0, {agenda, "", false, {}});
  world.start_host(1, {agenda, "", false, {}});

  const auto created = world.fhir(0, "POST", "/Practitioner", json::serialize(regulator("MARIUS")));
  ASSERT_EQ(created.status, 201) << created.describe() << world.host_output(0);
  const auto updated = world.fhir(1, "PUT", "/Practitioner?identifier=" + std::string(kNational) + "|810002673899",
                                  json::serialize(regulator("MARIUS-DURAND")));
  ASSERT_EQ(updated.status, 200) << updated.describe() << world.host_output(1);

  const auto accounts =
      sas::test::sqlite_rows(agenda, "SELECT id, national_id, family_name, active FROM regulator_account");
  ASSERT_EQ(accounts.size(), 1U) << "host B found host A's account";
  EXPECT_EQ(accounts[0][1], "810002673899");
  EXPECT_EQ(accounts[0][2], "MARIUS-DURAND") << "the agenda has the update";
  EXPECT_EQ(accounts[0][3], "1");

  // The audit is one table of the shared store: `sas-host accounts audit` on it (what the
  // operator of either host runs) has both requests, the second through the other host.
  const auto audit =
      sas::test::run({sas::test::bin("sas-host").string(), "accounts", "audit", "--store", world.store()});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  const auto rows = json_lines(audit.out);
  ASSERT_EQ(rows.size(), 2U) << audit.out;
  EXPECT_EQ(rows[0].at("method"), "POST");
  EXPECT_EQ(rows[0].at("outcome").at("outcome"), "created");
  EXPECT_EQ(rows[0].at("outcome").at("http_status"), 201);
  EXPECT_EQ(rows[1].at("method"), "PUT");
  EXPECT_EQ(rows[1].at("outcome").at("outcome"), "updated");
  EXPECT_EQ(rows[1].at("outcome").at("http_status"), 200);
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("outcome").at("account_id"), json::value(accounts[0][0])) << json::serialize(row);
    EXPECT_EQ(row.at("client"), "CN=sas.sante.fr,OU=SAS");
  }
}

}  // namespace
