#include "sas/host/slot_search/query.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/fhir/search_query.hpp"
#include "sas/sdk/ids.hpp"

namespace sas::host::slot_search {

namespace fhir = sas::host::fhir;

namespace {

using sas::host::text::trim;

struct Parser : fhir::SearchParser {
  Parser() : SearchParser(param::kStart, param::kStatus) {}

  ParsedSlotQuery out;
  bool seen_identifier = false;
  std::string healthcare_service_organization;  // the key it came with, when given

  void identifiers(std::string_view value) {
    const auto expr = param::kPractitionerIdentifier;
    if (seen_identifier) {
      fail(fhir::issue_type::kInvalid,
           std::string(expr) + " given more than once; send one comma-separated list of 1 to 25 identifiers", expr);
      return;
    }
    seen_identifier = true;
    const auto tokens = fhir::list_tokens(value);
    for (const std::string_view token : tokens) {
      std::string_view id = token;
      if (const auto bar = token.find('|'); bar != std::string_view::npos) {
        const std::string_view system = fhir::trim_token(token.substr(0, bar));
        id = fhir::trim_token(token.substr(bar + 1));
        if (system != fhir::kPractitionerIdSystem) {
          fail(fhir::issue_type::kNotSupported,
               "identifier system must be " + std::string(fhir::kPractitionerIdSystem) + " (RPPS/ADELI), got \"" +
                   std::string(system) + "\"",
               expr);
          continue;
        }
      }
      std::string error;
      const auto normalized = sas::sdk::ids::normalize_practitioner_id(id, &error);
      if (!normalized) {
        fail(fhir::issue_type::kInvalid, "invalid practitioner identifier \"" + std::string(id) + "\": " + error, expr);
        continue;
      }
      auto& ids = out.practitioner_ids;
      if (std::find(ids.begin(), ids.end(), normalized->prefixed) == ids.end()) ids.push_back(normalized->prefixed);
    }
    if (tokens.empty()) {
      fail(fhir::issue_type::kRequired, std::string(expr) + " has no identifier; 1 to 25 are required", expr);
    } else if (tokens.size() > kMaxPractitioners) {
      fail(fhir::issue_type::kInvalid,
           std::string(expr) + ": at most " + std::to_string(kMaxPractitioners) + " identifiers per search, got " +
               std::to_string(tokens.size()),
           expr);
    }
  }

  void include(std::string_view key, std::string_view value) {
    const std::string_view v = trim(value);
    if (v == include::kSlotSchedule) {
      out.include_schedule = true;
    } else if (v == include::kScheduleActor) {
      out.include_actors = true;
    } else if (v == include::kSlotServiceTypeReference) {
      out.cpts = true;
    } else if (v == include::kHealthcareServiceOrganization) {
      healthcare_service_organization = std::string(key);
    } else {
      fail(fhir::issue_type::kNotSupported,
           std::string(key) + "=" + std::string(v) + " is not supported; supported: " + std::string(param::kInclude) +
               "=" + std::string(include::kSlotSchedule) + ", " + std::string(param::kIncludeIterate) + "=" +
               std::string(include::kScheduleActor) + " and, for the CPTS search (INT_R04), " +
               std::string(param::kInclude) + "=" + std::string(include::kSlotServiceTypeReference) + ", " +
               std::string(param::kIncludeIterate) + "=" + std::string(include::kHealthcareServiceOrganization),
           key);
    }
  }

  void parameter(std::string_view key, std::string_view value) {
    if (common_parameter(key, value)) return;
    if (key == param::kPractitionerIdentifier) {
      identifiers(value);
    } else if (key == param::kInclude || key == param::kIncludeIterate) {
      include(key, value);
    } else {
      fail(fhir::issue_type::kNotSupported,
           "unknown or unsupported search parameter \"" + std::string(key) +
               "\"; supported: start (ge, le), status, schedule.actor:Practitioner.identifier, _include, "
               "_include:iterate, _count, _format",
           key);
    }
  }

  void finish() {
    if (!seen_identifier) {
      fail(fhir::issue_type::kRequired,
           std::string(param::kPractitionerIdentifier) + " is required (1 to 25 practitioner identifiers)",
           param::kPractitionerIdentifier);
    }
    if (!healthcare_service_organization.empty() && !out.cpts) {
      // Without the CPTS include there is no HealthcareService to iterate from: the platform
      // meant the CPTS search and lost half of it, or this is not the platform.
      fail(fhir::issue_type::kInvalid,
           healthcare_service_organization + "=" + std::string(include::kHealthcareServiceOrganization) + " needs " +
               std::string(param::kInclude) + "=" + std::string(include::kSlotServiceTypeReference) +
               " (the CPTS search, INT_R04)",
           healthcare_service_organization);
    }
    out.start_from = window().from();
    out.start_to = window().to();
    out.count = count();
  }
};

}  // namespace

QueryResult parse_slot_query(std::string_view request_target) {
  const std::string_view query = fhir::query_of(request_target);
  Parser p;
  auto error = p.parse(
      query, [&](std::string_view key, std::string_view value) { p.parameter(key, value); }, [&] { p.finish(); });
  if (error) return std::move(*error);
  p.out.query = fhir::reencode_query(query);
  return std::move(p.out);
}

sas::plugin::v1::SearchSlotsRequest to_plugin_request(const ParsedSlotQuery& query) {
  sas::plugin::v1::SearchSlotsRequest request;
  for (const auto& id : query.practitioner_ids) request.add_practitioner_national_ids(id);
  const auto [from, to] = fhir::whole_seconds(query.start_from, query.start_to);
  request.set_start_from(from);
  request.set_start_to(to);
  request.set_cpts_search(query.cpts);
  return request;
}

std::string slot_query_target(const std::vector<std::string>& practitioner_ids, std::string_view start_ge,
                              std::string_view start_le, bool cpts) {
  auto encode_plus = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '+' ? std::string("%2B") : std::string(1, c);
    return out;
  };
  std::string target = "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge" + encode_plus(start_ge) +
                       "&start=le" + encode_plus(start_le) + "&" + std::string(param::kPractitionerIdentifier) + "=";
  for (std::size_t i = 0; i < practitioner_ids.size(); ++i) {
    if (i != 0) target += ',';
    target += std::string(sas::sdk::ids::kPractitionerSystem) + "|" + practitioner_ids[i];
  }
  target += "&status=free";
  if (cpts) {
    target += "&_include=" + std::string(include::kSlotServiceTypeReference) +
              "&_include:iterate=" + std::string(include::kHealthcareServiceOrganization);
  }
  return target;
}

std::string self_link(const ParsedSlotQuery& query, std::string_view base_url) {
  base_url = fhir::without_trailing_slashes(base_url);
  std::string link(base_url);
  link += "/Slot";
  if (!query.query.empty()) link.append("?").append(query.query);
  return link;
}

}  // namespace sas::host::slot_search
