// sas-host: the SAS integration host. `sas-host help` lists the subcommands.
#include <malloc.h>

#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sas-host COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  inspect-plugin PATH [--json]   print a plugin's identity without running its code\n"
    "  search --plugin PATH --plugin-config S --practitioners ID,... --from T --to T\n"
    "                                 one slot search through the host's search path\n"
    "  search --plugin PATH --plugin-config S --sos SIRET,... --from T --to T\n"
    "                                 one SOS Médecins search through the host's search path\n"
    "  serve --config FILE | --plugin PATH --plugin-config S --store URL ...\n"
    "                                 run the host\n"
    "  check-config FILE [--warn-days N] [--json]\n"
    "                                 check serve's configuration (files, certificates, store, plugin)\n"
    "                                 without starting the host\n"
    "  accounts audit --store URL     the INT_R02 account requests and what was done, as JSON lines\n"
    "  billing explain --json CONSULTATION.json [--store URL] [--rules FILE]\n"
    "                                 the SNP / MRT decision for one consultation, with its reasons\n"
    "  report snp --store URL --practitioner ID --from D --to D [--format json|csv]\n"
    "                                 a doctor's SAS consultations, codes, amounts and refusals\n"
    "  report forfait --year Y [--format json|csv] [--practitioner ID] (--store URL | --admin URL ...)\n"
    "                                 structure forfait indicator 8: volunteer and visible periods\n"
    "  settings get|set|history --practitioner ID (--store URL | --admin URL --admin-token-file F)\n"
    "                                 a doctor's SAS options (volunteer, visible, consent to call, phone)\n"
    "  rules list|add|remove|explain --practitioner ID (--store URL | --admin URL ...)\n"
    "                                 a doctor's publication rules, and why a slot is (not) published\n"
    "  appointment-event --store URL --json EVENT.json\n"
    "                                 report INT_R03 appointment events into the outbox\n"
    "  outbox status|dead-letter|replay --store URL\n"
    "                                 the INT_R03 notifications: counts, refused ones, re-queue\n"
    "  store migrate --from sqlite:FILE --to postgresql://USER@HOST:PORT/DB\n"
    "                                 copy the host's whole state to a new PostgreSQL database\n"
    "  panel-token --key-file F --practitioner ID --subject WHO [--ttl-s N]\n"
    "                                 a token that opens the doctor's panel for one practitioner\n"
    "\n"
    "`sas-host COMMAND --help` describes each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  // A search answer is built in a few MB that are freed right after. Keep that memory in the
  // heap instead of mapping and faulting it in again for every request (measured: Bundle
  // building 3.9 -> 2.4 ms for 25 practitioners x 7 days, docs/performance.md). `serve` gives
  // back what stays unused, once a minute.
  mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  sas::host::cli::Args args(argv + 2, argv + argc);
  try {
    if (command == "inspect-plugin") return sas::host::cli::inspect_plugin(args);
    if (command == "search") return sas::host::cli::search(args);
    if (command == "serve") return sas::host::cli::serve(args);
    if (command == "check-config") return sas::host::cli::check_config(args);
    if (command == "accounts") return sas::host::cli::accounts(args);
    if (command == "billing") return sas::host::cli::billing_command(args);
    if (command == "report") return sas::host::cli::report(args);
    if (command == "settings") return sas::host::cli::settings(args);
    if (command == "rules") return sas::host::cli::rules(args);
    if (command == "appointment-event") return sas::host::cli::appointment_event(args);
    if (command == "outbox") return sas::host::cli::outbox(args);
    if (command == "store") return sas::host::cli::store_command(args);
    if (command == "panel-token") return sas::host::cli::panel_token(args);
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "sas-host: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sas-host %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
