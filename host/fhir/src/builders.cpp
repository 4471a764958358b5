#include "sas/host/fhir/builders.hpp"

#include <cstdint>
#include <utility>

#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/json.hpp"

namespace sas::host::fhir {

namespace json = boost::json;

void put(json::object& obj, std::string_view key, std::string_view value) {
  if (!value.empty()) obj[key] = value;
}

void put(json::object& obj, std::string_view key, json::value value) {
  if (!is_empty(value)) obj[key] = std::move(value);
}

json::object coding(std::string_view system, std::string_view code, std::string_view display, json::storage_ptr sp) {
  json::object c(std::move(sp));
  c.reserve(3);
  put(c, "system", system);
  put(c, "code", code);
  put(c, "display", display);
  return c;
}

json::object codeable_concept(json::object coding, std::string_view text, json::storage_ptr sp) {
  json::object cc(sp);
  if (!coding.empty()) {
    json::array codings(sp);
    codings.emplace_back(std::move(coding));
    cc["coding"] = std::move(codings);
  }
  put(cc, "text", text);
  return cc;
}

json::object codeable_concept(std::string_view system, std::string_view code, std::string_view text,
                              json::storage_ptr sp) {
  return codeable_concept(code.empty() ? json::object(sp) : coding(system, code, {}, sp), text, sp);
}

json::object codeable_text(std::string_view text, json::storage_ptr sp) {
  json::object cc(std::move(sp));
  put(cc, "text", text);
  return cc;
}

json::object identifier(std::string_view type_system, std::string_view type_code, std::string_view system,
                        std::string_view value, json::storage_ptr sp) {
  json::object id(sp);
  put(id, "type", codeable_concept(type_system, type_code, {}, sp));
  put(id, "system", system);
  put(id, "value", value);
  return id;
}

json::object practitioner_national_identifier(std::string_view prefixed, json::storage_ptr sp) {
  return identifier(kIdentifierTypeSystem, code::kIdnps, kPractitionerIdSystem, prefixed, std::move(sp));
}

json::object structure_national_identifier(std::string_view prefixed, json::storage_ptr sp) {
  return identifier(kIdentifierTypeSystem, code::kIdnst, kStructureIdSystem, prefixed, std::move(sp));
}

json::object reference(std::string_view resource_type, std::string_view id, json::storage_ptr sp) {
  json::object r(sp);
  if (!resource_type.empty() && !id.empty()) {
    json::string ref(sp);
    ref.reserve(resource_type.size() + 1 + id.size());
    ref.append(resource_type).append("/").append(id);
    r["reference"] = std::move(ref);
  }
  return r;
}

json::object contained_reference(std::string_view id, json::storage_ptr sp) {
  json::object r(sp);
  if (!id.empty()) {
    json::string ref(sp);
    ref.append("#").append(id);
    r["reference"] = std::move(ref);
  }
  return r;
}

json::object identifier_reference(json::object identifier, json::storage_ptr sp) {
  json::object r(std::move(sp));
  if (!identifier.empty()) r["identifier"] = std::move(identifier);
  return r;
}

json::object meta(std::string_view profile, json::array security, json::storage_ptr sp) {
  json::object m(sp);
  if (!profile.empty()) {
    json::array profiles(sp);
    profiles.emplace_back(profile);
    m["profile"] = std::move(profiles);
  }
  if (!security.empty()) m["security"] = std::move(security);
  return m;
}

json::object phone_contact(std::string_view value, json::storage_ptr sp) {
  json::object t(std::move(sp));
  if (!value.empty()) {
    t["system"] = "phone";
    t["value"] = value;
  }
  return t;
}

namespace {

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// FNV-1a, 64 bits: stable across runs and platforms, unlike std::hash.
std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

bool is_valid_code(std::string_view code) {
  if (code.empty() || code.front() == ' ' || code.back() == ' ') return false;
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (static_cast<unsigned char>(code[i]) < 0x20 || code[i] == 0x7f) return false;
    if (code[i] == ' ' && code[i + 1] == ' ') return false;  // i + 1 < size: the last is not ' '
  }
  return true;
}

std::string resource_id(std::string_view vendor_id) {
  if (is_valid_id(vendor_id)) return std::string(vendor_id);
  constexpr std::size_t kReadable = 64 - 17;
  std::string out;
  out.reserve(64);
  for (const char c : vendor_id) {
    if (out.size() == kReadable) break;
    if (is_id_char(c)) out.push_back(c);
  }
  if (out.empty()) out.push_back('x');  // (not out = "x": GCC 12 -Wrestrict false positive)
  out.push_back('-');
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint64_t h = fnv1a64(vendor_id);
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(h >> shift) & 0xF]);
  return out;
}

std::string_view without_trailing_slashes(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return base;
}

std::string full_url(std::string_view base, std::string_view resource_type, std::string_view id) {
  base = without_trailing_slashes(base);
  std::string url;
  url.reserve(base.size() + resource_type.size() + id.size() + 2);
  url.append(base).append("/").append(resource_type).append("/").append(id);
  return url;
}

}  // namespace sas::host::fhir
