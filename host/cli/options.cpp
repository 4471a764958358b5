#include "options.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>

namespace sas::cli {

namespace {

// Boost.Program_options (1.81) writes an error's message by replacing each %name% placeholder
// with the text it stands for (the option, the value, the line as written) for as long as the
// placeholder is found: a text that holds its own placeholder ("%value%") never ends, and
// `sas-host serve` hung on such a line (found by fuzz/host_config). Those texts lose their '%'
// before what() builds the message. The substitutions are protected: reached through a
// pointer to member named in a derived class (never instantiated).
struct ErrorSubstitutions : po::error_with_option_name {
  static auto member() { return &ErrorSubstitutions::m_substitutions; }
};

std::string message_of(po::error& e) {
  if (auto* named = dynamic_cast<po::error_with_option_name*>(&e)) {
    for (auto& substitution : named->*ErrorSubstitutions::member()) {
      std::replace(substitution.second.begin(), substitution.second.end(), '%', '?');
    }
  }
  return e.what();
}

}  // namespace

void store_config_file(const std::string& file, const po::options_description& options, po::variables_map& vm,
                       const std::string& config_key) {
  std::ifstream in(file);
  if (!in) throw po::error("--" + config_key + " " + file + ": cannot be read");
  try {
    po::store(po::parse_config_file(in, options, false), vm);
  } catch (po::error& e) {
    throw po::error("--" + config_key + " " + file + ": " + message_of(e));
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
  } catch (po::error& e) {
    std::cerr << command << ": " << message_of(e) << "\n"
              << "usage: " << command << " " << usage << " (--help for details)\n";
    exit_code = 2;
    return std::nullopt;
  }
  return vm;
}

}  // namespace sas::cli
