// Checks on emitted resources: the validator's issues numbered by the catalogue, the structure of
// an INT_R01 answer, and the IG FAQ's common errors.
#include <sas/conformance/resource_checks.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <sas/sdk/datetime.hpp>

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
                      std::vector<std::pair<const json::array*, std::string>>& out) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) {
      std::string child_path = path.empty() ? std::string(key) : path + "." + std::string(key);
      if (key == "telecom" && child.is_array()) out.emplace_back(&child.as_array(), child_path);
      collect_telecoms(child, child_path, out);
    }
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

void check_faq(Checker& c, const json::value& bundle_value, const BundleIndex& index, const SearchContext& context) {
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
  collect_telecoms(bundle_value, "", telecoms);
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
            c.fail("R01-FAQ-06", st_path, "CPTS serviceType without a HealthcareService of the Bundle");
          } else {
            const Entry* org = index.resolve(obj(*service->resource, "providedBy"));
            if (!org || org->type != "Organization")
              c.fail("R01-FAQ-06", service->path + ".providedBy", "HealthcareService without its CPTS Organization");
            else if (!services.insert(service->id).second)
              c.fail("R01-FAQ-11", st_path, "two CPTS serviceTypes point to the same HealthcareService/" + service->id);
          }
        }
      }
    }
    if (!mode) c.fail("R01-FAQ-05", s->path, "Slot without a consultation mode (v3-ActCode AMB, HH or VR)");
    if (types.contains("CPTS") && cpts_codings == 0)
      c.fail("R01-FAQ-06", s->path, "CPTS slot without a serviceType 604 linking it to its CPTS");
    if (!types.contains("CPTS") && cpts_codings > 0)
      c.fail("R01-FAQ-11", s->path, "Slot linked to a CPTS but without the CPTS slot type");
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

std::vector<Finding> check_document(const Catalogue& catalogue, const ProfileSet& profiles, const json::value& document,
                                    const std::string& label) {
  if (is_search_bundle(document)) {
    const auto& o = document.as_object();
    const auto* meta = obj(o, "meta");
    const auto* declared = meta ? arr(*meta, "profile") : nullptr;
    bool sas_bundle = false;
    if (declared)
      for (const auto& p : *declared)
        sas_bundle |= p.is_string() && p.as_string() == "http://sas.fr/fhir/StructureDefinition/BundleAgregateur";
    if (sas_bundle) return check_search_bundle(catalogue, profiles, document, label);
  }
  return check_profiles(catalogue, profiles, document, label);
}

}  // namespace sas::conformance
