#include "sas/host/slot_search/capability.hpp"

#include <chrono>
#include <cstdio>
#include <string_view>

#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"
#include "sas/host/slot_search/query.hpp"

namespace sas::host::slot_search {

namespace json = boost::json;
namespace fhir = sas::host::fhir;

namespace {

std::string today_utc() {
  const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

json::object search_param(std::string_view name, std::string_view definition, std::string_view type,
                          std::string_view documentation) {
  json::object p;
  p["name"] = name;
  p["definition"] = definition;
  p["type"] = type;
  p["documentation"] = documentation;
  return p;
}

json::object resource(std::string_view type, std::string_view profile, std::string_view documentation) {
  json::object r;
  r["type"] = type;
  r["profile"] = profile;
  r["documentation"] = documentation;
  return r;
}

}  // namespace

json::object build_capability_statement(const CapabilityOptions& options) {
  json::object slot = resource("Slot", fhir::profile::kSlot,
                               "Free slots of 1 to 25 practitioners (INT_R01). Both start=ge and start=le, status=free "
                               "and schedule.actor:Practitioner.identifier are required; _count caps the Slot "
                               "entries (no paging). Unknown parameters are refused (400).");
  slot["interaction"] = json::array{json::object{{"code", "search-type"}}};
  json::array includes{include::kSlotSchedule, include::kScheduleActor};
  if (options.cpts) {
    // INT_R04: the same search with the CPTS includes answers sas-cpts-slot-aggregator slots.
    slot["supportedProfile"] = json::array{fhir::profile::kCptsSlot};
    includes.emplace_back(include::kSlotServiceTypeReference);
    includes.emplace_back(include::kHealthcareServiceOrganization);
  }
  slot["searchInclude"] = std::move(includes);
  slot["searchParam"] = json::array{
      search_param(param::kStart, fhir::kSearchParamSlotStart, "date",
                   "Exactly one start=geDATE and one start=leDATE (dateTime with offset, or a date read as the "
                   "Europe/Paris day)."),
      search_param(param::kStatus, "http://hl7.org/fhir/SearchParameter/Slot-status", "token", "Only status=free."),
      search_param("schedule", "http://hl7.org/fhir/SearchParameter/Slot-schedule", "reference",
                   "Only as the chain schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|ID,... with 1 "
                   "to 25 prefixed RPPS (8...) or ADELI (0...) ids.")};
  if (options.cpts) {
    slot["documentation"] =
        "Free slots of 1 to 25 practitioners (INT_R01); with _include=Slot:service-type-reference the CPTS search "
        "(INT_R04): also the slots open to CPTS only, each CPTS as a HealthcareService and its Organization. Both "
        "start=ge and start=le, status=free and schedule.actor:Practitioner.identifier are required; _count caps "
        "the Slot entries (no paging). Unknown parameters are refused (400).";
    slot["searchParam"].as_array().emplace_back(
        search_param("service-type-reference", fhir::kSearchParamCptsServiceType, "reference",
                     "Only as _include=Slot:service-type-reference (INT_R04): the HealthcareService of each CPTS a "
                     "slot is open to. Not a search filter."));
  }

  json::object schedule = resource("Schedule", fhir::profile::kSchedule,
                                   "One per consultation place; returned with _include=Slot:schedule.");
  schedule["searchParam"] = json::array{search_param("actor", "http://hl7.org/fhir/SearchParameter/Schedule-actor",
                                                     "reference", "Used in the Slot chain only.")};
  json::object practitioner =
      resource("Practitioner", fhir::profile::kPractitioner, "Returned with _include:iterate=Schedule:actor.");
  practitioner["searchParam"] =
      json::array{search_param("identifier", "http://hl7.org/fhir/SearchParameter/Practitioner-identifier", "token",
                               "Used in the Slot chain only: system urn:oid:1.2.250.1.71.4.2.1, prefixed value.")};
  json::object role = resource("PractitionerRole", fhir::profile::kPractitionerRole,
                               "One per consultation place, with the address as a contained FrLocationAgregateur; "
                               "returned with _include:iterate=Schedule:actor.");

  json::object rest;
  rest["mode"] = "server";
  rest["documentation"] = options.cpts ? "Mise à disposition de créneaux de disponibilité PS. Indiv (SAS INT_R01) et "
                                         "CPTS (SAS INT_R04)."
                                       : "Mise à disposition de créneaux de disponibilité PS. Indiv (SAS INT_R01).";
  rest["security"] = json::object{
      {"cors", false},
      {"description", "Mutual TLS (TLS 1.2 or later) with IGC-Santé certificates; the client certificate is checked."}};
  json::array resources{std::move(slot), std::move(schedule), std::move(practitioner), std::move(role)};
  if (options.cpts) {
    resources.emplace_back(resource("HealthcareService", fhir::profile::kCptsHealthcareService,
                                    "One per CPTS a returned slot is open to (INT_R04), providedBy its Organization; "
                                    "returned with _include=Slot:service-type-reference."));
    resources.emplace_back(resource("Organization", fhir::profile::kCptsOrganization,
                                    "The CPTS (IDNST 1 + FINESS, name, phone), returned with its HealthcareService, "
                                    "with or without _include:iterate=HealthcareService:organization."));
  }
  rest["resource"] = std::move(resources);

  json::object cs;
  cs["resourceType"] = "CapabilityStatement";
  cs["name"] = "SasAgendaPsIndivServer";
  cs["title"] = options.cpts ? "SAS gestionnaire d'agenda PS Indiv et CPTS (INT_R01, INT_R04)"
                             : "SAS gestionnaire d'agenda PS Indiv (INT_R01)";
  cs["status"] = "active";
  cs["experimental"] = false;
  cs["date"] = options.date.empty() ? today_utc() : options.date;
  fhir::put(cs, "publisher", options.publisher);
  cs["description"] = "Slot search of the SAS (Service d'Accès aux Soins) for individual practitioners.";
  cs["jurisdiction"] = json::array{fhir::codeable_concept(fhir::coding(fhir::kIso3166System, "FR", "France (la)"))};
  cs["kind"] = "instance";
  cs["instantiates"] = json::array{fhir::kCapabilityAgendaPsIndiv};
  if (options.cpts) cs["instantiates"].as_array().emplace_back(fhir::kCapabilityAgendaCpts);
  json::object software;
  fhir::put(software, "name", options.software_name);
  fhir::put(software, "version", options.software_version);
  fhir::put(cs, "software", std::move(software));
  json::object implementation;
  implementation["description"] = "SAS slot search endpoint";
  fhir::put(implementation, "url", options.base_url);
  cs["implementation"] = std::move(implementation);
  cs["fhirVersion"] = fhir::kFhirVersion;
  cs["format"] = json::array{fhir::kFhirJsonMime, "json"};
  cs["implementationGuide"] = json::array{fhir::kImplementationGuide};
  cs["rest"] = json::array{std::move(rest)};
  fhir::prune_empty(cs);
  return cs;
}

}  // namespace sas::host::slot_search
