#include "sas/host/fhir/appointment.hpp"

#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"

namespace sas::host::fhir {

namespace json = boost::json;

std::string_view operator_identifier_system(std::string_view type) {
  if (type == code::kIdnps) return kPractitionerIdSystem;
  if (type == code::kIntrn) return kSasPlatformSystem;
  return {};
}

json::object appointment(const AppointmentResource& a) {
  json::object r;
  r["resourceType"] = "Appointment";
  r["meta"] = meta(a.sos ? profile::kSosAppointment : profile::kAppointment);
  json::object operator_extension;
  operator_extension["url"] = extension::kAppointmentOperator;
  operator_extension["valueReference"] = identifier_reference(identifier(
      kIdentifierTypeSystem, a.operator_type, operator_identifier_system(a.operator_type), a.operator_value));
  r["extension"] = json::array{std::move(operator_extension)};
  json::object id;
  put(id, "system", a.identifier_system);
  put(id, "value", a.identifier_value);
  r["identifier"] = json::array{std::move(id)};
  put(r, "status", a.status);
  put(r, "start", a.start);
  put(r, "end", a.end);
  put(r, "created", a.created);
  json::object participant;
  if (a.sos) {
    participant["type"] = json::array{codeable_concept(kParticipationTypeSystem, code::kParticipantAdmitter)};
  } else {
    participant["actor"] = identifier_reference(practitioner_national_identifier(a.practitioner_national_id));
  }
  put(participant, "status", a.participant_status);
  r["participant"] = json::array{std::move(participant)};
  return r;
}

}  // namespace sas::host::fhir
