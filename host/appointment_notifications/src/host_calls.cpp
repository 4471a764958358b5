#include <sas/host/appointment_notifications/host_calls.hpp>

#include <exception>

namespace sas::host::appointment_notifications {

plugin_loader::CallResult report_appointment_event(Outbox& outbox, const sas::plugin::v1::HostRequest& request,
                                                   sas::plugin::v1::HostResponse& response) {
  try {
    const Reported reported = outbox.report(request.appointment_event().event());
    auto& answer = *response.mutable_appointment_event();
    answer.set_outbox_id(reported.outbox_id);
    answer.set_sequence(reported.sequence);
    return {};
  } catch (const InvalidEvent& e) {
    response.Clear();
    return {SAS_ERR_INVALID_ARGUMENT, e.what()};  // never acceptable as it is
  } catch (const std::exception& e) {
    response.Clear();
    return {SAS_ERR_UNAVAILABLE, e.what()};  // not recorded: the plugin reports it again
  }
}

}  // namespace sas::host::appointment_notifications
