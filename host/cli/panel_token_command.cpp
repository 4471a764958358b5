// sas-host panel-token: prints a doctor's panel token (docs/doctor-panel.md, "Access"), signed
// with the key of `panel-key-file`, for an operator, a test or the docs. A vendor's back end
// mints the same token with its JWT library (or sas/sdk/panel_token.hpp).
#include <iostream>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/sdk/panel_token.hpp>
#include <stdexcept>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace pt = sas::sdk::panel_token;

int panel_token(const Args& args) {
  const std::string command = "sas-host panel-token";
  po::options_description options("panel-token options");
  options.add_options()("key-file", po::value<std::string>()->required(),
                        "the host's panel-key-file (mode 600, at least 32 characters)")(
      "practitioner", po::value<std::string>()->required(), "the doctor's RPPS or ADELI (prefixed or not)")(
      "subject", po::value<std::string>()->required(),
      "who acts: recorded as changed_by of every change made with the token")(
      "ttl-s", po::value<unsigned>()->default_value(900),
      "seconds the token lives (at most the host's panel-token-max-ttl-s, 3600 by default)");
  int exit_code = 0;
  auto vm =
      parse_options(command, "--key-file F --practitioner ID --subject WHO [--ttl-s N]", options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  try {
    const unsigned ttl = v["ttl-s"].as<unsigned>();
    if (ttl < 1 || ttl > 86400) throw std::invalid_argument("--ttl-s: expected 1 to 86400 seconds");
    const std::string key = admin_api::read_token_file(v["key-file"].as<std::string>(), "--key-file");
    const auto claims =
        pt::claims_for(v["subject"].as<std::string>(), v["practitioner"].as<std::string>(), std::chrono::seconds(ttl));
    std::cout << pt::mint_panel_token(key, claims) << "\n";
    return 0;
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();
    if (message.starts_with("panel token: ")) message = message.substr(13);
    std::cerr << command << ": " << message << "\n";
    return 2;
  }
}

}  // namespace sas::host::cli
