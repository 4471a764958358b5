// sas-host rules list|add|remove|explain: a practitioner's publication rules, offline on the
// store or online through a running host's admin API, and why each slot of the plugin's answer
// is (not) published. docs/doctor-options.md, "Command line".
#include <chrono>
#include <fstream>
#include <iostream>
#include <sas/host/doctor_settings/documents.hpp>
#include <sas/host/doctor_settings/publication.hpp>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/sdk/datetime.hpp>
#include <sstream>

#include "commands.hpp"
#include "doctor_settings_cli.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace json = boost::json;
namespace ds = sas::host::doctor_settings;
namespace v1 = sas::plugin::v1;
using namespace doctor_options;  // NOLINT(google-build-using-namespace): this file's own helpers

namespace {

constexpr const char* kUsage =
    "usage: sas-host rules list|add|remove|explain --practitioner ID (--store URL | --admin URL --admin-token-file F)\n"
    "  add:     --rule JSON|@FILE [--changed-by WHO]\n"
    "  remove:  --id N [--changed-by WHO]\n"
    "  explain: --from DATETIME --to DATETIME [--slot ID] [--plugin SO [--plugin-config C]] (the plugin: offline)\n";
constexpr const char* kTarget = "(--store URL | --admin URL --admin-token-file F [--admin-ca F])";

std::string rules_path(const std::string& id) { return "/admin/v1/practitioners/" + id + "/rules"; }

int list(const Args& args) {
  const std::string command = "sas-host rules list";
  po::options_description options("rules list options");
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
      out = ds::rules_document(id, target.service->rules(id));
    } else {
      out = target.admin->send_json("GET", rules_path(id));
    }
    std::cout << json_text(out) << "\n";
    return 0;
  });
}

// --rule: the JSON text, or @FILE.
json::value rule_json(const std::string& raw) {
  std::string text = raw;
  std::string where = "--rule";
  if (!raw.empty() && raw.front() == '@') {
    const std::string file = raw.substr(1);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw UsageError("--rule @" + file + ": cannot read the file");
    std::ostringstream content;
    content << in.rdbuf();
    text = content.str();
    where = "--rule @" + file;
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) throw UsageError(where + ": not JSON: " + ec.message());
  if (!parsed.is_object()) throw UsageError(where + ": expected a JSON object, e.g. {\"kind\":\"public-also-snp\"}");
  return parsed;
}

int add(const Args& args) {
  const std::string command = "sas-host rules add";
  po::options_description options("rules add options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not")(
      "rule", po::value<std::string>()->required(), "the rule as JSON (docs/doctor-options.md), or @FILE")(
      "changed-by", po::value<std::string>(), "who adds it (default: $USER)");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command, std::string("--practitioner ID --rule JSON|@FILE [--changed-by WHO] ") + kTarget,
                          options, args, exit_code);
  if (!vm) return exit_code;
  return guarded(command, [&] {
    const std::string id = practitioner(*vm);
    const json::value rule = rule_json((*vm)["rule"].as<std::string>());
    // The same check the service makes, here first so that bad input names --rule (exit 2)
    // and what is left to refuse is a conflict with the rules in force (exit 1).
    try {
      (void)ds::parse_rule(rule, id);
    } catch (const ds::RuleError& e) {
      throw UsageError(std::string("--rule: ") + e.what());
    }
    if (vm->count("changed-by") != 0U && (*vm)["changed-by"].as<std::string>().empty()) {
      throw UsageError("--changed-by: empty");
    }
    const ds::Actor who = actor(*vm);
    Target target = open_target(*vm);
    json::value out;
    if (target.service) {
      try {
        out = ds::to_json(target.service->add_rule(id, rule, who));
      } catch (const ds::RuleError& e) {
        throw std::runtime_error(e.what());  // a conflict: exit 1
      }
    } else {
      json::object body = rule.as_object();
      body["changed_by"] = who.by;
      out = target.admin->send_json("POST", rules_path(id), json::value(body));
    }
    std::cout << json_text(out) << "\n";
    return 0;
  });
}

int remove(const Args& args) {
  const std::string command = "sas-host rules remove";
  po::options_description options("rules remove options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not")(
      "id", po::value<int64_t>()->required(), "the rule's id (rules list)")("changed-by", po::value<std::string>(),
                                                                            "who removes it (default: $USER)");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command, std::string("--practitioner ID --id N [--changed-by WHO] ") + kTarget, options, args,
                          exit_code);
  if (!vm) return exit_code;
  return guarded(command, [&] {
    const std::string id = practitioner(*vm);
    const int64_t rule_id = (*vm)["id"].as<int64_t>();
    if (rule_id <= 0) throw UsageError("--id: expected a rule id (a positive number), got " + std::to_string(rule_id));
    if (vm->count("changed-by") != 0U && (*vm)["changed-by"].as<std::string>().empty()) {
      throw UsageError("--changed-by: empty");
    }
    const ds::Actor who = actor(*vm);
    Target target = open_target(*vm);
    if (target.service) {
      target.service->remove_rule(id, rule_id, who);
    } else {
      (void)target.admin->send(
          "DELETE", rules_path(id) + "/" + std::to_string(rule_id) + "?changed_by=" + AdminClient::escape(who.by));
    }
    std::cout << json_text(json::object{{"practitioner", id}, {"removed", rule_id}}) << "\n";
    return 0;
  });
}

int explain(const Args& args) {
  const std::string command = "sas-host rules explain";
  po::options_description options("rules explain options");
  options.add_options()("practitioner", po::value<std::string>()->required(), "RPPS or ADELI, prefixed or not")(
      "from", po::value<std::string>()->required(), "window start, a dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, a dateTime with offset")(
      "slot", po::value<std::string>(), "only this slot id of the plugin's answer (default: every slot)")(
      "plugin", po::value<std::string>(), "offline: the plugin library (.so) to ask for the slots")(
      "plugin-config", po::value<std::string>()->default_value(""), "offline: passed verbatim to the plugin");
  add_target_options(options);
  int exit_code = 0;
  auto vm = parse_options(command,
                          "--practitioner ID --from DATETIME --to DATETIME [--slot ID] "
                          "(--store URL --plugin SO [--plugin-config C] | --admin URL --admin-token-file F)",
                          options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  return guarded(command, [&] {
    const std::string id = practitioner(v);
    const auto from = instant_flag(v, "from");
    const auto to = instant_flag(v, "to");
    if (!(from < to)) throw UsageError("--to: must be after --from");
    if (to - from > std::chrono::hours(24 * 31))
      throw UsageError("--to: the window --from..--to is limited to 31 days");
    const bool online = v.count("admin") != 0U;
    if (online && v.count("plugin") != 0U) {
      throw UsageError("--plugin: not with --admin (the running host asks its own plugin)");
    }
    if (!online && v.count("plugin") == 0U) throw UsageError("--plugin: required with --store");
    const std::optional<std::string> only =
        v.count("slot") != 0U ? std::optional(v["slot"].as<std::string>()) : std::nullopt;
    Target target = open_target(v);
    json::value out;
    if (target.admin) {
      std::string path = "/admin/v1/practitioners/" + id +
                         "/explain?start=" + AdminClient::escape(v["from"].as<std::string>()) +
                         "&end=" + AdminClient::escape(v["to"].as<std::string>());
      if (only) path += "&slot=" + AdminClient::escape(*only);
      out = target.admin->send_json("GET", path);
    } else {
      auto plugin = plugin_loader::PluginInstance::load(v["plugin"].as<std::string>(), v["plugin-config"].as<std::string>());
      // The search service's plugin call, as the admin API's explain makes it: the same words.
      slot_search::SearchServiceOptions search_options;
      search_options.plugin_deadline = std::chrono::seconds(30);
      const slot_search::SearchService search(plugin, search_options);
      v1::PluginResponse response;
      if (auto failure = search.call_plugin(ds::explain_request(id, from, to), response)) {
        throw std::runtime_error(fhir::diagnostics_of(failure->outcome) + " (HTTP " + std::to_string(failure->status) +
                                 ")");
      }
      auto explained = ds::explain_document(*target.service->snapshot(), id, from, to, response.search_slots(), only);
      if (!explained) {
        throw std::runtime_error("--slot " + *only +
                                 ": the plugin's answer for this practitioner and window has no such slot");
      }
      out = std::move(*explained);
    }
    std::cout << json_text(out) << "\n";
    return 0;
  });
}

}  // namespace

int rules(const Args& args) {
  return doctor_options::dispatch(args, kUsage,
                                  {{"list", list}, {"add", add}, {"remove", remove}, {"explain", explain}});
}

}  // namespace sas::host::cli
