#include "sas/host/sos_search/query.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/fhir/search_query.hpp"
#include "sas/sdk/ids.hpp"

namespace sas::host::sos_search {

namespace fhir = sas::host::fhir;
namespace ids = sas::sdk::ids;
using sas::host::text::trim;

namespace {

std::string str(std::string_view s) { return std::string(s); }

// "urn:oid:1.2.250.1.71.4.2.27C334173748400020": the system, then "7C" and a SIRET, i.e. a
// `system|value` whose %7C lost its '%' on the way (the IG's own example has it). The SIRET it
// probably meant, prefixed; nullopt when the token is not that.
std::optional<std::string> lost_percent_siret(std::string_view token) {
  if (token.substr(0, fhir::kStructureIdSystem.size()) != fhir::kStructureIdSystem) return std::nullopt;
  const std::string_view rest = token.substr(fhir::kStructureIdSystem.size());
  if (rest.size() < 2 || rest[0] != '7' || (rest[1] != 'C' && rest[1] != 'c')) return std::nullopt;
  return ids::normalize_structure_id(ids::StructureIdKind::siret, rest.substr(2));
}

struct Parser : fhir::SearchParser {
  Parser() : SearchParser(param::kStart, param::kStatus) {}

  ParsedSosQuery out;
  bool seen_identifier = false;

  // One SIRET token; its prefixed SIRET, or nullopt after reporting why not.
  std::optional<std::string> siret(std::string_view token) {
    const auto expr = param::kOrganizationIdentifier;
    std::string_view value = token;
    if (const auto bar = token.find('|'); bar != std::string_view::npos) {
      const std::string_view system = fhir::trim_token(token.substr(0, bar));
      value = fhir::trim_token(token.substr(bar + 1));
      if (system != fhir::kStructureIdSystem) {
        fail(fhir::issue_type::kNotSupported,
             "identifier system must be " + str(fhir::kStructureIdSystem) + " (national structure id, SIRET), got \"" +
                 str(system) + "\"",
             expr);
        return std::nullopt;
      }
    } else if (auto meant = lost_percent_siret(token)) {
      fail(fhir::issue_type::kInvalid,
           "\"" + str(token) + "\" is not a SIRET: it is probably " + str(fhir::kStructureIdSystem) + "|" + *meant +
               " with its '|' sent as \"7C\", a %7C that lost its '%' (the IG's example has this typo); send "
               "the '|' raw or as %7C",
           expr);
      return std::nullopt;
    } else if (token.substr(0, fhir::kStructureIdSystem.size()) == fhir::kStructureIdSystem) {
      fail(fhir::issue_type::kInvalid,
           "\"" + str(token) + "\" starts with the system " + str(fhir::kStructureIdSystem) +
               " but has no '|' before the SIRET; send " + str(fhir::kStructureIdSystem) + "|3SIRET",
           expr);
      return std::nullopt;
    }
    std::string error;
    auto prefixed = ids::normalize_structure_id(ids::StructureIdKind::siret, value, &error);
    if (!prefixed) {
      fail(fhir::issue_type::kInvalid,
           "invalid association identifier \"" + str(value) + "\": " + error +
               " (an SOS Médecins association is named by its SIRET, 3 + 14 digits)",
           expr);
    }
    return prefixed;
  }

  void identifiers(std::string_view value) {
    const auto expr = param::kOrganizationIdentifier;
    if (seen_identifier) {
      fail(fhir::issue_type::kInvalid,
           str(expr) + " given more than once; send one comma-separated list of 1 to 25 SIRETs", expr);
      return;
    }
    seen_identifier = true;
    const auto tokens = fhir::list_tokens(value);
    for (const std::string_view token : tokens) {
      auto prefixed = siret(token);
      if (!prefixed) continue;
      auto& sirets = out.association_sirets;
      if (std::find(sirets.begin(), sirets.end(), *prefixed) == sirets.end()) sirets.push_back(std::move(*prefixed));
    }
    if (tokens.empty()) {
      fail(fhir::issue_type::kRequired, str(expr) + " has no identifier; 1 to 25 association SIRETs are required",
           expr);
    } else if (tokens.size() > kMaxAssociations) {
      fail(fhir::issue_type::kInvalid,
           str(expr) + ": at most " + std::to_string(kMaxAssociations) + " association SIRETs per search, got " +
               std::to_string(tokens.size()),
           expr);
    }
  }

  void include(std::string_view key, std::string_view value) {
    const std::string_view v = trim(value);
    const bool iterate = key == param::kIncludeIterate;
    if (!iterate && (v == include::kScheduleActorLocation || v == include::kScheduleActor)) {
      out.include_locations = true;
    } else if (v == include::kLocationOrganization) {
      out.include_organizations = true;
    } else {
      fail(fhir::issue_type::kNotSupported,
           str(key) + "=" + str(v) + " is not supported; supported: " + str(param::kInclude) + "=" +
               str(include::kScheduleActorLocation) + ", " + str(param::kIncludeIterate) + "=" +
               str(include::kLocationOrganization),
           key);
    }
  }

  void revinclude(std::string_view value) {
    const std::string_view v = trim(value);
    if (v == include::kSlotSchedule) {
      out.include_slots = true;
    } else {
      fail(fhir::issue_type::kNotSupported,
           str(param::kRevinclude) + "=" + str(v) + " is not supported; supported: " + str(param::kRevinclude) + "=" +
               str(include::kSlotSchedule),
           param::kRevinclude);
    }
  }

  void parameter(std::string_view key, std::string_view value) {
    if (common_parameter(key, value)) return;
    if (key == param::kOrganizationIdentifier) {
      identifiers(value);
    } else if (key == param::kInclude || key == param::kIncludeIterate) {
      include(key, value);
    } else if (key == param::kRevinclude) {
      revinclude(value);
    } else {
      fail(fhir::issue_type::kNotSupported,
           "unknown or unsupported search parameter \"" + str(key) + "\"; supported: " + str(param::kStart) +
               " (ge, le), " + str(param::kStatus) + ", " + str(param::kOrganizationIdentifier) +
               ", _revinclude, _include, _include:iterate, _count, _format",
           key);
    }
  }

  void finish() {
    if (!seen_identifier) {
      fail(fhir::issue_type::kRequired,
           str(param::kOrganizationIdentifier) + " is required (1 to 25 SOS Médecins association SIRETs)",
           param::kOrganizationIdentifier);
    }
    out.start_from = window().from();
    out.start_to = window().to();
    out.count = count();
  }
};

}  // namespace

SosQueryResult parse_sos_query(std::string_view request_target) {
  const std::string_view query = fhir::query_of(request_target);
  Parser p;
  auto error = p.parse(
      query, [&](std::string_view key, std::string_view value) { p.parameter(key, value); }, [&] { p.finish(); });
  if (error) return std::move(*error);
  p.out.query = fhir::reencode_query(query);
  return std::move(p.out);
}

sas::plugin::v1::SearchSosSlotsRequest to_plugin_request(const ParsedSosQuery& query) {
  sas::plugin::v1::SearchSosSlotsRequest request;
  for (const auto& siret : query.association_sirets) request.add_association_sirets(siret);
  const auto [from, to] = fhir::whole_seconds(query.start_from, query.start_to);
  request.set_start_from(from);
  request.set_start_to(to);
  return request;
}

std::string sos_query_target(const std::vector<std::string>& association_sirets, std::string_view start_ge,
                             std::string_view start_le) {
  auto encode_plus = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '+' ? std::string("%2B") : std::string(1, c);
    return out;
  };
  std::string target = "/Schedule?" + str(param::kRevinclude) + "=" + str(include::kSlotSchedule) + "&" +
                       str(param::kInclude) + "=" + str(include::kScheduleActorLocation) + "&" +
                       str(param::kIncludeIterate) + "=" + str(include::kLocationOrganization) + "&" +
                       str(param::kStart) + "=ge" + encode_plus(start_ge) + "&" + str(param::kStart) + "=le" +
                       encode_plus(start_le) + "&" + str(param::kStatus) + "=free&" +
                       str(param::kOrganizationIdentifier) + "=";
  for (std::size_t i = 0; i < association_sirets.size(); ++i) {
    if (i != 0) target += ',';
    target += str(fhir::kStructureIdSystem) + "|" + association_sirets[i];
  }
  return target;
}

std::string self_link(const ParsedSosQuery& query, std::string_view base_url) {
  base_url = fhir::without_trailing_slashes(base_url);
  std::string link(base_url);
  link += "/Schedule";
  if (!query.query.empty()) link.append("?").append(query.query);
  return link;
}

}  // namespace sas::host::sos_search
