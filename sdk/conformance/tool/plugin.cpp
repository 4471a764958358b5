// sas-conformance plugin: loads a vendor plugin in process through the host's own machinery
// (plugin_loader, slot_search, sos_search, the fhir_server::FhirEndpoint that `sas-host serve` puts
// behind its HTTPS server) and runs the same scenarios as endpoint mode on what the host would emit,
// without network or TLS. In addition it checks the plugin's own answers (INT_R01, INT_R04, SOS) for what
// the host had to repair or drop (its build warnings): data the platform would never see. The host is built by the
// runtime, as serve builds it, so the plugin's host calls are answered by the real flows; they are
// recorded and checked (R03-* appointment events, BILL-* consultations, SET-* doctor settings and
// publication rules; host_calls.hpp).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/util/json_util.h>

#include <boost/json.hpp>

#include <chrono>
#include <iostream>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/host/sos_search/service.hpp>
#include <sas/sdk/datetime.hpp>

#include "host_calls.hpp"
#include "options.hpp"
#include "tool.hpp"

namespace sas::conformance::tool {

namespace fs = std::filesystem;
namespace v1 = sas::plugin::v1;
using sas::cli::parse_options;

namespace {

constexpr const char* kBase = "https://sas-conformance.invalid/sas";

// The host's fhir_server::FhirEndpoint, called as its HTTPS server calls it for an authenticated platform.
class InProcessTransport : public Transport {
 public:
  explicit InProcessTransport(std::shared_ptr<const sas::host::fhir_server::FhirEndpoint> endpoint)
      : endpoint_(std::move(endpoint)) {}

  HttpReply send(const std::string& method, const std::string& target, const std::string& body) override {
    sas::host::server::Request request;
    request.method = method;
    request.target = "/sas" + target;
    request.headers = {{"Host", "sas-conformance.invalid"}, {"Accept", "application/fhir+json"}};
    if (method != "GET") request.headers.emplace_back("Content-Type", "application/fhir+json");
    request.body = body;
    request.tls = true;
    request.client = {"sas.sante.fr", "SAS"};
    request.remote = "sas-conformance";
    const auto t0 = std::chrono::steady_clock::now();
    sas::host::server::Response response = endpoint_->handle(request);
    HttpReply r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.transport_ok = true;
    r.status = response.status;
    r.content_type = response.content_type;
    r.body = std::move(response.body);
    for (auto [name, value] : response.headers) {
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(name), std::move(value));
    }
    return r;
  }

 private:
  std::shared_ptr<const sas::host::fhir_server::FhirEndpoint> endpoint_;
};

// Blank strings anywhere in the plugin's answer (an empty element the host must drop).
void blank_strings(const google::protobuf::Message& m, const std::string& path, std::vector<std::string>& out) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  auto blank = [](const std::string& s) { return !s.empty() && s.find_first_not_of(" \t\r\n") == std::string::npos; };
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    const std::string here = path + (path.empty() ? "" : ".") + f->name();
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        const std::string item = here + "[" + std::to_string(j) + "]";
        if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
          std::string s = r->GetRepeatedString(m, f, j);
          if (s.empty() || blank(s)) out.push_back(item);
        } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
          blank_strings(r->GetRepeatedMessage(m, f, j), item, out);
        }
      }
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      if (blank(r->GetString(m, f))) out.push_back(here);
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE && r->HasField(m, f)) {
      blank_strings(r->GetMessage(m, f), here, out);
    }
  }
}

// Which check a host build warning belongs to (see host/slot_search/src/bundle.cpp).
const char* check_of_warning(const std::string& w) {
  auto has = [&w](const char* s) { return w.find(s) != std::string::npos; };
  if (has("invalid national id") || has("FINESS, SIRET or RPPS-rang")) return "R01-FAQ-01";
  if (has("phone not sent")) return "R01-FAQ-02";
  if (has("unknown place") || has("unknown practitioner")) return "R01-FAQ-07";
  if (has("was not asked for")) return "R01-FAQ-08";
  if (has("all required") || has("has no name") || has("empty id")) return "R01-FAQ-10";
  if (has("more than once")) return "R01-BUNDLE-005";
  return "R01-FAQ-10";
}

// What the host made of the plugin's own answer to one search (one of the host's search results,
// with its build report): an error fails `query_check`; the answer is kept for the HTML report, its
// blank strings fail `blank_check`, each build warning (what the host had to repair or drop) the
// check `check_of` says it belongs to.
template <typename Result>
void judge_plugin_answer(Run& run, const std::string& label, const char* query_check, const Result& result,
                         const google::protobuf::Message& answer, const char* blank_check,
                         const char* (*check_of)(const std::string&)) {
  if (!result.ok()) {
    run.fail({query_check, label, "",
              "the plugin answered an error: " + sas::host::fhir::diagnostics_of(result.error->outcome)});
    return;
  }
  // The answer as JSON (proto field names: the same paths as the findings), for the HTML report.
  std::string answer_json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (google::protobuf::util::MessageToJsonString(answer, &answer_json, print).ok())
    run.document(label, boost::json::parse(answer_json));
  std::vector<std::string> blanks;
  blank_strings(answer, "", blanks);
  for (const auto& path : blanks)
    run.fail({blank_check, label, path, "empty or blank string in the plugin's answer (leave the field unset)"});
  for (const auto& w : result.report.warnings) run.fail({check_of(w), label, "", "host had to repair: " + w});
}

sas::host::slot_search::SearchService::Deadline plugin_deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

// The plugin's own answer to the platform's query, through the host's Bundle builder.
void check_plugin_answer(Run& run, const sas::host::slot_search::SearchService& search,
                         const ScenarioOptions& options) {
  if (options.progress) options.progress("plugin answer: what the host had to repair or drop");
  auto parsed = sas::host::slot_search::parse_slot_query(
      slot_query(options.practitioners, options.now, options.now + options.window));
  const auto* query = std::get_if<sas::host::slot_search::ParsedSlotQuery>(&parsed);
  if (!query) return;
  v1::PluginResponse response;
  // The host's one search path, as GET [base]/Slot runs it; its report has the build warnings.
  const auto result = search.search(*query, response, plugin_deadline());
  judge_plugin_answer(run, "plugin answer to R01-QUERY-001", "R01-QUERY-001", result, response.search_slots(),
                      "R01-FAQ-10", check_of_warning);
}

// Which check a warning of the host's Bundle builder on a CPTS answer belongs to: the CPTS ones
// (host/slot_search/src/bundle.cpp), else as for INT_R01.
const char* cpts_check_of_warning(const std::string& w) {
  auto has = [&w](const char* s) { return w.find(s) != std::string::npos; };
  if (has("CPTS entry has an invalid FINESS") || has(": CPTS not sent:")) return "R04-CPTS-007";
  if (has("more than once in the CPTS list")) return "R04-CPTS-005";
  if (has("names CPTS but is not open to CPTS")) return "R04-CPTS-003";
  if (has("is open to CPTS but names no valid CPTS FINESS")) return "R04-CPTS-002";
  if (has("not in the plugin's CPTS list")) return "R04-CPTS-008";
  if (w.starts_with("CPTS ") && has("phone not sent")) return "R04-CPTS-009";
  return check_of_warning(w);
}

// The plugin's own answer to the platform's CPTS query (INT_R04), through the host's Bundle builder.
void check_plugin_cpts_answer(Run& run, const sas::host::slot_search::SearchService& search,
                              const ScenarioOptions& options) {
  std::vector<std::string> ids = options.cpts_practitioners;
  if (!options.cpts_two.empty()) ids.push_back(options.cpts_two);
  if (!search.cpts_offered() || ids.empty() || !run.any_selected("R04-")) return;
  if (options.progress) options.progress("plugin answer to the CPTS search: what the host had to repair or drop");
  auto parsed = sas::host::slot_search::parse_slot_query(cpts_query(ids, options.now, options.now + options.window));
  const auto* query = std::get_if<sas::host::slot_search::ParsedSlotQuery>(&parsed);
  if (!query) return;
  v1::PluginResponse response;
  const auto result = search.search(*query, response, plugin_deadline());
  judge_plugin_answer(run, "plugin answer to R04-QUERY-001", "R04-QUERY-001", result, response.search_slots(),
                      "R01-FAQ-10", cpts_check_of_warning);
}

// Which SOS check a warning of the host's SOS Bundle builder belongs to (host/sos_search/src/bundle.cpp).
const char* sos_check_of_warning(const std::string& w) {
  auto has = [&w](const char* s) { return w.find(s) != std::string::npos; };
  if (has("appears more than once")) return "SOS-BUNDLE-015";
  if (has("association SIRET") || has("which was not asked for") || w.starts_with("association \""))
    return "SOS-BUNDLE-009";
  if (has("refers to unknown place")) return "SOS-BUNDLE-006";
  if (has("does not end after it starts")) return "SOS-BUNDLE-004";
  if (has("phone not sent")) return "SOS-BUNDLE-011";
  if (has("has no name in the agenda's answer")) return "SOS-BUNDLE-012";
  return "SOS-BUNDLE-014";  // data left out: an empty id or name, an unreadable opening, an incomplete address
}

// The plugin's own answer to the platform's SOS query, through the host's SOS Bundle builder.
void check_plugin_sos_answer(Run& run, const sas::host::sos_search::SosSearchService& sos,
                             const ScenarioOptions& options) {
  if (!sos.supported() || options.sos_sirets.empty() || !run.any_selected("SOS-")) return;
  if (options.progress) options.progress("plugin answer to the SOS search: what the host had to repair or drop");
  v1::PluginResponse response;
  const auto result =
      sos.search(sos_query(options.sos_sirets, options.now, options.now + options.window), response, plugin_deadline());
  judge_plugin_answer(run, "plugin answer to SOS-QUERY-001", "SOS-QUERY-001", result, response.search_sos_slots(),
                      "SOS-BUNDLE-014", sos_check_of_warning);
}

}  // namespace

int plugin(const Args& args) {
  po::options_description options("plugin options");
  options.add_options()("plugin", po::value<std::string>()->required(), "the vendor plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin's init")(
      "plugin-isolation", po::value<std::string>()->default_value("in-process"),
      "in-process, or process: the plugin in runner processes as `sas-host serve --plugin-isolation process` runs "
      "it, so that a plugin that crashes or hangs fails its checks instead of ending the run")(
      "host-calls-wait", po::value<double>()->default_value(10.0),
      "seconds the plugin has, from its init, to make the host calls of the flows it declares (appointments, "
      "sas-billing, doctor-settings); the run goes on as soon as each declared flow was seen and the plugin is quiet "
      "for 1 s");
  add_run_options(options);
  add_data_options(options);
  po::positional_options_description positional;
  positional.add("plugin", 1);
  int exit_code = 0;
  auto vm = parse_options("sas-conformance plugin",
                          "PATH [--plugin-config S] [--plugin-isolation process] --practitioners ID,... [--now T] "
                          "[--cpts-practitioners ID,... [--cpts-two-cpts ID]] [--sos-sirets SIRET,...] "
                          "[--host-calls-wait S] [--only ID...] [--skip ID...] "
                          "[--json F] [--junit F] [--html F]",
                          options, args, exit_code, &positional);
  if (!vm) return exit_code;
  const auto& v = *vm;
  auto context = load_context(v);
  auto scenario = scenario_options(v, context);
  auto run = make_run(v, context);
  for (const auto& c : context.catalogue->checks())
    if (c.group == "TLS") run->note(c.id, "endpoint mode only");

  // A throw-away store for the INT_R02 audit rows.
  const fs::path work = fs::temp_directory_path() / ("sas-conformance-" + std::to_string(::getpid()));
  fs::create_directories(work);
  int code = 1;
  try {
    const auto t0 = std::chrono::steady_clock::now();
    // The host as `sas-host serve` builds it (host/runtime), over a throw-away store; every host
    // call the plugin makes goes through the recorder to the runtime's router.
    const double wait = v["host-calls-wait"].as<double>();
    if (!(wait >= 0 && wait <= 3600)) throw std::invalid_argument("--host-calls-wait: 0 to 3600 seconds");
    HostCallRecorder recorder;
    sas::host::runtime::RuntimeOptions host_options;
    host_options.wrap_host_calls = [&recorder](sas::host::runtime::HostCallHandler inner) {
      return recorder.wrap(std::move(inner));
    };
    host_options.plugin = v["plugin"].as<std::string>();
    host_options.plugin_config = v["plugin-config"].as<std::string>();
    if (const auto& mode = v["plugin-isolation"].as<std::string>(); mode == "process") {
      host_options.isolation.emplace();
    } else if (mode != "in-process") {
      throw std::invalid_argument("--plugin-isolation '" + mode + "': expected in-process or process");
    }
    host_options.store = "sqlite:" + (work / "store.db").string();
    host_options.endpoint = sas::host::runtime::EndpointOptions{kBase, "", std::chrono::milliseconds(4000)};
    host_options.plugin_log = [](int32_t, std::string_view) {};
    host_options.now = [now = scenario.now] { return std::chrono::system_clock::time_point(now); };
    auto host = sas::host::runtime::Runtime::build(std::move(host_options));
    const auto& plugin = host->plugin();
    run->info("mode", "plugin");
    run->info("plugin", plugin->manifest().name + " " + plugin->manifest().version);
    run->info("isolation", plugin->isolation());
    run->info("now", sas::sdk::datetime::format_utc(scenario.now));
    describe_test_data(*run, scenario);
    auto endpoint = host->endpoint();
    InProcessTransport transport(endpoint);
    run_search_scenarios(*run, transport, *context.profiles, scenario);
    if (run->selected("R01-FAQ-10") || run->any_selected("R01-FAQ-"))
      check_plugin_answer(*run, endpoint->search(), scenario);
    run_cpts_scenarios(*run, transport, *context.profiles, scenario);
    check_plugin_cpts_answer(*run, endpoint->search(), scenario);
    run_sos_scenarios(*run, transport, *context.profiles, scenario);
    check_plugin_sos_answer(*run, endpoint->sos_search(), scenario);
    run_account_scenarios(*run, transport, *context.profiles, scenario);
    run_latency(*run, transport, scenario);
    // The plugin's host calls: what it pushed while the scenarios ran, and up to --host-calls-wait.
    HostCallFlows declared;
    declared.appointments = plugin->manifest().declares_flow("appointments") && run->any_selected("R03-");
    declared.billing = plugin->manifest().declares_flow("sas-billing") && run->any_selected("BILL-");
    declared.settings = plugin->manifest().declares_flow("doctor-settings") && run->any_selected("SET-");
    if (declared.appointments || declared.billing || declared.settings) {
      if (scenario.progress) scenario.progress("host calls: letting the plugin push (at most --host-calls-wait)");
      wait_for_host_calls(
          recorder, declared,
          t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(wait)));
    }
    check_host_calls(*run, *context.profiles, recorder.calls(), *plugin, declared, host->billing_unavailable(),
                     std::chrono::system_clock::time_point(scenario.now), wait);
    run->timing("run.seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    code = finish(v, context, *run);
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
  fs::remove_all(work);
  return code;
}

}  // namespace sas::conformance::tool
