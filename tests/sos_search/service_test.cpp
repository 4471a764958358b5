// The SOS Médecins service over real loaded plugins (in this process): a plugin that does not
// declare sos-search (the vendor template) is refused before anything else, and every outcome of
// one that does (tests/sos_search/plugins/sos_scripted_plugin.cpp) gets the host's one mapping.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "bundle_view.hpp"
#include "sas/host/fhir/plugin_failure.hpp"
#include "sas/host/plugin_loader/plugin.hpp"
#include "sas/host/sos_search/service.hpp"
#include "sas_test/support.hpp"

namespace sos = sas::host::sos_search;
namespace v1 = sas::plugin::v1;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string target(const std::string& sirets) {
  return "/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization"
         "&_has:Slot:schedule:start=ge2026-03-02T08:00:00%2B01:00&_has:Slot:schedule:start=le2026-03-04T08:00:00%2B01:"
         "00&_has:Slot:schedule:status=free&actor:Location.organization.identifier=" +
         sirets;
}

std::shared_ptr<sas::host::plugin_loader::Plugin> load(const std::string& name) {
  sas::host::plugin_loader::HostServices services;
  services.log = [](int32_t, std::string_view) {};
  return sas::host::plugin_loader::PluginInstance::load(sas::test::test_plugin(name), "", services);
}

struct Logged {
  std::mutex mutex;
  std::vector<std::string> lines;
  bool has(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

sos::SosSearchServiceOptions options(Logged& logged) {
  sos::SosSearchServiceOptions o;
  o.base_url = "https://vendor.example/fhir";
  o.place_identifier_system = "urn:oid:1.2.3";
  o.plugin_deadline = 2s;
  o.log = [&logged](std::string_view line) {
    std::lock_guard lock(logged.mutex);
    logged.lines.emplace_back(line);
  };
  return o;
}

std::string diagnostics(const sas::host::fhir::HttpError& e) { return sas::host::fhir::diagnostics_of(e.outcome); }

}  // namespace

TEST(SosService, APluginWithoutTheFlowIsRefusedWithTheReason) {
  Logged logged;
  const sos::SosSearchService service(load("template_agenda"), options(logged));
  EXPECT_FALSE(service.supported());
  EXPECT_NE(service.unsupported_reason().find("does not declare the flow sos-search"), std::string::npos);
  v1::PluginResponse answer;
  // Even a malformed request: the search is not offered at all.
  for (const std::string& t : {target("334173748400020"), std::string("/Schedule?foo=bar")}) {
    const auto result = service.search(t, answer);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error->status, 404u);
    EXPECT_EQ(result.error->outcome.at("issue").as_array()[0].at("code").as_string(), "not-supported");
    EXPECT_NE(diagnostics(*result.error).find("my-agenda does not declare the flow sos-search"), std::string::npos)
        << diagnostics(*result.error);
  }
  sas::host::server::Request request;
  request.method = "GET";
  request.target = target("334173748400020");
  const auto response = service.handle(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body).at("resourceType").as_string(), "OperationOutcome");
}

TEST(SosService, AnswersThroughThePluginWithTheHostsFiltering) {
  Logged logged;
  const sos::SosSearchService service(load("sos_scripted"), options(logged));
  ASSERT_TRUE(service.supported()) << service.unsupported_reason();
  v1::PluginResponse answer;
  // One SIRET unprefixed in the request: the plugin is asked with the prefixed form.
  const auto result = service.search(target("urn:oid:1.2.250.1.71.4.2.2|34173748400020,392080466300010"), answer);
  ASSERT_TRUE(result.ok()) << diagnostics(*result.error);
  ASSERT_EQ(answer.search_sos_slots().associations_size(), 2);
  EXPECT_EQ(answer.search_sos_slots().associations(0).siret(), "34173748400020") << "the plugin stripped the 3";
  const auto bundle = json::parse(result.bundle).as_object();
  EXPECT_EQ(bundle.at("total").as_int64(), 2) << "the slot after the window is the host's to drop";
  EXPECT_EQ(result.report.dropped_outside_window, 2u);
  std::vector<std::string> orgs;
  for (const auto* o : sas::test::bundle::resources(bundle, "Organization")) {
    orgs.push_back(std::string(o->at("identifier").as_array()[0].at("value").as_string()));
  }
  EXPECT_EQ(orgs, (std::vector<std::string>{"334173748400020", "392080466300010"}));
  // A second search warns nothing new (no data warnings here anyway), and the handler agrees.
  sas::host::server::Request request;
  request.method = "GET";
  request.target = target("334173748400020");
  const auto response = service.handle(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body).at("total").as_int64(), 1);
}

TEST(SosService, PluginFailuresGetTheHostsOneMapping) {
  Logged logged;
  const sos::SosSearchService service(load("sos_scripted"), options(logged));
  struct Case {
    const char* siret;
    unsigned status;
    const char* code;
    const char* words;
  };
  for (const auto& c : std::vector<Case>{{"300000000000011", 502, "exception", "the agenda plugin failed"},
                                         {"300000000000022", 503, "transient", "SOS agenda database is locked"},
                                         {"300000000000044", 400, "invalid", "cannot search that window"},
                                         {"300000000000055", 501, "not-supported", "SOS search switched off"}}) {
    v1::PluginResponse answer;
    const auto result = service.search(target(c.siret), answer);
    ASSERT_FALSE(result.ok()) << c.siret;
    EXPECT_EQ(result.error->status, c.status) << c.siret;
    EXPECT_EQ(result.error->outcome.at("issue").as_array()[0].at("code").as_string(), c.code) << c.siret;
    EXPECT_NE(diagnostics(*result.error).find(c.words), std::string::npos) << diagnostics(*result.error);
  }
  EXPECT_TRUE(logged.has("SOS search: the plugin answered SAS_ERR_UNAVAILABLE"));
}

TEST(SosService, TheDeadlineStopsThePlugin) {
  Logged logged;
  const sos::SosSearchService service(load("sos_scripted"), options(logged));
  v1::PluginResponse answer;
  const auto started = std::chrono::steady_clock::now();
  const auto result = service.search(target("300000000000033"), answer, std::chrono::system_clock::now() + 200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->status, 504u);
  EXPECT_LT(took, 1500ms);
  // The request's stop token too (the client went away).
  std::stop_source source;
  source.request_stop();
  const auto stopped = service.search(target("300000000000033"), answer, {}, source.get_token());
  ASSERT_FALSE(stopped.ok());
  EXPECT_GE(stopped.error->status, 500u);
}

TEST(SosService, ABadQueryNeverReachesThePlugin) {
  Logged logged;
  const sos::SosSearchService service(load("sos_scripted"), options(logged));
  v1::PluginResponse answer;
  // 300000000000011 would make the plugin throw: the 400 shows the plugin was not called.
  const auto result = service.search(target("300000000000011") + "&_sort=start", answer);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->status, 400u);
  EXPECT_EQ(answer.result_case(), v1::PluginResponse::RESULT_NOT_SET);
}
