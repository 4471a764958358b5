// Checks on emitted resources: the validator's issues numbered by the catalogue, the structure of
// an INT_R01 answer, and the IG FAQ's common errors.
#include <sas/conformance/resource_checks.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <sas/sdk/datetime.hpp>
#include <sas/sdk/ids.hpp>

namespace sas::conformance {
namespace {

namespace json = boost::json;

constexpr std::string_view kIdnps = "urn:oid:1.2.250.1.71.4.2.1";
constexpr std::string_view kIdnst = "urn:oid:1.2.250.1.71.4.2.2";
constexpr std::string_view kSlotTypes = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau";
constexpr std::string_view kSpecialties =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
constexpr std::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr std::string_view kAppointmentTypes = "http://terminology.hl7.org/CodeSystem/v2-0276";
constexpr std::string_view kServiceTypeExtension =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";
constexpr std::string_view kCptsCategory =
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement";
constexpr std::string_view kR01Bundle = "http://sas.fr/fhir/StructureDefinition/BundleAgregateur";
constexpr std::string_view kCptsBundle =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";
constexpr std::string_view kCptsSlot =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
constexpr std::string_view kCptsService =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator";
constexpr std::string_view kCptsOrganization =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator";
constexpr std::string_view kSosBundle =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator";
constexpr std::string_view kSosSlot =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator";
constexpr std::string_view kSosSchedule =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-schedule-aggregator";
constexpr std::string_view kSosLocation =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator";
constexpr std::string_view kSosOrganization =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator";
// A French phone in international form: metropolitan +33 or an overseas code, then 9 digits.
const std::regex& french_phone() {
  static const std::regex format(R"(^\+(33|262|590|594|596)\d{9}$)");
  return format;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::array* arr(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool declares(const json::object& resource, std::string_view profile) {
  const auto* meta = obj(resource, "meta");
  const auto* list = meta ? arr(*meta, "profile") : nullptr;
  if (list)
    for (const auto& p : *list)
      if (p.is_string() && p.as_string() == profile) return true;
  return false;
}

struct Entry {
  const json::object* resource = nullptr;
  std::string type, id, path;  // path: "entry[3].resource"
  std::string mode;            // search.mode
};

// The Bundle's entries and how references resolve among them.
struct BundleIndex {
  std::vector<Entry> entries;
  std::map<std::string, std::size_t> by_key;  // "Slot/1" and fullUrl

  explicit BundleIndex(const json::object& bundle) {
    const auto* list = arr(bundle, "entry");
    if (!list) return;
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object()) continue;
      const auto& e = (*list)[i].as_object();
      const auto* r = obj(e, "resource");
      if (!r) continue;
      Entry entry{r, str(*r, "resourceType"), str(*r, "id"), "entry[" + std::to_string(i) + "].resource", ""};
      if (const auto* search = obj(e, "search")) entry.mode = str(*search, "mode");
      entries.push_back(entry);
      by_key.emplace(entry.type + "/" + entry.id, entries.size() - 1);
      if (auto full = str(e, "fullUrl"); !full.empty()) by_key.emplace(full, entries.size() - 1);
    }
  }

  const Entry* resolve(const json::object* reference) const {
    if (!reference) return nullptr;
    std::string ref = str(*reference, "reference");
    if (ref.empty()) return nullptr;
    if (auto it = by_key.find(ref); it != by_key.end()) return &entries[it->second];
    // An absolute URL ending with Type/id.
    auto slash = ref.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      auto type_start = ref.rfind('/', slash - 1);
      std::string key = ref.substr(type_start == std::string::npos ? 0 : type_start + 1);
      if (auto it = by_key.find(key); it != by_key.end()) return &entries[it->second];
    }
    return nullptr;
  }

  std::vector<const Entry*> of_type(std::string_view type) const {
    std::vector<const Entry*> out;
    for (const auto& e : entries)
      if (e.type == type) out.push_back(&e);
    return out;
  }
};

class Checker {
 public:
  Checker(const std::string& label, std::vector<Finding>& out) : label_(label), out_(out) {}
  void fail(std::string_view id, std::string path, std::string message) {
    out_.push_back(Finding{std::string(id), label_, std::move(path), std::move(message)});
  }

 private:
  const std::string& label_;
  std::vector<Finding>& out_;
};

// Every `telecom` array anywhere, with its JSON path.
void collect_telecoms(const json::value& v, const std::string& path,
                      std::vector<std::pair<const json::array*, std::string>>& out);

void collect_telecoms(const json::object& o, const std::string& path,
                      std::vector<std::pair<const json::array*, std::string>>& out) {
  for (const auto& [key, child] : o) {
    std::string child_path = path.empty() ? std::string(key) : path + "." + std::string(key);
    if (key == "telecom" && child.is_array()) out.emplace_back(&child.as_array(), child_path);
    collect_telecoms(child, child_path, out);
  }
}

void collect_telecoms(const json::value& v, const std::string& path,
                      std::vector<std::pair<const json::array*, std::string>>& out) {
  if (v.is_object()) {
    collect_telecoms(v.as_object(), path, out);
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    for (std::size_t i = 0; i < a.size(); ++i) collect_telecoms(a[i], path + "[" + std::to_string(i) + "]", out);
  }
}

void check_bundle_structure(Checker& c, const json::object& bundle, const BundleIndex& index,
                            const SearchContext& context) {
  const auto slots = index.of_type("Slot");
  std::size_t matches = 0;
  for (const auto* s : slots) matches += s->mode == "match" ? 1 : 0;
  if (const auto* total = bundle.if_contains("total"); total && total->is_int64()) {
    const auto t = static_cast<std::size_t>(total->as_int64());
    if (context.count_given ? t < matches : t != matches)
      c.fail("R01-BUNDLE-001", "total",
             "total is " + std::to_string(t) + " but the Bundle has " + std::to_string(matches) + " Slot matches");
  } else if (const auto* total_u = bundle.if_contains("total"); total_u && total_u->is_uint64()) {
    if (!context.count_given && total_u->as_uint64() != matches)
      c.fail("R01-BUNDLE-001", "total", "total differs from the number of Slot matches");
  }
  std::set<std::string> seen;
  for (const auto& e : index.entries) {
    if (!e.mode.empty()) {
      const char* expected = e.type == "Slot" ? "match" : "include";
      if (e.mode != expected)
        c.fail("R01-BUNDLE-002", e.path.substr(0, e.path.size() - 9) + ".search.mode",
               e.type + " has search.mode \"" + e.mode + "\", expected \"" + expected + "\"");
    }
    if (!seen.insert(e.type + "/" + e.id).second)
      c.fail("R01-BUNDLE-005", e.path, e.type + "/" + e.id + " appears more than once");
  }
  static const std::regex instant_format(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$)");
  static const std::regex url_format(R"(^https?://[^/\s]+(/\S*)?$)");
  for (const auto* s : slots) {
    const auto& r = *s->resource;
    const std::string start = str(r, "start"), end = str(r, "end");
    auto t0 = sas::sdk::datetime::parse_fhir(start);
    auto t1 = sas::sdk::datetime::parse_fhir(end);
    if (t0 && ((context.from && *t0 < *context.from) || (context.to && *t0 > *context.to)))
      c.fail("R01-BUNDLE-003", s->path + ".start", "Slot starts at " + start + ", outside the requested window");
    if (t0 && t1 && !(*t1 > *t0))
      c.fail("R01-BUNDLE-004", s->path + ".end", "Slot ends at " + end + ", not after " + start);
    if (auto comment = r.if_contains("comment"); comment && comment->is_string() && !blank(comment->as_string()) &&
                                                 !std::regex_match(std::string(comment->as_string()), url_format))
      c.fail("R01-BUNDLE-006", s->path + ".comment", "Slot.comment is not an absolute http(s) URL");
    if (const auto* type = obj(r, "appointmentType")) {
      bool known = false;
      if (const auto* codings = arr(*type, "coding"))
        for (const auto& coding : *codings)
          if (coding.is_object() && str(coding.as_object(), "system") == kAppointmentTypes) {
            const std::string code = str(coding.as_object(), "code");
            known |= code == "ROUTINE" || code == "WALKIN";
          }
      if (!known)
        c.fail("R01-BUNDLE-008", s->path + ".appointmentType",
               "appointmentType is not v2-0276 ROUTINE (with appointment) or WALKIN (without)");
    }
    for (const auto& [key, value] : {std::pair{"start", start}, std::pair{"end", end}})
      if (!value.empty() && !std::regex_match(value, instant_format))
        c.fail("R01-BUNDLE-007", s->path + "." + key,
               std::string(key) + " \"" + value + "\" is not YYYY-MM-DDThh:mm:ss.sss+hh:mm");
  }
}

// cpts_answer: an INT_R04 answer, whose CPTS part (the chain: R01-FAQ-06, -11; the CPTS
// Organizations' phones) the R04-CPTS checks judge.
void check_faq(Checker& c, const json::value& bundle_value, const BundleIndex& index, const SearchContext& context,
               bool cpts_answer = false) {
  static const std::regex practitioner_id(R"(^(8\d{11}|0[0-9A-Za-z]{9})$)");
  static const std::regex phone_format(R"(^\+[1-9]\d{7,14}$)");
  // 01: prefixed national ids.
  for (const auto* p : index.of_type("Practitioner")) {
    if (const auto* ids = arr(*p->resource, "identifier")) {
      for (std::size_t i = 0; i < ids->size(); ++i) {
        if (!(*ids)[i].is_object()) continue;
        const auto& id = (*ids)[i].as_object();
        if (str(id, "system") != kIdnps) continue;
        const std::string value = str(id, "value");
        if (!std::regex_match(value, practitioner_id))
          c.fail("R01-FAQ-01", p->path + ".identifier[" + std::to_string(i) + "].value",
                 "IDNPS \"" + value + "\" is not prefixed (8 + RPPS or 0 + ADELI)");
      }
    }
  }
  for (const auto* role : index.of_type("PractitionerRole")) {
    const auto* org = obj(*role->resource, "organization");
    const auto* id = org ? obj(*org, "identifier") : nullptr;
    if (!id || str(*id, "system") != kIdnst) continue;
    const std::string value = str(*id, "value");
    const bool ok = value.size() >= 10 && std::string_view("0134").find(value[0]) != std::string_view::npos;
    if (!ok)
      c.fail("R01-FAQ-01", role->path + ".organization.identifier.value",
             "IDNST \"" + value + "\" is not prefixed (1 FINESS, 3 SIRET, 4 RPPS-rang, 0 ADELI-rang)");
  }
  // 02: phones.
  std::vector<std::pair<const json::array*, std::string>> telecoms;
  if (!cpts_answer) {
    collect_telecoms(bundle_value, "", telecoms);
  } else {
    for (const auto& e : index.entries)
      if (e.type != "Organization" && e.type != "HealthcareService") collect_telecoms(*e.resource, e.path, telecoms);
  }
  for (const auto& [list, path] : telecoms) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object()) continue;
      const auto& t = (*list)[i].as_object();
      if (str(t, "system") != "phone") continue;
      const std::string value = str(t, "value");
      if (!std::regex_match(value, phone_format))
        c.fail("R01-FAQ-02", path + "[" + std::to_string(i) + "].value",
               "phone \"" + value + "\" is not in international format (+33...)");
    }
  }
  // 07: one Schedule per place, its PractitionerRole belongs to its Practitioner, the place contained.
  std::map<std::string, std::string> role_schedule;
  for (const auto* sch : index.of_type("Schedule")) {
    const auto* actors = arr(*sch->resource, "actor");
    std::vector<const Entry*> practitioners, roles;
    if (actors)
      for (const auto& a : *actors)
        if (const auto* e = a.is_object() ? index.resolve(&a.as_object()) : nullptr)
          (e->type == "Practitioner" ? practitioners : roles).push_back(e);
    if (practitioners.size() != 1 || roles.size() != 1) {
      c.fail("R01-FAQ-07", sch->path + ".actor",
             "a Schedule is one place: one Practitioner and one PractitionerRole actor in the Bundle, found " +
                 std::to_string(practitioners.size()) + " and " + std::to_string(roles.size()));
      continue;
    }
    const auto* role = roles[0];
    if (auto [it, fresh] = role_schedule.emplace(role->id, sch->id); !fresh)
      c.fail("R01-FAQ-07", sch->path + ".actor",
             "PractitionerRole/" + role->id + " is the place of two Schedules (" + it->second + ", " + sch->id + ")");
    const Entry* owner = index.resolve(obj(*role->resource, "practitioner"));
    if (owner && owner != practitioners[0])
      c.fail("R01-FAQ-07", role->path + ".practitioner",
             "PractitionerRole/" + role->id + " belongs to Practitioner/" + owner->id + " but its Schedule " + sch->id +
                 " is Practitioner/" + practitioners[0]->id + "'s");
    // The place: a contained Location that `location` refers to.
    bool located = false;
    if (const auto* locs = arr(*role->resource, "location"))
      for (const auto& l : *locs)
        if (l.is_object()) {
          std::string ref = str(l.as_object(), "reference");
          if (const auto* contained = arr(*role->resource, "contained"); contained && ref.starts_with("#"))
            for (const auto& r : *contained)
              if (r.is_object() && str(r.as_object(), "resourceType") == "Location" &&
                  "#" + str(r.as_object(), "id") == ref)
                located = true;
        }
    if (!located)
      c.fail("R01-FAQ-07", role->path + ".location",
             "PractitionerRole/" + role->id + " has no contained Location for its place");
  }
  // 08: every Slot belongs to a practitioner asked for; one Practitioner per national id.
  std::map<std::string, std::string> id_owner;
  for (const auto* p : index.of_type("Practitioner")) {
    if (const auto* ids = arr(*p->resource, "identifier"))
      for (const auto& i : *ids)
        if (i.is_object() && str(i.as_object(), "system") == kIdnps) {
          std::string value = str(i.as_object(), "value");
          if (auto [it, fresh] = id_owner.emplace(value, p->id); !fresh && it->second != p->id)
            c.fail("R01-FAQ-08", p->path + ".identifier",
                   "national id " + value + " is held by Practitioner/" + it->second + " and Practitioner/" + p->id);
          if (!context.practitioners.empty() && !context.practitioners.contains(value) &&
              std::regex_match(value, practitioner_id))
            c.fail("R01-FAQ-08", p->path + ".identifier", "practitioner " + value + " was not asked for");
        }
  }
  // 03, 04, 05, 06, 11: per Slot.
  auto chain_fail = [&](std::string_view id, std::string path, std::string message) {
    if (!cpts_answer) c.fail(id, std::move(path), std::move(message));
  };
  for (const auto* s : index.of_type("Slot")) {
    const auto& r = *s->resource;
    // 03 specialties
    // A Slot may have no specialty (the agenda has none); one sent must be coded or named.
    if (const auto* specialties = arr(r, "specialty")) {
      for (std::size_t i = 0; i < specialties->size(); ++i) {
        if (!(*specialties)[i].is_object()) continue;
        const auto& sp = (*specialties)[i].as_object();
        bool coded = false;
        if (const auto* codings = arr(sp, "coding"))
          for (const auto& coding : *codings)
            if (coding.is_object() && str(coding.as_object(), "system") == kSpecialties &&
                !str(coding.as_object(), "code").empty())
              coded = true;
        if (!coded && blank(str(sp, "text")))
          c.fail("R01-FAQ-03", s->path + ".specialty[" + std::to_string(i) + "]",
                 "specialty neither coded in TRE_R38 nor given as text");
      }
    }
    // 04 slot types
    std::set<std::string> types;
    const auto* meta = obj(r, "meta");
    const auto* security = meta ? arr(*meta, "security") : nullptr;
    if (security)
      for (std::size_t i = 0; i < security->size(); ++i) {
        if (!(*security)[i].is_object()) continue;
        const auto& sec = (*security)[i].as_object();
        const std::string code = str(sec, "code");
        static const std::set<std::string> known = {"PUBLIC", "PRO", "SNP", "CPTS"};
        if (str(sec, "system") != kSlotTypes || !known.contains(code))
          c.fail("R01-FAQ-04", s->path + ".meta.security[" + std::to_string(i) + "]",
                 "slot type \"" + code + "\" is not a TRE_R314 type (PUBLIC, PRO, SNP, CPTS)");
        else
          types.insert(code);
      }
    if (types.empty()) c.fail("R01-FAQ-04", s->path + ".meta", "Slot without slot type in meta.security");
    // 05 modes and motives
    bool mode = false;
    std::size_t cpts_codings = 0;
    std::set<std::string> services;
    if (const auto* service_types = arr(r, "serviceType")) {
      for (std::size_t i = 0; i < service_types->size(); ++i) {
        if (!(*service_types)[i].is_object()) continue;
        const auto& st = (*service_types)[i].as_object();
        const std::string st_path = s->path + ".serviceType[" + std::to_string(i) + "]";
        const auto* codings = arr(st, "coding");
        if ((!codings || codings->empty()) && blank(str(st, "text")))
          c.fail("R01-FAQ-05", st_path, "serviceType with neither a coded mode nor a motive text");
        bool is_cpts = false;
        if (codings)
          for (std::size_t j = 0; j < codings->size(); ++j) {
            if (!(*codings)[j].is_object()) continue;
            const auto& coding = (*codings)[j].as_object();
            const std::string code = str(coding, "code");
            if (str(coding, "system") == kActCode) {
              if (code == "AMB" || code == "HH" || code == "VR")
                mode = true;
              else
                c.fail("R01-FAQ-05", st_path + ".coding[" + std::to_string(j) + "].code",
                       "consultation mode \"" + code + "\" is not AMB, HH or VR");
            }
            if (code == "604") is_cpts = true;
          }
        if (is_cpts) {
          ++cpts_codings;
          // 06: the chain serviceType → HealthcareService → Organization.
          const Entry* service = nullptr;
          if (const auto* extensions = arr(st, "extension"))
            for (const auto& ext : *extensions)
              if (ext.is_object() && str(ext.as_object(), "url") == kServiceTypeExtension)
                service = index.resolve(obj(ext.as_object(), "valueReference"));
          if (!service || service->type != "HealthcareService") {
            chain_fail("R01-FAQ-06", st_path, "CPTS serviceType without a HealthcareService of the Bundle");
          } else {
            const Entry* org = index.resolve(obj(*service->resource, "providedBy"));
            if (!org || org->type != "Organization")
              chain_fail("R01-FAQ-06", service->path + ".providedBy",
                         "HealthcareService without its CPTS Organization");
            else if (!services.insert(service->id).second)
              chain_fail("R01-FAQ-11", st_path,
                         "two CPTS serviceTypes point to the same HealthcareService/" + service->id);
          }
        }
      }
    }
    if (!mode) c.fail("R01-FAQ-05", s->path, "Slot without a consultation mode (v3-ActCode AMB, HH or VR)");
    if (types.contains("CPTS") && cpts_codings == 0)
      chain_fail("R01-FAQ-06", s->path, "CPTS slot without a serviceType 604 linking it to its CPTS");
    if (!types.contains("CPTS") && cpts_codings > 0)
      chain_fail("R01-FAQ-11", s->path, "Slot linked to a CPTS but without the CPTS slot type");
  }
}

// The Slots of each practitioner of the Bundle (through the Slot's Schedule's actors), by
// prefixed national id.
struct Owners {
  std::map<std::string, std::vector<const Entry*>> slots_of;  // national id → its Slots

  explicit Owners(const BundleIndex& index) {
    for (const auto* s : index.of_type("Slot")) {
      const Entry* schedule = index.resolve(obj(*s->resource, "schedule"));
      if (!schedule) continue;
      if (const auto* actors = arr(*schedule->resource, "actor"))
        for (const auto& a : *actors) {
          const Entry* p = a.is_object() ? index.resolve(&a.as_object()) : nullptr;
          if (!p || p->type != "Practitioner") continue;
          // By the prefixed form: an unprefixed id in the answer is R01-FAQ-01's, not the CPTS checks'.
          if (const auto* ids = arr(*p->resource, "identifier"))
            for (const auto& i : *ids)
              if (i.is_object() && str(i.as_object(), "system") == kIdnps)
                if (auto id = sas::sdk::ids::normalize_practitioner_id(str(i.as_object(), "value")))
                  slots_of[id->prefixed].push_back(s);
        }
    }
  }
};

std::set<std::string> slot_types(const json::object& slot) {
  std::set<std::string> types;
  const auto* meta = obj(slot, "meta");
  if (const auto* security = meta ? arr(*meta, "security") : nullptr)
    for (const auto& sec : *security)
      if (sec.is_object() && str(sec.as_object(), "system") == kSlotTypes) types.insert(str(sec.as_object(), "code"));
  return types;
}

// R04-CPTS-*: the chain Slot → serviceType 604 → HealthcareService → CPTS Organization.
void check_cpts(Checker& c, const json::object& bundle, const BundleIndex& index, const SearchContext& context) {
  static const std::regex prefixed_finess(R"(^1[0-9][0-9AB][0-9]{7}$)");
  // 001: the CPTS profiles, so that the validator judges the answer by them.
  if (!declares(bundle, kCptsBundle))
    c.fail("R04-CPTS-001", "meta.profile", "the Bundle does not declare " + std::string(kCptsBundle));
  const std::pair<std::string_view, std::string_view> typed[] = {
      {"Slot", kCptsSlot}, {"HealthcareService", kCptsService}, {"Organization", kCptsOrganization}};
  for (const auto& e : index.entries)
    for (const auto& [type, profile] : typed)
      if (e.type == type && !declares(*e.resource, profile))
        c.fail("R04-CPTS-001", e.path + ".meta.profile",
               e.type + "/" + e.id + " does not declare " + std::string(profile));
  // 004, 005: each HealthcareService is one CPTS Organization of the Bundle.
  std::map<const Entry*, const Entry*> organization_of;  // HealthcareService → Organization
  std::map<const Entry*, std::vector<const Entry*>> services_of;
  for (const auto* hs : index.of_type("HealthcareService")) {
    const Entry* org = index.resolve(obj(*hs->resource, "providedBy"));
    if (!org || org->type != "Organization") {
      c.fail("R04-CPTS-004", hs->path + ".providedBy",
             "HealthcareService/" + hs->id + "'s providedBy is not an Organization of the Bundle");
      continue;
    }
    organization_of[hs] = org;
    services_of[org].push_back(hs);
  }
  for (const auto* org : index.of_type("Organization")) {
    const auto& o = *org->resource;
    const auto n = services_of[org].size();
    if (n != 1)
      c.fail("R04-CPTS-005", org->path,
             "Organization/" + org->id + " (a CPTS) is provided by " + std::to_string(n) +
                 " HealthcareServices, expected one");
    // 007: IDNST 1 + FINESS.
    bool idnst = false;
    if (const auto* ids = arr(o, "identifier"))
      for (std::size_t i = 0; i < ids->size(); ++i) {
        if (!(*ids)[i].is_object() || str((*ids)[i].as_object(), "system") != kIdnst) continue;
        idnst = true;
        const std::string value = str((*ids)[i].as_object(), "value");
        if (!std::regex_match(value, prefixed_finess))
          c.fail("R04-CPTS-007", org->path + ".identifier[" + std::to_string(i) + "].value",
                 "CPTS IDNST \"" + value + "\" is not 1 + FINESS (9 characters)");
      }
    if (!idnst)
      c.fail("R04-CPTS-007", org->path + ".identifier",
             "Organization/" + org->id + " has no IDNST identifier (system " + std::string(kIdnst) + ")");
    // 008, 009: name and phone.
    if (!o.contains("name")) c.fail("R04-CPTS-008", org->path, "Organization/" + org->id + " (a CPTS) has no name");
    bool phone = false;
    if (const auto* telecom = arr(o, "telecom"))
      for (std::size_t i = 0; i < telecom->size(); ++i) {
        if (!(*telecom)[i].is_object() || str((*telecom)[i].as_object(), "system") != "phone") continue;
        phone = true;
        const std::string value = str((*telecom)[i].as_object(), "value");
        if (!std::regex_match(value, french_phone()))
          c.fail("R04-CPTS-009", org->path + ".telecom[" + std::to_string(i) + "].value",
                 "CPTS phone \"" + value + "\" is not in international format (+33...)");
      }
    if (!phone) c.fail("R04-CPTS-009", org->path, "Organization/" + org->id + " (a CPTS) has no phone");
  }
  // 002, 003, 006 per Slot; the CPTS each Slot reaches.
  std::map<const Entry*, std::set<const Entry*>> cpts_of;  // Slot → Organizations (or HealthcareServices)
  std::set<const Entry*> open_to_cpts;                     // typed CPTS or linked to a CPTS
  for (const auto* s : index.of_type("Slot")) {
    const auto& r = *s->resource;
    const auto types = slot_types(r);
    const bool typed_cpts = types.contains("CPTS");
    bool linked = false;
    std::set<const Entry*> services, organizations;
    if (const auto* service_types = arr(r, "serviceType"))
      for (std::size_t i = 0; i < service_types->size(); ++i) {
        if (!(*service_types)[i].is_object()) continue;
        const auto& st = (*service_types)[i].as_object();
        const std::string st_path = s->path + ".serviceType[" + std::to_string(i) + "]";
        bool coded = false;
        if (const auto* codings = arr(st, "coding"))
          for (const auto& coding : *codings)
            coded |= coding.is_object() && str(coding.as_object(), "system") == kCptsCategory &&
                     str(coding.as_object(), "code") == "604";
        const json::object* reference = nullptr;
        bool extended = false;
        if (const auto* extensions = arr(st, "extension"))
          for (const auto& ext : *extensions)
            if (ext.is_object() && str(ext.as_object(), "url") == kServiceTypeExtension) {
              extended = true;
              reference = obj(ext.as_object(), "valueReference");
            }
        if (!coded && !extended) continue;
        linked = true;
        if (!coded)
          c.fail("R04-CPTS-002", st_path + ".coding",
                 "serviceType referencing a HealthcareService without its TRE_R66 604 coding");
        if (!extended) {
          c.fail("R04-CPTS-002", st_path,
                 "serviceType 604 without the extension-Slot.serviceType reference to its HealthcareService");
          continue;
        }
        const Entry* service = index.resolve(reference);
        if (!service || service->type != "HealthcareService") {
          c.fail("R04-CPTS-002", st_path + ".extension",
                 "serviceType 604 references \"" + (reference ? str(*reference, "reference") : std::string()) +
                     "\", not a HealthcareService of the Bundle");
          continue;
        }
        if (!services.insert(service).second)
          c.fail("R04-CPTS-006", st_path,
                 "Slot/" + s->id + " names HealthcareService/" + service->id + " twice (one serviceType per CPTS)");
        if (auto it = organization_of.find(service); it != organization_of.end()) {
          if (!organizations.insert(it->second).second)
            c.fail("R04-CPTS-006", st_path,
                   "Slot/" + s->id + " names the CPTS Organization/" + it->second->id +
                       " twice, through two HealthcareServices");
          cpts_of[s].insert(it->second);
        } else {
          cpts_of[s].insert(service);  // its Organization is missing (R04-CPTS-004): the service stands for it
        }
      }
    if (typed_cpts || linked) open_to_cpts.insert(s);
    if (typed_cpts && !linked)
      c.fail("R04-CPTS-002", s->path, "Slot typed CPTS without a serviceType 604 → HealthcareService for its CPTS");
    // A Slot with no slot type at all is R01-FAQ-04's.
    if (!typed_cpts && linked && !types.empty())
      c.fail("R04-CPTS-003", s->path + ".meta", "Slot linked to a CPTS without the slot type CPTS in meta.security");
  }
  // 010, 006: what the test data declares.
  if (context.cpts_practitioners.empty() && context.cpts_two.empty()) return;
  const Owners owners(index);
  auto slots_of = [&](const std::string& id) {
    auto it = owners.slots_of.find(id);
    return it == owners.slots_of.end() ? std::vector<const Entry*>{} : it->second;
  };
  auto most_cpts = [&](const std::string& id) {
    std::size_t most = 0;
    for (const auto* s : slots_of(id))
      if (auto reached = cpts_of.find(s); reached != cpts_of.end()) most = std::max(most, reached->second.size());
    return most;
  };
  for (const auto& id : context.cpts_practitioners) {
    const auto slots = slots_of(id);
    if (std::none_of(slots.begin(), slots.end(), [&](const Entry* s) { return open_to_cpts.contains(s); }))
      c.fail("R04-CPTS-010", "",
             "practitioner " + id + ", declared open to CPTS, has no Slot open to a CPTS in the answer");
  }
  for (const auto& id : context.cpts_two)
    if (most_cpts(id) < 2)
      c.fail("R04-CPTS-006", "",
             "practitioner " + id +
                 ", declared with a Slot open to two CPTS, has no Slot linked to two CPTS in the answer");
}

// Name and value of each parameter of a query, percent-decoded (`+` is kept: FHIR dates carry raw
// offsets), sorted: what "the same query" compares.
std::vector<std::string> query_parameters(std::string_view query) {
  auto decode = [](std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  };
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto end = std::min(query.find('&', start), query.size());
    const auto part = query.substr(start, end - start);
    if (!part.empty()) {
      const auto eq = part.find('=');
      out.push_back(decode(part.substr(0, eq)) + "=" +
                    (eq == std::string_view::npos ? "" : decode(part.substr(eq + 1))));
    }
    start = end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// SOS-BUNDLE-*: the Schedule → Location → Organization structure and the Slots of an SOS answer.
void check_sos(Checker& c, const json::object& bundle, const BundleIndex& index, const SearchContext& context) {
  static const std::regex prefixed_siret(R"(^3\d{14}$)");
  static const std::regex url_format(R"(^https?://[^/\s]+(/\S*)?$)");
  // 001: the SOS profiles.
  if (!declares(bundle, kSosBundle))
    c.fail("SOS-BUNDLE-001", "meta.profile", "the Bundle does not declare " + std::string(kSosBundle));
  const std::pair<std::string_view, std::string_view> typed[] = {
      {"Schedule", kSosSchedule}, {"Slot", kSosSlot}, {"Location", kSosLocation}, {"Organization", kSosOrganization}};
  std::set<std::string> seen;
  std::size_t schedule_matches = 0;
  for (const auto& e : index.entries) {
    for (const auto& [type, profile] : typed)
      if (e.type == type && !declares(*e.resource, profile))
        c.fail("SOS-BUNDLE-001", e.path + ".meta.profile",
               e.type + "/" + e.id + " does not declare " + std::string(profile));
    // 002: Schedules are the matches.
    if (!e.mode.empty()) {
      const char* expected = e.type == "Schedule" ? "match" : "include";
      if (e.mode != expected)
        c.fail("SOS-BUNDLE-002", e.path.substr(0, e.path.size() - 9) + ".search.mode",
               e.type + " has search.mode \"" + e.mode + "\", expected \"" + expected + "\"");
    }
    schedule_matches += e.type == "Schedule" && e.mode != "include" ? 1 : 0;
    // 015
    if (!seen.insert(e.type + "/" + e.id).second)
      c.fail("SOS-BUNDLE-015", e.path, e.type + "/" + e.id + " appears more than once");
  }
  // 003: total.
  const auto slots = index.of_type("Slot");
  if (const auto* total = bundle.if_contains("total"); total && total->is_number() && !context.count_given) {
    const auto t = total->to_number<int64_t>();
    if (t != static_cast<int64_t>(schedule_matches) && t != static_cast<int64_t>(slots.size()))
      c.fail("SOS-BUNDLE-003", "total",
             "total is " + std::to_string(t) + " but the Bundle has " + std::to_string(schedule_matches) +
                 " Schedule matches and " + std::to_string(slots.size()) + " Slots");
  }
  // Slots: 004, 005, 006, 013 (status free: the profile's pattern).
  for (const auto* s : slots) {
    const auto& r = *s->resource;
    const std::string start = str(r, "start"), end = str(r, "end");
    auto t0 = sas::sdk::datetime::parse_fhir(start);
    auto t1 = sas::sdk::datetime::parse_fhir(end);
    if (t0 && ((context.from && *t0 < *context.from) || (context.to && *t0 > *context.to)))
      c.fail("SOS-BUNDLE-004", s->path + ".start", "Slot starts at " + start + ", outside the requested window");
    if (t0 && t1 && !(*t1 > *t0))
      c.fail("SOS-BUNDLE-004", s->path + ".end", "Slot ends at " + end + ", not after " + start);
    const auto* meta = obj(r, "meta");
    const auto* security = meta ? arr(*meta, "security") : nullptr;
    std::size_t types = 0;
    if (security)
      for (std::size_t i = 0; i < security->size(); ++i) {
        if (!(*security)[i].is_object()) continue;
        const auto& sec = (*security)[i].as_object();
        const std::string code = str(sec, "code");
        if (str(sec, "system") != kSlotTypes || (code != "PUBLIC" && code != "SNP"))
          c.fail("SOS-BUNDLE-005", s->path + ".meta.security[" + std::to_string(i) + "]",
                 "slot type \"" + code + "\" is not PUBLIC or SNP (TRE_R314)");
        else
          ++types;
      }
    if (types == 0 && !security) c.fail("SOS-BUNDLE-005", s->path + ".meta", "Slot without slot type in meta.security");
    const Entry* schedule = index.resolve(obj(r, "schedule"));
    if (!schedule || schedule->type != "Schedule")
      c.fail("SOS-BUNDLE-006", s->path + ".schedule", "Slot/" + s->id + "'s schedule is not a Schedule of the Bundle");
    if (const auto* comment = r.if_contains("comment"); !comment)
      c.fail("SOS-BUNDLE-013", s->path, "Slot/" + s->id + " has no booking URL in comment");
    else if (comment->is_string() && !blank(comment->as_string()) &&
             !std::regex_match(std::string(comment->as_string()), url_format))
      c.fail("SOS-BUNDLE-013", s->path + ".comment", "Slot.comment is not an absolute http(s) URL");
  }
  // 007: one Location per Schedule, one Schedule per Location.
  std::map<const Entry*, std::string> schedule_of_location;
  for (const auto* sch : index.of_type("Schedule")) {
    const auto* actors = arr(*sch->resource, "actor");
    const Entry* location =
        actors && actors->size() == 1 && (*actors)[0].is_object() ? index.resolve(&(*actors)[0].as_object()) : nullptr;
    if (!location || location->type != "Location") {
      c.fail("SOS-BUNDLE-007", sch->path + ".actor",
             "Schedule/" + sch->id + " is one place: one actor, a Location of the Bundle (found " +
                 std::to_string(actors ? actors->size() : 0) + " actors" +
                 (actors && actors->size() == 1 ? ", not a Location of the Bundle)" : ")"));
      continue;
    }
    if (auto [it, fresh] = schedule_of_location.emplace(location, sch->id); !fresh)
      c.fail("SOS-BUNDLE-007", sch->path + ".actor",
             "Location/" + location->id + " is the place of two Schedules (" + it->second + ", " + sch->id + ")");
  }
  // 008
  for (const auto* loc : index.of_type("Location")) {
    const Entry* org = index.resolve(obj(*loc->resource, "managingOrganization"));
    if (!org || org->type != "Organization")
      c.fail("SOS-BUNDLE-008", loc->path + ".managingOrganization",
             "Location/" + loc->id + "'s managingOrganization is not an Organization of the Bundle");
  }
  // 009, 012: the associations.
  std::set<std::string> answered;
  for (const auto* org : index.of_type("Organization")) {
    const auto& o = *org->resource;
    bool idnst = false;
    if (const auto* ids = arr(o, "identifier"))
      for (std::size_t i = 0; i < ids->size(); ++i) {
        if (!(*ids)[i].is_object() || str((*ids)[i].as_object(), "system") != kIdnst) continue;
        idnst = true;
        const std::string value = str((*ids)[i].as_object(), "value");
        const std::string path = org->path + ".identifier[" + std::to_string(i) + "].value";
        answered.insert(value);
        if (!std::regex_match(value, prefixed_siret))
          c.fail("SOS-BUNDLE-009", path, "SIRET \"" + value + "\" is not prefixed (3 + 14 digits)");
        else if (!context.sirets.empty() && !context.sirets.contains(value))
          c.fail("SOS-BUNDLE-009", path, "association " + value + " was not asked for");
      }
    if (!idnst)
      c.fail("SOS-BUNDLE-009", org->path + ".identifier",
             "Organization/" + org->id + " has no IDNST identifier (system " + std::string(kIdnst) + ")");
    if (!o.contains("name")) c.fail("SOS-BUNDLE-012", org->path, "Organization/" + org->id + " has no name");
  }
  for (const auto& siret : context.sos_declared)
    if (!answered.contains(siret))
      c.fail("SOS-BUNDLE-009", "",
             "association " + siret +
                 " (declared with free slots in the window) is missing from the answer: is the stored SIRET compared "
                 "without normalising its 3 prefix?");
  // 010: the self link is the platform's query.
  std::vector<std::pair<std::string, std::string>> self;  // url, path
  if (const auto* links = arr(bundle, "link"))
    for (std::size_t i = 0; i < links->size(); ++i)
      if ((*links)[i].is_object() && str((*links)[i].as_object(), "relation") == "self")
        self.emplace_back(str((*links)[i].as_object(), "url"), "link[" + std::to_string(i) + "].url");
  if (self.size() != 1) {
    c.fail("SOS-BUNDLE-010", "link", std::to_string(self.size()) + " self links, expected one");
  } else {
    const auto& [url, path] = self[0];
    const auto question = url.find('?');
    const std::string address = url.substr(0, question);
    const auto parameters = query_parameters(question == std::string::npos ? "" : url.substr(question + 1));
    auto has = [&](std::string_view prefix) {
      return std::any_of(parameters.begin(), parameters.end(), [&](const auto& p) { return p.starts_with(prefix); });
    };
    if (!std::regex_match(address, url_format) || !address.ends_with("/Schedule") ||
        !has("_revinclude=Slot:schedule") || !has("actor:Location.organization.identifier="))
      c.fail("SOS-BUNDLE-010", path,
             "self link \"" + url +
                 "\" is not the platform's Schedule search (absolute URL of [base]/Schedule with "
                 "_revinclude=Slot:schedule and actor:Location.organization.identifier)");
    else if (const auto q = context.request_target.find('?');
             !context.request_target.empty() &&
             parameters != query_parameters(q == std::string::npos ? "" : context.request_target.substr(q + 1)))
      c.fail("SOS-BUNDLE-010", path, "self link \"" + url + "\" does not carry the query of the request");
  }
  // 011: phones.
  std::vector<std::pair<const json::array*, std::string>> telecoms;
  for (const auto& e : index.entries) collect_telecoms(*e.resource, e.path, telecoms);
  for (const auto& [list, path] : telecoms)
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object() || str((*list)[i].as_object(), "system") != "phone") continue;
      const std::string value = str((*list)[i].as_object(), "value");
      if (!std::regex_match(value, french_phone()))
        c.fail("SOS-BUNDLE-011", path + "[" + std::to_string(i) + "].value",
               "phone \"" + value + "\" is not in international format (+33...)");
    }
}

bool is_search_bundle(const json::value& v) {
  if (!v.is_object()) return false;
  const auto& o = v.as_object();
  return str(o, "resourceType") == "Bundle" && str(o, "type") == "searchset";
}

}  // namespace

std::vector<Finding> check_profiles(const Catalogue& catalogue, const ProfileSet& profiles, const json::value& document,
                                    const std::string& label) {
  std::vector<Finding> out;
  for (const auto& issue : profiles.validate_declared(document)) {
    const Check* check = catalogue.for_issue(issue);
    out.push_back(Finding{check ? check->id : std::string("PROFILE-UNNUMBERED"), label, issue.path,
                          issue.element_id + ": " + issue.message});
  }
  return out;
}

std::vector<Finding> check_search_bundle(const Catalogue& catalogue, const ProfileSet& profiles,
                                         const json::value& bundle, const std::string& label,
                                         const SearchContext& context) {
  std::vector<Finding> out = check_profiles(catalogue, profiles, bundle, label);
  if (!bundle.is_object()) return out;
  Checker c(label, out);
  BundleIndex index(bundle.as_object());
  check_bundle_structure(c, bundle.as_object(), index, context);
  check_faq(c, bundle, index, context);
  return out;
}

std::vector<std::string> search_bundle_check_ids(const Catalogue& catalogue) {
  std::vector<std::string> ids;
  for (const auto& c : catalogue.checks())
    if (c.flow == "INT_R01" && (c.group == "BUNDLE" || c.group == "FAQ" || c.group == "PROFILE") &&
        c.id != "R01-FAQ-09")
      ids.push_back(c.id);
  return ids;
}

std::vector<Finding> check_cpts_bundle(const Catalogue& catalogue, const ProfileSet& profiles,
                                       const json::value& bundle, const std::string& label,
                                       const SearchContext& context) {
  std::vector<Finding> out = check_profiles(catalogue, profiles, bundle, label);
  if (!bundle.is_object()) return out;
  Checker c(label, out);
  BundleIndex index(bundle.as_object());
  check_bundle_structure(c, bundle.as_object(), index, context);
  check_faq(c, bundle, index, context, true);
  check_cpts(c, bundle.as_object(), index, context);
  return out;
}

std::vector<std::string> cpts_bundle_check_ids(const Catalogue& catalogue) {
  // The INT_R01 profiles a CPTS Bundle's Schedules, Practitioners and PractitionerRoles declare.
  static const std::set<std::string, std::less<>> r01_profiles = {
      "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur",
      "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur",
      "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur",
      "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"};
  std::vector<std::string> ids;
  for (const auto& c : catalogue.checks()) {
    const bool r01 = c.flow == "INT_R01" &&
                     (c.group == "BUNDLE" ||
                      (c.group == "FAQ" && c.id != "R01-FAQ-06" && c.id != "R01-FAQ-09" && c.id != "R01-FAQ-11") ||
                      (c.group == "PROFILE" && r01_profiles.contains(c.profile_url)));
    const bool r04 = c.flow == "INT_R04" && (c.group == "CPTS" || c.group == "PROFILE");
    if (r01 || r04) ids.push_back(c.id);
  }
  return ids;
}

std::vector<Finding> check_sos_bundle(const Catalogue& catalogue, const ProfileSet& profiles, const json::value& bundle,
                                      const std::string& label, const SearchContext& context) {
  std::vector<Finding> out = check_profiles(catalogue, profiles, bundle, label);
  if (!bundle.is_object()) return out;
  Checker c(label, out);
  BundleIndex index(bundle.as_object());
  check_sos(c, bundle.as_object(), index, context);
  return out;
}

std::vector<std::string> sos_bundle_check_ids(const Catalogue& catalogue) {
  std::vector<std::string> ids;
  for (const auto& c : catalogue.checks())
    if (c.flow == "SOS" && (c.group == "BUNDLE" || c.group == "PROFILE")) ids.push_back(c.id);
  return ids;
}

std::vector<Finding> check_document(const Catalogue& catalogue, const ProfileSet& profiles, const json::value& document,
                                    const std::string& label) {
  if (is_search_bundle(document)) {
    const auto& o = document.as_object();
    if (declares(o, kR01Bundle)) return check_search_bundle(catalogue, profiles, document, label);
    if (declares(o, kCptsBundle)) return check_cpts_bundle(catalogue, profiles, document, label);
    if (declares(o, kSosBundle)) return check_sos_bundle(catalogue, profiles, document, label);
  }
  return check_profiles(catalogue, profiles, document, label);
}

}  // namespace sas::conformance
