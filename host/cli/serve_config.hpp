// The configuration of `sas-host serve`: its options (each also a key of the --config file) and
// what they become (the FHIR and admin listeners, the runtime, INT_R03 delivery). `serve` and
// `check-config` both read a configuration through here, so that they never disagree about
// what a key means or which values are refused.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <sas/host/logging/logger.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/server/https_server.hpp>
#include <string>
#include <vector>

#include "options.hpp"

namespace sas::host::cli {

// serve's options, each also a key of the --config file (docs/configuration.md).
sas::cli::po::options_description serve_options();

// One value refused, or one key missing.
struct ConfigProblem {
  std::string key;      // the key at fault, without "--"
  std::string message;  // as serve prints it (after "sas-host serve: "), naming the key
};

struct ServeConfig {
  // The FHIR listener. `log` is left to the caller.
  server::ServerConfig fhir;
  // The admin API's listener (same TLS material); none: the admin API is off. `log` is left to
  // the caller.
  std::optional<server::ServerConfig> admin;
  std::filesystem::path admin_token_file;  // empty: none
  std::string admin_token;                 // read from admin_token_file (mode 600, 32+ characters)
  // The read-only token of GET /metrics (docs/operations.md, "Monitor"); the same file rules.
  std::filesystem::path metrics_token_file;  // empty: none
  std::string metrics_token;
  // The doctor's panel (docs/doctor-panel.md): the HMAC key of its tokens, the same file rules;
  // empty: no panel. Its tokens' longest life, and the origins that may frame it (normalised).
  std::filesystem::path panel_key_file;  // empty: none
  std::string panel_key;
  std::chrono::seconds panel_token_max_ttl{3600};
  std::string panel_frame_ancestors = "'none'";
  // The plugin, the store, the rule file, isolation and INT_R03 delivery. `log` is left to the
  // caller, as is everything that is no key (now, wrap_host_calls...).
  runtime::RuntimeOptions runtime;
  // The FHIR endpoint; an empty base_url is https://LISTEN, known once the listener is bound.
  runtime::EndpointOptions endpoint;
  // The log on stderr: JSON lines (the default) or text.
  logging::Format log_format = logging::Format::json;
  // Every value refused, in the order serve checks them; serve starts only when there is none.
  // The fields above hold what could be read.
  std::vector<ConfigProblem> problems;
};

// What `v` (parsed with serve_options()) configures. Reads the admin token file (the same
// refusals as at start) and looks at the files and directories serve checks before it starts
// anything (sas-cert/sas-key/sas-ca, plugin-workdir); other files are read when serve starts.
ServeConfig read_serve_config(const sas::cli::po::variables_map& v);

}  // namespace sas::host::cli
