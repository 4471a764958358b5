// sas-host search: one slot search straight through the plugin, without HTTP or TLS. For
// vendors checking their plugin's data and for the demo. With --store, the doctors' settings
// and publication rules of that store are applied, as the served endpoint does.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <map>
#include <sas/host/doctor_settings/service.hpp>
#include <sas/host/plugin_loader/plugin.hpp>
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

int64_t to_seconds(Instant t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

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
                << "  " << place->second->city() << "\n";
    }
  }
}

}  // namespace

int search(const Args& args) {
  po::options_description options("search options");
  options.add_options()("plugin", po::value<std::string>()->required(), "plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin")(
      "practitioners", po::value<std::string>()->required(), "1 to 25 RPPS/ADELI ids, comma-separated")(
      "from", po::value<std::string>()->required(), "window start, FHIR dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, FHIR dateTime with offset")(
      "store", po::value<std::string>(),
      "apply the doctor settings and publication rules of this host store (sqlite:PATH), as `serve` does")(
      "json", po::bool_switch(), "print the plugin's answer as JSON");
  int exit_code = 0;
  auto vm = parse_options("sas-host search", "--plugin PATH --practitioners ID,... --from T --to T", options, args,
                          exit_code);
  if (!vm) return exit_code;

  v1::PluginRequest request;
  v1::SearchSlotsRequest& search = *request.mutable_search_slots();
  std::stringstream ids((*vm)["practitioners"].as<std::string>());
  std::string raw;
  while (std::getline(ids, raw, ',')) {
    std::string error;
    auto id = sas::sdk::ids::normalize_practitioner_id(raw, &error);
    if (!id) {
      std::cerr << "sas-host search: --practitioners: '" << raw << "': " << error << "\n";
      return 2;
    }
    search.add_practitioner_national_ids(id->prefixed);
  }
  if (search.practitioner_national_ids_size() < 1 || search.practitioner_national_ids_size() > 25) {
    std::cerr << "sas-host search: --practitioners: give 1 to 25 ids\n";
    return 2;
  }
  for (const char* key : {"from", "to"}) {
    std::string error;
    auto t = sas::sdk::datetime::parse_fhir((*vm)[key].as<std::string>(), &error);
    if (!t) {
      std::cerr << "sas-host search: --" << key << ": " << error << "\n";
      return 2;
    }
    (std::string(key) == "from" ? search.set_start_from(to_seconds(*t)) : search.set_start_to(to_seconds(*t)));
  }

  auto plugin = PluginInstance::load((*vm)["plugin"].as<std::string>(), (*vm)["plugin-config"].as<std::string>());
  v1::PluginResponse response;
  CallResult result = plugin->call(request, response, std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!result.ok()) {
    std::cerr << "sas-host search: plugin answered " << status_name(result.status) << ": " << result.message << "\n";
    return 1;
  }
  if (vm->count("store") != 0U) {
    doctor_settings::Service settings(Store::open((*vm)["store"].as<std::string>()));
    const auto published = doctor_settings::apply(*settings.snapshot(), *response.mutable_search_slots());
    std::cerr << "sas-host search: settings and rules of " << (*vm)["store"].as<std::string>() << ": "
              << published.hidden_slots << " slot(s) withheld, " << published.retyped_slots << " retyped\n";
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
