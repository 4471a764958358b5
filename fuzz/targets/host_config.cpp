// The host's configuration file (`sas-host serve --config FILE`, `sas-host check-config FILE`),
// read as check-config reads it: the command line naming the file, the file through
// store_config_file, notify, then read_serve_config, which checks every value. A bad file is a
// program_options error naming the key, or ServeConfig::problems; nothing else may escape.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "options.hpp"
#include "serve_config.hpp"

namespace po = sas::cli::po;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string file = sas::fuzz::write_scratch_file("host.conf", data, size).string();
  static const po::options_description keys = sas::host::cli::serve_options();
  po::variables_map config;
  try {
    po::store(po::command_line_parser(std::vector<std::string>{"--config", file}).options(keys).run(), config);
    sas::cli::store_config_file(file, keys, config, "config");
    po::notify(config);
  } catch (const po::error&) {
    return 0;
  }
  const sas::host::cli::ServeConfig serve = sas::host::cli::read_serve_config(config);
  for (const auto& problem : serve.problems) {
    sas::fuzz::require(!problem.key.empty() && !problem.message.empty(), "a configuration problem names nothing");
  }
  return 0;
}
