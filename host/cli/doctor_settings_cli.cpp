#include "doctor_settings_cli.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sas/host/fhir/json.hpp>
#include <sas/host/store/store.hpp>
#include <sas/host/text/text.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sstream>

namespace sas::host::cli::doctor_options {

namespace json = boost::json;

namespace {

using sas::host::text::trim;

}  // namespace

AdminClient::AdminClient(std::string base, std::string token, std::string ca_file) {
  options_.base = std::move(base);
  options_.token = std::move(token);
  options_.ca_file = std::move(ca_file);
  options_.timeout = std::chrono::seconds(60);
}

std::string AdminClient::escape(const std::string& value) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
        u == '_' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

AdminClient::Answer AdminClient::send(const std::string& method, const std::string& path,
                                      const std::optional<json::value>& body) {
  const admin_api::ClientAnswer answer =
      admin_api::request(options_, method, path, body ? json::serialize(*body) : std::string());
  if (answer.status == 0) throw std::runtime_error("--admin: " + answer.error);
  if (answer.status >= 400) {
    std::string message(trim(answer.message()));
    if (message.empty()) message = "the admin API answered HTTP " + std::to_string(answer.status);
    throw RemoteError(answer.status, message);
  }
  return Answer{answer.status, answer.body};
}

json::value AdminClient::send_json(const std::string& method, const std::string& path,
                                   const std::optional<json::value>& body) {
  const Answer answer = send(method, path, body);
  if (answer.status == 204 || trim(answer.body).empty()) return json::object{};
  boost::system::error_code ec;
  json::value parsed = json::parse(answer.body, ec);
  if (ec) throw std::runtime_error("the admin API answered " + method + " " + path + " with something not JSON");
  return parsed;
}

void add_target_options(po::options_description& options) {
  options.add_options()("store", po::value<std::string>(), "offline: the host's store, e.g. sqlite:PATH")(
      "admin", po::value<std::string>(), "online: a running host's admin API, e.g. https://127.0.0.1:8444")(
      "admin-token-file", po::value<std::string>(), "with --admin: file holding the bearer token")(
      "admin-ca", po::value<std::string>(), "with --admin: CA bundle (PEM) that signed the host's certificate");
}

Target open_target(const po::variables_map& vm) {
  const bool store = vm.count("store") != 0U;
  const bool admin = vm.count("admin") != 0U;
  if (store == admin) throw UsageError("give exactly one of --store URL (offline) and --admin URL (online)");
  Target target;
  if (store) {
    for (const char* key : {"admin-token-file", "admin-ca"}) {
      if (vm.count(key) != 0U) throw UsageError(std::string("--") + key + ": only with --admin");
    }
    target.service =
        std::make_shared<doctor_settings::Service>(store::open(vm["store"].as<std::string>()).doctor_settings);
    return target;
  }
  const std::string base = vm["admin"].as<std::string>();
  if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0) {
    throw UsageError("--admin: expected the admin API's URL, e.g. https://127.0.0.1:8444, got '" + base + "'");
  }
  if (vm.count("admin-token-file") == 0U) throw UsageError("--admin-token-file: required with --admin");
  const std::string file = vm["admin-token-file"].as<std::string>();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("--admin-token-file " + file + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string token(trim(text.str()));
  if (token.empty()) throw UsageError("--admin-token-file " + file + ": empty");
  std::string ca;
  if (vm.count("admin-ca") != 0U) {
    ca = vm["admin-ca"].as<std::string>();
    if (!std::ifstream(ca)) throw UsageError("--admin-ca " + ca + ": cannot be read");
  }
  target.admin = std::make_unique<AdminClient>(base, token, ca);
  return target;
}

std::string practitioner(const po::variables_map& vm) {
  const std::string raw = vm["practitioner"].as<std::string>();
  std::string error;
  auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
  if (!id) throw UsageError("--practitioner: '" + raw + "': " + error);
  return id->prefixed;
}

doctor_settings::Clock::time_point instant_flag(const po::variables_map& vm, const char* key) {
  using doctor_settings::Clock;
  const std::string text = vm[key].as<std::string>();
  std::string error;
  auto t = sas::sdk::datetime::parse_fhir(text, &error);
  if (!t) throw UsageError(std::string("--") + key + ": " + error);
  const auto since_epoch = t->time_since_epoch();
  if (since_epoch > std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::max()) ||
      since_epoch < std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::min())) {
    throw UsageError(std::string("--") + key + ": " + text + " is out of range");
  }
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(since_epoch));
}

doctor_settings::Actor actor(const po::variables_map& vm) {
  doctor_settings::Actor a;
  a.source = "cli";
  if (vm.count("changed-by") != 0U) a.by = vm["changed-by"].as<std::string>();
  if (a.by.empty()) {
    const char* user = std::getenv("USER");
    a.by = user != nullptr && *user != '\0' ? user : "cli";
  }
  return a;
}

std::string json_text(const json::value& value) { return sas::host::fhir::serialize_plain(value); }

int dispatch(const Args& args, std::string_view usage, std::initializer_list<Action> actions) {
  const std::string action = args.empty() ? "" : args.front();
  for (const Action& a : actions) {
    if (a.name == action) return a.run(Args(args.begin() + 1, args.end()));
  }
  if (action == "--help" || action == "-h" || action == "help") {
    std::cout << usage;
    return 0;
  }
  std::cerr << usage;
  return 2;
}

int report_error(const std::string& command, const std::exception& e, int code) {
  std::cerr << command << ": " << e.what() << "\n";
  return code;
}

}  // namespace sas::host::cli::doctor_options
