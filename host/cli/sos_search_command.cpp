// sas-host search --sos: one SOS Médecins search through the endpoint's own SOS search service,
// without HTTP or TLS, with the same statuses and words as GET [base]/Schedule and the Bundle
// builder's warnings about the data on stderr. Doctor settings do not apply to this search (no
// practitioner is named), so there is no --store.
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <map>
#include <sas/host/fhir/plugin_failure.hpp>
#include <sas/host/fhir_server/fhir_endpoint.hpp>
#include <sas/host/runtime/runtime.hpp>
#include <sas/host/sos_search/service.hpp>
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

void print_summary(const v1::SearchSosSlotsResponse& response, const sos_search::SosBuildReport& report) {
  std::cout << response.associations_size() << " association(s), " << response.places_size() << " place(s), "
            << response.slots_size() << " slot(s) from the agenda; " << report.matches << " in the answer at "
            << report.schedules << " place(s)\n";
  std::map<std::string, std::vector<const v1::Slot*>> slots;
  for (const auto& slot : response.slots()) slots[slot.place_id()].push_back(&slot);
  // SIRETs as stored, each in its own form: compared prefixed.
  const auto prefixed = [](const std::string& siret) {
    return sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret, siret).value_or(siret);
  };
  for (const auto& association : response.associations()) {
    std::cout << "- " << association.name() << " (SIRET " << association.siret() << ")\n";
    for (const auto& place : response.places()) {
      if (prefixed(place.association_siret()) != prefixed(association.siret())) continue;
      std::cout << "    " << place.name() << ", " << place.city() << "\n";
      for (const v1::Slot* slot : slots[place.id()]) {
        std::cout << "      " << sas::sdk::datetime::format_paris(Instant(std::chrono::seconds(slot->start())), false)
                  << "\n";
      }
    }
  }
  const std::pair<const char*, std::size_t> dropped[] = {{"not free", report.dropped_not_free},
                                                         {"outside the window", report.dropped_outside_window},
                                                         {"neither PUBLIC nor SNP", report.dropped_no_audience},
                                                         {"invalid", report.dropped_invalid},
                                                         {"duplicate", report.dropped_duplicate},
                                                         {"unknown place", report.dropped_unknown_place},
                                                         {"association not asked for", report.dropped_not_requested}};
  for (const auto& [why, count] : dropped) {
    if (count != 0) std::cout << "  left out, " << why << ": " << count << "\n";
  }
}

}  // namespace

int search_sos(const Args& args) {
  po::options_description options("search --sos options");
  options.add_options()("plugin", po::value<std::string>()->required(), "plugin library (.so)")(
      "plugin-config", po::value<std::string>()->default_value(""), "passed verbatim to the plugin")(
      "sos", po::value<std::string>()->required(),
      "1 to 25 SOS Médecins association SIRETs (14 digits, with or without the 3 prefix), comma-separated")(
      "from", po::value<std::string>()->required(), "window start, FHIR dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, FHIR dateTime with offset")(
      "json", po::bool_switch(), "print the plugin's answer as JSON")("bundle", po::bool_switch(),
                                                                      "print the FHIR Bundle the endpoint would send");
  int exit_code = 0;
  auto vm =
      parse_options("sas-host search --sos", "--plugin PATH --sos SIRET,... --from T --to T", options, args, exit_code);
  if (!vm) return exit_code;

  std::vector<std::string> sirets;
  std::stringstream list((*vm)["sos"].as<std::string>());
  std::string raw;
  while (std::getline(list, raw, ',')) {
    std::string error;
    auto siret = sas::sdk::ids::normalize_structure_id(sas::sdk::ids::StructureIdKind::siret, raw, &error);
    if (!siret) {
      std::cerr << "sas-host search: --sos: '" << raw << "': " << error << "\n";
      return 2;
    }
    sirets.push_back(*siret);
  }
  if (sirets.empty() || sirets.size() > sos_search::kMaxAssociations) {
    std::cerr << "sas-host search: --sos: give 1 to " << sos_search::kMaxAssociations << " SIRETs\n";
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

  // The endpoint's own SOS search path, on the platform's query, in a runtime that only reads the
  // agenda: it answers none of the plugin's host calls.
  runtime::RuntimeOptions runtime_options;
  runtime_options.plugin = (*vm)["plugin"].as<std::string>();
  runtime_options.plugin_config = (*vm)["plugin-config"].as<std::string>();
  runtime_options.answer_host_calls = false;
  runtime_options.endpoint = runtime::EndpointOptions{kBase, "", std::chrono::seconds(5)};
  runtime_options.log = [](std::string_view line) { std::cerr << "sas-host search: " << line << "\n"; };
  auto host = runtime::Runtime::build(std::move(runtime_options));
  const sos_search::SosSearchService& service = host->endpoint()->sos_search();
  v1::PluginResponse response;
  const auto result = service.search(sos_search::sos_query_target(sirets, window[0], window[1]), response);
  if (!result.ok()) {
    std::cerr << "sas-host search: " << fhir::diagnostics_of(result.error->outcome) << " (HTTP " << result.error->status
              << ")\n";
    return 1;
  }
  if ((*vm)["bundle"].as<bool>()) {
    std::cout << result.bundle << "\n";
  } else if ((*vm)["json"].as<bool>()) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response.search_sos_slots(), &json, print);
    std::cout << json;
  } else {
    print_summary(response.search_sos_slots(), result.report);
  }
  return 0;
}

}  // namespace sas::host::cli
