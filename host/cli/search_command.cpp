// sas-host search: one slot search through the endpoint's search service, without HTTP or TLS.
// For vendors checking their plugin's data and for the demo: the same statuses and words as
// GET [base]/Slot, and the Bundle builder's warnings about the data on stderr. With --store, the
// doctors' settings and publication rules of that store are applied, as the served endpoint does.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <map>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/slot_search/service.hpp>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"

namespace sas::host::cli {

using sas::cli::parse_options;
namespace po = sas::cli::po;
namespace {

namespace v1 = sas::plugin::v1;
using sas::sdk::datetime::Instant;

// fullUrls and the self link of a Bundle that no platform asked for.
constexpr const char* kBase = "https://sas-host-search.invalid/sas";

void print_summary(const v1::SearchSlotsResponse& response) {
  std::map<std::string, const v1::Place*> places;
  for (const auto& place : response.places()) places[place.id()] = &place;
  std::cout << response.practitioners_size() << " practitioner(s), " << response.places_size() << " place(s), "
            << response.slots_size() << " free slot(s)\n";
  for (const auto& practitioner : response.practitioners()) {
    std::cout << "- " << practitioner.family_name();
    for (const auto& given : practitioner.given_names()) std::cout << " " << given;
    std::cout << " (" << practitioner.national_id() << ")\n";
    for (const auto& slot : response.slots()) {
      auto place = places.find(slot.place_id());
      if (place == places.end() || place->second->practitioner_id() != practitioner.id()) continue;
      std::cout << "    " << sas::sdk::datetime::format_paris(Instant(std::chrono::seconds(slot.start())), false)
                << "  " << place->second->city();
      if (!slot.cpts_finess().empty()) {  // only the CPTS search asks for the slots open to CPTS only
        std::cout << "  CPTS";
        for (const auto& finess : slot.cpts_finess()) std::cout << " " << finess;
      }
      std::cout << "\n";
    }
  }
}

}  // namespace

int search(const Args& args) {
  // The SOS Médecins search has its own options (sos_search_command.cpp).
  for (const auto& a : args) {
    if (a == "--sos" || a.rfind("--sos=", 0) == 0) return search_sos(args);
  }
  po::options_description options("search options");
  options.add_options()("plugin", po::value<std::string>()->required(), "plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin")(
      "practitioners", po::value<std::string>()->required(), "1 to 25 RPPS/ADELI ids, comma-separated")(
      "from", po::value<std::string>()->required(), "window start, FHIR dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, FHIR dateTime with offset")(
      "store", po::value<std::string>(),
      "apply the doctor settings and publication rules of this host store (sqlite:PATH), as `serve` does")(
      "cpts", po::bool_switch(),
      "the INT_R04 CPTS search: the same practitioners with the CPTS includes (the plugin must declare cpts-search)")(
      "json", po::bool_switch(), "print the plugin's answer as JSON")("bundle", po::bool_switch(),
                                                                      "print the FHIR Bundle the endpoint would send");
  int exit_code = 0;
  auto vm = parse_options("sas-host search", "--plugin PATH --practitioners ID,... --from T --to T", options, args,
                          exit_code);
  if (!vm) return exit_code;

  std::vector<std::string> practitioners;
  std::stringstream ids((*vm)["practitioners"].as<std::string>());
  std::string raw;
  while (std::getline(ids, raw, ',')) {
    std::string error;
    auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
    if (!id) {
      std::cerr << "sas-host search: --practitioners: '" << raw << "': " << error << "\n";
      return 2;
    }
    practitioners.push_back(id->prefixed);
  }
  if (practitioners.empty() || practitioners.size() > 25) {
    std::cerr << "sas-host search: --practitioners: give 1 to 25 ids\n";
    return 2;
  }
  std::string window[2];
  for (int i = 0; i < 2; ++i) {
    const char* key = i == 0 ? "from" : "to";
    std::string error;
    auto t = sas::sdk::datetime::parse_fhir((*vm)[key].as<std::string>(), &error);
    if (!t) {
      std::cerr << "sas-host search: --" << key << ": " << error << "\n";
      return 2;
    }
    window[i] = sas::sdk::datetime::format_utc(*t);
  }

  // The endpoint's own search path (slot_search::SearchService), on the platform's query, in a
  // runtime that only reads the agenda: it answers none of the plugin's host calls.
  runtime::RuntimeOptions runtime_options;
  runtime_options.plugin = (*vm)["plugin"].as<std::string>();
  runtime_options.plugin_config = (*vm)["plugin-config"].as<std::string>();
  if (vm->count("store") != 0U) runtime_options.store = (*vm)["store"].as<std::string>();
  runtime_options.answer_host_calls = false;
  runtime_options.endpoint = runtime::EndpointOptions{kBase, "", std::chrono::seconds(5)};
  runtime_options.log = [](std::string_view line) { std::cerr << "sas-host search: " << line << "\n"; };
  auto host = runtime::Runtime::build(std::move(runtime_options));
  const slot_search::SearchService& service = host->search();
  v1::PluginResponse response;
  const bool cpts = (*vm)["cpts"].as<bool>();
  const auto result =
      service.search(slot_search::slot_query_target(practitioners, window[0], window[1], cpts), response);
  if (!result.ok()) {
    std::cerr << "sas-host search: " << fhir::diagnostics_of(result.error->outcome) << " (HTTP " << result.error->status
              << ")\n";
    return 1;
  }
  if (host->doctor_settings()) {
    std::cerr << "sas-host search: settings and rules of " << (*vm)["store"].as<std::string>() << ": "
              << result.hidden_slots << " slot(s) withheld, " << result.retyped_slots << " retyped\n";
  }
  if ((*vm)["bundle"].as<bool>()) {
    std::cout << result.bundle << "\n";
    return 0;
  }
  if ((*vm)["json"].as<bool>()) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response.search_slots(), &json, print);
    std::cout << json;
  } else {
    print_summary(response.search_slots());
  }
  return 0;
}

}  // namespace sas::host::cli
