// The host's one plugin-status -> HTTP mapping and the HTTPS server's FHIR error renderer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "sas/host/fhir/http.hpp"
#include "sas/host/fhir/plugin_failure.hpp"

namespace {

namespace fhir = sas::host::fhir;

TEST(ServerErrorRenderer, EscapesQuotesAndBackslashes) {
  const std::string message = R"(a "quoted" C:\path and a \ backslash)";
  const auto response = fhir::render_server_error(500, message);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.content_type, "application/fhir+json");
  const auto outcome = boost::json::parse(response.body).as_object();  // throws if not valid JSON
  EXPECT_EQ(outcome.at("resourceType"), "OperationOutcome");
  const auto& issue = outcome.at("issue").as_array().at(0).as_object();
  EXPECT_EQ(issue.at("code"), "exception");
  EXPECT_EQ(issue.at("diagnostics").as_string(), message);
  for (const int status : {413, 414, 431})
    EXPECT_THAT(fhir::render_server_error(status, "x").body, testing::HasSubstr("too-long")) << status;
  EXPECT_THAT(fhir::render_server_error(408, "x").body, testing::HasSubstr("\"timeout\""));
}

TEST(PluginFailure, OneStatusPerPluginStatus) {
  struct Case {
    sas_status status;
    unsigned http;
    const char* code;
  };
  for (const auto& c : std::vector<Case>{{SAS_ERR_INVALID_ARGUMENT, 400, "invalid"},
                                         {SAS_ERR_NOT_FOUND, 404, "not-found"},
                                         {SAS_ERR_ALREADY_EXISTS, 409, "conflict"},
                                         {SAS_ERR_UNIMPLEMENTED, 501, "not-supported"},
                                         {SAS_ERR_UNAVAILABLE, 503, "transient"},
                                         {SAS_ERR_CANCELLED, 503, "transient"},
                                         {SAS_ERR_DEADLINE_EXCEEDED, 504, "timeout"},
                                         {SAS_ERR_INTERNAL, 502, "exception"},
                                         {SAS_ERR_INIT_FAILED, 502, "exception"},
                                         {99, 502, "exception"}}) {
    const auto error = fhir::plugin_failure(c.status, R"(why "not")");
    EXPECT_EQ(error.status, c.http) << c.status;
    const auto& issue = error.outcome.at("issue").as_array().at(0).as_object();
    EXPECT_EQ(issue.at("code"), c.code) << c.status;
    const std::string diagnostics(issue.at("diagnostics").as_string());
    EXPECT_THAT(diagnostics, testing::EndsWith(R"(: why "not")"));
    EXPECT_EQ(fhir::diagnostics_of(error.outcome), diagnostics);
  }
  EXPECT_EQ(fhir::bad_plugin_answer("no id").status, 502U);
}

}  // namespace
