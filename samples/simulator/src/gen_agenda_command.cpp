// sas-sim gen-agenda: a realistic agenda of any size, deterministic for a seed and start day.
#include <chrono>
#include <iostream>
#include <options.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sim/agenda_generator.hpp>
#include <sas/sim/sos_agenda_generator.hpp>

#include "commands.hpp"

namespace sas::sim::cli {

namespace po = sas::cli::po;

int gen_agenda(const std::vector<std::string>& args) {
  po::options_description options("gen-agenda options");
  options.add_options()("out", po::value<std::string>()->required(), "the SQLite file to write (replaced)")(
      "practitioners", po::value<int>()->default_value(100), "number of practitioners")(
      "days", po::value<int>()->default_value(7), "number of days of slots")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed: same seed and start, same agenda")(
      "start", po::value<std::string>(), "first day YYYY-MM-DD (default: today in Europe/Paris)")(
      "sos-associations", po::value<int>()->default_value(2),
      "number of SOS Médecins associations, each with 1 to 3 consultation places and their slots");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim gen-agenda",
                                    "--out FILE [--practitioners N] [--days D] [--seed S] [--sos-associations N]",
                                    options, args, exit_code);
  if (!vm) return exit_code;

  AgendaSpec spec;
  spec.practitioners = (*vm)["practitioners"].as<int>();
  spec.days = (*vm)["days"].as<int>();
  spec.seed = (*vm)["seed"].as<uint64_t>();
  if (spec.practitioners < 0 || spec.days < 0 || (*vm)["sos-associations"].as<int>() < 0) {
    std::cerr << "sas-sim gen-agenda: --practitioners, --days and --sos-associations must be >= 0\n";
    return 2;
  }
  if (vm->count("start") != 0U) {
    const std::string& text = (*vm)["start"].as<std::string>();
    unsigned y = 0, m = 0, d = 0;
    char extra = 0;
    if (std::sscanf(text.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &extra) != 3 ||
        !std::chrono::year_month_day(std::chrono::year(static_cast<int>(y)), std::chrono::month(m), std::chrono::day(d))
             .ok()) {
      std::cerr << "sas-sim gen-agenda: --start: '" << text << "' is not a date YYYY-MM-DD\n";
      return 2;
    }
    spec.first_day =
        std::chrono::year_month_day(std::chrono::year(static_cast<int>(y)), std::chrono::month(m), std::chrono::day(d));
  } else {
    auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    spec.first_day =
        std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(sas::sdk::datetime::to_paris_local(now)));
  }

  auto started = std::chrono::steady_clock::now();
  AgendaSummary summary = generate_agenda((*vm)["out"].as<std::string>(), spec);
  SosAgendaSpec sos_spec;
  sos_spec.associations = (*vm)["sos-associations"].as<int>();
  sos_spec.days = spec.days;
  sos_spec.seed = spec.seed;
  sos_spec.first_day = spec.first_day;
  const SosAgendaSummary sos = generate_sos_agenda((*vm)["out"].as<std::string>(), sos_spec);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "{\"out\": \"" << (*vm)["out"].as<std::string>() << "\", \"practitioners\": " << summary.practitioners
            << ", \"places\": " << summary.places << ", \"slots\": " << summary.slots
            << ", \"free_slots\": " << summary.free_slots << ", \"cpts\": " << summary.cpts
            << ", \"cpts_slots\": " << summary.cpts_slots << ", \"sos_associations\": " << sos.associations
            << ", \"sos_places\": " << sos.places << ", \"sos_slots\": " << sos.slots
            << ", \"sos_free_slots\": " << sos.free_slots << ", \"seconds\": " << seconds << "}\n";
  return 0;
}

}  // namespace sas::sim::cli
