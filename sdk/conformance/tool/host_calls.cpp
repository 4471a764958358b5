#include "host_calls.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <sas/conformance/resource_checks.hpp>
#include <sas/host/appointment_notifications/event.hpp>
#include <sas/host/plugin_loader/manifest.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sas/sdk/phone.hpp>
#include <set>
#include <thread>

namespace sas::conformance::tool {

namespace v1 = sas::plugin::v1;
namespace appointment_notifications = sas::host::appointment_notifications;
using HostMethod = sas::host::runtime::HostMethod;

sas::host::runtime::HostCallHandler HostCallRecorder::wrap(sas::host::runtime::HostCallHandler inner) {
  return [this, inner = std::move(inner)](const v1::HostRequest& request, v1::HostResponse& response) {
    const sas::host::plugin_loader::CallResult result = inner(request, response);
    std::lock_guard lock(mutex_);
    calls_.push_back({request, response, result});
    last_ = std::chrono::steady_clock::now();
    return result;
  };
}

std::vector<RecordedCall> HostCallRecorder::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t HostCallRecorder::count(HostMethod method) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      calls_.begin(), calls_.end(), [method](const RecordedCall& c) { return c.request.method_case() == method; }));
}

std::chrono::steady_clock::time_point HostCallRecorder::last_call() const {
  std::lock_guard lock(mutex_);
  return last_;
}

namespace {

// The doctor settings host calls (ABI 1.4, HostRequest cases 18 to 23).
constexpr HostMethod kSettingsMethods[] = {
    v1::HostRequest::kGetDoctorSettings,     v1::HostRequest::kSetDoctorSettings,
    v1::HostRequest::kListPublicationRules,  v1::HostRequest::kAddPublicationRule,
    v1::HostRequest::kRemovePublicationRule, v1::HostRequest::kExplainPublication};

bool is_settings_call(const v1::HostRequest& request) {
  return std::find(std::begin(kSettingsMethods), std::end(kSettingsMethods), request.method_case()) !=
         std::end(kSettingsMethods);
}

}  // namespace

void wait_for_host_calls(const HostCallRecorder& recorder, HostCallFlows declared,
                         std::chrono::steady_clock::time_point deadline) {
  if (!declared.appointments && !declared.billing && !declared.settings) return;
  using namespace std::chrono;
  auto settings_calls = [&recorder] {
    std::size_t n = 0;
    for (HostMethod method : kSettingsMethods) n += recorder.count(method);
    return n;
  };
  for (;;) {
    const auto now = steady_clock::now();
    if (now >= deadline) return;
    const bool events = !declared.appointments || recorder.count(v1::HostRequest::kAppointmentEvent) > 0;
    const bool consultations = !declared.billing || recorder.count(v1::HostRequest::kReportConsultation) > 0;
    const bool settings = !declared.settings || settings_calls() > 0;
    if (events && consultations && settings && now - recorder.last_call() >= seconds(1)) return;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : std::isxdigit(static_cast<unsigned char>(s[i])) == 0) return false;
  }
  return true;
}

std::string_view type_name(v1::AppointmentEventType type) {
  switch (type) {
    case v1::APPOINTMENT_BOOKED:
      return "booked";
    case v1::APPOINTMENT_RESCHEDULED:
      return "rescheduled";
    case v1::APPOINTMENT_CANCELLED:
      return "cancelled";
    case v1::APPOINTMENT_FULFILLED:
      return "fulfilled";
    case v1::APPOINTMENT_NOSHOW:
      return "noshow";
    default:
      return "unspecified";
  }
}

std::string key_of(const v1::AppointmentEvent& e) { return e.appointment_system() + "|" + e.appointment_id(); }

void note_all(Run& run, std::string_view prefix, const std::string& why) {
  for (const auto& c : run.catalogue().checks())
    if (c.id.starts_with(prefix)) run.note(c.id, why);
}

// A group of checks whose plugin pushed nothing: each check noted, and, when the manifest declares
// the flow, `warning_id` fails saying how to give the plugin data.
struct NothingPushed {
  std::string_view prefix;      // "R03-"
  std::string_view flow;        // "appointments"
  std::string_view item;        // "appointment event": "no appointment event to check"
  std::string_view nothing;     // "reported no appointment event"
  std::string_view warning_id;  // "R03-008"
  std::string_view data_hint;   // what data makes the plugin push
};

void judge_nothing_pushed(Run& run, const NothingPushed& n, bool declared, double waited) {
  if (!declared) {
    note_all(run, n.prefix,
             "the plugin's manifest does not declare `" + std::string(n.flow) + "` and it " + std::string(n.nothing));
    return;
  }
  note_all(run, n.prefix, "no " + std::string(n.item) + " to check");
  if (!run.selected(std::string(n.warning_id))) return;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", waited);
  run.fail({std::string(n.warning_id), "host calls", "",
            "the manifest declares `" + std::string(n.flow) + "` but the plugin " + std::string(n.nothing) +
                " within " + seconds + " s. Give it data: " + std::string(n.data_hint) +
                ", a report interval shorter than the wait (its plugin-config report_interval_ms), or a longer "
                "--host-calls-wait"});
}

void check_appointment_events(Run& run, const ProfileSet& profiles, const std::vector<RecordedCall>& calls,
                              bool declared, double waited) {
  std::vector<const RecordedCall*> events;
  for (const auto& c : calls)
    if (c.request.has_appointment_event()) events.push_back(&c);
  if (events.empty()) {
    judge_nothing_pushed(run,
                         {"R03-", "appointments", "appointment event", "reported no appointment event", "R03-008",
                          "an agenda with SAS-origin appointments it has not notified yet (for the reference plugin, "
                          "appointment rows with sas_origin = 1 and a regulator id, on a fresh copy of the agenda: it "
                          "remembers what it notified in appointment_notification)"},
                         declared, waited);
    return;
  }
  if (run.selected("R03-008")) run.ran("R03-008");
  for (const char* id : {"R03-001", "R03-003", "R03-004", "R03-005", "R03-006", "R03-007"})
    if (run.selected(id)) run.ran(id);

  std::map<std::string, std::string> first_type;                 // appointment key -> its first accepted event
  std::map<std::string, std::set<std::string>> systems_of;       // appointment id -> systems seen
  std::map<std::string, std::set<std::string>> keys_of_booking;  // practitioner|start|created -> keys
  bool validated = false, validated_sos = false;                 // a FrAppointmentSAS, a sas-sos-appointment
  int n = 0;
  for (const RecordedCall* call : events) {
    const v1::AppointmentEvent& e = call->request.appointment_event().event();
    const std::string label = "appointment_event #" + std::to_string(++n) + " (" + std::string(type_name(e.type())) +
                              ", " + (e.appointment_id().empty() ? std::string("no id") : key_of(e)) + ")";
    if (!call->result.ok()) {
      run.fail({"R03-001", label, "", "refused by the host: " + call->result.message});
    }
    // The regulator: a prefixed IDNPS or an INTRN UUID.
    if (e.regulator_id().empty()) {
      run.fail({"R03-005", label, "regulator_id", "no regulator: the platform must know which regulator booked"});
    } else if (e.regulator_id_type() == v1::REGULATOR_ID_INTRN) {
      if (!is_uuid(e.regulator_id()))
        run.fail({"R03-005", label, "regulator_id",
                  "INTRN '" + e.regulator_id() + "' is not a UUID (the SAS technical id received through INT_R02)"});
    } else {
      auto id = sas::sdk::ids::normalize_practitioner_id(e.regulator_id());
      if (!id || id->prefixed != e.regulator_id())
        run.fail({"R03-005", label, "regulator_id",
                  "IDNPS '" + e.regulator_id() + "' is not a prefixed national id (8+RPPS or 0+ADELI)" +
                      (id ? ": send " + id->prefixed : std::string())});
    }
    // The one it is with: a practitioner, or for SOS Médecins the association (no practitioner named).
    std::string error;
    if (!e.sos_association_siret().empty()) {
      if (!sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret, e.sos_association_siret(),
                                                 &error))
        run.fail({"R03-006", label, "sos_association_siret", "'" + e.sos_association_siret() + "': " + error});
      if (!e.practitioner_national_id().empty())
        run.fail({"R03-006", label, "practitioner_national_id",
                  "an SOS Médecins appointment names its association, not a practitioner ('" +
                      e.practitioner_national_id() + "')"});
    } else if (!sas::sdk::ids::normalize_practitioner_id(e.practitioner_national_id(), &error)) {
      run.fail({"R03-006", label, "practitioner_national_id", "'" + e.practitioner_national_id() + "': " + error});
    }
    if (e.created_time() > 0 && e.start_time() > 0 && e.created_time() > e.start_time())
      run.fail({"R03-007", label, "created_time", "booked after the appointment's start"});

    systems_of[e.appointment_id()].insert(e.appointment_system());
    keys_of_booking[e.practitioner_national_id() + e.sos_association_siret() + "|" + std::to_string(e.start_time()) +
                    "|" + std::to_string(e.created_time())]
        .insert(key_of(e));
    if (!call->result.ok()) continue;
    // What the platform would receive: the host's FrAppointmentSAS (sas-sos-appointment) for the event.
    const auto [first, inserted] = first_type.emplace(key_of(e), std::string(type_name(e.type())));
    if (inserted && e.type() != v1::APPOINTMENT_BOOKED)
      run.fail({"R03-004", label, "type",
                "the first event of " + key_of(e) + " is `" + first->second +
                    "`: the platform never had its booking (if an earlier run notified it, run on a fresh copy of "
                    "the agenda)"});
    std::string why;
    auto event = appointment_notifications::from_proto(e, &why);
    if (!event) continue;
    (void)appointment_notifications::check(*event);
    const boost::json::value resource(appointment_notifications::build_resource(*event));
    auto findings = check_profiles(run.catalogue(), profiles, resource, label);
    (e.sos_association_siret().empty() ? validated : validated_sos) = true;
    if (!findings.empty()) {
      run.document(label, resource);
      for (const auto& f : findings) run.fail({"R03-002", label, f.path, f.check_id + ": " + f.message});
      run.add(findings);
    }
  }
  for (const auto& [id, systems] : systems_of) {
    if (systems.size() > 1) {
      std::string list;
      for (const auto& s : systems) list += (list.empty() ? "" : ", ") + s;
      run.fail({"R03-003", "host calls", "", "appointment id '" + id + "' under several systems: " + list});
    }
  }
  for (const auto& [booking, keys] : keys_of_booking) {
    if (keys.size() > 1) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      run.fail(
          {"R03-003", "host calls", "",
           "one booking (practitioner, start and creation time " + booking + ") under several identifiers: " + list});
    }
  }
  if ((validated || validated_sos) && run.selected("R03-002")) run.ran("R03-002");
  for (const auto& c : run.catalogue().checks())
    if ((validated && c.id.starts_with("R03-PROFILE-APPOINTMENT-")) ||
        (validated_sos && c.id.starts_with("R03-PROFILE-SOS-APPOINTMENT-")))
      run.ran(c.id);
}

void check_consultations(Run& run, const std::vector<RecordedCall>& calls, sas::host::plugin_loader::Plugin& plugin,
                         bool declared, const std::string& billing_unavailable, double waited) {
  std::vector<const RecordedCall*> reports;
  for (const auto& c : calls)
    if (c.request.has_report_consultation()) reports.push_back(&c);
  if (reports.empty()) {
    judge_nothing_pushed(run,
                         {"BILL-", "sas-billing", "consultation", "reported no consultation", "BILL-003",
                          "an honoured (fulfilled) SAS-origin appointment with its consultation that it has not "
                          "reported yet (for the reference plugin, a consultation row of such an appointment with "
                          "reported_at empty, on a fresh copy of the agenda)"},
                         declared, waited);
    return;
  }
  if (!billing_unavailable.empty()) {
    note_all(run, "BILL-", "the host could not judge consultations: " + billing_unavailable);
    return;
  }
  if (run.selected("BILL-003")) run.ran("BILL-003");
  if (run.selected("BILL-001")) run.ran("BILL-001");
  if (!declared) {
    run.note("BILL-002", "the manifest does not declare `sas-billing`: the host sends it no apply_billing_decision");
  } else if (run.selected("BILL-002")) {
    run.ran("BILL-002");
  }
  int n = 0;
  for (const RecordedCall* call : reports) {
    const v1::Consultation& c = call->request.report_consultation().consultation();
    const std::string label = "report_consultation #" + std::to_string(++n) + " (" +
                              (c.consultation_id().empty() ? std::string("no id") : c.consultation_id()) + ")";
    if (!call->result.ok()) {
      run.fail({"BILL-001", label, "", "refused by the host: " + call->result.message});
      continue;
    }
    if (!declared || !run.selected("BILL-002")) continue;
    v1::PluginRequest request;
    *request.mutable_apply_billing_decision()->mutable_decision() = call->response.report_consultation().decision();
    v1::PluginResponse response;
    const auto result = plugin.call(request, response, std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!result.ok())
      run.fail({"BILL-002", label, "",
                "apply_billing_decision answered " + std::to_string(result.status) + ": " + result.message});
  }
}

// 2020-01-01T00:00:00Z: no SAS doctor chose anything earlier (SET-004).
constexpr int64_t kSasEpoch = 1577836800;

// What one doctor-settings call says of its practitioner, phone, time and rule, each fault under the
// check that names it (SET-002 to SET-005), judged on the request so that a call refused for that
// reason fails that check and no other. Empty: nothing the specific checks name.
std::vector<Finding> settings_faults(const RecordedCall& call, const std::string& label, int64_t host_now) {
  const v1::HostRequest& r = call.request;
  std::vector<Finding> out;
  const std::string* practitioner = nullptr;
  switch (r.method_case()) {
    case v1::HostRequest::kGetDoctorSettings:
      practitioner = &r.get_doctor_settings().practitioner_national_id();
      break;
    case v1::HostRequest::kSetDoctorSettings:
      practitioner = &r.set_doctor_settings().practitioner_national_id();
      break;
    case v1::HostRequest::kListPublicationRules:
      practitioner = &r.list_publication_rules().practitioner_national_id();
      break;
    case v1::HostRequest::kAddPublicationRule:
      practitioner = &r.add_publication_rule().practitioner_national_id();
      break;
    case v1::HostRequest::kRemovePublicationRule:
      practitioner = &r.remove_publication_rule().practitioner_national_id();
      break;
    default:
      break;  // explain_publication names the agenda's practitioners, as a search answer does
  }
  std::string error;
  if (practitioner && !sas::sdk::ids::normalize_practitioner_id(*practitioner, &error))
    out.push_back({"SET-002", label, "practitioner_national_id", "'" + *practitioner + "': " + error});
  if (r.has_set_doctor_settings()) {
    const v1::SetDoctorSettingsRequest& set = r.set_doctor_settings();
    error.clear();
    if (set.has_phone() && !set.phone().empty() && !sas::sdk::phone::to_plus33(set.phone(), &error))
      out.push_back({"SET-003", label, "phone", "'" + set.phone() + "': " + error});
    const int64_t at = set.effective_at();
    const auto when = [](int64_t seconds) {
      return sas::sdk::datetime::format_utc(sas::sdk::datetime::Instant(std::chrono::seconds(seconds)), false);
    };
    if (at < 0) {
      out.push_back({"SET-004", label, "effective_at", std::to_string(at) + " is negative: UTC seconds, 0 for now"});
    } else if (at > host_now) {
      out.push_back({"SET-004", label, "effective_at",
                     std::to_string(at) +
                         (at > 100 * host_now ? std::string(" (milliseconds, not seconds?)") : " (" + when(at) + ")") +
                         " is after the host's clock, " + when(host_now) +
                         ": a change cannot take effect in the future. Send when the doctor chose, in UTC seconds "
                         "(Host::now() is the host's clock; if your test data holds real changes later than --now, "
                         "run with a later --now)"});
    } else if (at > 0 && at < kSasEpoch) {
      out.push_back({"SET-004", label, "effective_at",
                     std::to_string(at) + " (" + when(at) +
                         ") is before 2020, before SAS: a unit error (days, minutes) or a local time?"});
    }
  }
  if (r.has_add_publication_rule() && !call.result.ok() && call.result.message.starts_with("conflict: "))
    out.push_back({"SET-005", label, "rule_json", r.add_publication_rule().rule_json() + ": " + call.result.message});
  return out;
}

std::string_view settings_method_name(const v1::HostRequest& request) {
  switch (request.method_case()) {
    case v1::HostRequest::kGetDoctorSettings:
      return "get_doctor_settings";
    case v1::HostRequest::kSetDoctorSettings:
      return "set_doctor_settings";
    case v1::HostRequest::kListPublicationRules:
      return "list_publication_rules";
    case v1::HostRequest::kAddPublicationRule:
      return "add_publication_rule";
    case v1::HostRequest::kRemovePublicationRule:
      return "remove_publication_rule";
    default:
      return "explain_publication";
  }
}

void check_doctor_settings(Run& run, const std::vector<RecordedCall>& calls, bool declared,
                           std::chrono::system_clock::time_point host_now, double waited) {
  std::vector<const RecordedCall*> settings;
  for (const auto& c : calls)
    if (is_settings_call(c.request)) settings.push_back(&c);
  if (settings.empty()) {
    judge_nothing_pushed(
        run,
        {"SET-", "doctor-settings", "doctor-settings host call", "made no doctor-settings host call", "SET-006",
         "a doctor's settings change or publication rule it has not pushed yet (for the reference "
         "plugin, a row of sas_doctor_settings_change or sas_publication_rule_request with pushed_at "
         "empty, on a fresh copy of the agenda)"},
        declared, waited);
    return;
  }
  for (const char* id : {"SET-001", "SET-002", "SET-003", "SET-004", "SET-005", "SET-006"})
    if (run.selected(id)) run.ran(id);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(host_now.time_since_epoch()).count();
  int n = 0;
  for (const RecordedCall* call : settings) {
    std::string label = std::string(settings_method_name(call->request)) + " #" + std::to_string(++n);
    auto faults = settings_faults(*call, label, now);
    for (auto& f : faults) {
      if (!call->result.ok() && f.check_id != "SET-005") f.message += "; the host refused it: " + call->result.message;
      run.fail(std::move(f));
    }
    if (!call->result.ok() && faults.empty())
      run.fail({"SET-001", label, "",
                std::string("refused by the host (") + sas::host::plugin_loader::status_name(call->result.status) +
                    "): " + call->result.message});
  }
}

}  // namespace

void check_host_calls(Run& run, const ProfileSet& profiles, const std::vector<RecordedCall>& calls,
                      sas::host::plugin_loader::Plugin& plugin, HostCallFlows declared,
                      const std::string& billing_unavailable, std::chrono::system_clock::time_point host_now,
                      double waited) {
  check_appointment_events(run, profiles, calls, declared.appointments, waited);
  check_consultations(run, calls, plugin, declared.billing, billing_unavailable, waited);
  check_doctor_settings(run, calls, declared.settings, host_now, waited);
}

}  // namespace sas::conformance::tool
