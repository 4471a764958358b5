// What `sas-host settings`, `sas-host rules` and `sas-host report forfait` share: where they act
// (offline on the store with --store, or online through a running host's admin API with
// --admin), who acts, and how they print JSON. docs/doctor-options.md, "Command line".
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <sas/host/admin_api/admin_client.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <stdexcept>
#include <string>

#include "options.hpp"

namespace sas::host::cli::doctor_options {

namespace po = sas::cli::po;

// Bad input on the command line: the message names the flag; exit code 2, nothing done.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The admin API answered with an error: its message; exit code 1.
class RemoteError : public std::runtime_error {
 public:
  RemoteError(long status, const std::string& message) : std::runtime_error(message), status_(status) {}
  long status() const { return status_; }

 private:
  long status_;
};

// A running host's admin API (docs/admin-api.md), over admin_api::request (libcurl, HTTPS,
// `Authorization: Bearer`).
class AdminClient {
 public:
  // `base` e.g. https://127.0.0.1:8444; `ca_file` "" trusts the system's CAs.
  AdminClient(std::string base, std::string token, std::string ca_file);

  struct Answer {
    long status = 0;
    std::string body;
  };
  // `path` from /admin/v1/...; `body` sent as JSON when given. Throws RemoteError for an HTTP
  // status of 400 or more (with the message of the API's {"error":{...}} body) and
  // std::runtime_error when no answer came.
  Answer send(const std::string& method, const std::string& path, const std::optional<boost::json::value>& body = {});
  boost::json::value send_json(const std::string& method, const std::string& path,
                               const std::optional<boost::json::value>& body = {});

  // RFC 3986 percent-encoding of a query value.
  static std::string escape(const std::string& value);

 private:
  admin_api::ClientOptions options_;
};

// Where a command acts: exactly one of the two is set.
struct Target {
  std::shared_ptr<doctor_settings::Service> service;  // --store: offline
  std::unique_ptr<AdminClient> admin;                 // --admin: online
};

// --store, --admin, --admin-token-file, --admin-ca.
void add_target_options(po::options_description& options);
// Opens what the options name. Throws UsageError naming the flag (none or both of --store and
// --admin, a token file missing or empty, --admin-token-file without --admin...).
Target open_target(const po::variables_map& vm);

// The --practitioner value, prefixed; UsageError naming --practitioner.
std::string practitioner(const po::variables_map& vm);
// A dateTime with an offset given as flag `key`; UsageError naming --key if it is not one, or
// if it is out of the clock's range (before 1678 or after 2261: refused rather than wrapped).
doctor_settings::Clock::time_point instant_flag(const po::variables_map& vm, const char* key);
// --changed-by, else $USER, else "cli"; source "cli".
doctor_settings::Actor actor(const po::variables_map& vm);

// JSON text on one line, with numbers in plain decimal notation (365, 227.958333: at most six
// decimals) rather than Boost.JSON's exponent form (3.65E2), so that the offline and online
// forms of a command print the same text.
std::string json_text(const boost::json::value& value);

// Runs `body`, turning its exceptions into a message on stderr prefixed by `command` and an exit
// code: UsageError, SettingsError and RuleError 2; RemoteError, NotFound and everything else 1.
template <typename Body>
int guarded(const std::string& command, Body&& body);

int report_error(const std::string& command, const std::exception& e, int code);

template <typename Body>
int guarded(const std::string& command, Body&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    return report_error(command, e, 2);
  } catch (const doctor_settings::SettingsError& e) {
    return report_error(command, e, 2);
  } catch (const doctor_settings::RuleError& e) {
    return report_error(command, e, 2);
  } catch (const std::exception& e) {
    return report_error(command, e, 1);
  }
}

}  // namespace sas::host::cli::doctor_options
