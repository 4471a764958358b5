// sas-sim search: one INT_R01 slot search (or, with --cpts, the INT_R04 CPTS search), sent over
// mutual TLS exactly as sas.sante.fr sends it, with the answer printed as the regulator's
// assistant would read it (or raw).
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <options.hpp>
#include <sas/sdk/datetime.hpp>
#include <sstream>

#include "commands.hpp"
#include "platform_client.hpp"
#include "sos_search.hpp"

namespace sas::sim::cli {

namespace po = sas::cli::po;
namespace json = boost::json;

namespace {

void pretty(std::ostream& out, const json::value& v, int indent = 0) {
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  const std::string close(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    for (auto it = o.begin(); it != o.end(); ++it) {
      out << pad << json::serialize(json::string(it->key())) << ": ";
      pretty(out, it->value(), indent + 2);
      out << (std::next(it) == o.end() ? "\n" : ",\n");
    }
    out << close << "}";
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    for (auto it = a.begin(); it != a.end(); ++it) {
      out << pad;
      pretty(out, *it, indent + 2);
      out << (std::next(it) == a.end() ? "\n" : ",\n");
    }
    out << close << "]";
  } else {
    out << json::serialize(v);
  }
}

// Tolerant accessors: the answer is the vendor's, and may be wrong in any way.
const json::value* at(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->get_object().if_contains(key);
}
const json::value* at(const json::value& v, std::string_view key) { return at(&v, key); }

std::string str(const json::value* v) { return v != nullptr && v->is_string() ? std::string(v->get_string()) : ""; }

const json::value* first(const json::value* v) {
  return v != nullptr && v->is_array() && !v->get_array().empty() ? &v->get_array()[0] : nullptr;
}

// "Type/id" from a reference, whether relative or an absolute fullUrl-style one.
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
  // "2026-11-23T08:00:00+01:00" -> "2026-11-23 08:00"
  std::string paris = sas::sdk::datetime::format_paris(*t, false);
  return paris.substr(0, 10) + " " + paris.substr(11, 5);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

void print_issues(const json::value& outcome) {
  const json::value* issues = at(outcome, "issue");
  if (str(at(outcome, "resourceType")) != "OperationOutcome" || issues == nullptr || !issues->is_array()) {
    std::cerr << "  (no OperationOutcome in the answer)\n";
    return;
  }
  for (const auto& issue : issues->get_array()) {
    std::cerr << "  " << str(at(issue, "severity")) << " " << str(at(issue, "code")) << ": "
              << str(at(issue, "diagnostics")) << "\n";
  }
}

// A CPTS a slot is open to (INT_R04): the Slot's HealthcareService reference, followed to the
// Organization it is providedBy: "CPTS AXE MAJEUR (1950047225, +33102030405)".
std::string cpts_label(const std::map<std::string, const json::value*>& resources, const json::value* reference) {
  const auto service = resources.find(ref_key(reference));
  if (service == resources.end()) return "(CPTS " + str(at(reference, "reference")) + " not included)";
  const auto organization = resources.find(ref_key(at(*service->second, "providedBy")));
  if (organization == resources.end()) return "(CPTS organization not included)";
  const json::value& o = *organization->second;
  std::string name = str(at(o, "name"));
  std::vector<std::string> details{str(at(first(at(o, "identifier")), "value"))};
  if (std::string phone = str(at(first(at(o, "telecom")), "value")); !phone.empty()) details.push_back(phone);
  return (name.empty() ? "CPTS" : name) + " (" + join(details, ", ") + ")";
}

struct Place {
  const json::value* role = nullptr;
  std::vector<const json::value*> slots;
};

void print_summary(long status, const json::value& bundle) {
  std::map<std::string, const json::value*> resources;  // "Type/id" -> resource
  std::vector<const json::value*> slots;
  const json::value* entries = at(bundle, "entry");
  if (entries != nullptr && entries->is_array()) {
    for (const auto& entry : entries->get_array()) {
      const json::value* resource = at(entry, "resource");
      if (resource == nullptr) continue;
      const std::string type = str(at(*resource, "resourceType"));
      resources[type + "/" + str(at(*resource, "id"))] = resource;
      if (type == "Slot") slots.push_back(resource);
    }
  }
  std::string total = "?";
  if (const json::value* t = at(bundle, "total"); t != nullptr && t->is_number()) total = json::serialize(*t);
  std::cout << "HTTP " << status << ", total " << total << " free slot(s)\n";

  // practitioner key -> place key -> slots, in the bundle's (start) order.
  std::map<std::string, std::map<std::string, Place>> tree;
  for (const json::value* slot : slots) {
    std::string practitioner = "?", place = "?";
    auto schedule = resources.find(ref_key(at(*slot, "schedule")));
    if (schedule != resources.end()) {
      const json::value* actors = at(*schedule->second, "actor");
      if (actors != nullptr && actors->is_array()) {
        for (const auto& actor : actors->get_array()) {
          std::string key = ref_key(&actor);
          if (key.rfind("Practitioner/", 0) == 0) practitioner = key;
          if (key.rfind("PractitionerRole/", 0) == 0) place = key;
        }
      }
    }
    Place& p = tree[practitioner][place];
    if (auto role = resources.find(place); role != resources.end()) p.role = role->second;
    p.slots.push_back(slot);
  }

  for (const auto& [practitioner_key, places] : tree) {
    std::string name = "(practitioner not included)", national_id;
    if (auto it = resources.find(practitioner_key); it != resources.end()) {
      const json::value* n = first(at(*it->second, "name"));
      std::vector<std::string> parts;
      if (const json::value* given = at(n, "given"); given && given->is_array()) {
        for (const auto& g : given->get_array()) parts.push_back(str(&g));
      }
      parts.push_back(str(at(n, "family")));
      name = join(parts, " ");
      national_id = str(at(first(at(*it->second, "identifier")), "value"));
    }
    std::cout << "- " << name << " (" << (national_id.empty() ? "no national id" : national_id) << ")\n";
    for (const auto& [place_key, place] : places) {
      std::string address = "(place not included)", structure;
      if (place.role != nullptr) {
        const json::value* location = first(at(*place.role, "contained"));
        const json::value* a = at(location, "address");
        std::vector<std::string> parts;
        if (const json::value* line = first(at(a, "line"))) parts.push_back(str(line));
        parts.push_back(str(at(a, "postalCode")) + " " + str(at(a, "city")));
        address = join(parts, ", ");
        structure = str(at(at(at(*place.role, "organization"), "identifier"), "value"));
      }
      std::cout << "    at " << address << "  [structure " << (structure.empty() ? "none" : structure) << "]\n";
      for (const json::value* slot : place.slots) {
        std::vector<std::string> types, modes, motives, cpts;
        if (const json::value* security = at(at(*slot, "meta"), "security"); security && security->is_array()) {
          for (const auto& s : security->get_array()) types.push_back(str(at(s, "code")));
        }
        if (const json::value* services = at(*slot, "serviceType"); services && services->is_array()) {
          for (const auto& service : services->get_array()) {
            if (const json::value* extension = first(at(service, "extension"))) {
              cpts.push_back(cpts_label(resources, at(*extension, "valueReference")));
              continue;
            }
            if (const json::value* coding = first(at(service, "coding"))) modes.push_back(str(at(*coding, "code")));
            if (std::string text = str(at(service, "text")); !text.empty() && !first(at(service, "coding"))) {
              motives.push_back(text);
            }
          }
        }
        std::cout << "      " << local_time(str(at(*slot, "start"))) << "  " << join(types, ",") << "  "
                  << join(modes, ",");
        if (!motives.empty()) std::cout << "  \"" << join(motives, "\", \"") << "\"";
        if (!cpts.empty()) std::cout << "  for " << join(cpts, ", ");
        if (std::string url = str(at(*slot, "comment")); !url.empty()) std::cout << "  " << url;
        std::cout << "\n";
      }
    }
  }
}

}  // namespace

int search(const std::vector<std::string>& args) {
  // The SOS Médecins search has its own options (sos_search_command.cpp).
  for (const auto& a : args) {
    if (a == "--sos" || a.rfind("--sos=", 0) == 0) return search_sos(args);
  }
  po::options_description options("search options");
  options.add_options()("base", po::value<std::string>()->required(), "the vendor's FHIR base URL (https://...)")(
      "cert", po::value<std::string>()->required(), "platform client certificate (PEM)")(
      "key", po::value<std::string>()->required(), "its private key (PEM)")(
      "ca", po::value<std::string>()->required(), "CA bundle that signed the vendor's server certificate (PEM)")(
      "practitioners", po::value<std::string>()->required(),
      "prefixed national ids (8+RPPS, 0+ADELI), comma-separated; sent as given")(
      "from", po::value<std::string>()->required(), "window start, FHIR dateTime with offset")(
      "to", po::value<std::string>()->required(), "window end, FHIR dateTime with offset")(
      "raw", po::bool_switch(), "print the answer as pretty JSON instead of a summary")(
      "cpts", po::bool_switch(), "the INT_R04 CPTS search: the same search with the CPTS includes");
  int exit_code = 0;
  auto vm = sas::cli::parse_options(
      "sas-sim search", "--base URL --cert F --key F --ca F --practitioners ID,... --from T --to T [--cpts] [--raw]",
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
  // Ids go out unvalidated on purpose: a vendor's refusal of a bad id is worth testing too.
  std::vector<std::string> ids;
  std::stringstream list(v["practitioners"].as<std::string>());
  for (std::string id; std::getline(list, id, ',');) {
    while (!id.empty() && id.front() == ' ') id.erase(0, 1);
    while (!id.empty() && id.back() == ' ') id.pop_back();
    if (!id.empty()) ids.push_back(id);
  }
  if (ids.empty()) {
    std::cerr << "sas-sim search: --practitioners: give at least one id\n";
    return 2;
  }
  for (const char* key : {"cert", "key", "ca"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(v[key].as<std::string>(), ec)) {
      std::cerr << "sas-sim search: --" << key << " " << v[key].as<std::string>() << ": no such file\n";
      return 1;
    }
  }

  const std::string url = slot_search_url(v["base"].as<std::string>(), ids, v["from"].as<std::string>(),
                                          v["to"].as<std::string>(), v["cpts"].as<bool>());
  PlatformClient client({v["cert"].as<std::string>(), v["key"].as<std::string>(), v["ca"].as<std::string>()});
  HttpResult result = client.get(url);
  if (!result.transport_ok) {
    std::cerr << "sas-sim search: no answer from " << v["base"].as<std::string>() << ": " << result.error << "\n";
    return 1;
  }

  json::value body;
  boost::system::error_code parse_error;
  body = json::parse(result.body, parse_error);
  const bool success = result.status >= 200 && result.status < 300;
  if (v["raw"].as<bool>()) {
    if (parse_error) {
      std::cout << result.body << "\n";
    } else {
      pretty(std::cout, body);
      std::cout << "\n";
    }
  }
  if (!success) {
    std::cerr << "sas-sim search: HTTP " << result.status << " from " << url << "\n";
    if (!parse_error) print_issues(body);
    return 1;
  }
  if (parse_error || str(at(body, "resourceType")) != "Bundle") {
    std::cerr << "sas-sim search: HTTP " << result.status << " but the body is not a FHIR Bundle"
              << (parse_error ? ": " + parse_error.message() : std::string()) << "\n";
    return 1;
  }
  if (!v["raw"].as<bool>()) print_summary(result.status, body);
  return 0;
}

}  // namespace sas::sim::cli
