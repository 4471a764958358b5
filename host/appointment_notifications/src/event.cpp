#include "sas/host/appointment_notifications/event.hpp"

#include <chrono>

#include "sas/host/fhir/appointment.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/sdk/datetime.hpp"
#include "sas/sdk/ids.hpp"

namespace sas::host::appointment_notifications {

namespace json = boost::json;
namespace v1 = sas::plugin::v1;

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::booked:
      return "booked";
    case EventType::rescheduled:
      return "rescheduled";
    case EventType::cancelled:
      return "cancelled";
    case EventType::fulfilled:
      return "fulfilled";
    case EventType::noshow:
      return "noshow";
  }
  return "booked";
}

std::optional<EventType> event_type(std::string_view text) {
  for (EventType t :
       {EventType::booked, EventType::rescheduled, EventType::cancelled, EventType::fulfilled, EventType::noshow}) {
    if (to_string(t) == text) return t;
  }
  return std::nullopt;
}

std::string_view appointment_status(EventType type) {
  return type == EventType::rescheduled ? std::string_view("booked") : to_string(type);
}

bool is_sos(const Event& e) { return !e.sos_association_siret.empty(); }

// SOS Médecins: an appointment the association has not confirmed yet is `pending` with its
// participant `needs-action` (the IG's Appointment-12345678.json); once confirmed, `booked` and
// `accepted`. A cancellation keeps the participant's state; an honoured or missed appointment
// was held by the association, so its participant is `accepted`.
std::string_view appointment_status(const Event& e) {
  const bool unconfirmed_booking =
      is_sos(e) && e.needs_action && (e.type == EventType::booked || e.type == EventType::rescheduled);
  return unconfirmed_booking ? std::string_view("pending") : appointment_status(e.type);
}

std::string_view participant_status(const Event& e) {
  const bool held = is_sos(e) && (e.type == EventType::fulfilled || e.type == EventType::noshow);
  return e.needs_action && !held ? std::string_view("needs-action") : std::string_view("accepted");
}

namespace {

bool is_system(std::string_view s) {
  return (s.rfind("urn:oid:", 0) == 0 && s.size() > 8) || s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
}

bool has_control_or_bar(std::string_view s) {
  for (const char c : s) {
    if (c == '|' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Identifier.system is a FHIR uri, which holds no whitespace (found by fuzz/appointment_event).
bool has_space(std::string_view s) { return s.find(' ') != std::string_view::npos; }

// Spaces alone: an Identifier.value FHIR reads as empty (found by fuzz/appointment_event).
bool is_blank(std::string_view s) { return s.find_first_not_of(' ') == std::string_view::npos; }

}  // namespace

std::vector<std::string> check(Event& e) {
  std::vector<std::string> problems;
  if (!is_system(e.appointment_system) || has_control_or_bar(e.appointment_system) || has_space(e.appointment_system)) {
    problems.push_back("appointment.system: '" + e.appointment_system +
                       "' is not an identifier system (the vendor's OID as urn:oid:..., or a URL)");
  }
  if (is_blank(e.appointment_id) || e.appointment_id.size() > 128 || has_control_or_bar(e.appointment_id)) {
    problems.push_back(
        "appointment.value: the technical id (e.g. a UUID) must be 1 to 128 characters, not only spaces, without '|'");
  }
  if (is_blank(e.regulator_id) || has_control_or_bar(e.regulator_id)) {
    problems.push_back("regulator.value: the regulator's IDNPS or INTRN identifier is required");
  }
  std::string reason;
  if (is_sos(e)) {
    if (auto siret = sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret,
                                                           e.sos_association_siret, &reason)) {
      e.sos_association_siret = *siret;
    } else {
      problems.push_back("sos_association_siret: '" + e.sos_association_siret + "': " + reason);
    }
    if (!e.practitioner_national_id.empty()) {
      problems.push_back("practitioner (practitioner_national_id): '" + e.practitioner_national_id +
                         "': must be empty for an SOS Médecins appointment (sos_association_siret is set): the "
                         "platform is told the association's appointment, not a practitioner");
    }
  } else if (auto id = sas::sdk::ids::normalize_practitioner_id(e.practitioner_national_id, &reason)) {
    e.practitioner_national_id = id->prefixed;
  } else {
    problems.push_back("practitioner: '" + e.practitioner_national_id + "': " + reason);
  }
  std::optional<sas::sdk::datetime::Instant> start, end;
  for (auto [name, text, instant] : {std::tuple{"start", &e.start, &start}, std::tuple{"end", &e.end, &end},
                                     std::tuple{"created", &e.created, static_cast<decltype(&start)>(nullptr)}}) {
    std::string error;
    auto parsed = sas::sdk::datetime::parse_fhir(*text, &error);
    if (!parsed) problems.push_back(std::string(name) + ": '" + *text + "': " + error);
    if (instant != nullptr) *instant = parsed;
  }
  if (start && end && *end <= *start) problems.push_back("end: must be after start");
  return problems;
}

std::string appointment_key(const Event& e) { return e.appointment_system + "|" + e.appointment_id; }

namespace {

const json::value* member(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string text(const json::object& o, std::string_view key, std::string_view label,
                 std::vector<std::string>& errors) {
  const json::value* v = member(o, key);
  if (v == nullptr || !v->is_string()) {
    errors.push_back(std::string(label) + ": a string is required");
    return {};
  }
  return std::string(v->get_string());
}

}  // namespace

std::vector<Event> events_from_json(const json::value& value, std::vector<std::string>* errors) {
  std::vector<const json::value*> items;
  if (value.is_array()) {
    for (const auto& item : value.get_array()) items.push_back(&item);
  } else {
    items.push_back(&value);
  }
  std::vector<Event> events;
  bool failed = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::vector<std::string> problems;
    if (auto e = from_json(*items[i], &problems)) {
      events.push_back(std::move(*e));
    } else {
      failed = true;
      if (errors != nullptr)
        for (const auto& p : problems) errors->push_back("event " + std::to_string(i + 1) + ": " + p);
    }
  }
  if (failed) events.clear();
  return events;
}

std::optional<Event> from_json(const json::value& value, std::vector<std::string>* errors) {
  std::vector<std::string> problems;
  Event e;
  if (!value.is_object()) {
    if (errors != nullptr) errors->push_back("the event must be a JSON object");
    return std::nullopt;
  }
  const json::object& o = value.get_object();
  const std::string type = text(o, "event", "event", problems);
  if (auto t = event_type(type)) {
    e.type = *t;
  } else if (!type.empty()) {
    problems.push_back("event: '" + type + "': expected booked, rescheduled, cancelled, fulfilled or noshow");
  }
  const json::value* appointment = member(o, "appointment");
  if (appointment != nullptr && appointment->is_object()) {
    e.appointment_system = text(appointment->get_object(), "system", "appointment.system", problems);
    e.appointment_id = text(appointment->get_object(), "value", "appointment.value", problems);
  } else {
    problems.push_back("appointment: an object {\"system\", \"value\"} is required");
  }
  const json::value* regulator = member(o, "regulator");
  if (regulator != nullptr && regulator->is_object()) {
    const std::string kind = text(regulator->get_object(), "type", "regulator.type", problems);
    if (kind == "IDNPS") {
      e.regulator_id_type = RegulatorIdType::idnps;
    } else if (kind == "INTRN") {
      e.regulator_id_type = RegulatorIdType::intrn;
    } else if (!kind.empty()) {
      problems.push_back("regulator.type: '" + kind + "': expected IDNPS or INTRN");
    }
    e.regulator_id = text(regulator->get_object(), "value", "regulator.value", problems);
  } else {
    problems.push_back("regulator: an object {\"type\": \"IDNPS\"|\"INTRN\", \"value\"} is required");
  }
  if (const json::value* v = member(o, "sos_association_siret")) {
    if (v->is_string()) {
      e.sos_association_siret = v->get_string();
    } else {
      problems.push_back("sos_association_siret: a string (the SOS Médecins association's SIRET)");
    }
  }
  // An SOS event names no practitioner; one that does is refused by check(), naming it.
  if (member(o, "practitioner") != nullptr || member(o, "sos_association_siret") == nullptr) {
    e.practitioner_national_id = text(o, "practitioner", "practitioner", problems);
  }
  e.start = text(o, "start", "start", problems);
  e.end = text(o, "end", "end", problems);
  e.created = text(o, "created", "created", problems);
  if (const json::value* v = member(o, "needs_action")) {
    if (v->is_bool()) {
      e.needs_action = v->get_bool();
    } else {
      problems.push_back("needs_action: true or false");
    }
  }
  if (!problems.empty()) {
    if (errors != nullptr) errors->insert(errors->end(), problems.begin(), problems.end());
    return std::nullopt;
  }
  return e;
}

json::object to_json(const Event& e) {
  json::object o{{"event", to_string(e.type)},
                 {"appointment", json::object{{"system", e.appointment_system}, {"value", e.appointment_id}}},
                 {"regulator", json::object{{"type", e.regulator_id_type == RegulatorIdType::idnps ? "IDNPS" : "INTRN"},
                                            {"value", e.regulator_id}}}};
  if (is_sos(e)) {
    o["sos_association_siret"] = e.sos_association_siret;
    if (!e.practitioner_national_id.empty()) o["practitioner"] = e.practitioner_national_id;
  } else {
    o["practitioner"] = e.practitioner_national_id;
  }
  o["start"] = e.start;
  o["end"] = e.end;
  o["created"] = e.created;
  o["needs_action"] = e.needs_action;
  return o;
}

std::optional<Event> from_proto(const v1::AppointmentEvent& m, std::string* error) {
  Event e;
  switch (m.type()) {
    case v1::APPOINTMENT_BOOKED:
      e.type = EventType::booked;
      break;
    case v1::APPOINTMENT_RESCHEDULED:
      e.type = EventType::rescheduled;
      break;
    case v1::APPOINTMENT_CANCELLED:
      e.type = EventType::cancelled;
      break;
    case v1::APPOINTMENT_FULFILLED:
      e.type = EventType::fulfilled;
      break;
    case v1::APPOINTMENT_NOSHOW:
      e.type = EventType::noshow;
      break;
    default:
      if (error != nullptr) *error = "type: unspecified or unknown appointment event type";
      return std::nullopt;
  }
  if (m.regulator_id_type() == v1::REGULATOR_ID_INTRN) {
    e.regulator_id_type = RegulatorIdType::intrn;
  } else if (m.regulator_id_type() == v1::REGULATOR_ID_IDNPS) {
    e.regulator_id_type = RegulatorIdType::idnps;
  } else {
    if (error != nullptr) *error = "regulator_id_type: unspecified (IDNPS or INTRN)";
    return std::nullopt;
  }
  e.appointment_system = m.appointment_system();
  e.appointment_id = m.appointment_id();
  e.regulator_id = m.regulator_id();
  e.practitioner_national_id = m.practitioner_national_id();
  for (const auto& [field, seconds] : {std::pair{"start_time", m.start_time()}, std::pair{"end_time", m.end_time()},
                                       std::pair{"created_time", m.created_time()}}) {
    if (!sas::sdk::datetime::from_epoch_seconds(seconds)) {
      if (error != nullptr)
        *error = std::string(field) + ": " + std::to_string(seconds) +
                 " is not UTC seconds since the epoch up to the year 9999 (milliseconds?)";
      return std::nullopt;
    }
  }
  auto paris = [](int64_t seconds) {
    return sas::sdk::datetime::format_paris(*sas::sdk::datetime::from_epoch_seconds(seconds), false);
  };
  e.start = paris(m.start_time());
  e.end = paris(m.end_time());
  e.created = paris(m.created_time());
  e.needs_action = m.needs_action();
  e.sos_association_siret = m.sos_association_siret();
  return e;
}

json::object build_resource(const Event& e) {
  fhir::AppointmentResource a;
  a.identifier_system = e.appointment_system;
  a.identifier_value = e.appointment_id;
  a.operator_type = e.regulator_id_type == RegulatorIdType::idnps ? fhir::code::kIdnps : fhir::code::kIntrn;
  a.operator_value = e.regulator_id;
  a.status = appointment_status(e);
  a.start = e.start;
  a.end = e.end;
  a.created = e.created;
  a.practitioner_national_id = e.practitioner_national_id;
  a.participant_status = participant_status(e);
  a.sos = is_sos(e);
  return fhir::appointment(a);
}

}  // namespace sas::host::appointment_notifications
