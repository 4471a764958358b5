// INT_R03 event model: the resources built for the inputs of the IG's official examples equal
// Appointment-1.json (booked) and Appointment-2.json (cancelled), and conform to FrAppointmentSAS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sas/conformance/profile_validator.hpp"
#include "sas/host/appointment_notifications/event.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas_test/support.hpp"

namespace {

namespace json = boost::json;
using namespace sas::host::appointment_notifications;
using ::testing::HasSubstr;

constexpr const char* kProfile = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";

json::object official(int n) {
  const json::object file = json::parse(sas::test::read_file(sas::test::ig_dir() / "example" /
                                                             ("Appointment-" + std::to_string(n) + ".json")))
                                .as_object();
  // Without the platform's own id (the vendor sends none) and the narrative, in the file's order
  // (object::erase would move the last member into the hole).
  json::object o;
  for (const auto& member : file) {
    if (member.key() != "id" && member.key() != "text") o[member.key()] = member.value();
  }
  return o;
}

// The inputs of the official examples, as a vendor would report them.
Event example_event(EventType type) {
  Event e;
  e.type = type;
  e.appointment_system = "urn:oid:1.1.111.1.11.1.1.1";
  e.appointment_id = "b6e39355-8a61-4556-b340-36f7b95fec6a";
  e.regulator_id_type = RegulatorIdType::idnps;
  e.regulator_id = "3456780581/11242343";
  e.practitioner_national_id = "10100050075";  // unprefixed RPPS: the host prefixes it
  e.start = "2022-09-04T14:00:00+01:00";
  e.end = "2022-09-04T14:15:00+01:00";
  e.created = "2022-09-04T10:00:00+01:00";
  return e;
}

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::test::ig_dir());
  return set;
}

std::string issues(const json::object& resource) {
  std::string out;
  for (const auto& i : profiles().validate(resource, kProfile)) out += sas::conformance::to_string(i) + "\n";
  return out;
}

TEST(AppointmentEventTest, BookedEqualsTheOfficialExample1) {
  Event e = example_event(EventType::booked);
  ASSERT_THAT(check(e), ::testing::IsEmpty());
  EXPECT_EQ(e.practitioner_national_id, "810100050075");
  const json::object built = build_resource(e);
  EXPECT_EQ(sas::host::fhir::serialize(built), json::serialize(official(1)));
  EXPECT_EQ(issues(built), "");
}

TEST(AppointmentEventTest, CancelledEqualsTheOfficialExample2) {
  Event e = example_event(EventType::cancelled);
  ASSERT_THAT(check(e), ::testing::IsEmpty());
  const json::object built = build_resource(e);
  EXPECT_EQ(sas::host::fhir::serialize(built), json::serialize(official(2)));
  EXPECT_EQ(issues(built), "");
}

TEST(AppointmentEventTest, EveryTypeAndOperatorKindConforms) {
  for (EventType t :
       {EventType::booked, EventType::rescheduled, EventType::cancelled, EventType::fulfilled, EventType::noshow}) {
    for (bool intrn : {false, true}) {
      Event e = example_event(t);
      if (intrn) {
        e.regulator_id_type = RegulatorIdType::intrn;
        e.regulator_id = "0a1b2c3d-0000-4000-8000-000000000001";
      }
      e.needs_action = intrn;
      ASSERT_THAT(check(e), ::testing::IsEmpty());
      const json::object built = build_resource(e);
      EXPECT_EQ(issues(built), "") << to_string(t);
      EXPECT_EQ(built.at("status").as_string(), appointment_status(t));
      const auto& ext = built.at("extension").as_array()[0].at("valueReference").at("identifier");
      EXPECT_EQ(ext.at("system").as_string(), intrn ? "urn:oid:1.2.250.1.213.3.6" : "urn:oid:1.2.250.1.71.4.2.1");
      EXPECT_EQ(ext.at("type").at("coding").as_array()[0].at("code").as_string(), intrn ? "INTRN" : "IDNPS");
      EXPECT_EQ(built.at("participant").as_array()[0].at("status").as_string(), intrn ? "needs-action" : "accepted");
    }
  }
  EXPECT_EQ(appointment_status(EventType::rescheduled), "booked");
}

TEST(AppointmentEventTest, JsonRoundTripAndProblems) {
  const Event e = example_event(EventType::fulfilled);
  std::vector<std::string> errors;
  auto back = from_json(to_json(e), &errors);
  ASSERT_TRUE(back) << errors.size();
  EXPECT_EQ(json::serialize(to_json(*back)), json::serialize(to_json(e)));

  errors.clear();
  EXPECT_FALSE(from_json(json::parse(R"({"event":"moved","appointment":{"system":"x"}})"), &errors));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr("event: 'moved'")));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr("appointment.value")));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr("regulator")));

  Event bad = example_event(EventType::booked);
  bad.appointment_system = "my-software";
  bad.practitioner_national_id = "12";
  bad.end = "2022-09-04T13:00:00+01:00";
  bad.created = "2022-09-04T10:00:00";
  const auto problems = check(bad);
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("appointment.system")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("practitioner")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("end: must be after start")));
  EXPECT_THAT(problems, ::testing::Contains(HasSubstr("created")));
}

TEST(AppointmentEventTest, FromTheProtobufMessageTimesGetTheParisOffset) {
  sas::plugin::v1::AppointmentEvent m;
  m.set_type(sas::plugin::v1::APPOINTMENT_NOSHOW);
  m.set_appointment_system("https://agenda.example.fr/appointments");
  m.set_appointment_id("b6e39355-8a61-4556-b340-36f7b95fec6a");
  m.set_regulator_id_type(sas::plugin::v1::REGULATOR_ID_INTRN);
  m.set_regulator_id("0a1b2c3d-0000-4000-8000-000000000001");
  m.set_practitioner_national_id("810100050075");
  m.set_start_time(1662300000);  // 2022-09-04T14:00:00Z
  m.set_end_time(1662300900);
  m.set_created_time(1662285600);
  std::string error;
  auto e = from_proto(m, &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->type, EventType::noshow);
  EXPECT_EQ(e->start, "2022-09-04T16:00:00+02:00");
  EXPECT_EQ(e->end, "2022-09-04T16:15:00+02:00");
  ASSERT_THAT(check(*e), ::testing::IsEmpty());
  EXPECT_EQ(issues(build_resource(*e)), "");

  m.set_type(sas::plugin::v1::APPOINTMENT_EVENT_UNSPECIFIED);
  EXPECT_FALSE(from_proto(m, &error));
  EXPECT_THAT(error, HasSubstr("type"));
}

}  // namespace
