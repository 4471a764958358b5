// sas-sample-agenda: a minimal agenda web app showing the origin=sas booking path of a SAS
// regulator (development sample: plain HTTP on loopback only).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <options.hpp>
#include <sas/host/server/https_server.hpp>
#include <sas/sdk/panel_token.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agenda_store.hpp"
#include "password.hpp"
#include "web_app.hpp"

namespace {

namespace po = sas::cli::po;
namespace web = sas::sample::agenda_web;

constexpr const char* kUsage =
    "usage: sas-sample-agenda COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  serve --agenda FILE [--listen 127.0.0.1:8080] [--session-seconds N]\n"
    "        [--panel-key-file F --panel-admin-base https://HOST:PORT]\n"
    "                    the agenda's booking pages over plain HTTP on loopback (development sample);\n"
    "                    with the panel options, /medecin/ID/sas embeds the doctor's SAS panel\n"
    "  set-password --agenda FILE --email E --password P [--account ID]\n"
    "                    set a regulator account's password (PBKDF2-HMAC-SHA256, salted)\n"
    "\n"
    "`sas-sample-agenda COMMAND --help` describes each command's options.\n";

// Loopback only: this sample has no TLS.
bool loopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

// The panel key shared with sas-host (its panel-key-file): the whole file, trimmed of
// surrounding white space, as the host reads it. Empty string and a message when unusable.
std::string read_panel_key(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "--panel-key-file '" + path + "': cannot be read";
    return {};
  }
  std::stringstream content;
  content << in.rdbuf();
  std::string key = content.str();
  const auto first = key.find_first_not_of(" \t\r\n");
  key = first == std::string::npos ? std::string() : key.substr(first, key.find_last_not_of(" \t\r\n") - first + 1);
  if (key.size() < sas::sdk::panel_token::kMinKeyLength) {
    error = "--panel-key-file '" + path + "': the key must have at least " +
            std::to_string(sas::sdk::panel_token::kMinKeyLength) + " characters";
    return {};
  }
  return key;
}

int serve(const std::vector<std::string>& args) {
  po::options_description options("serve options");
  options.add_options()("agenda", po::value<std::string>()->required(), "agenda file (sqlite-agenda schema)")(
      "listen", po::value<std::string>()->default_value("127.0.0.1:8080"), "HOST:PORT, loopback only (port 0: any)")(
      "session-seconds", po::value<unsigned>()->default_value(1800), "lifetime of a login session, from login")(
      "panel-key-file", po::value<std::string>(), "the doctor's panel key, shared with sas-host (panel tokens)")(
      "panel-admin-base", po::value<std::string>(),
      "sas-host's admin listener as the browser reaches it, e.g. https://127.0.0.1:8444")(
      "panel-token-seconds", po::value<unsigned>()->default_value(900), "lifetime of a panel token");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sample-agenda serve", "--agenda FILE [--listen HOST:PORT]", options, args,
                                    exit_code);
  if (!vm) return exit_code;
  const auto listen = (*vm)["listen"].as<std::string>();
  sas::host::server::ServerConfig config;
  auto colon = listen.rfind(':');
  unsigned long port = 70000;
  if (colon != std::string::npos && colon + 1 < listen.size() &&
      listen.find_first_not_of("0123456789", colon + 1) == std::string::npos && listen.size() - colon <= 6) {
    port = std::stoul(listen.substr(colon + 1));
  }
  if (port > 65535) {
    std::cerr << "sas-sample-agenda serve: --listen '" << listen << "': expected HOST:PORT\n";
    return 2;
  }
  config.host = listen.substr(0, colon);
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  if (!loopback(config.host)) {
    std::cerr << "sas-sample-agenda serve: --listen must be a loopback address (plain HTTP sample)\n";
    return 2;
  }
  config.port = static_cast<uint16_t>(port);
  config.allow_plain_http = true;
  config.worker_threads = 4;
  // A browser waits longer than the platform's 7 s, and a login is slow on purpose (PBKDF2,
  // 600,000 rounds: seconds on a loaded machine or under a sanitizer).
  config.request_deadline = std::chrono::seconds(30);
  config.log = [](std::string_view line) { std::cerr << "sas-sample-agenda: " << line << std::endl; };

  web::WebAppOptions app_options;
  app_options.agenda = (*vm)["agenda"].as<std::string>();
  app_options.session_lifetime = std::chrono::seconds((*vm)["session-seconds"].as<unsigned>());
  app_options.log = config.log;
  if ((vm->count("panel-key-file") != 0U) != (vm->count("panel-admin-base") != 0U)) {
    std::cerr << "sas-sample-agenda serve: --panel-key-file and --panel-admin-base go together\n";
    return 2;
  }
  if (vm->count("panel-key-file") != 0U) {
    std::string error;
    app_options.panel_key = read_panel_key((*vm)["panel-key-file"].as<std::string>(), error);
    if (!error.empty()) {
      std::cerr << "sas-sample-agenda serve: " << error << "\n";
      return 2;
    }
    app_options.panel_admin_base = (*vm)["panel-admin-base"].as<std::string>();
    while (app_options.panel_admin_base.ends_with('/')) app_options.panel_admin_base.pop_back();
    // An origin only: it goes into the page's Content-Security-Policy and the iframe's URL.
    const auto& base = app_options.panel_admin_base;
    if (!base.starts_with("https://") || base.size() <= 8 || base.find_first_of("/?#'\" ;,", 8) != std::string::npos) {
      std::cerr << "sas-sample-agenda serve: --panel-admin-base '" << base
                << "': expected https://HOST:PORT (the admin listener's origin)\n";
      return 2;
    }
    app_options.panel_token_lifetime = std::chrono::seconds((*vm)["panel-token-seconds"].as<unsigned>());
  }
  {
    web::AgendaStore db(app_options.agenda);  // fails early on a missing file
    db.ensure_schema();
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  web::WebApp app(app_options);
  sas::host::server::HttpsServer server(config, [&app](const sas::host::server::Request& r) { return app.handle(r); });
  server.start();
  // One write, so that a reader never sees the line without its port.
  std::cerr << ("sas-sample-agenda: listening on http://" + config.host + ":" + std::to_string(server.port()) + "\n")
            << std::flush;
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "sas-sample-agenda: stopping on signal " << signal_number << std::endl;
  server.stop();
  return 0;
}

int set_password(const std::vector<std::string>& args) {
  po::options_description options("set-password options");
  options.add_options()("agenda", po::value<std::string>()->required(), "agenda file (sqlite-agenda schema)")(
      "email", po::value<std::string>()->required(), "the regulator account's e-mail")(
      "password", po::value<std::string>()->required(), "the new password (at least 8 characters)")(
      "account", po::value<std::string>(), "the account id, when several accounts share the e-mail");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sample-agenda set-password", "--agenda FILE --email E --password P", options,
                                    args, exit_code);
  if (!vm) return exit_code;
  const auto email = (*vm)["email"].as<std::string>();
  const auto password = (*vm)["password"].as<std::string>();
  if (password.size() < 8) {
    std::cerr << "sas-sample-agenda set-password: the password must have at least 8 characters\n";
    return 2;
  }
  web::AgendaStore db((*vm)["agenda"].as<std::string>());
  db.ensure_schema();
  auto accounts = db.accounts_by_email(email);
  if (vm->count("account") != 0U) {
    const auto id = (*vm)["account"].as<std::string>();
    std::erase_if(accounts, [&id](const web::RegulatorAccountRow& a) { return a.id != id; });
  }
  if (accounts.size() != 1) {
    std::cerr << "sas-sample-agenda set-password: " << accounts.size() << " regulator accounts match '" << email << "'"
              << (accounts.size() > 1 ? " (choose one with --account ID)" : "") << "\n";
    return 1;
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  db.set_password_hash(accounts.front().id, web::hash_password(password), now);
  std::cout << "password set for regulator account " << accounts.front().id << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "serve") return serve(args);
    if (command == "set-password") return set_password(args);
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "sas-sample-agenda: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sas-sample-agenda %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
