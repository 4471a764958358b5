// INT_R03 event model: the resources built for the inputs of the IG's official examples equal
// Appointment-1.json (booked) and Appointment-2.json (cancelled), and conform to FrAppointmentSAS;
// an SOS Médecins event equals Appointment-12345678.json and conforms to sas-sos-appointment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>
#include <map>
#include <tuple>

#include "sas/conformance/profile_validator.hpp"
#include "sas/host/appointment_notifications/event.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas_test/support.hpp"

namespace {

namespace json = boost::json;
using namespace sas::host::appointment_notifications;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* kProfile = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";
constexpr const char* kSosProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment";

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

std::string issues(const json::object& resource, const char* profile = kProfile) {
  std::string out;
  for (const auto& i : profiles().validate(resource, profile)) out += sas::conformance::to_string(i) + "\n";
  return out;
}

// The SOS example's inputs: the same appointment and regulator, at an SOS Médecins association
// (a SIRET, unprefixed as a vendor may store it) that has not confirmed yet.
Event sos_event(EventType type, bool needs_action) {
  Event e = example_event(type);
  e.practitioner_national_id.clear();
  e.sos_association_siret = "12345678901234";
  e.needs_action = needs_action;
  return e;
}

// Every leaf of a JSON value by its path ("participant[0].type[0].coding[0].code" -> "\"ADM\""),
// so that two resources compare element by element.
void flatten(const json::value& v, const std::string& path, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& m : v.get_object())
      flatten(m.value(), path.empty() ? std::string(m.key()) : path + "." + std::string(m.key()), out);
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) flatten(a[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out[path] = json::serialize(v);
  }
}

std::map<std::string, std::string> elements(const json::value& v) {
  std::map<std::string, std::string> out;
  flatten(v, "", out);
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

// ABI 1.5: an SOS Médecins booking the association has not confirmed is the IG's own SOS example,
// element by element (its expected values read from the official file, without id and narrative).
TEST(AppointmentEventTest, AnUnconfirmedSosBookingEqualsTheOfficialSosExample) {
  Event e = sos_event(EventType::booked, /*needs_action=*/true);
  ASSERT_THAT(check(e), ::testing::IsEmpty());
  EXPECT_EQ(e.sos_association_siret, "312345678901234");  // prefixed by the host
  const json::object built = build_resource(e);
  const auto expected = elements(official(12345678));
  const auto actual = elements(built);
  ASSERT_GE(expected.size(), 15U) << "the official example was read";
  for (const auto& [path, value] : expected) {
    const auto found = actual.find(path);
    if (found == actual.end()) {
      ADD_FAILURE() << "missing element " << path << " = " << value;
    } else {
      EXPECT_EQ(found->second, value) << path;
    }
  }
  for (const auto& [path, value] : actual)
    EXPECT_TRUE(expected.count(path)) << "extra element " << path << " = " << value;
  EXPECT_EQ(issues(built, kSosProfile), "");
}

// Every SOS event type, confirmed or not, with either kind of regulator id, conforms to
// sas-sos-appointment, names no practitioner, and gets the documented statuses; the same events
// without the SIRET are still FrAppointmentSAS with the doctor as actor.
TEST(AppointmentEventTest, EverySosEventConformsToSasSosAppointmentAndOthersStayFrAppointmentSas) {
  // (type, needs_action) -> (Appointment.status, participant.status): docs/appointment-notifications.md.
  const std::map<std::tuple<EventType, bool>, std::pair<std::string, std::string>> expected = {
      {{EventType::booked, false}, {"booked", "accepted"}},
      {{EventType::booked, true}, {"pending", "needs-action"}},
      {{EventType::rescheduled, false}, {"booked", "accepted"}},
      {{EventType::rescheduled, true}, {"pending", "needs-action"}},
      {{EventType::cancelled, false}, {"cancelled", "accepted"}},
      {{EventType::cancelled, true}, {"cancelled", "needs-action"}},
      {{EventType::fulfilled, false}, {"fulfilled", "accepted"}},
      {{EventType::fulfilled, true}, {"fulfilled", "accepted"}},
      {{EventType::noshow, false}, {"noshow", "accepted"}},
      {{EventType::noshow, true}, {"noshow", "accepted"}},
  };
  for (const auto& [input, statuses] : expected) {
    const auto [type, needs_action] = input;
    for (bool intrn : {false, true}) {
      const std::string label =
          std::string(to_string(type)) + (needs_action ? " needs_action" : "") + (intrn ? " INTRN" : " IDNPS");
      Event e = sos_event(type, needs_action);
      if (intrn) {
        e.regulator_id_type = RegulatorIdType::intrn;
        e.regulator_id = "0a1b2c3d-0000-4000-8000-000000000001";
      }
      ASSERT_THAT(check(e), ::testing::IsEmpty()) << label;
      const json::object built = build_resource(e);
      EXPECT_EQ(issues(built, kSosProfile), "") << label;
      EXPECT_EQ(built.at("meta").at("profile").as_array(), json::array{kSosProfile}) << label;
      EXPECT_EQ(built.at("status").as_string(), statuses.first) << label;
      ASSERT_EQ(built.at("participant").as_array().size(), 1U) << label;
      const auto& participant = built.at("participant").as_array()[0].as_object();
      EXPECT_EQ(participant.at("status").as_string(), statuses.second) << label;
      EXPECT_FALSE(participant.contains("actor")) << label << ": no practitioner is named";
      EXPECT_EQ(
          json::serialize(participant.at("type")),
          R"([{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ADM"}]}])")
          << label;
      EXPECT_THAT(json::serialize(built), ::testing::Not(HasSubstr("12345678901234")))
          << "the SIRET stays in the outbox";

      Event individual = example_event(type);
      individual.needs_action = needs_action;
      individual.regulator_id_type = e.regulator_id_type;
      individual.regulator_id = e.regulator_id;
      ASSERT_THAT(check(individual), ::testing::IsEmpty()) << label;
      const json::object other = build_resource(individual);
      EXPECT_EQ(issues(other), "") << label;
      EXPECT_EQ(other.at("meta").at("profile").as_array(), json::array{kProfile}) << label;
      EXPECT_EQ(other.at("status").as_string(), appointment_status(type)) << label;
      EXPECT_THAT(json::serialize(other.at("participant")), HasSubstr("810100050075")) << label;
    }
  }
}

TEST(AppointmentEventTest, AnSosEventIsRefusedWithAMalformedSiretOrWithAPractitioner) {
  for (const char* siret : {"1234567890123", "412345678901234", "1234567890123X", "3123456789012345"}) {
    Event e = sos_event(EventType::booked, false);
    e.sos_association_siret = siret;
    EXPECT_THAT(check(e), ::testing::ElementsAre(AllOf(HasSubstr(std::string("sos_association_siret: '") + siret),
                                                       HasSubstr("SIRET must be 14 digits"))));
  }
  Event blank = sos_event(EventType::booked, false);
  blank.sos_association_siret = " ";
  EXPECT_THAT(check(blank), ::testing::ElementsAre(HasSubstr("sos_association_siret: ' ': empty identifier")));
  Event both = sos_event(EventType::booked, false);
  both.practitioner_national_id = "810100050075";
  EXPECT_THAT(check(both), ::testing::ElementsAre(HasSubstr("practitioner (practitioner_national_id): '810100050075': "
                                                            "must be empty for an SOS Médecins appointment")));
  // The JSON format: "sos_association_siret" in place of "practitioner"; both is refused by check.
  std::vector<std::string> errors;
  auto parsed = from_json(to_json(sos_event(EventType::cancelled, true)), &errors);
  ASSERT_TRUE(parsed) << errors.size();
  EXPECT_EQ(parsed->sos_association_siret, "12345678901234");
  EXPECT_EQ(parsed->practitioner_national_id, "");
  EXPECT_FALSE(to_json(*parsed).contains("practitioner"));
  json::object with_both = to_json(sos_event(EventType::booked, false));
  with_both["practitioner"] = "810100050075";
  parsed = from_json(with_both, &errors);
  ASSERT_TRUE(parsed);
  EXPECT_THAT(check(*parsed), ::testing::Contains(HasSubstr("practitioner (practitioner_national_id)")));
  json::object wrong_type = to_json(sos_event(EventType::booked, false));
  wrong_type["sos_association_siret"] = 12345678901234;
  errors.clear();
  EXPECT_FALSE(from_json(wrong_type, &errors));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr("sos_association_siret: a string")));
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

// Found by fuzz/appointment_event: a URL with a space passed the check and made an Appointment
// whose identifier.system is not a FHIR uri (fuzz/regressions/appointment_event/system-with-a-space.json).
TEST(AppointmentEventTest, ASystemWithASpaceIsRefused) {
  Event e = example_event(EventType::booked);
  e.appointment_system = "https://agenda.example.fr/r dv";
  EXPECT_THAT(check(e), ::testing::Contains(HasSubstr("appointment.system")));
  e.appointment_system = "https://agenda.example.fr/rdv";
  EXPECT_THAT(check(e), ::testing::IsEmpty());
  EXPECT_THAT(profiles().validate_declared(build_resource(e)), ::testing::IsEmpty());
}

// Found by fuzz/appointment_event: an appointment id of spaces alone passed the check and made an
// Appointment whose identifier.value FHIR reads as empty
// (fuzz/regressions/appointment_event/appointment-id-of-spaces.json); the regulator's id the same.
TEST(AppointmentEventTest, AnIdOfSpacesAloneIsRefused) {
  Event e = example_event(EventType::booked);
  e.appointment_id = std::string(48, ' ');
  EXPECT_THAT(check(e), ::testing::Contains(HasSubstr("appointment.value")));
  e = example_event(EventType::booked);
  e.regulator_id = "   ";
  EXPECT_THAT(check(e), ::testing::Contains(HasSubstr("regulator.value")));
  e = example_event(EventType::booked);
  e.appointment_id = "rdv 42";  // a space inside is still an id
  EXPECT_THAT(check(e), ::testing::IsEmpty());
  EXPECT_THAT(profiles().validate_declared(build_resource(e)), ::testing::IsEmpty());
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

  // ABI 1.5: the association's SIRET instead of a practitioner.
  m.set_type(sas::plugin::v1::APPOINTMENT_BOOKED);
  m.clear_practitioner_national_id();
  m.set_sos_association_siret("12345678901234");
  m.set_needs_action(true);
  e = from_proto(m, &error);
  ASSERT_TRUE(e) << error;
  ASSERT_THAT(check(*e), ::testing::IsEmpty());
  EXPECT_EQ(e->sos_association_siret, "312345678901234");
  const json::object sos = build_resource(*e);
  EXPECT_EQ(issues(sos, kSosProfile), "");
  EXPECT_EQ(sos.at("status").as_string(), "pending");

  // Times in milliseconds (or garbage) are refused by name, not converted with an overflow.
  for (const int64_t bad : {int64_t{1662300000000}, std::numeric_limits<int64_t>::max(), int64_t{-1}}) {
    m.set_start_time(bad);
    EXPECT_FALSE(from_proto(m, &error)) << bad;
    EXPECT_THAT(error, HasSubstr("start_time: " + std::to_string(bad) + " is not UTC seconds")) << bad;
  }
  m.set_start_time(1662300000);
  m.set_created_time(std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(from_proto(m, &error));
  EXPECT_THAT(error, HasSubstr("created_time"));
}

}  // namespace
