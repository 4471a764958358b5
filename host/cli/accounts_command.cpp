// sas-host accounts audit --store URL: the INT_R02 audit rows (what the platform asked, what
// was done), one JSON object per line, oldest first, for audits and replays.
#include <boost/json.hpp>
#include <iostream>
#include <sas/host/store/store.hpp>
#include <sas/sdk/datetime.hpp>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;

namespace {

std::string iso_utc(std::chrono::system_clock::time_point at) {
  return sas::sdk::datetime::format_utc(std::chrono::floor<std::chrono::milliseconds>(at));
}

boost::json::object to_json(const regulator_accounts::AccountRequestRecord& record, bool with_body) {
  const auto& request = record.request;
  boost::json::object row{{"id", record.id},
                          {"received_at", iso_utc(request.received_at)},
                          {"method", request.method},
                          {"target", request.target},
                          {"client", request.client},
                          {"remote", request.remote},
                          {"content_type", request.content_type}};
  if (with_body) row["body"] = request.body;
  if (!record.outcome) {
    row["outcome"] = nullptr;  // the host stopped before answering
    return row;
  }
  const auto& outcome = *record.outcome;
  boost::json::object done{{"finished_at", iso_utc(outcome.finished_at)},
                           {"operation", outcome.operation},
                           {"outcome", outcome.outcome},
                           {"http_status", outcome.http_status},
                           {"national_id", outcome.national_id},
                           {"sas_id", outcome.sas_id},
                           {"account_id", outcome.account_id},
                           {"plugin_status", outcome.plugin_status},
                           {"diagnostics", outcome.diagnostics}};
  if (outcome.active) {
    done["active"] = *outcome.active;
  } else {
    done["active"] = nullptr;
  }
  row["outcome"] = std::move(done);
  return row;
}

}  // namespace

int accounts(const Args& args) {
  if (args.empty() || args.front() != "audit") {
    std::cerr << "usage: sas-host accounts audit --store URL [--after ID] [--limit N] [--with-body]\n";
    return 2;
  }
  po::options_description options("accounts audit options");
  options.add_options()("store", po::value<std::string>()->required(), "the host's store, e.g. sqlite:PATH")(
      "after", po::value<int64_t>()->default_value(0), "only rows with a larger id (to page or follow)")(
      "limit", po::value<std::size_t>()->default_value(1000), "at most this many rows")(
      "with-body", po::bool_switch(), "include each request's body verbatim (personal data)");
  int exit_code = 0;
  auto vm = parse_options("sas-host accounts audit", "--store URL [--after ID] [--limit N] [--with-body]", options,
                          Args(args.begin() + 1, args.end()), exit_code);
  if (!vm) return exit_code;
  const store::Store store = store::open((*vm)["store"].as<std::string>());
  const bool with_body = (*vm)["with-body"].as<bool>();
  for (const auto& record :
       store.account_audit->requests((*vm)["after"].as<int64_t>(), (*vm)["limit"].as<std::size_t>())) {
    std::cout << boost::json::serialize(to_json(record, with_body)) << "\n";
  }
  return 0;
}

}  // namespace sas::host::cli
