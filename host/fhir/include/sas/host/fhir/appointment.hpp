// INT_R03: the FrAppointmentSAS resource the host sends to the SAS platform for every change of
// a SAS-origin appointment (POST [base]/Appointment, then PUT [base]/Appointment?identifier=), or
// FrAppointmentSASSOS (sas-sos-appointment) for an appointment at an SOS Médecins place.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace sas::host::fhir {

// What goes into one FrAppointmentSAS (or FrAppointmentSASSOS), already checked and normalised
// by the caller (host/appointment_notifications).
struct AppointmentResource {
  std::string identifier_system;  // the vendor's OID ("urn:oid:...") or URL
  std::string identifier_value;   // the vendor's technical id (a UUID), the same for every update
  std::string operator_type;      // the regulator's identifier type: "IDNPS" or "INTRN"
  std::string operator_value;     // the regulator's identifier, as received through INT_R02
  std::string status;             // booked | cancelled | fulfilled | noshow; SOS also pending
  std::string start;              // FHIR dateTimes with offset
  std::string end;
  std::string created;
  std::string practitioner_national_id;  // prefixed RPPS/ADELI (8+RPPS, 0+ADELI); unused for SOS
  std::string participant_status;        // accepted | needs-action
  // An SOS Médecins appointment: profile sas-sos-appointment, and one participant of type ADM
  // (v3-ParticipationType) without an actor, as in the IG's Appointment-12345678.json.
  bool sos = false;
};

// The identifier system of an operator identifier type: IDNPS -> urn:oid:1.2.250.1.71.4.2.1,
// INTRN -> urn:oid:1.2.250.1.213.3.6; "" for anything else.
std::string_view operator_identifier_system(std::string_view type);

// {"resourceType": "Appointment", "meta": {"profile": [FrAppointmentSAS or sas-sos-appointment]},
// "extension": [FrAppointmentOperator], "identifier": [...], "status", "start", "end", "created",
// "participant": [...]}, members in the order of the IG's examples. No id: the platform
// addresses it by identifier.
boost::json::object appointment(const AppointmentResource& a);

}  // namespace sas::host::fhir
