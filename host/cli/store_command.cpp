// sas-host store migrate --from sqlite:FILE --to postgresql://...: moves a host's whole state
// (INT_R02 audit, consultations, the outbox with its states, doctor settings and rules) from
// its SQLite file to a new PostgreSQL database (docs/deployment.md). Prints one JSON line per
// table: {"table": ..., "rows": N}.
#include <boost/json.hpp>
#include <iostream>
#include <sas/host/store/migrate.hpp>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;

int store_command(const Args& args) {
  if (args.empty() || args.front() != "migrate") {
    std::cerr << "usage: sas-host store migrate --from sqlite:FILE --to postgresql://USER@HOST:PORT/DB\n";
    return 2;
  }
  po::options_description options("store migrate options");
  options.add_options()("from", po::value<std::string>()->required(), "the host's SQLite store, sqlite:FILE")(
      "to", po::value<std::string>()->required(),
      "a new PostgreSQL database, postgresql://USER@HOST:PORT/DB (password in PGPASSFILE)");
  int exit_code = 0;
  auto vm = parse_options("sas-host store migrate", "--from sqlite:FILE --to postgresql://...", options,
                          Args(args.begin() + 1, args.end()), exit_code);
  if (!vm) return exit_code;
  for (const auto& [table, rows] :
       store::migrate_store((*vm)["from"].as<std::string>(), (*vm)["to"].as<std::string>())) {
    std::cout << boost::json::serialize(boost::json::object{{"table", table}, {"rows", rows}}) << "\n";
  }
  return 0;
}

}  // namespace sas::host::cli
