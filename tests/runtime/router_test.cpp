// The router of host calls: one handler per HostRequest case, an unknown case answered
// SAS_ERR_UNIMPLEMENTED with its name, one registration per case, a handler's exception contained.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sas/host/runtime/host_call_router.hpp>
#include <stdexcept>

namespace {

namespace plugin_loader = sas::host::plugin_loader;

namespace v1 = sas::plugin::v1;
using sas::host::plugin_loader::CallResult;
using sas::host::runtime::HostCallRouter;
using testing::HasSubstr;

v1::HostRequest appointment_event() {
  v1::HostRequest request;
  request.mutable_appointment_event()->mutable_event()->set_appointment_id("A1");
  return request;
}

TEST(HostCallRouter, EachCaseGoesToItsOwnHandler) {
  HostCallRouter router;
  int events = 0;
  int settings = 0;
  router.on(v1::HostRequest::kAppointmentEvent, [&](const v1::HostRequest& request, v1::HostResponse& response) {
    ++events;
    response.mutable_appointment_event()->set_sequence(request.appointment_event().event().appointment_id() == "A1");
    return plugin_loader::CallResult{};
  });
  router.on({v1::HostRequest::kGetDoctorSettings, v1::HostRequest::kSetDoctorSettings},
            [&](const v1::HostRequest&, v1::HostResponse&) {
              ++settings;
              return plugin_loader::CallResult{SAS_ERR_NOT_FOUND, "no such doctor"};
            });
  v1::HostResponse response;
  EXPECT_TRUE(router.handle(appointment_event(), response).ok());
  EXPECT_EQ(response.appointment_event().sequence(), 1);
  v1::HostRequest get;
  get.mutable_get_doctor_settings()->set_practitioner_national_id("810100050075");
  const plugin_loader::CallResult refused = router.handle(get, response);
  EXPECT_EQ(refused.status, SAS_ERR_NOT_FOUND);
  EXPECT_EQ(refused.message, "no such doctor");
  EXPECT_EQ(events, 1);
  EXPECT_EQ(settings, 1);
  EXPECT_TRUE(router.answers(v1::HostRequest::kSetDoctorSettings));
  EXPECT_FALSE(router.answers(v1::HostRequest::kReportConsultation));
  EXPECT_EQ(router.methods().size(), 3U);
}

TEST(HostCallRouter, AnUnknownCaseIsUnimplementedAndNamed) {
  HostCallRouter router;
  v1::HostResponse response;
  const plugin_loader::CallResult result = router.handle(appointment_event(), response);
  EXPECT_EQ(result.status, SAS_ERR_UNIMPLEMENTED);
  EXPECT_THAT(result.message, HasSubstr("does not answer host method 17 (appointment_event)"));
  const plugin_loader::CallResult empty = router.handle(v1::HostRequest(), response);
  EXPECT_EQ(empty.status, SAS_ERR_UNIMPLEMENTED);
  EXPECT_THAT(empty.message, HasSubstr("without a method"));
}

TEST(HostCallRouter, OneHandlerPerCase) {
  HostCallRouter router;
  auto ok = [](const v1::HostRequest&, v1::HostResponse&) { return plugin_loader::CallResult{}; };
  router.on(v1::HostRequest::kReportConsultation, ok);
  EXPECT_THROW(router.on(v1::HostRequest::kReportConsultation, ok), std::logic_error);
  EXPECT_THROW(router.on(v1::HostRequest::METHOD_NOT_SET, ok), std::logic_error);
  EXPECT_THROW(router.on(v1::HostRequest::kAppointmentEvent, nullptr), std::logic_error);
}

TEST(HostCallRouter, AHandlersExceptionIsAnInternalErrorNotACrash) {
  HostCallRouter router;
  router.on(v1::HostRequest::kAppointmentEvent,
            [](const v1::HostRequest&, v1::HostResponse& response) -> plugin_loader::CallResult {
              response.mutable_appointment_event()->set_sequence(9);
              throw std::runtime_error("disk on fire");
            });
  v1::HostResponse response;
  const plugin_loader::CallResult result = router.handle(appointment_event(), response);
  EXPECT_EQ(result.status, SAS_ERR_INTERNAL);
  EXPECT_EQ(result.message, "appointment_event: disk on fire");
  EXPECT_FALSE(response.has_appointment_event());
}

}  // namespace
