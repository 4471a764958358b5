// The host's side of the INT_R03 host call (HostRequest.appointment_event, ABI 1.3): the event
// goes to the durable outbox, on disk before the answer. The runtime registers it with the host
// call router for HostRequest::kAppointmentEvent.
//   InvalidEvent      -> SAS_ERR_INVALID_ARGUMENT (never acceptable as it is; the message lists
//                        the problems, nothing recorded)
//   anything else     -> SAS_ERR_UNAVAILABLE (not recorded: the plugin reports it again)
#pragma once

#include <sas/plugin/v1/plugin.pb.h>

#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/plugin_loader/plugin.hpp>

namespace sas::host::appointment_notifications {

plugin_loader::CallResult report_appointment_event(Outbox& outbox, const sas::plugin::v1::HostRequest& request,
                                                   sas::plugin::v1::HostResponse& response);

}  // namespace sas::host::appointment_notifications
