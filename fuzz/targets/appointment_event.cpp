// INT_R03: an appointment event file or admin API body (one event or an array) as
// `sas-host appointment-event --json` and POST /admin/v1/appointment-events read it, then what the
// outbox does with each event before it stores it: check, key, event JSON, FHIR resource. The
// resource of a checked event must be valid against the profile it declares (FrAppointmentSAS,
// or its SOS form), and the stored event JSON must read back as the same checked event.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sas/conformance/profile_validator.hpp"
#include "sas/host/appointment_notifications/event.hpp"
#include "sas/host/fhir/json.hpp"

namespace an = sas::host::appointment_notifications;
namespace json = boost::json;

namespace {

const sas::conformance::ProfileSet& profiles() {
  static const auto set = sas::conformance::ProfileSet::load(sas::fuzz::ig_dir());
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  (void)profiles();  // loaded before the first input, not counted against it
  boost::system::error_code ec;
  const json::value value = json::parse(sas::fuzz::text(data, size), ec);
  if (ec) return 0;
  std::vector<std::string> errors;
  std::vector<an::Event> events = an::events_from_json(value, &errors);
  for (const auto& error : errors) sas::fuzz::note("refused: " + error);
  sas::fuzz::require(events.empty() != errors.empty() || (events.empty() && value.is_array()),
                     "events_from_json returned events and problems, or neither");
  for (an::Event& event : events) {
    if (const auto problems = an::check(event); !problems.empty()) {
      sas::fuzz::note("refused: " + problems.front());
      continue;  // the outbox refuses it: InvalidEvent, a 400
    }
    sas::fuzz::note("checked: " + an::appointment_key(event));
    (void)an::appointment_key(event);
    const std::string event_json = json::serialize(an::to_json(event));
    const json::value resource = json::parse(sas::host::fhir::serialize(an::build_resource(event)));
    const auto issues = profiles().validate_declared(resource);
    if (!issues.empty()) {
      std::string report = "the Appointment of a checked event is invalid:\n" + json::serialize(resource) + "\n";
      for (const auto& issue : issues) report += "  " + sas::conformance::to_string(issue) + "\n";
      sas::fuzz::finding(report);
    }
    std::vector<std::string> problems;
    auto again = an::from_json(json::parse(event_json), &problems);
    sas::fuzz::require(again.has_value(), "the stored event JSON does not read back: " + event_json);
    sas::fuzz::require(an::check(*again).empty(),
                       "the stored event JSON reads back as an invalid event: " + event_json);
    sas::fuzz::require(json::serialize(an::to_json(*again)) == event_json,
                       "the stored event JSON reads back as another event: " + event_json);
  }
  return 0;
}
