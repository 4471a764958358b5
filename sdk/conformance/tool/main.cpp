// sas-conformance: the SAS certification suite, for a vendor plugin (in process) or a live
// endpoint (over mutual TLS). docs/certification.md.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tool.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sas-conformance COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  endpoint --base URL --ca F [--cert F --key F] [--pki DIR] --practitioners ID,... [--now T]\n"
    "           [--cpts-practitioners ID,... [--cpts-two-cpts ID]] [--sos-sirets SIRET,...]\n"
    "           [--only ID...] [--skip ID...] [--json F] [--junit F] [--html F]\n"
    "                    acts as the SAS platform against a live endpoint over mutual TLS\n"
    "  plugin PATH [--plugin-config S] --practitioners ID,... [--now T] [...same report options]\n"
    "                    loads a vendor plugin in process through the host and checks what it would emit\n"
    "  pki --out DIR     the test PKI and CRL the endpoint under test must install for the TLS-* checks\n"
    "  catalogue [--markdown | --json]   the numbered checks\n"
    "  requirements      ANS test-kit requirements → checks, with the uncovered ones\n"
    "  validate FILE...  the resource checks on FHIR JSON files\n"
    "\n"
    "Exit code: 0 when no error-level check failed, 1 otherwise, 2 on a usage error.\n"
    "`sas-conformance COMMAND --help` describes each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  namespace tool = sas::conformance::tool;
  try {
    if (command == "endpoint") return tool::endpoint(args);
    if (command == "plugin") return tool::plugin(args);
    if (command == "pki") return tool::pki(args);
    if (command == "catalogue") return tool::catalogue(args);
    if (command == "requirements") return tool::requirements(args);
    if (command == "validate") return tool::validate(args);
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "sas-conformance: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "sas-conformance %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sas-conformance %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
