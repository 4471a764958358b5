// sas-sim: the SAS national platform simulator and its test-data tools.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sas-sim COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  gen-agenda --out FILE --practitioners N --days D --seed S [--start YYYY-MM-DD] [--sos-associations N]\n"
    "                    write a realistic agenda in the sqlite-agenda schema (SOS Médecins included)\n"
    "  pki --out DIR     write a throw-away test PKI (CA, server, SAS client, refused clients, CRL)\n"
    "  search --base URL --cert F --key F --ca F --practitioners ID,... --from T --to T [--raw]\n"
    "                    one slot search (INT_R01) over mutual TLS, exactly as the platform sends it\n"
    "  search --base URL --cert F --key F --ca F --sos SIRET,... --from T --to T [--raw]\n"
    "                    one SOS Médecins search (GET [base]/Schedule), as the platform sends it\n"
    "  load --base URL --cert F --key F --ca F --agenda FILE [--concurrency C] [--duration S] ...\n"
    "                    concurrent slot searches for S seconds; prints throughput and latencies as JSON\n"
    "  load ... --rate R [--mix search=P,account=P,event=P] [--host-pid PID] [--report FILE] ...\n"
    "                    the soak: a steady mix of searches, INT_R02 writes and appointment events; the\n"
    "                    host's memory sampled; exits 1 on any error, lost notification or memory growth\n"
    "  serve --listen HOST:PORT --tls-cert F --tls-key F --client-ca F --db FILE [--ig DIR] [--fail MODE]\n"
    "                    the platform's INT_R03 Appointment endpoint over mutual TLS\n"
    "  received --db FILE [--with-body]\n"
    "                    what serve received, one JSON object per request, in arrival order\n"
    "\n"
    "`sas-sim COMMAND --help` describes each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "gen-agenda") return sas::sim::cli::gen_agenda(args);
    if (command == "pki") return sas::sim::cli::pki(args);
    if (command == "search") return sas::sim::cli::search(args);
    if (command == "load") return sas::sim::cli::load(args);
    if (command == "serve") return sas::sim::cli::serve(args);
    if (command == "received") return sas::sim::cli::received(args);
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "sas-sim: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sas-sim %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
