// INT_R03 from the command line, on the host's store:
//   sas-host appointment-event --store URL --json EVENT.json   report events into the outbox
//   sas-host appointment-event --admin URL --admin-token-file F [--admin-ca F] --json EVENT.json
//                                                              the same through a running host's
//                                                              admin API (docs/admin-api.md)
//   sas-host outbox status|dead-letter|replay --store URL       inspect and drive it
// Both work offline on the store file, next to a running `sas-host serve` (SQLite WAL: the
// serving host picks new rows up within its poll interval).
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas/host/admin_api/admin_endpoint.hpp>
#include <sas/host/appointment_notifications/outbox.hpp>
#include <sas/host/store/store.hpp>
#include <sas/sdk/datetime.hpp>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace json = boost::json;

namespace {

std::string iso_utc(std::chrono::system_clock::time_point at) {
  return sas::sdk::datetime::format_utc(std::chrono::floor<std::chrono::milliseconds>(at));
}

std::string read_all(std::istream& in) { return std::string(std::istreambuf_iterator<char>(in), {}); }

// The --admin form: the events as they are, POSTed to the admin API, which checks them.
int post_events(const po::variables_map& vm, const std::string& text) {
  admin_api::ClientOptions client;
  client.base = vm["admin"].as<std::string>();
  try {
    client.token = admin_api::read_token_file(vm["admin-token-file"].as<std::string>(), "--admin-token-file");
  } catch (const std::invalid_argument& e) {
    std::cerr << "sas-host appointment-event: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("admin-ca") != 0U) client.ca_file = vm["admin-ca"].as<std::string>();
  const admin_api::ClientAnswer answer = admin_api::request(client, "POST", "/admin/v1/appointment-events", text);
  if (answer.status != 201) {
    std::cerr << "sas-host appointment-event: "
              << (answer.status == 0 ? "" : "the admin API answered " + std::to_string(answer.status) + ": ")
              << answer.message() << "\n";
    return answer.status == 400 ? 2 : 1;
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(answer.body, ec);
  if (ec || !parsed.is_object()) {
    std::cerr << "sas-host appointment-event: the admin API's answer is not JSON: " << answer.body << "\n";
    return 1;
  }
  if (const auto* rows = parsed.as_object().if_contains("reported"); rows && rows->is_array()) {
    for (const auto& row : rows->get_array()) std::cout << json::serialize(row) << "\n";
  } else {
    std::cout << json::serialize(parsed) << "\n";
  }
  return 0;
}

}  // namespace

int appointment_event(const Args& args) {
  po::options_description options("appointment-event options");
  options.add_options()("store", po::value<std::string>(), "the host's store, e.g. sqlite:PATH (offline)")(
      "admin", po::value<std::string>(), "or: a running host's admin API, https://HOST:PORT (docs/admin-api.md)")(
      "admin-token-file", po::value<std::string>(), "with --admin: the bearer token file (mode 600)")(
      "admin-ca", po::value<std::string>(), "with --admin: CAs of the admin API's certificate (default: the system's)")(
      "json", po::value<std::string>()->required(),
      "file with one event object or an array of them (docs/appointment-notifications.md); - for stdin");
  int exit_code = 0;
  auto vm = parse_options("sas-host appointment-event",
                          "(--store URL | --admin URL --admin-token-file F [--admin-ca F]) --json EVENT.json", options,
                          args, exit_code);
  if (!vm) return exit_code;
  const bool online = vm->count("admin") != 0U;
  if (online == (vm->count("store") != 0U)) {
    std::cerr << "sas-host appointment-event: give either --store (offline) or --admin (a running host)\n";
    return 2;
  }
  if (!online && (vm->count("admin-token-file") != 0U || vm->count("admin-ca") != 0U)) {
    std::cerr << "sas-host appointment-event: --admin-token-file and --admin-ca go with --admin\n";
    return 2;
  }
  if (online && vm->count("admin-token-file") == 0U) {
    std::cerr << "sas-host appointment-event: --admin needs --admin-token-file\n";
    return 2;
  }
  const std::string file = (*vm)["json"].as<std::string>();
  std::string text;
  if (file == "-") {
    text = read_all(std::cin);
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "sas-host appointment-event: --json " << file << ": cannot read\n";
      return 1;
    }
    text = read_all(in);
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  if (ec) {
    std::cerr << "sas-host appointment-event: --json " << file << ": not JSON: " << ec.message() << "\n";
    return 2;
  }
  if (online) return post_events(*vm, text);
  std::vector<std::string> errors;
  std::vector<appointment_notifications::Event> events = appointment_notifications::events_from_json(parsed, &errors);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "sas-host appointment-event: " << e << "\n";
    return 2;
  }
  appointment_notifications::Outbox outbox(store::open((*vm)["store"].as<std::string>()).outbox);
  std::vector<appointment_notifications::Reported> reported;
  try {
    reported = outbox.report(std::move(events));
  } catch (const appointment_notifications::InvalidEvent& e) {
    for (const auto& p : e.problems()) std::cerr << "sas-host appointment-event: " << p << "\n";
    return 2;
  }
  for (const auto& r : reported) {
    std::cout << json::serialize(json::object{{"outbox_id", r.outbox_id}, {"sequence", r.sequence}}) << "\n";
  }
  return 0;
}

int outbox(const Args& args) {
  const std::string usage =
      "usage: sas-host outbox status|dead-letter|replay|list --store URL [--id N] [--after ID] [--limit N]\n";
  if (args.empty() || (args.front() != "status" && args.front() != "dead-letter" && args.front() != "replay" &&
                       args.front() != "list")) {
    std::cerr << usage;
    return 2;
  }
  const std::string action = args.front();
  po::options_description options("outbox options");
  options.add_options()("store", po::value<std::string>()->required(), "the host's store, e.g. sqlite:PATH")(
      "id", po::value<int64_t>(), "replay: only this dead letter (default: all)")(
      "after", po::value<int64_t>()->default_value(0), "dead-letter, list: only rows with a larger id")(
      "limit", po::value<std::size_t>()->default_value(1000), "dead-letter, list: at most this many rows");
  int exit_code = 0;
  auto vm = parse_options("sas-host outbox " + action, "--store URL [--id N] [--after ID] [--limit N]", options,
                          Args(args.begin() + 1, args.end()), exit_code);
  if (!vm) return exit_code;
  const auto repository = store::open((*vm)["store"].as<std::string>()).outbox;
  if (action == "status") {
    const appointment_notifications::OutboxCounts c = repository->counts();
    json::object status{{"pending", c.pending}, {"delivered", c.delivered}, {"dead", c.dead}, {"blocked", c.blocked}};
    if (c.oldest_pending) {
      status["oldest_pending_reported_at"] = iso_utc(*c.oldest_pending);
    } else {
      status["oldest_pending_reported_at"] = nullptr;
    }
    std::cout << json::serialize(status) << "\n";
    return 0;
  }
  if (action == "replay") {
    std::optional<int64_t> id;
    if (vm->count("id") != 0U) id = (*vm)["id"].as<int64_t>();
    const std::size_t n = repository->replay(id, std::chrono::system_clock::now());
    std::cout << json::serialize(json::object{{"replayed", n}}) << "\n";
    return id && n == 0 ? 1 : 0;
  }
  const std::string state = action == "dead-letter" ? "dead" : "";
  for (const auto& n : repository->rows(state, (*vm)["after"].as<int64_t>(), (*vm)["limit"].as<std::size_t>())) {
    std::cout << json::serialize(appointment_notifications::to_json(n)) << "\n";
  }
  return 0;
}

}  // namespace sas::host::cli
