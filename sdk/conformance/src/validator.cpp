// Validation of FHIR JSON instances against the element trees of package_data.hpp.
#include "package_data.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace sas::conformance::detail {
namespace {

namespace json = boost::json;

struct NodeRef {
  const StructureDefinition* sd = nullptr;
  std::size_t idx = 0;
  const ElementDefinition& el() const { return sd->elements[idx]; }
};

// Resources of the Bundle being validated, for resolving references.
struct BundleIndex {
  std::map<std::string, const json::object*, std::less<>> by_full_url;
  std::map<std::string, const json::object*, std::less<>> by_type_id;  // "Slot/123"
};

// Profiles a resource must conform to because a Bundle slice or a reference's targetProfile says so.
using RequiredProfiles = std::map<const json::object*, std::set<std::string>>;

struct ContainedItem {
  const json::value* resource;  // an object
  std::string path;
};

struct Ctx {
  Ctx(const PackageData& p, const StructureDefinition& sd, std::vector<Issue>& o) : pkg(p), profile(sd), out(o) {}
  const PackageData& pkg;
  const StructureDefinition& profile;
  std::vector<Issue>& out;
  const json::object* container = nullptr;  // where "#id" references resolve
  const BundleIndex* bundle = nullptr;
  RequiredProfiles* required = nullptr;         // profiles other resources must conform to
  std::set<std::string>* local_refs = nullptr;  // "#id" seen, for dom-3
  std::vector<ContainedItem> contained;
};

struct Item {
  const json::value* value;
  std::string path;
  std::string type;  // the FHIR type of this value ("" when unknown)
};

void report(Ctx& ctx, const std::string& eid, const std::string& path, const char* kind, std::string message) {
  ctx.out.push_back(Issue{ctx.profile.url, eid, path, kind, std::move(message)});
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string indexed(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string cardinality_text(const ElementDefinition& el) {
  return std::to_string(el.min) + ".." + (el.max ? std::to_string(*el.max) : std::string("*"));
}

std::string short_json(const json::value& v) {
  std::string s = json::serialize(v);
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

const json::object* as_object(const json::value* v) { return v && v->is_object() ? &v->get_object() : nullptr; }

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// "No empty element": "", whitespace-only strings, {}, [] and null (outside primitive-extension
// arrays) are all reported. Returns true when v was empty.
bool report_if_empty(Ctx& ctx, const json::value& v, const std::string& eid, const std::string& path, bool null_ok) {
  if (v.is_null() && !null_ok) {
    report(ctx, eid, path, "empty", "null value");
    return true;
  }
  if (v.is_string() && blank(v.get_string())) {
    report(ctx, eid, path, "empty", "empty string");
    return true;
  }
  if (v.is_object() && v.get_object().empty()) {
    report(ctx, eid, path, "empty", "empty object");
    return true;
  }
  if (v.is_array() && v.get_array().empty()) {
    report(ctx, eid, path, "empty", "empty array");
    return true;
  }
  return false;
}

// Empty checks only, for content whose structure is not known.
void walk_generic(Ctx& ctx, const json::value& v, const std::string& eid, const std::string& path,
                  bool null_ok = false) {
  if (report_if_empty(ctx, v, eid, path, null_ok)) return;
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      bool ext = kv.key().starts_with("_");
      walk_generic(ctx, kv.value(), eid + "." + std::string(kv.key()), join(path, kv.key()), ext);
    }
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) walk_generic(ctx, a[i], eid, indexed(path, i), null_ok);
  }
}

// --- Values ---------------------------------------------------------------------------------------------

bool numbers_equal(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) return a.to_number<double>() == b.to_number<double>();
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const json::value& s = a.is_int64() ? a : b;  // mixed signed/unsigned
  const json::value& u = a.is_int64() ? b : a;
  return s.get_int64() >= 0 && static_cast<std::uint64_t>(s.get_int64()) == u.get_uint64();
}

bool values_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.is_object() && b.is_object()) {
    const auto& ao = a.get_object();
    const auto& bo = b.get_object();
    if (ao.size() != bo.size()) return false;
    for (const auto& kv : ao) {
      const auto* other = bo.if_contains(kv.key());
      if (!other || !values_equal(kv.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array() && b.is_array()) {
    const auto& aa = a.get_array();
    const auto& ba = b.get_array();
    if (aa.size() != ba.size()) return false;
    for (std::size_t i = 0; i < aa.size(); ++i)
      if (!values_equal(aa[i], ba[i])) return false;
    return true;
  }
  return a == b;
}

// FHIR pattern[x]: the instance has at least the pattern's content; each pattern array item is
// matched by some instance array item.
bool matches_pattern(const json::value& instance, const json::value& pattern) {
  if (pattern.is_object()) {
    if (!instance.is_object()) return false;
    for (const auto& kv : pattern.get_object()) {
      const auto* v = instance.get_object().if_contains(kv.key());
      if (!v || !matches_pattern(*v, kv.value())) return false;
    }
    return true;
  }
  if (pattern.is_array()) {
    if (!instance.is_array()) return false;
    for (const auto& p : pattern.get_array()) {
      const auto& items = instance.get_array();
      if (std::none_of(items.begin(), items.end(), [&](const json::value& i) { return matches_pattern(i, p); }))
        return false;
    }
    return true;
  }
  return values_equal(instance, pattern);
}

bool in_value_set(const json::value& v, std::string_view type, const ValueSetExpansion& vs) {
  if (v.is_string()) {  // code, uri, string: the code alone
    std::string_view code = v.get_string();
    return std::any_of(vs.codes.begin(), vs.codes.end(), [&](const auto& c) { return c.second == code; });
  }
  if (!v.is_object()) return false;
  const auto& o = v.get_object();
  if (type == "CodeableConcept") {
    const auto* codings = o.if_contains("coding");
    if (!codings || !codings->is_array()) return false;
    for (const auto& c : codings->get_array())
      if (in_value_set(c, "Coding", vs)) return true;
    return false;
  }
  std::string code = string_at(o, "code");
  return !code.empty() && vs.codes.contains({string_at(o, "system"), code});
}

std::string codes_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return short_json(v);
}

// The core spec's lexical forms. Only short formats go through std::regex (libstdc++'s matcher
// recurses per character); uri and code are checked by hand.
const std::regex* format_regex(std::string_view type) {
  static const std::regex kDate(
      "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?");
  static const std::regex kDateTime(
      "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
      "(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?");
  static const std::regex kInstant(
      "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
      "T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))");
  static const std::regex kTime("([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?");
  static const std::regex kId("[A-Za-z0-9\\-\\.]{1,64}");
  static const std::regex kOid("urn:oid:[0-2](\\.(0|[1-9][0-9]*))+");
  static const std::regex kUuid("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  if (type == "date") return &kDate;
  if (type == "dateTime") return &kDateTime;
  if (type == "instant") return &kInstant;
  if (type == "time") return &kTime;
  if (type == "id") return &kId;
  if (type == "oid") return &kOid;
  if (type == "uuid") return &kUuid;
  return nullptr;
}

bool valid_lexical(std::string_view type, const std::string& s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (type == "uri" || type == "url" || type == "canonical") return std::none_of(s.begin(), s.end(), space);
  if (type == "code") {  // [^\s]+( [^\s]+)*
    if (s.empty() || space(s.front()) || space(s.back())) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (space(s[i]) && (s[i] != ' ' || space(s[i + 1]))) return false;
    return true;
  }
  const std::regex* re = format_regex(type);
  if (!re) return true;
  return s.size() <= 64 && std::regex_match(s, *re);
}

// JSON representation and lexical form of FHIR primitives (the core spec's regexes). Returns false
// when the JSON kind itself is wrong (no further check of that value makes sense).
bool check_primitive(Ctx& ctx, const json::value& v, std::string_view type, const std::string& eid,
                     const std::string& path) {
  if (type == "boolean") {
    if (v.is_bool()) return true;
    report(ctx, eid, path, "type", "expected a JSON boolean");
    return false;
  }
  if (type == "integer" || type == "unsignedInt" || type == "positiveInt") {
    if (!v.is_int64() && !v.is_uint64()) {
      report(ctx, eid, path, "type", "expected a JSON integer (" + std::string(type) + ")");
      return false;
    }
    bool negative = v.is_int64() && v.get_int64() < 0;
    bool zero = v.is_int64() ? v.get_int64() == 0 : v.get_uint64() == 0;
    if ((type == "unsignedInt" && negative) || (type == "positiveInt" && (negative || zero)))
      report(ctx, eid, path, "type", "value out of range for " + std::string(type));
    return true;
  }
  if (type == "decimal") {
    if (v.is_number()) return true;
    report(ctx, eid, path, "type", "expected a JSON number");
    return false;
  }
  if (!v.is_string()) {
    report(ctx, eid, path, "type", "expected a JSON string (" + std::string(type) + ")");
    return false;
  }
  std::string s(v.get_string());
  if (!valid_lexical(type, s)) report(ctx, eid, path, "type", "'" + s + "' is not a valid " + std::string(type));
  return true;
}

std::string choice_type_name(std::string_view suffix) {
  static const std::set<std::string, std::less<>> kPrimitives = {
      "Base64Binary", "Boolean", "Canonical",   "Code",   "Date", "DateTime",    "Decimal", "Id",  "Instant", "Integer",
      "Markdown",     "Oid",     "PositiveInt", "String", "Time", "UnsignedInt", "Uri",     "Url", "Uuid"};
  std::string s(suffix);
  if (kPrimitives.contains(s)) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// --- Structure ----------------------------------------------------------------------------------------

std::string element_eid(const Ctx& ctx, NodeRef n, const std::string& parent_eid) {
  if (n.sd == &ctx.profile) return n.el().id;
  if (!n.el().slice_name.empty()) return parent_eid + ":" + n.el().slice_name;
  return parent_eid + "." + n.el().name();
}

std::string first_type(const ElementDefinition& el) { return el.types.empty() ? std::string() : el.types[0].code; }

// contentReference elements ("Bundle.entry.link") take the type of the element they point at.
std::string effective_type(NodeRef n) {
  const auto& el = n.el();
  if (!el.types.empty() || el.content_reference.empty()) return first_type(el);
  for (const auto& e : n.sd->elements)
    if (e.id == el.content_reference) return first_type(e);
  return {};
}

// The element whose children describe a value of node n with FHIR type `type`.
std::optional<NodeRef> children_container(const Ctx& ctx, NodeRef n, std::string_view type) {
  const auto& el = n.el();
  if (!el.content_reference.empty()) {
    for (std::size_t i = 0; i < n.sd->elements.size(); ++i)
      if (n.sd->elements[i].id == el.content_reference) return NodeRef{n.sd, i};
    return std::nullopt;
  }
  if (!el.children.empty()) return n;
  for (const auto& t : el.types) {
    if (t.code != type) continue;
    for (const auto& p : t.profiles)
      if (const auto* sd = ctx.pkg.profile(p); sd && sd->kind != "resource") return NodeRef{sd, 0};
  }
  if (auto it = ctx.pkg.datatypes.find(type); it != ctx.pkg.datatypes.end()) return NodeRef{&it->second, 0};
  return std::nullopt;
}

std::optional<NodeRef> find_child(NodeRef parent, std::string_view name) {
  for (std::size_t c : parent.el().children)
    if (parent.sd->elements[c].name() == name) return NodeRef{parent.sd, c};
  return std::nullopt;
}

std::optional<NodeRef> descend(const Ctx& ctx, NodeRef from, const std::vector<std::string>& segments) {
  NodeRef cur = from;
  for (const auto& seg : segments) {
    auto container = children_container(ctx, cur, effective_type(cur));
    if (!container) return std::nullopt;
    auto child = find_child(*container, seg);
    if (!child) return std::nullopt;
    cur = *child;
  }
  return cur;
}

std::vector<const json::value*> collect(const json::value& from, const std::vector<std::string>& segments) {
  std::vector<const json::value*> cur{&from};
  for (const auto& seg : segments) {
    std::vector<const json::value*> next;
    for (const auto* v : cur) {
      const auto* o = as_object(v);
      const auto* child = o ? o->if_contains(seg) : nullptr;
      if (!child) continue;
      if (child->is_array()) {
        for (const auto& i : child->get_array()) next.push_back(&i);
      } else {
        next.push_back(child);
      }
    }
    cur = std::move(next);
  }
  return cur;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (path == "$this") return out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::vector<std::string> declared_profiles(const json::object& resource) {
  std::vector<std::string> out;
  const auto* meta = as_object(resource.if_contains("meta"));
  const auto* profiles = meta ? meta->if_contains("profile") : nullptr;
  if (profiles && profiles->is_array())
    for (const auto& p : profiles->get_array())
      if (p.is_string()) out.push_back(strip_version(p.get_string()));
  return out;
}

bool declares_profile(const PackageData& pkg, const json::object& resource, std::string_view profile) {
  auto declared = declared_profiles(resource);
  return std::any_of(declared.begin(), declared.end(), [&](const auto& d) { return pkg.derives_from(d, profile); });
}

// --- Slicing --------------------------------------------------------------------------------------------

bool value_matches(const ElementDefinition& def, const json::value& v) {
  if (def.fixed) return values_equal(v, *def.fixed);
  if (def.pattern) return matches_pattern(v, *def.pattern);
  return false;
}

// Fixed / pattern values below a slice, for $this discriminators on slices that carry none themselves.
void constrained_descendants(NodeRef n, std::vector<std::string> rel,
                             std::vector<std::pair<std::vector<std::string>, NodeRef>>& out) {
  for (std::size_t c : n.el().children) {
    NodeRef child{n.sd, c};
    auto sub = rel;
    sub.push_back(child.el().name());
    if (child.el().fixed || child.el().pattern) out.emplace_back(sub, child);
    constrained_descendants(child, sub, out);
  }
}

std::vector<Issue> validate_impl(const PackageData& pkg, const json::value& resource,
                                 const StructureDefinition& profile, const std::string& base_path,
                                 const json::object* container, const BundleIndex* bundle, RequiredProfiles* required,
                                 std::set<std::string>* local_refs);

bool match_value_discriminator(const Ctx& ctx, const Item& item, NodeRef slice, const Discriminator& d) {
  auto segments = split_path(d.path);
  std::vector<const json::value*> values = collect(*item.value, segments);
  auto def = descend(ctx, slice, segments);
  const ElementDefinition* el = def ? &def->el() : nullptr;
  if (el && (el->fixed || el->pattern))
    return std::any_of(values.begin(), values.end(), [&](const json::value* v) { return value_matches(*el, *v); });
  // Extension slices that are not expanded are identified by their profile url.
  if (segments == std::vector<std::string>{"url"}) {
    for (const auto& t : slice.el().types)
      if (t.code == "Extension" && !t.profiles.empty())
        return std::any_of(values.begin(), values.end(), [&](const json::value* v) {
          return v->is_string() && strip_version(v->get_string()) == strip_version(t.profiles[0]);
        });
  }
  const ElementDefinition& target = el ? *el : slice.el();
  if ((el || segments.empty()) && target.binding && target.binding->strength == "required") {
    if (const auto* vs = ctx.pkg.value_set(target.binding->value_set)) {
      std::string type = first_type(target);
      return std::any_of(values.begin(), values.end(),
                         [&](const json::value* v) { return in_value_set(*v, type, *vs); });
    }
  }
  if (!segments.empty()) return false;
  // $this without a value of its own: the slice is what its descendants fix.
  std::vector<std::pair<std::vector<std::string>, NodeRef>> constrained;
  constrained_descendants(slice, {}, constrained);
  if (constrained.empty()) return false;
  for (const auto& [rel, node] : constrained) {
    auto found = collect(*item.value, rel);
    const auto& nel = node.el();
    if (std::none_of(found.begin(), found.end(), [&](const json::value* v) { return value_matches(nel, *v); }))
      return false;
  }
  return true;
}

bool match_discriminator(const Ctx& ctx, const Item& item, NodeRef slice, const Discriminator& d) {
  if (d.type == "value" || d.type == "pattern") return match_value_discriminator(ctx, item, slice, d);
  auto segments = split_path(d.path);
  auto values = collect(*item.value, segments);
  auto def = segments.empty() ? std::optional<NodeRef>(slice) : descend(ctx, slice, segments);
  if (d.type == "exists") {
    if (!def) return false;
    if (def->el().min > 0) return !values.empty();
    if (def->el().max && *def->el().max == 0) return values.empty();
    return true;
  }
  if (!def || def->el().types.empty()) return false;
  const TypeRef& expected = def->el().types[0];
  if (d.type == "type") {
    if (segments.empty() && !item.type.empty()) return item.type == expected.code;
    if (values.empty()) return false;
    const auto* o = as_object(values[0]);
    return o && string_at(*o, "resourceType") == expected.code;
  }
  if (d.type == "profile") {
    if (values.empty()) return false;
    const auto* o = as_object(values[0]);
    if (!o || string_at(*o, "resourceType") != expected.code) return false;
    if (expected.profiles.empty()) return true;
    for (const auto& p : expected.profiles) {
      if (declares_profile(ctx.pkg, *o, p)) return true;
      // A resource that declares no package profile is in the slice when it conforms to it.
      auto declared = declared_profiles(*o);
      bool any_known = std::any_of(declared.begin(), declared.end(), [&](const auto& x) { return ctx.pkg.profile(x); });
      const auto* sd = ctx.pkg.profile(p);
      if (!any_known && sd && validate_impl(ctx.pkg, *values[0], *sd, "", o, nullptr, nullptr, nullptr).empty())
        return true;
    }
    return false;
  }
  return false;
}

bool matches_slice(const Ctx& ctx, const Item& item, const Slicing& slicing, NodeRef slice) {
  if (slicing.discriminators.empty()) return false;
  return std::all_of(slicing.discriminators.begin(), slicing.discriminators.end(),
                     [&](const Discriminator& d) { return match_discriminator(ctx, item, slice, d); });
}

// --- The walk -------------------------------------------------------------------------------------------

void validate_object(Ctx& ctx, const json::object& obj, std::optional<NodeRef> container, const std::string& eid,
                     const std::string& path, bool resource_root);

void check_value_constraints(Ctx& ctx, const json::value& v, const ElementDefinition& el, std::string_view type,
                             const std::string& eid, const std::string& path) {
  if (el.fixed && !values_equal(v, *el.fixed))
    report(ctx, eid, path, "fixed",
           "expected " + short_json(*el.fixed) + " (" + el.fixed_key + "), found " + short_json(v));
  if (el.pattern && !matches_pattern(v, *el.pattern))
    report(ctx, eid, path, "pattern",
           "expected at least " + short_json(*el.pattern) + " (" + el.pattern_key + "), found " + short_json(v));
  if (el.binding && el.binding->strength == "required") {
    if (const auto* vs = ctx.pkg.value_set(el.binding->value_set); vs && !in_value_set(v, type, *vs))
      report(ctx, eid, path, "binding", codes_of(v) + " is not in the required value set " + el.binding->value_set);
  }
}

std::vector<std::string> target_types(const PackageData& pkg, const std::vector<std::string>& targets,
                                      bool& all_known) {
  std::vector<std::string> types;
  all_known = true;
  for (const auto& t : targets) {
    std::string type = pkg.profile_type(t);
    if (type.empty()) {
      all_known = false;
    } else if (type != "Resource") {
      types.push_back(type);
    } else {
      all_known = false;  // Reference(Resource): anything goes
    }
  }
  return types;
}

void check_target(Ctx& ctx, const json::object& target, const std::vector<std::string>& targets, const std::string& eid,
                  const std::string& path, const std::string& ref) {
  if (targets.empty()) return;
  std::string type = string_at(target, "resourceType");
  bool all_known = false;
  auto types = target_types(ctx.pkg, targets, all_known);
  if (all_known && std::find(types.begin(), types.end(), type) == types.end()) {
    report(ctx, eid, path, "reference", ref + " points at a " + type + ", not an allowed target type");
    return;
  }
  // The target must conform to the target profile of its type; unless it declares it (or a profile
  // derived from it), it is validated against it. With several candidates, or one outside the
  // package, nothing is imposed (conformance to one of them cannot be decided here).
  std::vector<std::string> same_type;
  for (const auto& t : targets)
    if (ctx.pkg.profile_type(t) == type) same_type.push_back(strip_version(t));
  if (same_type.size() != 1 || !ctx.pkg.profile(same_type[0]) || !ctx.required) return;
  if (!declares_profile(ctx.pkg, target, same_type[0])) (*ctx.required)[&target].insert(same_type[0]);
}

const json::object* find_contained(const json::object* container, std::string_view id) {
  if (!container) return nullptr;
  const auto* contained = container->if_contains("contained");
  if (!contained || !contained->is_array()) return nullptr;
  for (const auto& c : contained->get_array())
    if (const auto* o = as_object(&c); o && string_at(*o, "id") == id) return o;
  return nullptr;
}

void check_reference(Ctx& ctx, const json::object& ref_obj, const ElementDefinition& el, const std::string& eid,
                     const std::string& path) {
  std::string ref = string_at(ref_obj, "reference");
  if (ref.empty()) return;
  std::vector<std::string> targets;
  for (const auto& t : el.types) targets.insert(targets.end(), t.target_profiles.begin(), t.target_profiles.end());
  std::string ref_path = join(path, "reference");
  if (ref.front() == '#') {
    std::string id = ref.substr(1);
    if (id.empty()) return;  // the container itself
    if (ctx.local_refs) ctx.local_refs->insert(id);
    const auto* target = find_contained(ctx.container, id);
    if (!target) {
      report(ctx, eid, ref_path, "reference", ref + " matches no contained resource");
      return;
    }
    check_target(ctx, *target, targets, eid, ref_path, ref);
    return;
  }
  // "Type/id" (relative) or an absolute url ending with Type/id.
  static const std::regex kRelative("([A-Z][A-Za-z]+)/([A-Za-z0-9\\-\\.]{1,64})(/_history/.+)?");
  static const std::regex kAbsolute(".*/([A-Z][A-Za-z]+)/([A-Za-z0-9\\-\\.]{1,64})(/_history/.+)?");
  if (ref.size() > 1024) return;  // keep the recursive std::regex matcher on short input
  std::smatch m;
  bool relative = std::regex_match(ref, m, kRelative);
  if (!relative && !std::regex_match(ref, m, kAbsolute)) return;  // urn:uuid:, urn:oid:, ... unchecked
  std::string type = m[1].str();
  std::string type_id = type + "/" + m[2].str();
  bool all_known = false;
  auto types = target_types(ctx.pkg, targets, all_known);
  if (!targets.empty() && all_known && std::find(types.begin(), types.end(), type) == types.end()) {
    report(ctx, eid, ref_path, "reference", ref + " is a " + type + ", not an allowed target type");
    return;
  }
  if (!ctx.bundle) return;
  const json::object* target = nullptr;
  if (auto it = ctx.bundle->by_full_url.find(ref); it != ctx.bundle->by_full_url.end()) target = it->second;
  if (!target && relative)
    if (auto it = ctx.bundle->by_type_id.find(type_id); it != ctx.bundle->by_type_id.end()) target = it->second;
  if (!target) {
    if (relative) report(ctx, eid, ref_path, "reference", ref + " matches no resource of the Bundle");
    return;
  }
  check_target(ctx, *target, targets, eid, ref_path, ref);
}

void handle_resource_value(Ctx& ctx, const json::value& v, const ElementDefinition& el, std::string_view type,
                           const std::string& eid, const std::string& path) {
  const auto* o = as_object(&v);
  if (!o) {
    report(ctx, eid, path, "type", "expected a resource (JSON object)");
    return;
  }
  std::string rt = string_at(*o, "resourceType");
  if (rt.empty()) {
    report(ctx, eid, path, "type", "resource without resourceType");
  } else if (type != "Resource" && type != "DomainResource" && rt != type) {
    report(ctx, eid, path, "type", "expected a " + std::string(type) + ", found a " + rt);
  }
  if (el.path.ends_with(".contained")) {
    ctx.contained.push_back({&v, path});
  } else if (el.path == "Bundle.entry.resource") {
    // Checked by validate_bundle, against its declared profiles and the one its slice requires.
    if (ctx.required)
      for (const auto& t : el.types)
        for (const auto& p : t.profiles)
          if (ctx.pkg.profile(p) && !declares_profile(ctx.pkg, *o, p)) (*ctx.required)[o].insert(strip_version(p));
  } else {
    walk_generic(ctx, v, eid, path);
  }
}

void validate_item(Ctx& ctx, const Item& item, NodeRef c, std::optional<NodeRef> slice, const std::string& ceid) {
  const json::value& v = *item.value;
  std::string eid = slice ? element_eid(ctx, *slice, ceid) : ceid;
  if (report_if_empty(ctx, v, eid, item.path, false)) return;
  std::string type = item.type;
  if (type.empty()) {
    walk_generic(ctx, v, eid, item.path);
    return;
  }
  if (is_primitive_type(type)) {
    if (!check_primitive(ctx, v, type, eid, item.path)) return;
  } else if (ctx.pkg.is_resource_type(type)) {
    handle_resource_value(ctx, v, slice ? slice->el() : c.el(), type, eid, item.path);
    return;
  } else if (!v.is_object()) {
    report(ctx, eid, item.path, "type", "expected a JSON object (" + type + ")");
    return;
  }
  check_value_constraints(ctx, v, c.el(), type, ceid, item.path);
  if (slice) check_value_constraints(ctx, v, slice->el(), type, eid, item.path);
  if (!v.is_object()) return;
  if (type == "Reference") check_reference(ctx, v.get_object(), slice ? slice->el() : c.el(), eid, item.path);
  std::optional<NodeRef> container;
  if (slice) container = children_container(ctx, *slice, type);
  if (!container) container = children_container(ctx, c, type);
  validate_object(ctx, v.get_object(), container, eid, item.path, false);
}

// One child element of obj: its values, JSON shape, cardinality, slices, then each value.
void check_child(Ctx& ctx, const json::object& obj, NodeRef child, const std::string& parent_eid,
                 const std::string& path, const std::set<std::string>& exact_names,
                 std::set<std::string, std::less<>>& consumed) {
  const auto& el = child.el();
  std::string ceid = element_eid(ctx, child, parent_eid);
  std::string name = el.name();
  std::vector<std::pair<std::string, std::string>> present;  // (JSON key, FHIR type)
  bool choice = name.ends_with("[x]");
  if (choice) {
    std::string base = name.substr(0, name.size() - 3);
    for (const auto& kv : obj) {
      std::string key(kv.key());
      if (key.size() <= base.size() || !key.starts_with(base) || exact_names.contains(key)) continue;
      if (!std::isupper(static_cast<unsigned char>(key[base.size()]))) continue;
      std::string suffix = key.substr(base.size());
      std::string type;
      for (const auto& t : el.types)
        if (capitalized(t.code) == suffix) type = t.code;
      if (type.empty()) {
        type = choice_type_name(suffix);
        if (!el.types.empty())
          report(ctx, ceid, join(path, key), "type", suffix + " is not an allowed type for " + name);
      }
      present.emplace_back(key, type);
      consumed.insert(key);
    }
    if (present.size() > 1) report(ctx, ceid, path, "cardinality", "more than one " + name + " value");
  } else if (obj.contains(name)) {
    present.emplace_back(name, effective_type(child));
    consumed.insert(name);
  }

  std::vector<Item> items;
  for (const auto& [key, type] : present) {
    const json::value& v = obj.at(key);
    std::string p = join(path, key);
    if (v.is_array()) {
      const auto& a = v.get_array();
      if (a.empty()) {
        report(ctx, ceid, p, "empty", "empty array");
        continue;
      }
      if (!el.repeats() && a.size() == 1) report(ctx, ceid, p, "type", name + " is not repeating: no JSON array");
      for (std::size_t i = 0; i < a.size(); ++i) items.push_back({&a[i], indexed(p, i), type});
    } else {
      if (el.repeats()) report(ctx, ceid, p, "type", name + " is repeating: expected a JSON array");
      items.push_back({&v, p, type});
    }
  }
  std::string card_path = join(path, choice ? name.substr(0, name.size() - 3) : name);
  if (present.size() == 1) card_path = join(path, present[0].first);
  if (items.size() < el.min)
    report(ctx, ceid, card_path, "cardinality",
           name + " needs " + cardinality_text(el) + ", found " + std::to_string(items.size()));
  if (el.max && items.size() > *el.max)
    report(ctx, ceid, card_path, "cardinality",
           name + " allows " + cardinality_text(el) + ", found " + std::to_string(items.size()));

  std::vector<std::optional<NodeRef>> assigned(items.size());
  if (el.slicing && !el.slices.empty()) {
    std::vector<std::size_t> counts(el.slices.size(), 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (report_if_empty(ctx, *items[i].value, ceid, items[i].path, false)) {
        items[i].value = nullptr;  // reported once, not again per slice
        continue;
      }
      for (std::size_t s = 0; s < el.slices.size(); ++s) {
        NodeRef slice{child.sd, el.slices[s]};
        if (matches_slice(ctx, items[i], *el.slicing, slice)) {
          assigned[i] = slice;
          ++counts[s];
          break;
        }
      }
      if (!assigned[i] && el.slicing->rules == "closed")
        report(ctx, ceid, items[i].path, "slicing", "matches no slice of the closed slicing of " + name);
    }
    for (std::size_t s = 0; s < el.slices.size(); ++s) {
      NodeRef slice{child.sd, el.slices[s]};
      const auto& sl = slice.el();
      std::string seid = element_eid(ctx, slice, ceid);
      if (counts[s] < sl.min)
        report(ctx, seid, card_path, "cardinality",
               "slice " + sl.slice_name + " needs " + cardinality_text(sl) + ", found " + std::to_string(counts[s]));
      if (sl.max && counts[s] > *sl.max)
        report(ctx, seid, card_path, "cardinality",
               "slice " + sl.slice_name + " allows " + cardinality_text(sl) + ", found " + std::to_string(counts[s]));
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i].value) validate_item(ctx, items[i], child, assigned[i], ceid);
}

void validate_object(Ctx& ctx, const json::object& obj, std::optional<NodeRef> container, const std::string& eid,
                     const std::string& path, bool resource_root) {
  if (!container || container->el().children.empty()) {
    for (const auto& kv : obj)
      walk_generic(ctx, kv.value(), eid + "." + std::string(kv.key()), join(path, kv.key()), kv.key().starts_with("_"));
    return;
  }
  std::set<std::string> exact_names;
  std::vector<std::string> choice_bases;
  for (std::size_t c : container->el().children) {
    std::string n = container->sd->elements[c].name();
    if (n.ends_with("[x]")) {
      choice_bases.push_back(n.substr(0, n.size() - 3));
    } else {
      exact_names.insert(n);
    }
  }
  std::set<std::string, std::less<>> consumed;
  if (resource_root) consumed.insert("resourceType");
  for (std::size_t c : container->el().children)
    check_child(ctx, obj, NodeRef{container->sd, c}, eid, path, exact_names, consumed);
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (consumed.contains(key)) continue;
    std::string p = join(path, key);
    if (key.starts_with("_")) {  // primitive extension of a known element
      std::string base(key.substr(1));
      bool known = exact_names.contains(base) ||
                   std::any_of(choice_bases.begin(), choice_bases.end(),
                               [&](const auto& b) { return base.size() > b.size() && base.starts_with(b); });
      if (known) {
        walk_generic(ctx, kv.value(), eid + "." + std::string(key), p, true);
        continue;
      }
    }
    report(ctx, eid + "." + std::string(key), p, "unknown-element", std::string(key) + " is not an element of " + eid);
    walk_generic(ctx, kv.value(), eid + "." + std::string(key), p);
  }
}

std::vector<Issue> validate_impl(const PackageData& pkg, const json::value& resource,
                                 const StructureDefinition& profile, const std::string& base_path,
                                 const json::object* container, const BundleIndex* bundle, RequiredProfiles* required,
                                 std::set<std::string>* local_refs) {
  std::vector<Issue> out;
  std::set<std::string> own_refs;
  RequiredProfiles own_required;
  Ctx ctx(pkg, profile, out);
  ctx.bundle = bundle;
  ctx.required = required ? required : &own_required;
  ctx.local_refs = local_refs ? local_refs : &own_refs;
  const std::string& root_id = profile.elements[0].id;
  const auto* obj = as_object(&resource);
  if (!obj) {
    report(ctx, root_id, base_path, "type", "a resource is a JSON object");
    return out;
  }
  ctx.container = container ? container : obj;
  std::string rt = string_at(*obj, "resourceType");
  if (rt.empty()) {
    report(ctx, root_id, base_path, "type", "resourceType missing");
  } else if (rt != profile.type) {
    report(ctx, root_id, base_path, "type", "profile is for " + profile.type + ", resource is a " + rt);
    return out;
  }
  validate_object(ctx, *obj, NodeRef{&profile, 0}, root_id, base_path, true);
  if (container) return out;  // a contained resource: its container checks the contained rules

  // Contained resources: their own profile, else the target profile of the references to them.
  for (const auto& item : ctx.contained) {
    const json::object& res = item.resource->get_object();
    std::string id = string_at(res, "id");
    if (id.empty()) report(ctx, root_id + ".contained", item.path, "contained", "contained resource without id");
    if (res.contains("contained"))
      report(ctx, root_id + ".contained", join(item.path, "contained"), "contained", "contained resources cannot nest");
    std::set<std::string> profiles;
    for (const auto& p : declared_profiles(res))
      if (pkg.profile(p)) profiles.insert(p);
    if (auto it = ctx.required->find(&res); it != ctx.required->end())
      profiles.insert(it->second.begin(), it->second.end());
    if (profiles.empty()) walk_generic(ctx, *item.resource, root_id + ".contained", item.path);
    for (const auto& p : profiles) {
      auto sub =
          validate_impl(pkg, *item.resource, *pkg.profile(p), item.path, obj, bundle, ctx.required, ctx.local_refs);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  }
  for (const auto& item : ctx.contained) {
    std::string id = string_at(item.resource->get_object(), "id");
    if (!id.empty() && !ctx.local_refs->contains(id))
      report(ctx, root_id + ".contained", item.path, "contained", "contained resource #" + id + " is not referenced");
  }
  return out;
}

void dedupe(std::vector<Issue>& issues) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  std::vector<Issue> kept;
  for (auto& i : issues)
    if (seen.insert({i.path, i.kind, i.message}).second) kept.push_back(std::move(i));
  issues = std::move(kept);
}

Issue profile_issue(const std::string& path, std::string message) {
  return Issue{"", "", path, "profile", std::move(message)};
}

}  // namespace

std::vector<Issue> validate_resource(const PackageData& pkg, const json::value& resource,
                                     const StructureDefinition& profile, const std::string& base_path) {
  auto out = validate_impl(pkg, resource, profile, base_path, nullptr, nullptr, nullptr, nullptr);
  dedupe(out);
  return out;
}

std::vector<Issue> validate_bundle(const PackageData& pkg, const json::value& bundle) {
  std::vector<Issue> out;
  const auto* obj = as_object(&bundle);
  if (!obj || string_at(*obj, "resourceType") != "Bundle") return {profile_issue("", "not a Bundle")};

  BundleIndex index;
  const auto* entries = obj->if_contains("entry");
  const json::array empty;
  const json::array& entry_array = entries && entries->is_array() ? entries->get_array() : empty;
  for (const auto& e : entry_array) {
    const auto* eo = as_object(&e);
    const auto* res = eo ? as_object(eo->if_contains("resource")) : nullptr;
    if (!res) continue;
    if (std::string full_url = string_at(*eo, "fullUrl"); !full_url.empty()) index.by_full_url.emplace(full_url, res);
    std::string type = string_at(*res, "resourceType");
    std::string id = string_at(*res, "id");
    if (!type.empty() && !id.empty()) index.by_type_id.emplace(type + "/" + id, res);
  }

  RequiredProfiles required;  // from the Bundle's slices and from references between entries
  std::vector<std::string> profiles;
  for (const auto& p : declared_profiles(*obj))
    if (pkg.profile(p)) profiles.push_back(p);
  if (profiles.empty()) out.push_back(profile_issue("", "the Bundle declares no profile of the package"));
  for (const auto& p : profiles) {
    auto sub = validate_impl(pkg, bundle, *pkg.profile(p), "", nullptr, &index, &required, nullptr);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  // Validating an entry may require another (already validated) entry to conform to a reference's
  // target profile: repeat until no new (entry, profile) pair appears.
  std::map<const json::object*, std::set<std::string>> done;
  for (int round = 0; round < 8; ++round) {
    bool progressed = false;
    for (std::size_t i = 0; i < entry_array.size(); ++i) {
      const auto* eo = as_object(&entry_array[i]);
      const json::value* res = eo ? eo->if_contains("resource") : nullptr;
      if (!res || !res->is_object()) continue;
      const json::object* ro = &res->get_object();
      std::string path = "entry[" + std::to_string(i) + "].resource";
      std::set<std::string> entry_set;
      for (const auto& p : declared_profiles(*ro))
        if (pkg.profile(p)) entry_set.insert(p);
      if (auto it = required.find(ro); it != required.end()) entry_set.insert(it->second.begin(), it->second.end());
      for (const auto& p : entry_set) {
        if (!done[ro].insert(p).second) continue;
        progressed = true;
        auto sub = validate_impl(pkg, *res, *pkg.profile(p), path, nullptr, &index, &required, nullptr);
        out.insert(out.end(), sub.begin(), sub.end());
      }
    }
    if (!progressed) break;
  }
  for (std::size_t i = 0; i < entry_array.size(); ++i) {
    const auto* eo = as_object(&entry_array[i]);
    const auto* ro = eo ? as_object(eo->if_contains("resource")) : nullptr;
    if (ro && done[ro].empty())
      out.push_back(profile_issue("entry[" + std::to_string(i) + "].resource",
                                  "the resource declares no profile of the package and none is required"));
  }
  dedupe(out);
  return out;
}

std::vector<Issue> validate_declared(const PackageData& pkg, const json::value& resource) {
  const auto* obj = as_object(&resource);
  if (!obj) return {profile_issue("", "a resource is a JSON object")};
  if (string_at(*obj, "resourceType") == "Bundle") return validate_bundle(pkg, resource);
  std::vector<Issue> out;
  bool any = false;
  for (const auto& p : declared_profiles(*obj)) {
    const auto* sd = pkg.profile(p);
    if (!sd) continue;
    any = true;
    auto sub = validate_impl(pkg, resource, *sd, "", nullptr, nullptr, nullptr, nullptr);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  if (!any) out.push_back(profile_issue("", "the resource declares no profile of the package"));
  dedupe(out);
  return out;
}

}  // namespace sas::conformance::detail
