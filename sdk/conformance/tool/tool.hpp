// sas-conformance: shared pieces of the subcommands.
#pragma once

#include <boost/program_options.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <sas/conformance/catalogue.hpp>
#include <sas/conformance/report.hpp>
#include <sas/conformance/scenarios.hpp>
#include <string>
#include <vector>

namespace sas::conformance::tool {

namespace po = boost::program_options;
using Args = std::vector<std::string>;

int catalogue(const Args& args);
int requirements(const Args& args);
int validate(const Args& args);
int pki(const Args& args);
int endpoint(const Args& args);
int plugin(const Args& args);

// The IG package and the ANS requirement list, loaded once per command.
struct Context {
  std::filesystem::path ig_dir;
  std::filesystem::path requirements_csv;
  std::unique_ptr<ProfileSet> profiles;
  std::unique_ptr<Catalogue> catalogue;
  std::vector<Requirement> requirements;  // empty when the list cannot be read
};

// --ig DIR and --requirements F (both with defaults).
void add_data_options(po::options_description& options);
Context load_context(const po::variables_map& vm);

// --practitioners, --cpts-practitioners, --cpts-two-cpts, --sos-sirets, --now, --window-hours, --only, --skip,
// --json, --junit, --html, --perf-*, --budget-ms.
void add_run_options(po::options_description& options);
// Fills everything but the progress callback. Throws std::invalid_argument on a bad value.
ScenarioOptions scenario_options(const po::variables_map& vm, const Context& context);
std::unique_ptr<Run> make_run(const po::variables_map& vm, const Context& context);
// Adds the coverage table to the run's info, writes the requested reports, prints the summary;
// returns the exit code (0: no error-level check failed).
int finish(const po::variables_map& vm, const Context& context, Run& run);

void progress_line(std::string_view line);
// The run's info: the practitioners, CPTS practitioners and SOS SIRETs it was given.
void describe_test_data(Run& run, const ScenarioOptions& options);

}  // namespace sas::conformance::tool
