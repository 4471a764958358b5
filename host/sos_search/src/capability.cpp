#include "sas/host/sos_search/capability.hpp"

#include <string_view>

#include "sas/host/fhir/constants.hpp"
#include "sas/host/sos_search/query.hpp"

namespace sas::host::sos_search {

namespace json = boost::json;
namespace fhir = sas::host::fhir;

namespace {

bool is(const json::value& value, std::string_view text) { return value.is_string() && value.get_string() == text; }

// `array` (created if absent) with `value` appended unless it is there already.
void add_unique(json::object& object, std::string_view key, const json::value& value) {
  json::value& slot = object[key];
  if (!slot.is_array()) slot = json::array();
  json::array& array = slot.as_array();
  for (const auto& item : array) {
    if (item == value) return;
  }
  array.push_back(value);
}

// The entry of `type` in `resources`, created with `profile` when there is none; an existing
// entry with another profile gets `profile` in its supportedProfile.
json::object& resource(json::array& resources, std::string_view type, std::string_view profile) {
  for (auto& r : resources) {
    json::object& entry = r.as_object();
    if (!is(entry["type"], type)) continue;
    if (!is(entry["profile"], profile)) add_unique(entry, "supportedProfile", json::string(profile));
    return entry;
  }
  json::object entry;
  entry["type"] = type;
  entry["profile"] = profile;
  resources.push_back(std::move(entry));
  return resources.back().as_object();
}

json::object search_param(std::string_view name, std::string_view definition, std::string_view type,
                          std::string_view documentation) {
  json::object p;
  p["name"] = name;
  if (!definition.empty()) p["definition"] = definition;
  p["type"] = type;
  p["documentation"] = documentation;
  return p;
}

// Appends `text` to the object's documentation (a resource type or parameter two flows
// describe), once.
void document(json::object& object, std::string_view text) {
  json::value& doc = object["documentation"];
  if (!doc.is_string() || doc.as_string().empty()) {
    doc = text;
  } else if (std::string_view(doc.as_string()).find(text) == std::string_view::npos) {
    doc = std::string(doc.as_string()) + " " + std::string(text);
  }
}

// A search parameter is declared once per name: an existing one is documented further.
void add_search_param(json::object& entry, json::object param) {
  json::value& slot = entry["searchParam"];
  if (!slot.is_array()) slot = json::array();
  for (auto& p : slot.as_array()) {
    if (p.as_object()["name"] != param["name"]) continue;
    document(p.as_object(), param["documentation"].as_string());
    return;
  }
  slot.as_array().push_back(std::move(param));
}

}  // namespace

void add_to_capability_statement(json::object& statement) {
  add_unique(statement, "instantiates", json::string(fhir::kCapabilityAgendaSos));
  json::value& rests = statement["rest"];
  if (!rests.is_array() || rests.as_array().empty()) rests = json::array{json::object{{"mode", "server"}}};
  json::object& rest = rests.as_array()[0].as_object();
  json::value& list = rest["resource"];
  if (!list.is_array()) list = json::array();
  json::array& resources = list.as_array();

  json::object& schedule = resource(resources, "Schedule", fhir::profile::kSosSchedule);
  add_unique(schedule, "interaction", json::object{{"code", "search-type"}});
  add_unique(schedule, "searchRevInclude", json::string(include::kSlotSchedule));
  add_unique(schedule, "searchInclude", json::string(include::kScheduleActorLocation));
  add_unique(schedule, "searchInclude", json::string(include::kLocationOrganization));
  add_search_param(
      schedule, search_param("_has", {}, "special",
                             "SOS Médecins: _has:Slot:schedule:start, exactly one ge and one le (dateTime with offset, "
                             "or a date read as the Europe/Paris day), and _has:Slot:schedule:status=free, both "
                             "required."));
  add_search_param(schedule, search_param("actor", "http://hl7.org/fhir/SearchParameter/Schedule-actor", "reference",
                                          "SOS Médecins: only as the chain actor:Location.organization.identifier="
                                          "urn:oid:1.2.250.1.71.4.2.2|3SIRET,... with 1 to 25 association SIRETs."));
  document(schedule,
           "SOS Médecins search (SAS-GestionnaireAgenda-SOS): one Schedule per consultation place with a free slot "
           "in the window, its Slots with _revinclude=Slot:schedule, its Location with "
           "_include=Schedule:actor:Location and the association with _include:iterate=Location:organization; "
           "_count caps the Slots (no paging); unknown parameters are refused (400).");

  json::object& slot = resource(resources, "Slot", fhir::profile::kSosSlot);
  document(slot, "SOS Médecins: returned with _revinclude=Slot:schedule on Schedule, typed PUBLIC and/or SNP.");

  json::object& location = resource(resources, "Location", fhir::profile::kSosLocation);
  add_search_param(location, search_param("organization", "http://hl7.org/fhir/SearchParameter/Location-organization",
                                          "reference", "Used in the Schedule chain only (SOS Médecins)."));
  document(location, "SOS Médecins consultation place: returned with _include=Schedule:actor:Location.");

  json::object& organization = resource(resources, "Organization", fhir::profile::kSosOrganization);
  add_search_param(organization,
                   search_param("identifier", "http://hl7.org/fhir/SearchParameter/Organization-identifier", "token",
                                "Used in the Schedule chain only (SOS Médecins): system urn:oid:1.2.250.1.71.4.2.2, "
                                "value 3 + SIRET."));
  document(organization, "SOS Médecins association: returned with _include:iterate=Location:organization.");
}

}  // namespace sas::host::sos_search
