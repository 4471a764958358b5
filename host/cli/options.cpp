#include "options.hpp"

#include <fstream>
#include <iostream>

namespace sas::cli {

void store_config_file(const std::string& file, const po::options_description& options, po::variables_map& vm,
                       const std::string& config_key) {
  std::ifstream in(file);
  if (!in) throw po::error("--" + config_key + " " + file + ": cannot be read");
  try {
    po::store(po::parse_config_file(in, options, false), vm);
  } catch (const po::error& e) {
    throw po::error("--" + config_key + " " + file + ": " + e.what());
  }
}

std::optional<po::variables_map> parse_options(const std::string& command, const std::string& usage,
                                               const po::options_description& options,
                                               const std::vector<std::string>& args, int& exit_code,
                                               const po::positional_options_description* positional,
                                               const char* config_key) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    po::command_line_parser parser(args);
    parser.options(all);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help") != 0U) {
      std::cout << "usage: " << command << " " << usage << "\n\n" << options << "\n";
      exit_code = 0;
      return std::nullopt;
    }
    if (config_key != nullptr && vm.count(config_key) != 0U) {
      store_config_file(vm[config_key].as<std::string>(), options, vm, config_key);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << command << ": " << e.what() << "\n"
              << "usage: " << command << " " << usage << " (--help for details)\n";
    exit_code = 2;
    return std::nullopt;
  }
  return vm;
}

}  // namespace sas::cli
