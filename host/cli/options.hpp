// Command-line and config-file options for the subcommands of sas-host and sas-sim
// (Boost.Program_options). `command` is the full name, e.g. "sas-host serve".
#pragma once

#include <boost/program_options.hpp>
#include <optional>

#include <string>
#include <vector>

namespace sas::cli {

namespace po = boost::program_options;

// Parses `args` against `options`. With `config_key`, a file named by that option supplies
// the same keys (`key = value` lines; the command line wins). On --help prints usage and
// returns nullopt with exit_code 0; on an error prints the message naming the key and
// returns nullopt with exit_code 2.
std::optional<po::variables_map> parse_options(const std::string& command, const std::string& usage,
                                               const po::options_description& options,
                                               const std::vector<std::string>& args, int& exit_code,
                                               const po::positional_options_description* positional = nullptr,
                                               const char* config_key = nullptr);

// Stores the `key = value` lines of `file` into `vm`, as parse_options does with the file its
// `config_key` names (without notify). Throws po::error starting "--CONFIG_KEY FILE: ".
void store_config_file(const std::string& file, const po::options_description& options, po::variables_map& vm,
                       const std::string& config_key);

}  // namespace sas::cli
