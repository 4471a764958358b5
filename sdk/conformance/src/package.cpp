// Loading an IG package: StructureDefinition snapshots into element trees, ValueSets expanded from
// the package's own content, datatype structures gathered from the snapshots.
#include "package_data.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sas::conformance {

namespace json = boost::json;
using detail::PackageData;
using detail::ValueSetExpansion;

struct ProfileSet::Data : PackageData {};

std::string ElementDefinition::name() const {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string to_string(const Issue& issue) {
  return "[" + issue.kind + "] " + (issue.path.empty() ? std::string("(root)") : issue.path) + " (" + issue.element_id +
         " @ " + issue.profile_url + "): " + issue.message;
}

namespace detail {

std::string strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return std::string(bar == std::string_view::npos ? canonical : canonical.substr(0, bar));
}

bool is_primitive_type(std::string_view code) {
  if (code.empty()) return false;
  if (code.starts_with("http://hl7.org/fhirpath/System.")) return true;
  return std::islower(static_cast<unsigned char>(code.front())) != 0;
}

const StructureDefinition* PackageData::profile(std::string_view url) const {
  auto it = profiles.find(strip_version(url));
  return it == profiles.end() ? nullptr : &it->second;
}

const ValueSetExpansion* PackageData::value_set(std::string_view url) const {
  auto it = value_sets.find(strip_version(url));
  return it == value_sets.end() || !it->second.resolved ? nullptr : &it->second;
}

std::string PackageData::profile_type(std::string_view url) const {
  std::string u = strip_version(url);
  if (const auto* sd = profile(u)) return sd->type;
  static constexpr std::string_view kCore = "http://hl7.org/fhir/StructureDefinition/";
  if (u.starts_with(kCore)) return u.substr(kCore.size());
  // A profile outside the package: known through a package profile derived from it.
  for (const auto& [_, sd] : profiles)
    if (sd.base_definition == u) return sd.type;
  return {};
}

bool PackageData::derives_from(std::string_view url, std::string_view ancestor) const {
  std::string cur = strip_version(url);
  std::string target = strip_version(ancestor);
  for (int depth = 0; depth < 32; ++depth) {
    if (cur == target) return true;
    const auto* sd = profile(cur);
    if (!sd) return false;
    cur = strip_version(sd->base_definition);
  }
  return false;
}

bool PackageData::is_resource_type(std::string_view code) const {
  return code == "Resource" || code == "DomainResource" || resource_types.contains(code);
}

}  // namespace detail

namespace {

json::value read_json(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(buf.str(), ec);
  if (ec) throw std::runtime_error("invalid JSON in " + file.string() + ": " + ec.message());
  return v;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::size_t> parse_max(const json::value* v) {
  if (!v || !v->is_string()) return std::nullopt;
  std::string_view s = v->get_string();
  if (s == "*") return std::nullopt;
  return static_cast<std::size_t>(std::stoul(std::string(s)));
}

std::size_t parse_min(const json::value* v) {
  if (!v) return 0;
  if (v->is_int64()) return static_cast<std::size_t>(v->get_int64());
  if (v->is_uint64()) return static_cast<std::size_t>(v->get_uint64());
  return 0;
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = o.if_contains(key); a && a->is_array())
    for (const auto& s : a->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

TypeRef parse_type(const json::object& t) {
  TypeRef ref;
  ref.code = str(t, "code");
  // FHIRPath system types carry the FHIR type they stand for in an extension (Resource.id: "id").
  if (const auto* ext = t.if_contains("extension"); ext && ext->is_array()) {
    for (const auto& e : ext->get_array()) {
      if (!e.is_object()) continue;
      const auto& eo = e.get_object();
      if (str(eo, "url") != "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type") continue;
      std::string fhir_type = str(eo, "valueUrl");
      if (fhir_type.empty()) fhir_type = str(eo, "valueUri");
      if (!fhir_type.empty()) ref.code = fhir_type;
    }
  }
  ref.profiles = strings(t, "profile");
  ref.target_profiles = strings(t, "targetProfile");
  return ref;
}

ElementDefinition parse_element(const json::object& e) {
  ElementDefinition el;
  el.id = str(e, "id");
  el.path = str(e, "path");
  if (el.id.empty()) el.id = el.path;
  el.slice_name = str(e, "sliceName");
  el.min = parse_min(e.if_contains("min"));
  el.max = parse_max(e.if_contains("max"));
  if (const auto* base = e.if_contains("base"); base && base->is_object()) {
    el.base_min = parse_min(base->get_object().if_contains("min"));
    el.base_max = parse_max(base->get_object().if_contains("max"));
  } else {
    el.base_min = el.min;
    el.base_max = el.max;
  }
  if (const auto* types = e.if_contains("type"); types && types->is_array())
    for (const auto& t : types->get_array())
      if (t.is_object()) el.types.push_back(parse_type(t.get_object()));
  for (const auto& kv : e) {
    std::string_view key = kv.key();
    if (key.starts_with("fixed")) {
      el.fixed = kv.value();
      el.fixed_key = std::string(key);
    } else if (key.starts_with("pattern")) {
      el.pattern = kv.value();
      el.pattern_key = std::string(key);
    }
  }
  if (const auto* b = e.if_contains("binding"); b && b->is_object()) {
    Binding binding;
    binding.strength = str(b->get_object(), "strength");
    binding.value_set = detail::strip_version(str(b->get_object(), "valueSet"));
    el.binding = binding;
  }
  if (const auto* s = e.if_contains("slicing"); s && s->is_object()) {
    const auto& so = s->get_object();
    Slicing slicing;
    slicing.rules = str(so, "rules");
    if (const auto* ord = so.if_contains("ordered"); ord && ord->is_bool()) slicing.ordered = ord->get_bool();
    if (const auto* ds = so.if_contains("discriminator"); ds && ds->is_array())
      for (const auto& d : ds->get_array())
        if (d.is_object()) slicing.discriminators.push_back({str(d.get_object(), "type"), str(d.get_object(), "path")});
    el.slicing = slicing;
  }
  std::string content_ref = str(e, "contentReference");
  if (auto hash = content_ref.find('#'); hash != std::string::npos) el.content_reference = content_ref.substr(hash + 1);
  return el;
}

// Links each element to its parent (non-slice child) or to the element it slices, from the ids:
// "A.b:s" slices "A.b", "A.b:s/t" reslices "A.b:s", "A.b:s.c" is a child of "A.b:s".
void build_tree(StructureDefinition& sd) {
  std::map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < sd.elements.size(); ++i) by_id.emplace(sd.elements[i].id, i);
  for (std::size_t i = 1; i < sd.elements.size(); ++i) {
    const std::string& id = sd.elements[i].id;
    auto dot = id.rfind('.');
    std::string last = dot == std::string::npos ? id : id.substr(dot + 1);
    auto slash = last.rfind('/');
    auto colon = last.find(':');
    if (slash != std::string::npos || colon != std::string::npos) {
      std::string base =
          id.substr(0, id.size() - last.size()) + last.substr(0, slash != std::string::npos ? slash : colon);
      if (auto it = by_id.find(base); it != by_id.end()) sd.elements[it->second].slices.push_back(i);
      continue;
    }
    if (dot == std::string::npos) continue;
    if (auto it = by_id.find(id.substr(0, dot)); it != by_id.end()) sd.elements[it->second].children.push_back(i);
  }
}

StructureDefinition parse_structure_definition(const json::object& o) {
  StructureDefinition sd;
  sd.url = str(o, "url");
  sd.name = str(o, "name");
  sd.type = str(o, "type");
  sd.kind = str(o, "kind");
  sd.base_definition = detail::strip_version(str(o, "baseDefinition"));
  const auto* snapshot = o.if_contains("snapshot");
  if (!snapshot || !snapshot->is_object())
    throw std::runtime_error("StructureDefinition " + sd.url + " has no snapshot");
  const auto* elements = snapshot->get_object().if_contains("element");
  if (!elements || !elements->is_array() || elements->get_array().empty())
    throw std::runtime_error("StructureDefinition " + sd.url + " has an empty snapshot");
  for (const auto& e : elements->get_array())
    if (e.is_object()) sd.elements.push_back(parse_element(e.get_object()));
  build_tree(sd);
  return sd;
}

bool is_harvestable(std::string_view code) {
  return !code.empty() && !detail::is_primitive_type(code) && code != "BackboneElement" && code != "Element" &&
         code != "Extension" && code != "Resource";
}

ElementDefinition synthetic(const std::string& type, const std::string& name, std::size_t min,
                            std::optional<std::size_t> max, std::vector<TypeRef> types) {
  ElementDefinition el;
  el.id = el.path = type + "." + name;
  el.min = el.base_min = min;
  el.max = el.base_max = max;
  el.types = std::move(types);
  return el;
}

// Datatype structure from every expanded datatype element of every snapshot; cardinalities come
// from ElementDefinition.base, i.e. the core datatype definition, not the profile's restriction.
void harvest_datatypes(PackageData& pkg) {
  for (const auto& [_, sd] : pkg.profiles) {
    for (const auto& el : sd.elements) {
      if (el.types.size() != 1 || el.children.empty() || !el.content_reference.empty()) continue;
      const std::string& code = el.types[0].code;
      if (!is_harvestable(code) || pkg.resource_types.contains(code)) continue;
      auto& dt = pkg.datatypes[code];
      if (dt.elements.empty()) {
        dt.url = "datatype:" + code;
        dt.name = dt.type = code;
        dt.kind = "complex-type";
        ElementDefinition root;
        root.id = root.path = code;
        dt.elements.push_back(root);
      }
      for (std::size_t ci : el.children) {
        const auto& child = sd.elements[ci];
        std::string name = child.name();
        bool known = std::any_of(dt.elements[0].children.begin(), dt.elements[0].children.end(),
                                 [&](std::size_t k) { return dt.elements[k].name() == name; });
        if (known) continue;
        std::vector<TypeRef> types;
        for (const auto& t : child.types) types.push_back(TypeRef{t.code, {}, {}});
        dt.elements.push_back(synthetic(code, name, child.base_min, child.base_max, std::move(types)));
        dt.elements[0].children.push_back(dt.elements.size() - 1);
      }
    }
  }
  // Extension content depends on each extension's definition: without one, any single value[x].
  StructureDefinition ext;
  ext.url = "datatype:Extension";
  ext.name = ext.type = "Extension";
  ext.kind = "complex-type";
  ElementDefinition root;
  root.id = root.path = "Extension";
  ext.elements.push_back(root);
  ext.elements.push_back(synthetic("Extension", "id", 0, 1, {TypeRef{"string", {}, {}}}));
  ext.elements.push_back(synthetic("Extension", "extension", 0, std::nullopt, {TypeRef{"Extension", {}, {}}}));
  ext.elements.push_back(synthetic("Extension", "url", 1, 1, {TypeRef{"uri", {}, {}}}));
  ext.elements.push_back(synthetic("Extension", "value[x]", 0, 1, {}));
  ext.elements[0].children = {1, 2, 3, 4};
  pkg.datatypes["Extension"] = std::move(ext);
}

void flatten_concepts(const json::value& concepts, const std::string& system,
                      std::set<std::pair<std::string, std::string>>& out) {
  if (!concepts.is_array()) return;
  for (const auto& c : concepts.get_array()) {
    if (!c.is_object()) continue;
    std::string code = str(c.get_object(), "code");
    if (!code.empty()) out.emplace(system, code);
    if (const auto* nested = c.get_object().if_contains("concept")) flatten_concepts(*nested, system, out);
  }
}

void flatten_contains(const json::value& contains, std::set<std::pair<std::string, std::string>>& out) {
  if (!contains.is_array()) return;
  for (const auto& c : contains.get_array()) {
    if (!c.is_object()) continue;
    std::string code = str(c.get_object(), "code");
    if (!code.empty()) out.emplace(str(c.get_object(), "system"), code);
    if (const auto* nested = c.get_object().if_contains("contains")) flatten_contains(*nested, out);
  }
}

struct RawTerminology {
  std::map<std::string, json::object> value_sets;
  std::map<std::string, json::object> code_systems;
};

ValueSetExpansion expand(const RawTerminology& raw, const std::string& url, std::set<std::string>& visiting);

// One compose.include / compose.exclude entry; false with a reason when the package cannot say.
bool expand_include(const RawTerminology& raw, const json::object& inc,
                    std::set<std::pair<std::string, std::string>>& out, std::string& reason,
                    std::set<std::string>& visiting) {
  if (inc.contains("filter")) {
    reason = "include with a filter";
    return false;
  }
  std::string system = str(inc, "system");
  std::set<std::pair<std::string, std::string>> codes;
  if (const auto* concepts = inc.if_contains("concept")) {
    flatten_concepts(*concepts, system, codes);
  } else if (!system.empty()) {
    auto cs = raw.code_systems.find(detail::strip_version(system));
    if (cs == raw.code_systems.end()) {
      reason = "code system " + system + " not in the package";
      return false;
    }
    std::string content = str(cs->second, "content");
    if (content != "complete") {
      reason = "code system " + system + " content is " + content;
      return false;
    }
    if (const auto* all = cs->second.if_contains("concept")) flatten_concepts(*all, system, codes);
  }
  for (const auto& imported : strings(inc, "valueSet")) {
    ValueSetExpansion sub = expand(raw, detail::strip_version(imported), visiting);
    if (!sub.resolved) {
      reason = sub.reason;
      return false;
    }
    if (system.empty() && !inc.contains("concept")) {
      codes.insert(sub.codes.begin(), sub.codes.end());
    } else {  // system and valueSet together: the intersection
      std::set<std::pair<std::string, std::string>> both;
      for (const auto& c : codes)
        if (sub.codes.contains(c)) both.insert(c);
      codes = std::move(both);
    }
  }
  out.insert(codes.begin(), codes.end());
  return true;
}

ValueSetExpansion expand(const RawTerminology& raw, const std::string& url, std::set<std::string>& visiting) {
  ValueSetExpansion result;
  auto it = raw.value_sets.find(url);
  if (it == raw.value_sets.end()) {
    result.reason = "value set " + url + " not in the package";
    return result;
  }
  if (!visiting.insert(url).second) {
    result.reason = "value set " + url + " includes itself";
    return result;
  }
  const json::object& vs = it->second;
  if (const auto* exp = vs.if_contains("expansion"); exp && exp->is_object()) {
    if (const auto* contains = exp->get_object().if_contains("contains")) {
      flatten_contains(*contains, result.codes);
      result.resolved = true;
      visiting.erase(url);
      return result;
    }
  }
  const auto* compose = vs.if_contains("compose");
  if (!compose || !compose->is_object()) {
    result.reason = "value set " + url + " has neither expansion nor compose";
    visiting.erase(url);
    return result;
  }
  result.resolved = true;
  if (const auto* inc = compose->get_object().if_contains("include"); inc && inc->is_array())
    for (const auto& i : inc->get_array())
      if (i.is_object() && !expand_include(raw, i.get_object(), result.codes, result.reason, visiting))
        result.resolved = false;
  if (const auto* exc = compose->get_object().if_contains("exclude"); exc && exc->is_array()) {
    for (const auto& e : exc->get_array()) {
      std::set<std::pair<std::string, std::string>> removed;
      if (e.is_object() && !expand_include(raw, e.get_object(), removed, result.reason, visiting))
        result.resolved = false;
      for (const auto& r : removed) result.codes.erase(r);
    }
  }
  if (!result.resolved) result.codes.clear();
  visiting.erase(url);
  return result;
}

bool has_prefix_file(const std::filesystem::path& p, std::string_view prefix) {
  std::string name = p.filename().string();
  return name.starts_with(prefix) && p.extension() == ".json";
}

}  // namespace

ProfileSet ProfileSet::load(const std::filesystem::path& ig_dir) {
  if (!std::filesystem::is_directory(ig_dir)) throw std::runtime_error("not a directory: " + ig_dir.string());
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(ig_dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // deterministic order whatever the file system does

  auto data = std::make_shared<Data>();
  RawTerminology raw;
  for (const auto& file : files) {
    bool sd = has_prefix_file(file, "StructureDefinition-");
    bool vs = has_prefix_file(file, "ValueSet-");
    bool cs = has_prefix_file(file, "CodeSystem-");
    if (!sd && !vs && !cs) continue;
    json::value v = read_json(file);
    if (!v.is_object()) throw std::runtime_error("not a JSON object: " + file.string());
    const auto& o = v.get_object();
    std::string url = detail::strip_version(str(o, "url"));
    if (url.empty()) throw std::runtime_error("no url in " + file.string());
    if (sd) {
      StructureDefinition def = parse_structure_definition(o);
      if (def.kind == "resource") data->resource_types.insert(def.type);
      data->profiles.emplace(url, std::move(def));
    } else if (vs) {
      raw.value_sets.emplace(url, o);
    } else {
      raw.code_systems.emplace(url, o);
    }
  }
  if (data->profiles.empty()) throw std::runtime_error("no StructureDefinition in " + ig_dir.string());

  for (const auto& [url, _] : raw.value_sets) {
    std::set<std::string> visiting;
    data->value_sets.emplace(url, expand(raw, url, visiting));
  }
  harvest_datatypes(*data);

  for (const auto& [url, sd] : data->profiles) {
    for (const auto& el : sd.elements) {
      if (!el.binding || el.binding->strength != "required" || data->value_set(el.binding->value_set)) continue;
      auto known = data->value_sets.find(el.binding->value_set);
      std::string reason = known != data->value_sets.end() ? known->second.reason : "value set not in the package";
      data->skipped.push_back({url, el.id, el.binding->value_set, reason});
    }
  }
  ProfileSet set;
  set.data_ = std::move(data);
  return set;
}

const StructureDefinition* ProfileSet::find(std::string_view profile_url) const { return data_->profile(profile_url); }

std::vector<std::string> ProfileSet::profile_urls() const {
  std::vector<std::string> urls;
  for (const auto& [url, _] : data_->profiles) urls.push_back(url);
  return urls;
}

std::optional<bool> ProfileSet::value_set_contains(std::string_view value_set_url, std::string_view system,
                                                   std::string_view code) const {
  const auto* vs = data_->value_set(value_set_url);
  if (!vs) return std::nullopt;
  return vs->codes.contains({std::string(system), std::string(code)});
}

std::vector<Issue> ProfileSet::validate(const json::value& resource, std::string_view profile_url) const {
  const auto* sd = data_->profile(profile_url);
  if (!sd) return {Issue{std::string(profile_url), "", "", "profile", "profile not in the package"}};
  return detail::validate_resource(*data_, resource, *sd, "");
}

std::vector<Issue> ProfileSet::validate_bundle(const json::value& bundle) const {
  return detail::validate_bundle(*data_, bundle);
}

std::vector<Issue> ProfileSet::validate_declared(const json::value& resource) const {
  return detail::validate_declared(*data_, resource);
}

const std::vector<SkippedBinding>& ProfileSet::skipped_bindings() const { return data_->skipped; }

namespace {

std::string cardinality_text(std::size_t min, const std::optional<std::size_t>& max) {
  return std::to_string(min) + ".." + (max ? std::to_string(*max) : std::string("*"));
}

}  // namespace

std::vector<Constraint> ProfileSet::constraints(std::string_view profile_url) const {
  const auto* sd = data_->profile(profile_url);
  if (!sd) return {};
  std::vector<Constraint> out;
  const std::string& root = sd->elements[0].id;
  // Profile-level rules: also where an issue lands whose element has no constraint of its own (a
  // core FHIR cardinality, an element of an extension definition, ...).
  out.push_back({sd->url, root, "type", "resourceType is " + sd->type + "; JSON kinds and lexical forms", true});
  out.push_back({sd->url, root, "empty", "no empty string, object, array or null anywhere", true});
  out.push_back({sd->url, root, "unknown-element", "only elements the profile or the datatype defines", true});
  out.push_back({sd->url, root, "cardinality", "core FHIR cardinalities and JSON arrays", true});
  out.push_back({sd->url, root, "fixed", "fixed values of the definitions used", true});
  out.push_back({sd->url, root, "pattern", "pattern values of the definitions used", true});
  out.push_back({sd->url, root, "binding", "required bindings to value sets of the package", true});
  out.push_back({sd->url, root, "slicing", "closed slicings", true});
  out.push_back({sd->url, root, "reference", "references resolve to allowed targets", true});
  out.push_back({sd->url, root, "contained", "contained resources have an id, are referenced and conform", true});
  for (std::size_t i = 1; i < sd->elements.size(); ++i) {
    const auto& el = sd->elements[i];
    bool narrowed = el.max && (!el.base_max || *el.max < *el.base_max);
    if (el.min > 0 || narrowed) out.push_back({sd->url, el.id, "cardinality", cardinality_text(el.min, el.max), true});
    if (el.fixed) out.push_back({sd->url, el.id, "fixed", json::serialize(*el.fixed), true});
    if (el.pattern) out.push_back({sd->url, el.id, "pattern", json::serialize(*el.pattern), true});
    if (el.binding && el.binding->strength == "required")
      out.push_back(
          {sd->url, el.id, "binding", el.binding->value_set, data_->value_set(el.binding->value_set) != nullptr});
    if (el.slicing && el.slicing->rules == "closed") out.push_back({sd->url, el.id, "slicing", "closed", true});
    std::string targets;
    for (const auto& t : el.types)
      for (const auto& tp : t.target_profiles)
        if (data_->profile(tp)) targets += (targets.empty() ? "" : " ") + detail::strip_version(tp);
    if (!targets.empty()) out.push_back({sd->url, el.id, "reference", targets, true});
  }
  return out;
}

}  // namespace sas::conformance
