// sas-sim search --sos: one SOS Médecins search, sent over mutual TLS as sas.sante.fr sends it,
// with the answer printed by association, consultation place and slot (or raw).
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <options.hpp>
#include <sas/sdk/datetime.hpp>
#include <sstream>

#include "platform_client.hpp"
#include "sos_search.hpp"

namespace sas::sim {

std::string sos_search_url(std::string_view base, const std::vector<std::string>& association_sirets,
                           std::string_view from, std::string_view to) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  url +=
      "/Schedule?_revinclude=Slot:schedule&_include=Schedule:actor:Location&_include:iterate=Location:organization"
      "&_has:Slot:schedule:start=ge";
  url += encode_query_value(from);
  url += "&_has:Slot:schedule:start=le";
  url += encode_query_value(to);
  url += "&_has:Slot:schedule:status=free&actor:Location.organization.identifier=";
  bool first = true;
  for (const auto& siret : association_sirets) {
    if (!first) url += ',';
    first = false;
    url += "urn:oid:1.2.250.1.71.4.2.2|";  // raw '|', as the platform sends it
    url += encode_query_value(siret);
  }
  return url;
}

}  // namespace sas::sim

namespace sas::sim::cli {

namespace po = sas::cli::po;
namespace json = boost::json;

namespace {

// Tolerant accessors: the answer is the vendor's, and may be wrong in any way.
const json::value* at(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->get_object().if_contains(key);
}
std::string str(const json::value* v) { return v != nullptr && v->is_string() ? std::string(v->get_string()) : ""; }
const json::value* first(const json::value* v) {
  return v != nullptr && v->is_array() && !v->get_array().empty() ? &v->get_array()[0] : nullptr;
}
const json::array* array(const json::value* v) { return v != nullptr && v->is_array() ? &v->get_array() : nullptr; }

// "Type/id" of a reference, relative or absolute.
std::string ref_key(const json::value* reference) {
  std::string r = str(at(reference, "reference"));
  auto slash = r.rfind('/');
  if (slash == std::string::npos || slash == 0) return r;
  auto before = r.rfind('/', slash - 1);
  return before == std::string::npos ? r : r.substr(before + 1);
}

std::string local_time(const std::string& fhir) {
  auto t = sas::sdk::datetime::parse_fhir(fhir);
  if (!t) return fhir + " (unparsable)";
  const std::string paris = sas::sdk::datetime::format_paris(*t, false);
  return paris.substr(0, 10) + " " + paris.substr(11, 5);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

void print_issues(const json::value& outcome) {
  const json::array* issues = array(at(&outcome, "issue"));
  if (str(at(&outcome, "resourceType")) != "OperationOutcome" || issues == nullptr) {
    std::cerr << "  (no OperationOutcome in the answer)\n";
    return;
  }
  for (const auto& issue : *issues) {
    std::cerr << "  " << str(at(&issue, "severity")) << " " << str(at(&issue, "code")) << ": "
              << str(at(&issue, "diagnostics")) << "\n";
  }
}

// Organization -> Location -> slots, in the bundle's order.
void print_summary(long status, const json::value& bundle) {
  std::map<std::string, const json::value*> resources;  // "Type/id"
  std::vector<const json::value*> schedules, slots;
  if (const json::array* entries = array(at(&bundle, "entry"))) {
    for (const auto& entry : *entries) {
      const json::value* resource = at(&entry, "resource");
      const std::string type = str(at(resource, "resourceType"));
      resources[type + "/" + str(at(resource, "id"))] = resource;
      if (type == "Schedule") schedules.push_back(resource);
      if (type == "Slot") slots.push_back(resource);
    }
  }
  std::string total = "?";
  if (const json::value* t = at(&bundle, "total"); t != nullptr && t->is_number()) total = json::serialize(*t);
  std::cout << "HTTP " << status << ", total " << total << " free slot(s), " << schedules.size()
            << " consultation place(s)\n";
  std::string last_organization;
  for (const json::value* schedule : schedules) {
    const std::string location_key = ref_key(first(at(schedule, "actor")));
    const auto location = resources.find(location_key);
    const json::value* place = location == resources.end() ? nullptr : location->second;
    const std::string organization_key = ref_key(at(place, "managingOrganization"));
    if (organization_key != last_organization) {
      last_organization = organization_key;
      const auto organization = resources.find(organization_key);
      const json::value* o = organization == resources.end() ? nullptr : organization->second;
      const std::string name = str(at(o, "name"));
      const std::string siret = str(at(first(at(o, "identifier")), "value"));
      std::cout << "- " << (name.empty() ? "(association not included)" : name) << " ("
                << (siret.empty() ? organization_key : "SIRET " + siret) << ")\n";
    }
    std::vector<std::string> address;
    const json::value* a = at(place, "address");
    if (const json::value* line = first(at(a, "line"))) address.push_back(str(line));
    address.push_back(str(at(a, "postalCode")) + " " + str(at(a, "city")));
    std::cout << "    " << (place == nullptr ? "(place not included: " + location_key + ")" : str(at(place, "name")))
              << ", " << join(address, ", ");
    if (const std::string phone = str(at(first(at(place, "telecom")), "value")); !phone.empty()) {
      std::cout << "  " << phone;
    }
    std::cout << "\n";
    if (const json::array* hours = array(at(place, "hoursOfOperation"))) {
      for (const auto& h : *hours) {
        std::vector<std::string> days;
        if (const json::array* d = array(at(&h, "daysOfWeek"))) {
          for (const auto& day : *d) days.push_back(str(&day));
        }
        const json::value* all_day = at(&h, "allDay");
        std::cout << "      open " << join(days, ",") << " "
                  << (all_day != nullptr && all_day->is_bool() && all_day->get_bool()
                          ? std::string("all day")
                          : str(at(&h, "openingTime")) + "-" + str(at(&h, "closingTime")))
                  << "\n";
      }
    }
    const std::string schedule_key = "Schedule/" + str(at(schedule, "id"));
    for (const json::value* slot : slots) {
      if (ref_key(at(slot, "schedule")) != schedule_key) continue;
      std::vector<std::string> types, modes, motives;
      if (const json::array* security = array(at(at(slot, "meta"), "security"))) {
        for (const auto& s : *security) types.push_back(str(at(&s, "code")));
      }
      if (const json::array* services = array(at(slot, "serviceType"))) {
        for (const auto& service : *services) {
          if (const json::value* coding = first(at(&service, "coding"))) {
            modes.push_back(str(at(coding, "code")));
          } else if (std::string text = str(at(&service, "text")); !text.empty()) {
            motives.push_back(text);
          }
        }
      }
      const std::string kind = str(at(first(at(at(slot, "appointmentType"), "coding")), "code"));
      std::cout << "      " << local_time(str(at(slot, "start"))) << "  " << join(types, ",") << "  "
                << join(modes, ",") << (kind == "WALKIN" ? "  sans RDV" : "");
      if (!motives.empty()) std::cout << "  \"" << join(motives, "\", \"") << "\"";
      if (std::string url = str(at(slot, "comment")); !url.empty()) std::cout << "  " << url;
      std::cout << "\n";
    }
  }
}

}  // namespace

int search_sos(const std::vector<std::string>& args) {
  po::options_description options("search --sos options");
  options.add_options()("base", po::value<std::string>()->required(), "the vendor's FHIR base URL (https://...)")(
      "cert", po::value<std::string>()->required(), "platform client certificate (PEM)")(
      "key", po::value<std::string>()->required(), "its private key (PEM)")(
      "ca", po::value<std::string>()->required(), "CA bundle that signed the vendor's server certificate (PEM)")(
      "sos", po::value<std::string>()->required(),
      "SOS Médecins association SIRETs (3 + 14 digits), comma-separated; sent as given")(
      "from", po::value<std::string>()->required(), "window start, FHIR dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, FHIR dateTime with offset")(
      "raw", po::bool_switch(), "print the answer as received instead of a summary");
  int exit_code = 0;
  auto vm = sas::cli::parse_options("sas-sim search --sos",
                                    "--base URL --cert F --key F --ca F --sos SIRET,... --from T --to T [--raw]",
                                    options, args, exit_code);
  if (!vm) return exit_code;
  const auto& v = *vm;
  for (const char* key : {"from", "to"}) {
    std::string error;
    if (!sas::sdk::datetime::parse_fhir(v[key].as<std::string>(), &error)) {
      std::cerr << "sas-sim search: --" << key << ": '" << v[key].as<std::string>() << "': " << error << "\n";
      return 2;
    }
  }
  // SIRETs go out unvalidated on purpose: a vendor's refusal of a bad one is worth testing too.
  std::vector<std::string> sirets;
  std::stringstream list(v["sos"].as<std::string>());
  for (std::string siret; std::getline(list, siret, ',');) {
    while (!siret.empty() && siret.front() == ' ') siret.erase(0, 1);
    while (!siret.empty() && siret.back() == ' ') siret.pop_back();
    if (!siret.empty()) sirets.push_back(siret);
  }
  if (sirets.empty()) {
    std::cerr << "sas-sim search: --sos: give at least one SIRET\n";
    return 2;
  }
  for (const char* key : {"cert", "key", "ca"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(v[key].as<std::string>(), ec)) {
      std::cerr << "sas-sim search: --" << key << " " << v[key].as<std::string>() << ": no such file\n";
      return 1;
    }
  }
  const std::string url =
      sos_search_url(v["base"].as<std::string>(), sirets, v["from"].as<std::string>(), v["to"].as<std::string>());
  PlatformClient client({v["cert"].as<std::string>(), v["key"].as<std::string>(), v["ca"].as<std::string>()});
  HttpResult result = client.get(url);
  if (!result.transport_ok) {
    std::cerr << "sas-sim search: no answer from " << v["base"].as<std::string>() << ": " << result.error << "\n";
    return 1;
  }
  boost::system::error_code parse_error;
  const json::value body = json::parse(result.body, parse_error);
  if (v["raw"].as<bool>()) std::cout << result.body << "\n";
  if (result.status < 200 || result.status >= 300) {
    std::cerr << "sas-sim search: HTTP " << result.status << " from " << url << "\n";
    if (!parse_error) print_issues(body);
    return 1;
  }
  if (parse_error || str(at(&body, "resourceType")) != "Bundle") {
    std::cerr << "sas-sim search: HTTP " << result.status << " but the body is not a FHIR Bundle"
              << (parse_error ? ": " + parse_error.message() : std::string()) << "\n";
    return 1;
  }
  if (!v["raw"].as<bool>()) print_summary(result.status, body);
  return 0;
}

}  // namespace sas::sim::cli
