// INT_R03 appointment notifications: the events a vendor reports about SAS-origin appointments
// (booked, rescheduled, cancelled, fulfilled = honoured, noshow = not honoured), their checks,
// and the FrAppointmentSAS resource each one becomes (FrAppointmentSASSOS for an appointment at
// an SOS Médecins consultation place). docs/appointment-notifications.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "sas/plugin/v1/plugin.pb.h"

namespace sas::host::appointment_notifications {

enum class EventType { booked, rescheduled, cancelled, fulfilled, noshow };
std::string_view to_string(EventType type);
std::optional<EventType> event_type(std::string_view text);
// The Appointment.status an event type gives to an individual practitioner's appointment:
// booked, booked, cancelled, fulfilled, noshow.
std::string_view appointment_status(EventType type);

enum class RegulatorIdType { idnps, intrn };

// One change of one appointment. Times are FHIR dateTimes with an offset, sent as given.
struct Event {
  EventType type = EventType::booked;
  std::string appointment_system;  // the vendor's OID ("urn:oid:...") or URL (http/https)
  std::string appointment_id;      // the vendor's technical id (a UUID), reused for every update
  RegulatorIdType regulator_id_type = RegulatorIdType::idnps;
  std::string regulator_id;              // the regulator who booked (IDNPS or INTRN, from INT_R02)
  std::string practitioner_national_id;  // RPPS or ADELI, prefixed or not; empty for SOS
  std::string start;
  std::string end;
  std::string created;
  // The doctor (SOS: the association) must still confirm: participant status needs-action.
  bool needs_action = false;
  // Set for an appointment at an SOS Médecins consultation place (ABI 1.5): the association's
  // SIRET, 14 digits with or without its 3 prefix. No practitioner is named to the platform
  // then; the SIRET stays in the outbox (event_json), not in the resource.
  std::string sos_association_siret;
};

bool is_sos(const Event& event);

// The Appointment.status and participant status of a checked event: appointment_status(type)
// and accepted / needs-action for an individual practitioner; for SOS Médecins, pending while
// the association has not confirmed (docs/appointment-notifications.md, "SOS Médecins
// appointments").
std::string_view appointment_status(const Event& event);
std::string_view participant_status(const Event& event);

// What is wrong with an event, one readable line per problem (empty: fine). Also normalises
// practitioner_national_id to its prefixed form (8+RPPS, 0+ADELI) and sos_association_siret to
// 3+SIRET when they are valid. An SOS event must have no practitioner.
std::vector<std::string> check(Event& event);

// "SYSTEM|ID": the appointment's key (one outbox sequence per key).
std::string appointment_key(const Event& event);

// The documented JSON event format (docs/appointment-notifications.md):
// {"event": "booked", "appointment": {"system": "urn:oid:...", "value": "UUID"},
//  "regulator": {"type": "IDNPS", "value": "..."}, "practitioner": "810100050075",
//  "start": "...", "end": "...", "created": "...", "needs_action": false}
// or, for SOS Médecins, "sos_association_siret": "3..." in place of "practitioner".
// Returns nullopt with the problems in *errors when a member is missing or of the wrong type.
std::optional<Event> from_json(const boost::json::value& json, std::vector<std::string>* errors);
boost::json::object to_json(const Event& event);
// One event object or an array of them, as `sas-host appointment-event --json` and the admin
// API (POST /admin/v1/appointment-events) take them: every event, or none with the problems of
// each, prefixed "event N: " (N from 1) in *errors.
std::vector<Event> events_from_json(const boost::json::value& json, std::vector<std::string>* errors);

// From the plugin's message (times in UTC seconds, formatted with the Europe/Paris offset).
// nullopt with the problem in *error for an unspecified type.
std::optional<Event> from_proto(const sas::plugin::v1::AppointmentEvent& message, std::string* error);

// The FrAppointmentSAS (SOS: FrAppointmentSASSOS) resource of a checked event.
boost::json::object build_resource(const Event& event);

}  // namespace sas::host::appointment_notifications
