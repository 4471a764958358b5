// sas-host billing explain: the SNP / MRT decision for one consultation file, as JSON.
// sas-host report snp: a doctor's SAS consultations over a period, with codes, amounts and
// refusals, as JSON or CSV. docs/billing.md. (`report forfait`: forfait_command.cpp.)
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sas/host/billing/json.hpp>
#include <sas/host/billing/service.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/store/store.hpp>
#include <sas/sdk/ids.hpp>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace billing = sas::host::billing;

std::shared_ptr<const billing::RuleBook> load_rules(const std::string& path) { return runtime::load_rules(path); }

namespace {

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw billing::BillingError(std::string(what) + " " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int explain(const Args& args) {
  po::options_description options("billing explain options");
  options.add_options()("json", po::value<std::string>()->required(), "the consultation file (docs/billing.md)")(
      "store", po::value<std::string>(), "the host store (sqlite:PATH): the weekly SNP count comes from it")(
      "rules", po::value<std::string>()->default_value(""),
      "rule file (default: share/sas/billing/rules.json of this installation)");
  int exit_code = 0;
  auto vm = parse_options("sas-host billing explain", "--json CONSULTATION.json [--store URL] [--rules FILE]", options,
                          args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  try {
    auto rules = load_rules(v["rules"].as<std::string>());
    const billing::Consultation consultation =
        billing::parse_consultation(read_file(v["json"].as<std::string>(), "--json"));
    std::shared_ptr<billing::ConsultationLedger> ledger;
    if (v.count("store") != 0U) ledger = store::open(v["store"].as<std::string>()).consultations;
    const billing::BillingService service(rules, ledger);
    std::cout << boost::json::serialize(billing::decision_to_json(service.explain(consultation))) << "\n";
    return 0;
  } catch (const billing::BillingError& e) {
    std::cerr << "sas-host billing explain: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

int billing_command(const Args& args) {
  if (!args.empty() && args.front() == "explain") return explain(Args(args.begin() + 1, args.end()));
  std::cerr << "usage: sas-host billing explain --json CONSULTATION.json [--store URL] [--rules FILE]\n";
  return 2;
}

int report(const Args& args) {
  if (!args.empty() && args.front() == "forfait") return report_forfait(Args(args.begin() + 1, args.end()));
  if (args.empty() || args.front() != "snp") {
    std::cerr << "usage: sas-host report snp --store URL --practitioner ID --from D --to D [--format json|csv]\n"
                 "       sas-host report forfait --year Y [--format json|csv] [--practitioner ID]\n"
                 "           (--store URL | --admin URL --admin-token-file F [--admin-ca F])\n";
    return 2;
  }
  po::options_description options("report snp options");
  options.add_options()("store", po::value<std::string>()->required(), "the host store (sqlite:PATH)")(
      "practitioner", po::value<std::string>()->required(), "the doctor's RPPS or ADELI (prefixed or not)")(
      "from", po::value<std::string>()->required(), "first day YYYY-MM-DD (Europe/Paris) or a dateTime")(
      "to", po::value<std::string>()->required(), "last day YYYY-MM-DD, inclusive, or a dateTime (exclusive)")(
      "format", po::value<std::string>()->default_value("json"), "json or csv");
  int exit_code = 0;
  auto vm = parse_options("sas-host report snp", "--store URL --practitioner ID --from D --to D [--format json|csv]",
                          options, Args(args.begin() + 1, args.end()), exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  billing::ReportOptions o;
  std::string error;
  auto id = sas::sdk::ids::normalize_practitioner_id(v["practitioner"].as<std::string>(), &error);
  if (!id) {
    std::cerr << "sas-host report snp: --practitioner: " << error << "\n";
    return 2;
  }
  o.practitioner_id = id->prefixed;
  auto from = billing::parse_report_bound(v["from"].as<std::string>(), false, &error);
  if (!from) {
    std::cerr << "sas-host report snp: --from: " << error << "\n";
    return 2;
  }
  auto to = billing::parse_report_bound(v["to"].as<std::string>(), true, &error);
  if (!to) {
    std::cerr << "sas-host report snp: --to: " << error << "\n";
    return 2;
  }
  o.from = *from;
  o.to = *to;
  const std::string format = v["format"].as<std::string>();
  if (format != "json" && format != "csv") {
    std::cerr << "sas-host report snp: --format: expected json or csv, got '" << format << "'\n";
    return 2;
  }
  const auto ledger = store::open(v["store"].as<std::string>()).consultations;
  std::cout << (format == "json" ? billing::report_json(*ledger, o) : billing::report_csv(*ledger, o));
  return 0;
}

}  // namespace sas::host::cli
