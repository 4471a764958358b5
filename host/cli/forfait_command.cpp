// sas-host report forfait: the structure forfait's indicator 8 (volunteer and visible) per
// practitioner over one year, as JSON or CSV, offline on the store or online through a running
// host's admin API. docs/doctor-options.md, "Structure forfait report (indicator 8)".
#include <iostream>
#include <sas/host/doctor_settings/documents.hpp>
#include <sas/host/doctor_settings/forfait.hpp>
#include <sas/host/doctor_settings/service.hpp>

#include "commands.hpp"
#include "doctor_settings_cli.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace json = boost::json;
namespace ds = sas::host::doctor_settings;
using namespace doctor_options;  // NOLINT(google-build-using-namespace): this file's own helpers

int report_forfait(const Args& args) {
  const std::string command = "sas-host report forfait";
  po::options_description options("report forfait options");
  options.add_options()("year", po::value<int>()->required(), "the calendar year, e.g. 2026 (Europe/Paris)")(
      "format", po::value<std::string>()->default_value("json"), "json or csv")(
      "practitioner", po::value<std::string>(), "only this practitioner (default: every one with settings history)");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command,
                          "--year Y [--format json|csv] [--practitioner ID] "
                          "(--store URL | --admin URL --admin-token-file F [--admin-ca F])",
                          options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  return guarded(command, [&] {
    const int year = v["year"].as<int>();
    if (year < 2000 || year > 2100)
      throw UsageError("--year: expected a year such as 2026, got " + std::to_string(year));
    const std::string format = v["format"].as<std::string>();
    if (format != "json" && format != "csv") throw UsageError("--format: expected json or csv, got '" + format + "'");
    const std::string id = v.count("practitioner") != 0U ? practitioner(v) : "";
    Target target = open_target(v);
    if (target.admin) {
      std::string path = "/admin/v1/reports/forfait?year=" + std::to_string(year) + "&format=" + format;
      if (!id.empty()) path += "&practitioner=" + id;
      if (format == "csv") {
        std::cout << target.admin->send("GET", path).body;
      } else {
        std::cout << json_text(target.admin->send_json("GET", path)) << "\n";
      }
      return 0;
    }
    const auto lines = target.service->forfait(year, id);
    if (format == "csv") {
      std::cout << ds::to_csv(lines);
    } else {
      std::cout << json_text(ds::forfait_document(year, lines)) << "\n";
    }
    return 0;
  });
}

}  // namespace sas::host::cli
