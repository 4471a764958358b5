// sas-conformance: options, data loading and reports shared by the subcommands, and the
// subcommands that need no target (catalogue, requirements, validate, pki).
#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sas/pki/test_pki.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sstream>

#include "options.hpp"
#include "tool.hpp"

namespace sas::conformance::tool {

namespace fs = std::filesystem;
namespace json = boost::json;
using sas::cli::parse_options;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << text;
}

std::string default_ig_dir() {
  if (const char* env = std::getenv("SAS_IG_DIR"); env && *env) return env;
  return SAS_CONFORMANCE_DEFAULT_IG_DIR;
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::stringstream in(v);
    std::string item;
    while (std::getline(in, item, ',')) {
      auto a = item.find_first_not_of(' ');
      auto b = item.find_last_not_of(' ');
      if (a != std::string::npos) out.push_back(item.substr(a, b - a + 1));
    }
  }
  return out;
}

}  // namespace

void progress_line(std::string_view line) { std::cerr << "[sas-conformance] " << line << std::endl; }

void describe_test_data(Run& run, const ScenarioOptions& options) {
  auto joined = [](const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
    return out;
  };
  run.info("practitioners", joined(options.practitioners));
  if (!options.cpts_practitioners.empty()) run.info("cpts-practitioners", joined(options.cpts_practitioners));
  if (!options.cpts_two.empty()) run.info("cpts-two-cpts", options.cpts_two);
  if (!options.sos_sirets.empty()) run.info("sos-sirets", joined(options.sos_sirets));
}

void add_data_options(po::options_description& options) {
  options.add_options()("ig", po::value<std::string>()->default_value(default_ig_dir()),
                        "the unpacked SAS IG package (ans.fhir.fr.sas-1.2.0); env SAS_IG_DIR")(
      "requirements", po::value<std::string>()->default_value(""),
      "ANS's requirement list (default: IG/../ans-test-kit/sas_test_kit_requirements.csv)");
}

Context load_context(const po::variables_map& vm) {
  Context c;
  c.ig_dir = vm["ig"].as<std::string>();
  c.requirements_csv = vm["requirements"].as<std::string>();
  if (c.requirements_csv.empty())
    c.requirements_csv = c.ig_dir.parent_path() / "ans-test-kit" / "sas_test_kit_requirements.csv";
  c.profiles = std::make_unique<ProfileSet>(ProfileSet::load(c.ig_dir));
  c.catalogue = std::make_unique<Catalogue>(Catalogue::build(*c.profiles));
  if (fs::exists(c.requirements_csv)) c.requirements = load_requirements(c.requirements_csv);
  return c;
}

void add_run_options(po::options_description& options) {
  options.add_options()(
      "practitioners", po::value<std::vector<std::string>>()->multitoken(),
      "1 to 25 RPPS/ADELI ids of the test data, each with free slots in the window (comma-separated)")(
      "cpts-practitioners", po::value<std::vector<std::string>>()->multitoken(),
      "INT_R04: RPPS/ADELI ids whose free slots in the window include slots open to a CPTS (comma-separated)")(
      "cpts-two-cpts", po::value<std::string>(),
      "INT_R04: an RPPS/ADELI id with a free slot in the window open to two CPTS (IG FAQ 11)")(
      "sos-sirets", po::value<std::vector<std::string>>()->multitoken(),
      "SOS: 1 to 25 SIRETs (14 digits, with or without the 3 prefix) of SOS Médecins associations with free slots "
      "in the window (comma-separated)")("now", po::value<std::string>(),
                                         "the suite's clock, FHIR dateTime (default: the current minute)")(
      "window-hours", po::value<int>()->default_value(48), "search window from --now")(
      "only", po::value<std::vector<std::string>>()->multitoken(), "run only these check ids (or prefixes: R01-FAQ-*)")(
      "skip", po::value<std::vector<std::string>>()->multitoken(), "do not run these check ids (or prefixes)")(
      "json", po::value<std::string>(), "write the JSON report (schema sas-conformance-report/1)")(
      "junit", po::value<std::string>(), "write a JUnit XML report")("html", po::value<std::string>(),
                                                                     "write a self-contained HTML report")(
      "perf-searches", po::value<int>()->default_value(20), "measured searches (PERF-*)")(
      "perf-warmup", po::value<int>()->default_value(3), "searches before measuring")(
      "budget-ms", po::value<double>()->default_value(1000), "advisory latency budget (PERF-002, p95)")(
      "quiet,q", po::bool_switch(), "no progress lines");
}

ScenarioOptions scenario_options(const po::variables_map& vm, const Context& context) {
  ScenarioOptions o;
  if (vm.count("practitioners") == 0U) throw std::invalid_argument("--practitioners is required");
  for (const auto& raw : split_list(vm["practitioners"].as<std::vector<std::string>>())) {
    std::string error;
    auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
    if (!id) throw std::invalid_argument("--practitioners: '" + raw + "': " + error);
    o.practitioners.push_back(id->prefixed);
  }
  if (o.practitioners.empty() || o.practitioners.size() > 25)
    throw std::invalid_argument("--practitioners: give 1 to 25 ids");
  auto practitioner = [](const std::string& option, const std::string& raw) {
    std::string error;
    auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
    if (!id) throw std::invalid_argument(option + ": '" + raw + "': " + error);
    return id->prefixed;
  };
  if (vm.count("cpts-practitioners") != 0U)
    for (const auto& raw : split_list(vm["cpts-practitioners"].as<std::vector<std::string>>()))
      o.cpts_practitioners.push_back(practitioner("--cpts-practitioners", raw));
  if (vm.count("cpts-two-cpts") != 0U)
    o.cpts_two = practitioner("--cpts-two-cpts", vm["cpts-two-cpts"].as<std::string>());
  if (o.cpts_practitioners.size() + (o.cpts_two.empty() ? 0 : 1) > 25)
    throw std::invalid_argument("--cpts-practitioners and --cpts-two-cpts: at most 25 ids in all");
  if (vm.count("sos-sirets") != 0U)
    for (const auto& raw : split_list(vm["sos-sirets"].as<std::vector<std::string>>())) {
      std::string error;
      auto siret = sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret, raw, &error);
      if (!siret) throw std::invalid_argument("--sos-sirets: '" + raw + "': " + error);
      o.sos_sirets.push_back(*siret);
    }
  if (o.sos_sirets.size() > 25) throw std::invalid_argument("--sos-sirets: give 1 to 25 SIRETs");
  if (vm.count("now") != 0U) {
    std::string error;
    auto t = sas::sdk::datetime::parse_fhir(vm["now"].as<std::string>(), &error);
    if (!t) throw std::invalid_argument("--now: " + error);
    o.now = *t;
  } else {
    o.now = std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now());
  }
  o.window = std::chrono::hours(vm["window-hours"].as<int>());
  o.ig_dir = context.ig_dir;
  o.perf_searches = vm["perf-searches"].as<int>();
  o.perf_warmup = vm["perf-warmup"].as<int>();
  o.budget_ms = vm["budget-ms"].as<double>();
  if (!vm["quiet"].as<bool>()) o.progress = progress_line;
  return o;
}

std::unique_ptr<Run> make_run(const po::variables_map& vm, const Context& context) {
  std::vector<std::string> only, skip;
  if (vm.count("only") != 0U) only = split_list(vm["only"].as<std::vector<std::string>>());
  if (vm.count("skip") != 0U) skip = split_list(vm["skip"].as<std::vector<std::string>>());
  for (const auto& list : {only, skip})
    for (const auto& id : list)
      if (!id.ends_with('*') && !id.ends_with('-') && !context.catalogue->find(id))
        throw std::invalid_argument("unknown check id '" + id + "' (sas-conformance catalogue lists them)");
  auto run = std::make_unique<Run>(*context.catalogue, only, skip);
  for (const auto& c : context.catalogue->checks())
    if (c.modes == "files") run->note(c.id, "applies to documents given to sas-conformance validate");
  return run;
}

int finish(const po::variables_map& vm, const Context& context, Run& run) {
  std::size_t uncovered = 0;
  for (const auto& [req, ids] : coverage(*context.catalogue, context.requirements)) uncovered += ids.empty() ? 1 : 0;
  if (!context.requirements.empty())
    run.info("ANS requirements covered", std::to_string(context.requirements.size() - uncovered) + " of " +
                                             std::to_string(context.requirements.size()) +
                                             " (sas-conformance requirements)");
  std::size_t untested = 0;
  const auto kit = kit_coverage(*context.catalogue);
  for (const auto& [test, ids] : kit) untested += ids.empty() ? 1 : 0;
  run.info("ANS CPTS and SOS kit tests covered", std::to_string(kit.size() - untested) + " of " +
                                                     std::to_string(kit.size()) + " (sas-conformance requirements)");
  if (vm.count("json") != 0U) write_text(vm["json"].as<std::string>(), json::serialize(run.to_json()) + "\n");
  if (vm.count("junit") != 0U) write_text(vm["junit"].as<std::string>(), run.to_junit());
  if (vm.count("html") != 0U) write_text(vm["html"].as<std::string>(), run.to_html());
  run.write_summary(std::cout);
  return run.passed() ? 0 : 1;
}

int catalogue(const Args& args) {
  po::options_description options("catalogue options");
  add_data_options(options);
  options.add_options()("markdown", po::bool_switch(), "the catalogue section of docs/certification.md")(
      "json", po::bool_switch(), "the catalogue as JSON");
  int exit_code = 0;
  auto vm = parse_options("sas-conformance catalogue", "[--markdown | --json]", options, args, exit_code);
  if (!vm) return exit_code;
  auto context = load_context(*vm);
  if ((*vm)["markdown"].as<bool>()) {
    std::cout << context.catalogue->markdown(context.requirements);
    return 0;
  }
  if ((*vm)["json"].as<bool>()) {
    json::array checks;
    for (const auto& c : context.catalogue->checks()) {
      json::array reqs;
      for (const auto& r : c.requirements) reqs.push_back(json::value(r));
      checks.push_back(json::object{{"id", c.id},
                                    {"title", c.title},
                                    {"reference", c.reference},
                                    {"severity", to_string(c.severity)},
                                    {"modes", c.modes},
                                    {"flow", c.flow},
                                    {"requirements", std::move(reqs)}});
    }
    std::cout << json::serialize(checks) << "\n";
    return 0;
  }
  for (const auto& c : context.catalogue->checks())
    std::cout << c.id << "  [" << to_string(c.severity) << "]  " << c.title << "\n";
  return 0;
}

int requirements(const Args& args) {
  po::options_description options("requirements options");
  add_data_options(options);
  int exit_code = 0;
  auto vm = parse_options("sas-conformance requirements", "", options, args, exit_code);
  if (!vm) return exit_code;
  auto context = load_context(*vm);
  if (context.requirements.empty()) throw std::runtime_error("cannot read " + context.requirements_csv.string());
  std::vector<std::string> uncovered;
  for (const auto& [req, ids] : coverage(*context.catalogue, context.requirements)) {
    std::cout << req.id << "  ";
    if (ids.empty()) {
      std::cout << "NOT COVERED" << (req.not_tested_reason.empty() ? "" : " (ANS: " + req.not_tested_reason + ")");
      uncovered.push_back(req.id);
    }
    for (std::size_t i = 0; i < ids.size() && i < 6; ++i) std::cout << (i ? ", " : "") << ids[i];
    if (ids.size() > 6) std::cout << " and " << ids.size() - 6 << " more";
    std::cout << "\n";
  }
  std::cout << "\nuncovered: " << uncovered.size() << " of " << context.requirements.size() << "\n";
  // The kit's CPTS (ig_launch_2) and SOS (ig_launch_3) tests, which no requirement names.
  std::cout << "\n";
  std::size_t untested = 0;
  const auto kit = kit_coverage(*context.catalogue);
  for (const auto& [test, ids] : kit) {
    std::cout << test.id << "  " << (ids.empty() ? "NOT COVERED" : "");
    untested += ids.empty() ? 1 : 0;
    for (std::size_t i = 0; i < ids.size() && i < 6; ++i) std::cout << (i ? ", " : "") << ids[i];
    if (ids.size() > 6) std::cout << " and " << ids.size() - 6 << " more";
    std::cout << "\n";
  }
  std::cout << "\nkit tests uncovered: " << untested << " of " << kit.size() << "\n";
  return 0;
}

int validate(const Args& args) {
  po::options_description options("validate options");
  add_data_options(options);
  options.add_options()("file", po::value<std::vector<std::string>>()->multitoken()->required(),
                        "FHIR JSON files (search Bundles, Practitioners, Appointments, ...)")(
      "json", po::value<std::string>(), "write the JSON report")("junit", po::value<std::string>(), "write JUnit XML")(
      "html", po::value<std::string>(), "write the HTML report");
  po::positional_options_description positional;
  positional.add("file", -1);
  int exit_code = 0;
  auto vm = parse_options("sas-conformance validate", "FILE...", options, args, exit_code, &positional);
  if (!vm) return exit_code;
  auto context = load_context(*vm);
  Run run(*context.catalogue);
  for (const auto& c : context.catalogue->checks())
    if (c.group == "PROFILE" || c.group == "BUNDLE" || c.group == "CPTS" || (c.group == "FAQ" && c.id != "R01-FAQ-09"))
      run.ran(c.id);
  for (const auto& file : (*vm)["file"].as<std::vector<std::string>>()) {
    const std::string label = fs::path(file).filename().string();
    auto document = json::parse(read_text(file));
    run.document(label, document);
    auto findings = check_document(*context.catalogue, *context.profiles, document, label);
    run.add(findings);
  }
  run.info("mode", "validate");
  if (vm->count("json") != 0U) write_text((*vm)["json"].as<std::string>(), json::serialize(run.to_json()) + "\n");
  if (vm->count("junit") != 0U) write_text((*vm)["junit"].as<std::string>(), run.to_junit());
  if (vm->count("html") != 0U) write_text((*vm)["html"].as<std::string>(), run.to_html());
  run.write_summary(std::cout);
  return run.passed() ? 0 : 1;
}

int pki(const Args& args) {
  po::options_description options("pki options");
  options.add_options()("out", po::value<std::string>()->required(), "directory to write the test PKI into");
  int exit_code = 0;
  auto vm = parse_options("sas-conformance pki", "--out DIR", options, args, exit_code);
  if (!vm) return exit_code;
  const fs::path dir = (*vm)["out"].as<std::string>();
  sas::pki::write_test_pki(dir);
  std::cout << "test PKI written to " << dir.string() << "\n\n"
            << "On the endpoint under test, for the duration of the certification run:\n"
            << "  - trust " << (dir / "ca.pem").string() << " as a client certificate authority,\n"
            << "  - load the CRL " << (dir / "crl.pem").string() << " (it revokes client-revoked.pem),\n"
            << "  - allow the client subject CN=sas.sante.fr,OU=SAS.\n"
            << "Then run: sas-conformance endpoint --pki " << dir.string()
            << " --base URL --ca SERVER_CA --practitioners ID,...\n"
            << "(--cert/--key default to the PKI's client.pem/client-key.pem; server.pem/server-key.pem is a\n"
            << "localhost server certificate for trying the suite against a local host.)\n";
  return 0;
}

}  // namespace sas::conformance::tool
