// INT_R03 end to end: the real `sas-host serve` delivering its outbox over mutual TLS to
// `sas-sim serve` (the platform, validating against FrAppointmentSAS, or sas-sos-appointment for
// SOS Médecins appointments), events reported with `sas-host appointment-event` or by the
// reference plugin from its agenda.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "notifications_harness.hpp"
#include "sas/conformance/profile_validator.hpp"

namespace {

namespace json = boost::json;
using namespace sas::notifications_test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string key(const std::string& id) { return std::string(kSystem) + "|" + id; }

constexpr const char* kSosProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment";

// What the validator says of a received body against `profile` ("" = conformant).
std::string issues(const std::string& body, const char* profile) {
  static const auto profiles = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  std::string out;
  for (const auto& i : profiles.validate(json::parse(body), profile)) out += sas::conformance::to_string(i) + "\n";
  return out;
}

// Per appointment, the statuses and starts the platform accepted as changes (created or
// updated; "unchanged" is an idempotent repeat of the current state), in arrival order.
std::map<std::string, std::vector<std::string>> accepted_states(const std::vector<World::Received>& received) {
  std::map<std::string, std::vector<std::string>> states;
  for (const auto& r : received) {
    if (r.result != "created" && r.result != "updated") continue;
    const auto body = json::parse(r.body).as_object();
    states[r.identifier].push_back(std::string(body.at("status").as_string()) + "@" +
                                   std::string(body.at("start").as_string()));
  }
  return states;
}

std::string state(const json::object& event) {
  const std::string type(event.at("event").as_string());
  const std::string status = type == "rescheduled" ? "booked" : type;
  return status + "@" + std::string(event.at("start").as_string());
}

TEST(NotificationsE2eTest, BookedThenCancelledIsOnePostThenOnePutWithTheSameIdentifier) {
  World world;
  world.start_platform();
  world.start_host();
  world.report({event("b6e39355-8a61-4556-b340-36f7b95fec6a", "booked")});
  world.report({event("b6e39355-8a61-4556-b340-36f7b95fec6a", "cancelled")});
  ASSERT_TRUE(world.wait_delivered(2)) << world.host_output();
  const auto received = world.received();
  ASSERT_EQ(received.size(), 2U) << world.platform_output();
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/fhir/Appointment");
  EXPECT_EQ(received[0].http_status, 201);
  EXPECT_EQ(received[0].status, "booked");
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].target,
            "/fhir/Appointment?identifier=urn:oid:1.1.111.1.11.1.1.1|b6e39355-8a61-4556-b340-36f7b95fec6a");
  EXPECT_EQ(received[1].http_status, 200);
  EXPECT_EQ(received[1].status, "cancelled");
  EXPECT_EQ(received[0].identifier, received[1].identifier);
  EXPECT_EQ(received[0].identifier, key("b6e39355-8a61-4556-b340-36f7b95fec6a"));
  const auto status = world.status();
  EXPECT_EQ(status.at("delivered").as_int64(), 2);
  EXPECT_EQ(status.at("pending").as_int64(), 0);
}

// The whole path from the vendor's data: a SAS-origin booking written in the agenda (as the
// sample agenda's booking page writes it) is pushed by the reference plugin through the ABI
// (HostRequest.appointment_event), committed to the outbox, and delivered: one POST, then the
// honoured state as one PUT with the same identifier, both valid FrAppointmentSAS.
TEST(NotificationsE2eTest, ASasOriginBookingInTheAgendaReachesThePlatformThroughThePlugin) {
  World world;
  const auto agenda = world.work() / "agenda.db";
  const auto start = std::chrono::duration_cast<std::chrono::seconds>(
                         (std::chrono::system_clock::now() + std::chrono::hours(30)).time_since_epoch())
                         .count();
  const std::string sql =
      "INSERT INTO practitioner (id, national_id, family_name) VALUES ('P1', '10100050075', 'Durand');"
      "INSERT INTO place (id, practitioner_id, address, postal_code, city) VALUES ('L1', 'P1', 'x', '75002', 'Paris');"
      "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (1, 'L1', " +
      std::to_string(start) + ", " + std::to_string(start + 900) +
      ", 'busy', 'SNP');"
      "INSERT INTO appointment (id, slot_id, sas_origin, regulator_id_system, regulator_id_value, booked_at, status) "
      "VALUES ('6f1d2c3b-4a59-4e8f-9a7b-1c2d3e4f5a6b', 1, 1, 'urn:oid:1.2.250.1.71.4.2.1', '810002673899', " +
      std::to_string(start - 30 * 3600) + ", 'booked');";
  sas::test::sqlite_exec(agenda, sql);
  world.start_platform();
  world.start_host();
  ASSERT_TRUE(world.wait_delivered(1)) << world.host_output();
  sas::test::sqlite_exec(agenda, "UPDATE appointment SET status = 'fulfilled'");
  ASSERT_TRUE(world.wait_delivered(2)) << world.host_output();

  const auto received = world.received();
  ASSERT_EQ(received.size(), 2U) << world.platform_output();
  const std::string identifier = "https://agenda.example.fr/fhir/appointment-id|6f1d2c3b-4a59-4e8f-9a7b-1c2d3e4f5a6b";
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].http_status, 201) << received[0].body;
  EXPECT_EQ(received[0].status, "booked");
  EXPECT_EQ(received[0].identifier, identifier);
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].http_status, 200) << received[1].body;
  EXPECT_EQ(received[1].status, "fulfilled");
  EXPECT_EQ(received[1].identifier, identifier);
  const auto body = json::parse(received[0].body).as_object();
  EXPECT_THAT(json::serialize(body.at("participant")), HasSubstr("810100050075"));  // the doctor, prefixed
  EXPECT_THAT(json::serialize(body.at("extension")), HasSubstr("810002673899"));    // the regulator
  EXPECT_EQ(sas::test::sqlite_rows(agenda, "SELECT count(*) FROM appointment_notification")[0][0], "2");
}

// ABI 1.5: an SOS Médecins appointment in the agenda (appointment.sos_association_siret, here in
// a file from before that column: the plugin adds it) is reported by the reference plugin with
// the association's SIRET and no practitioner, although its place has one; the host sends it as
// sas-sos-appointment: one POST for the booking, one PUT for the cancellation, both accepted by
// the platform's validation and conformant here too, naming no one.
TEST(NotificationsE2eTest, AnSosMedecinsBookingInTheAgendaReachesThePlatformAsAnSosAppointment) {
  World world;
  sas::test::sqlite_exec(world.agenda(), "ALTER TABLE appointment DROP COLUMN sos_association_siret");
  const auto start = std::chrono::duration_cast<std::chrono::seconds>(
                         (std::chrono::system_clock::now() + std::chrono::hours(20)).time_since_epoch())
                         .count();
  sas::test::sqlite_exec(
      world.agenda(),
      "INSERT INTO practitioner (id, national_id, family_name) VALUES ('P1', '10100050075', 'Durand');"
      "INSERT INTO place (id, practitioner_id, name, address, postal_code, city) VALUES ('PFG1', 'P1', "
      "'Centre de consultation Rennes Nord', 'x', '35000', 'Rennes');"
      "INSERT INTO slot (id, place_id, start_utc, end_utc, status, audiences) VALUES (1, 'PFG1', " +
          std::to_string(start) + ", " + std::to_string(start + 900) + ", 'busy', 'SNP');");
  world.start_platform();
  world.start_host();
  bool added = false;  // by the plugin's init (in a runner process, maybe after the host listens)
  for (int i = 0; i < 200 && !added; ++i) {
    added = sas::test::sqlite_rows(world.agenda(),
                                   "SELECT count(*) FROM pragma_table_info('appointment') "
                                   "WHERE name = 'sos_association_siret'")[0][0] == "1";
    if (!added) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(added) << "the plugin adds the column to an older file\n" << world.host_output();
  sas::test::sqlite_exec(world.agenda(),
                         "INSERT INTO appointment (id, slot_id, sas_origin, regulator_id_system, regulator_id_value, "
                         "booked_at, status, sos_association_siret) VALUES ('0d3c8a52-5e0f-4b7a-9c1d-2e3f4a5b6c7d', "
                         "1, 1, 'urn:oid:1.2.250.1.71.4.2.1', '810002673899', " +
                             std::to_string(start - 3600) + ", 'booked', '12345678901234');");
  ASSERT_TRUE(world.wait_delivered(1)) << world.host_output();
  sas::test::sqlite_exec(world.agenda(), "UPDATE appointment SET status = 'cancelled'");
  ASSERT_TRUE(world.wait_delivered(2)) << world.host_output();

  const auto received = world.received();
  ASSERT_EQ(received.size(), 2U) << world.platform_output();
  const std::string identifier = "https://agenda.example.fr/fhir/appointment-id|0d3c8a52-5e0f-4b7a-9c1d-2e3f4a5b6c7d";
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].http_status, 201) << received[0].body;
  EXPECT_EQ(received[0].result, "created");
  EXPECT_EQ(received[0].status, "booked");
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].http_status, 200) << received[1].body;
  EXPECT_EQ(received[1].result, "updated");
  EXPECT_EQ(received[1].status, "cancelled");
  for (const auto& r : received) {
    EXPECT_EQ(r.identifier, identifier);
    EXPECT_EQ(issues(r.body, kSosProfile), "") << r.body;
    const auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("meta").at("profile").as_array(), json::array{kSosProfile});
    EXPECT_EQ(json::serialize(body.at("participant")),
              R"([{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType",)"
              R"("code":"ADM"}]}],"status":"accepted"}])");
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr("10100050075"))) << "the place's doctor is not named";
  }
  // The association is kept for operators: in the outbox rows (sas-host outbox list).
  const auto rows = world.outbox("list");
  ASSERT_EQ(rows.size(), 2U);
  for (const auto& row : rows) EXPECT_EQ(row.at("sos_association_siret").as_string(), "312345678901234");
}

// The JSON path (sas-host appointment-event): an SOS booking the association must still confirm
// goes as `pending` / `needs-action`, its confirmation as `booked` / `accepted`.
TEST(NotificationsE2eTest, AnSosBookingToConfirmIsPendingThenBooked) {
  World world;
  world.start_platform();
  world.start_host();
  world.report({sos_event("sos-1", "booked", "312345678901234", /*needs_action=*/true)});
  world.report({sos_event("sos-1", "booked", "312345678901234")});
  ASSERT_TRUE(world.wait_delivered(2)) << world.host_output();
  const auto received = world.received();
  ASSERT_EQ(received.size(), 2U) << world.platform_output();
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].http_status, 201) << received[0].body;
  EXPECT_EQ(received[0].status, "pending");
  EXPECT_THAT(received[0].body, HasSubstr(R"("status":"needs-action")"));
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].http_status, 200) << received[1].body;
  EXPECT_EQ(received[1].status, "booked");
  EXPECT_THAT(received[1].body, HasSubstr(R"("status":"accepted")"));
  for (const auto& r : received) EXPECT_EQ(issues(r.body, kSosProfile), "") << r.body;
}

// 25 appointments x 4 updates reported at once, while the platform answers 500 (or 429) to a
// third of the requests: every update arrives, in order per appointment.
void updates_arrive_in_order(const std::string& fail) {
  World world;
  world.start_platform(fail, {"--fail-rate", "0.3"});
  world.start_host();
  std::vector<json::object> events;
  std::map<std::string, std::vector<std::string>> expected;
  const char* types[] = {"booked", "rescheduled", "rescheduled", "fulfilled"};
  for (int step = 0; step < 4; ++step) {
    for (int a = 0; a < 25; ++a) {
      const std::string id = "apt-" + std::to_string(a);
      events.push_back(event(id, types[step], 8 + step));
      expected[key(id)].push_back(state(events.back()));
    }
  }
  world.report(events);
  ASSERT_TRUE(world.wait_delivered(100)) << world.host_output();
  const auto received = world.received();
  EXPECT_EQ(accepted_states(received), expected);
  int failed = 0;
  for (const auto& r : received) failed += r.result == "failed" ? 1 : 0;
  EXPECT_GT(failed, 0) << "the platform failed some requests (--fail-rate 0.3): they were retried";
  for (const auto& r : received) EXPECT_NE(r.result, "duplicate");
}

TEST(NotificationsE2eTest, UpdatesArriveInOrderWhileAppointmentsGoInParallelThrough5xx) {
  updates_arrive_in_order("5xx");
}

TEST(NotificationsE2eTest, UpdatesArriveInOrderThrough429) { updates_arrive_in_order("429"); }

TEST(NotificationsE2eTest, A4xxIsADeadLetterWithTheOutcomeAndIsReplayedAfterAFix) {
  World world;
  world.start_platform("reject");
  world.start_host();
  world.report({event("x-1", "booked")});
  ASSERT_TRUE(world.wait_dead(1)) << world.host_output();
  world.report({event("x-1", "cancelled")});
  std::this_thread::sleep_for(300ms);
  auto status = world.status();
  EXPECT_EQ(status.at("dead").as_int64(), 1);
  EXPECT_EQ(status.at("blocked").as_int64(), 1) << "the cancellation waits behind its booking";
  const auto dead = world.outbox("dead-letter");
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].at("http_status").as_int64(), 422);
  EXPECT_EQ(dead[0].at("outcome").at("resourceType").as_string(), "OperationOutcome");
  EXPECT_THAT(json::serialize(dead[0].at("outcome")), HasSubstr("refused by --fail reject"));
  EXPECT_EQ(world.received().size(), 1U) << "a 4xx is not retried";

  world.stop_platform();
  world.start_platform();  // the fix
  const auto replayed = world.outbox("replay");
  EXPECT_EQ(replayed[0].at("replayed").as_int64(), 1);
  ASSERT_TRUE(world.wait_delivered(2)) << world.host_output();
  const auto received = world.received();
  ASSERT_EQ(received.size(), 3U);
  // The replay goes as the conditional PUT (create-or-update), then the cancellation.
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].result, "created");
  EXPECT_EQ(received[2].status, "cancelled");
  EXPECT_EQ(received[2].result, "updated");
}

TEST(NotificationsE2eTest, APostWhoseAnswerWasLostIsRetriedAsAPutAndNotDuplicated) {
  World world;
  // The platform records the POST but answers after the host's 500 ms timeout.
  world.start_platform("drop", {"--slow-ms", "1500"});
  world.start_host({"--sas-timeout-ms", "500"});
  world.report({event("lost-1", "booked")});
  for (int i = 0; i < 100 && world.received().empty(); ++i) std::this_thread::sleep_for(50ms);
  world.stop_platform();
  world.start_platform();
  ASSERT_TRUE(world.wait_delivered(1)) << world.host_output();
  const auto received = world.received();
  ASSERT_GE(received.size(), 2U);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].result, "created");
  for (std::size_t i = 1; i < received.size(); ++i) {
    EXPECT_EQ(received[i].method, "PUT");
    EXPECT_THAT(received[i].result, ::testing::AnyOf("unchanged", "failed"));
  }
  EXPECT_EQ(accepted_states(received).at(key("lost-1")).size(), 1U);
}

// Events reported while the host is killed with SIGKILL at random moments and the platform is
// stopped (or killed) and restarted: afterwards the platform holds every state of every
// appointment exactly once, in order. SAS_CRASH_ITERATIONS sets the number of rounds (default 3;
// docs/appointment-notifications.md gives the longer run).
TEST(NotificationsE2eTest, CrashesOfHostAndPlatformLoseNothingAndDuplicateNothing) {
  int iterations = 3;
  if (const char* env = std::getenv("SAS_CRASH_ITERATIONS")) iterations = std::max(1, std::atoi(env));
  World world;
  world.start_platform();
  world.start_host({"--sas-timeout-ms", "1000"});
  std::mt19937 random(12345);
  std::map<std::string, std::vector<std::string>> expected;
  const char* types[] = {"booked", "rescheduled", "rescheduled", "cancelled"};
  int64_t total = 0;
  int host_kills = 0, platform_restarts = 0;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    std::atomic<bool> reporting{true};
    std::thread reporter([&, seed = random()] {
      std::mt19937 pause(seed);
      for (int step = 0; step < 4; ++step) {
        std::vector<json::object> events;
        for (int a = 0; a < 10; ++a) {
          const std::string id = "crash-" + std::to_string(iteration) + "-" + std::to_string(a);
          events.push_back(event(id, types[step], 8 + step));
          expected[key(id)].push_back(state(events.back()));
        }
        world.report(events);
        total += static_cast<int64_t>(events.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(pause() % 150));
      }
      reporting = false;
    });
    while (reporting) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 200));
      const auto dice = random() % 3;
      if (dice == 0) {
        ++host_kills;
        world.kill_host();
        world.start_host();
      } else if (dice == 1) {
        ++platform_restarts;
        if (random() % 2 == 0) {
          world.kill_platform();
        } else {
          world.stop_platform();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
        // The new platform may be slow (deliveries in flight when the host is killed), lose
        // answers (a POST's fate unknown to the host) or fail some requests.
        switch (random() % 4) {
          case 0:
            world.start_platform();
            break;
          case 1:
            world.start_platform("slow", {"--fail-rate", "0.3", "--slow-ms", "150"});
            break;
          case 2:
            world.start_platform("drop", {"--fail-rate", "0.1", "--slow-ms", "1200"});
            break;
          default:
            world.start_platform("5xx", {"--fail-rate", "0.3"});
        }
      }
    }
    reporter.join();
    world.kill_host();
    world.start_host();
  }
  world.stop_platform();
  world.start_platform();
  ASSERT_TRUE(world.wait_delivered(total, 120s)) << world.host_output();
  const auto received = world.received();
  EXPECT_EQ(accepted_states(received), expected);
  int repeats = 0, failed = 0;
  for (const auto& r : received) {
    EXPECT_NE(r.result, "duplicate") << r.n;
    repeats += r.result == "unchanged" ? 1 : 0;
    failed += r.result == "failed" ? 1 : 0;
  }
  std::printf(
      "%d rounds, %lld events, %d host SIGKILLs, %d platform stops/kills; %zu requests received, %d "
      "idempotent repeats (PUT of the current state), %d failed\n",
      iterations, static_cast<long long>(total), host_kills + iterations, platform_restarts, received.size(), repeats,
      failed);
}

// The simulator answers like the platform: 201 / 422 duplicate for POST, create-or-update for the
// conditional PUT, 400 for a malformed request, 422 for a resource that is not FrAppointmentSAS,
// and only the allowed vendor certificate gets in.
TEST(NotificationsE2eTest, TheSimulatorAnswersLikeThePlatform) {
  World world;
  world.start_platform();
  const std::string ig_example = sas::test::read_file(sas::test::ig_dir() / "example" / "Appointment-1.json");
  json::object resource = json::parse(ig_example).as_object();
  resource.erase("id");
  const std::string body = json::serialize(resource);
  const std::string put_path =
      "/fhir/Appointment?identifier=urn:oid:1.1.111.1.11.1.1.1|b6e39355-8a61-4556-b340-36f7b95fec6a";

  EXPECT_EQ(world.send_to_platform("POST", "/fhir/Appointment", body).status, 201);
  auto duplicate = world.send_to_platform("POST", "/fhir/Appointment", body);
  EXPECT_EQ(duplicate.status, 422);
  EXPECT_THAT(duplicate.body, HasSubstr("duplicate"));
  EXPECT_EQ(world.send_to_platform("PUT", put_path, body).status, 200);  // unchanged
  resource["status"] = "cancelled";
  EXPECT_EQ(world.send_to_platform("PUT", put_path, json::serialize(resource)).status, 200);  // updated
  resource["identifier"].as_array()[0].as_object()["value"] = "new-one";
  EXPECT_EQ(world
                .send_to_platform("PUT", "/fhir/Appointment?identifier=urn:oid:1.1.111.1.11.1.1.1|new-one",
                                  json::serialize(resource))
                .status,
            201);  // created by the conditional update
  EXPECT_EQ(world.send_to_platform("PUT", put_path, json::serialize(resource)).status, 400) << "URL vs resource";
  EXPECT_EQ(world.send_to_platform("POST", "/fhir/Appointment", "{not json").status, 400);
  resource.erase("participant");
  auto invalid = world.send_to_platform("POST", "/fhir/Appointment", json::serialize(resource));
  EXPECT_EQ(invalid.status, 422);
  EXPECT_THAT(invalid.body, HasSubstr("participant"));
  EXPECT_EQ(world.send_to_platform("POST", "/fhir/Appointment", body, "client").status, 0)
      << "CN=sas.sante.fr,OU=SAS is not an allowed vendor";

  auto printed = sas::test::run({sas::test::bin("sas-sim").string(), "received", "--db", world.platform_db().string()});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::vector<std::string> results;
  for (std::size_t start = 0, end; (end = printed.out.find('\n', start)) != std::string::npos; start = end + 1) {
    results.emplace_back(json::parse(printed.out.substr(start, end - start)).at("result").as_string());
  }
  EXPECT_EQ(results, (std::vector<std::string>{"created", "duplicate", "unchanged", "updated", "created", "invalid",
                                               "invalid", "invalid"}));
}

// The simulator holds a resource declaring sas-sos-appointment to that profile: the official SOS
// example is accepted, and the same with a second extension (allowed by FrAppointmentSAS, at most
// one in sas-sos-appointment) is a 422 naming the SOS profile.
TEST(NotificationsE2eTest, TheSimulatorValidatesSosAppointmentsAgainstSasSosAppointment) {
  World world;
  world.start_platform();
  json::object resource =
      json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / "Appointment-12345678.json")).as_object();
  resource.erase("id");
  resource.erase("text");
  EXPECT_EQ(world.send_to_platform("POST", "/fhir/Appointment", json::serialize(resource)).status, 201);
  resource["identifier"].as_array()[0].as_object()["value"] = "two-extensions";
  resource["extension"].as_array().push_back(
      json::object{{"url", "https://agenda.example.fr/fhir/StructureDefinition/note"}, {"valueString", "x"}});
  const auto refused = world.send_to_platform("POST", "/fhir/Appointment", json::serialize(resource));
  EXPECT_EQ(refused.status, 422);
  EXPECT_THAT(refused.body, HasSubstr("sas-sos-appointment"));
  EXPECT_THAT(refused.body, HasSubstr("Appointment.extension"));
}

TEST(NotificationsE2eTest, AppointmentEventRefusesABadEventWithOneLinePerProblem) {
  World world;
  sas::test::write_file(world.work() / "bad.json", R"({"event": "moved", "start": "2026-12-04T14:00:00"})");
  auto result = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--store",
                                "sqlite:" + world.store().string(), "--json", (world.work() / "bad.json").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("event: 'moved'"));
  EXPECT_THAT(result.err, HasSubstr("appointment: an object"));
  json::object e = event("x", "booked");
  e["practitioner"] = "123";
  sas::test::write_file(world.work() / "bad2.json", json::serialize(e));
  result = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--store",
                           "sqlite:" + world.store().string(), "--json", (world.work() / "bad2.json").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("practitioner: '123'"));
  // SOS Médecins: a malformed SIRET; a SIRET and a practitioner together.
  json::object sos = sos_event("y", "booked", "3123");
  json::object both = sos_event("z", "booked", "312345678901234");
  both["practitioner"] = "810100050075";
  sas::test::write_file(world.work() / "bad3.json", json::serialize(json::array{sos, both}));
  result = sas::test::run({sas::test::bin("sas-host").string(), "appointment-event", "--store",
                           "sqlite:" + world.store().string(), "--json", (world.work() / "bad3.json").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("event 1: sos_association_siret: '3123'"));
  EXPECT_THAT(result.err, HasSubstr("event 2: practitioner (practitioner_national_id): '810100050075'"));
  EXPECT_EQ(world.status().at("pending").as_int64(), 0);
}

// Throughput: a burst of appointments reported in one go, then delivered; the figures go to
// docs/appointment-notifications.md (the benchmark measures the report side alone).
TEST(NotificationsE2eTest, ThroughputOfABurst) {
  const int n = std::getenv("SAS_BURST") != nullptr ? std::atoi(std::getenv("SAS_BURST")) : 2000;
  World world;
  world.start_platform();
  const char* connections = std::getenv("SAS_BURST_CONNECTIONS");
  const char* batch = std::getenv("SAS_BURST_BATCH");
  world.start_host({"--sas-connections", connections != nullptr ? connections : "8", "--sas-batch",
                    batch != nullptr ? batch : "128"});
  // Idle delay first: single events, each reported from another process (picked up by the
  // 50 ms poll of the test host; an event reported in process wakes the worker at once).
  for (int i = 0; i < 5; ++i) {
    world.report({event("single-" + std::to_string(i), "booked")});
    ASSERT_TRUE(world.wait_delivered(i + 1)) << world.host_output();
  }
  const auto single = sas::test::sqlite_rows(
      world.store(),
      "SELECT AVG(delivered_at - reported_at) / 1000.0, MAX(delivered_at - reported_at) / 1000.0 "
      "FROM appointment_outbox");
  std::printf("single events: report->delivery delay avg %s ms, max %s ms\n", single[0][0].c_str(),
              single[0][1].c_str());
  std::vector<json::object> events;
  for (int a = 0; a < n; ++a) events.push_back(event("burst-" + std::to_string(a), "booked"));
  const auto t0 = std::chrono::steady_clock::now();
  world.report(events);
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(world.wait_delivered(n + 5, 300s)) << world.host_output();
  const auto t2 = std::chrono::steady_clock::now();
  const double report_s = std::chrono::duration<double>(t1 - t0).count();
  const double deliver_s = std::chrono::duration<double>(t2 - t0).count();
  const auto delays = sas::test::sqlite_rows(
      world.store(),
      "SELECT AVG(delivered_at - reported_at) / 1000.0, MAX(delivered_at - reported_at) / 1000.0 "
      "FROM appointment_outbox");
  std::printf(
      "burst of %d: reported (one process, one commit) in %.3f s; delivered end to end in %.3f s = %.0f/s; "
      "report->delivery delay avg %s ms, max %s ms\n",
      n, report_s, deliver_s, n / deliver_s, delays[0][0].c_str(), delays[0][1].c_str());
  RecordProperty("delivered_per_second", static_cast<int>(n / deliver_s));
  EXPECT_EQ(world.received().size(), static_cast<std::size_t>(n + 5));
}

}  // namespace
