#pragma once

#include <string>
#include <vector>

namespace sas::sim::cli {

int gen_agenda(const std::vector<std::string>& args);

}  // namespace sas::sim::cli
