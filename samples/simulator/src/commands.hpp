#pragma once

#include <string>
#include <vector>

namespace sas::sim::cli {

int gen_agenda(const std::vector<std::string>& args);
int pki(const std::vector<std::string>& args);
int search(const std::vector<std::string>& args);
int load(const std::vector<std::string>& args);
int serve(const std::vector<std::string>& args);     // INT_R03: the platform's Appointment endpoint
int received(const std::vector<std::string>& args);  // what serve received

}  // namespace sas::sim::cli
