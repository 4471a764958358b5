// The subcommands of sas-host. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace sas::host::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int inspect_plugin(const Args& args);
int search(const Args& args);
int serve(const Args& args);
int accounts(const Args& args);
int appointment_event(const Args& args);  // INT_R03
int outbox(const Args& args);             // INT_R03

}  // namespace sas::host::cli
