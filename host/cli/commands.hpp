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

}  // namespace sas::host::cli
