#pragma once

#include <string>
#include <vector>

namespace sas::sim::cli {

int gen_agenda(const std::vector<std::string>& args);
int pki(const std::vector<std::string>& args);
int search(const std::vector<std::string>& args);
int load(const std::vector<std::string>& args);

}  // namespace sas::sim::cli
