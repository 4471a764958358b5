// sas-host settings get|set|history: a practitioner's SAS options (participation, visibility,
// consent to be called, phone), offline on the store or online through a running host's admin
// API. docs/doctor-options.md, "Command line".
#include <chrono>
#include <iostream>
#include <sas/host/doctor_settings/documents.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/phone.hpp>

#include "commands.hpp"
#include "doctor_settings_cli.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace json = boost::json;
namespace ds = sas::host::doctor_settings;
using namespace doctor_options;  // NOLINT(google-build-using-namespace): this file's own helpers

namespace {

constexpr const char* kUsage =
    "usage: sas-host settings get|set|history --practitioner ID (--store URL | --admin URL --admin-token-file F)\n"
    "  set: [--volunteer true|false] [--visible true|false] [--consent-to-call true|false] [--phone P]\n"
    "       [--effective-at DATETIME] [--changed-by WHO]\n";
constexpr const char* kTarget = "(--store URL | --admin URL --admin-token-file F [--admin-ca F])";

std::optional<bool> flag_bool(const po::variables_map& vm, const char* key) {
  if (vm.count(key) == 0U) return std::nullopt;
  const std::string value = vm[key].as<std::string>();
  if (value == "true") return true;
  if (value == "false") return false;
  throw UsageError(std::string("--") + key + ": expected true or false, got '" + value + "'");
}

int get(const Args& args) {
  const std::string command = "sas-host settings get";
  po::options_description options("settings get options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command, std::string("--practitioner ID ") + kTarget, options, args, exit_code);
  if (!vm) return exit_code;
  return guarded(command, [&] {
    const std::string id = practitioner(*vm);
    Target target = open_target(*vm);
    json::value settings;
    if (target.service) {
      settings = ds::to_json(target.service->get(id));
    } else {
      settings = target.admin->send_json("GET", "/admin/v1/practitioners/" + id + "/settings");
    }
    std::cout << json_text(settings) << "\n";
    return 0;
  });
}

int set(const Args& args) {
  const std::string command = "sas-host settings set";
  po::options_description options("settings set options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not")(
      "volunteer", po::value<std::string>(), "true|false: takes part in SAS (\"Je participe au SAS\")")(
      "visible", po::value<std::string>(), "true|false: the agenda is visible to SAS")(
      "consent-to-call", po::value<std::string>(), "true|false: call me before sending me a patient")(
      "phone", po::value<std::string>(), "the number the regulator calls (French); \"\" removes it")(
      "effective-at", po::value<std::string>(),
      "when the doctor made the choice, a dateTime with offset, not in the future (default: now)")(
      "changed-by", po::value<std::string>(), "who makes the change (default: $USER)");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command,
                          std::string("--practitioner ID [--volunteer true|false] [--visible true|false] "
                                      "[--consent-to-call true|false] [--phone P] [--effective-at DATETIME] "
                                      "[--changed-by WHO] ") +
                              kTarget,
                          options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  return guarded(command, [&] {
    // Everything is checked before anything is opened or sent: a refusal records nothing.
    const std::string id = practitioner(v);
    ds::SettingsPatch patch;
    patch.volunteer = flag_bool(v, "volunteer");
    patch.visible = flag_bool(v, "visible");
    patch.consent_to_call = flag_bool(v, "consent-to-call");
    if (v.count("phone") != 0U) {
      const std::string raw = v["phone"].as<std::string>();
      if (raw.empty()) {
        patch.phone = "";
      } else {
        std::string error;
        auto phone = sas::sdk::phone::to_plus33(raw, &error);
        if (!phone) throw UsageError("--phone: '" + raw + "': " + error);
        patch.phone = *phone;
      }
    }
    if (patch.empty()) {
      throw UsageError("give at least one of --volunteer, --visible, --consent-to-call, --phone");
    }
    std::optional<ds::Clock::time_point> effective_at;
    std::string effective_text;
    if (v.count("effective-at") != 0U) {
      effective_text = v["effective-at"].as<std::string>();
      effective_at = instant_flag(v, "effective-at");
      if (*effective_at > ds::Clock::now()) {
        throw UsageError("--effective-at: " + effective_text + " is in the future; a choice is recorded once made");
      }
    }
    if (v.count("changed-by") != 0U && v["changed-by"].as<std::string>().empty()) {
      throw UsageError("--changed-by: empty");
    }
    const ds::Actor who = actor(v);
    Target target = open_target(v);
    json::value settings;
    if (target.service) {
      settings = ds::to_json(target.service->set(id, patch, who, effective_at));
    } else {
      json::object body;
      if (patch.volunteer) body["volunteer"] = *patch.volunteer;
      if (patch.visible) body["visible"] = *patch.visible;
      if (patch.consent_to_call) body["consent_to_call"] = *patch.consent_to_call;
      if (patch.phone) body["phone"] = *patch.phone;
      if (effective_at) body["effective_at"] = effective_text;
      body["changed_by"] = who.by;
      settings = target.admin->send_json("PATCH", "/admin/v1/practitioners/" + id + "/settings", json::value(body));
    }
    std::cout << json_text(settings) << "\n";
    return 0;
  });
}

int history(const Args& args) {
  const std::string command = "sas-host settings history";
  po::options_description options("settings history options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command, std::string("--practitioner ID ") + kTarget, options, args, exit_code);
  if (!vm) return exit_code;
  return guarded(command, [&] {
    const std::string id = practitioner(*vm);
    Target target = open_target(*vm);
    json::value out;
    if (target.service) {
      out = ds::history_document(id, target.service->history(id));
    } else {
      out = target.admin->send_json("GET", "/admin/v1/practitioners/" + id + "/settings/history");
    }
    std::cout << json_text(out) << "\n";
    return 0;
  });
}

}  // namespace

int settings(const Args& args) {
  return doctor_options::dispatch(args, kUsage, {{"get", get}, {"set", set}, {"history", history}});
}

}  // namespace sas::host::cli
