#include "bundle_oracle/dom_slot_fields.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"

namespace sas::test::oracle::fields {

namespace json = boost::json;
namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
using sas::host::text::trim;

namespace {

std::string_view mode_code(int mode) {
  switch (mode) {
    case pb::MODE_AT_PRACTICE:
      return fhir::code::kModeAmbulatory;
    case pb::MODE_AT_HOME:
      return fhir::code::kModeHome;
    case pb::MODE_TELECONSULTATION:
      return fhir::code::kModeVirtual;
    default:
      return {};
  }
}

}  // namespace

json::array security_labels(unsigned types, const json::storage_ptr& sp) {
  json::array labels(sp);
  const std::pair<unsigned, std::string_view> order[] = {{kSlotPublic, fhir::code::kSlotPublic},
                                                         {kSlotPro, fhir::code::kSlotPro},
                                                         {kSlotSnp, fhir::code::kSlotSnp},
                                                         {kSlotCpts, fhir::code::kSlotCpts}};
  for (const auto& [bit, code] : order) {
    if (types & bit) labels.emplace_back(fhir::coding(fhir::kSlotTypeSystem, code, {}, sp));
  }
  return labels;
}

void append_consultation_modes(json::array& out, const pb::Slot& slot, const json::storage_ptr& sp) {
  std::vector<std::string_view> seen;
  for (const int mode : slot.modes()) {
    const std::string_view code = mode_code(mode);
    if (code.empty() || std::find(seen.begin(), seen.end(), code) != seen.end()) continue;
    seen.push_back(code);
    out.emplace_back(fhir::codeable_concept(fhir::kActCodeSystem, code, {}, sp));
  }
}

void append_motives(json::array& out, const pb::Slot& slot, const json::storage_ptr& sp) {
  std::vector<std::string_view> seen;
  for (const auto& motive : slot.motives()) {
    const std::string_view text = trim(motive);
    if (text.empty() || std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(text);
    out.emplace_back(fhir::codeable_text(text, sp));
  }
}

json::array specialties(const google::protobuf::RepeatedPtrField<pb::Specialty>& list, const json::storage_ptr& sp,
                        int* invalid_codes) {
  json::array out(sp);
  for (const auto& s : list) {
    std::string_view code = trim(s.code());
    std::string_view text = trim(s.text());
    if (!code.empty() && !fhir::is_valid_code(code)) {
      if (invalid_codes != nullptr) ++*invalid_codes;
      if (text.empty()) text = code;
      code = {};
    }
    json::object cc =
        code.empty() ? fhir::codeable_text(text, sp) : fhir::codeable_concept(fhir::kSpecialtySystem, code, text, sp);
    if (!cc.empty() && std::find(out.begin(), out.end(), json::value(cc)) == out.end()) out.emplace_back(std::move(cc));
  }
  return out;
}

json::object appointment_type(bool walk_in, const json::storage_ptr& sp) {
  return fhir::codeable_concept(fhir::kAppointmentTypeSystem, walk_in ? fhir::code::kWalkIn : fhir::code::kRoutine, {},
                                sp);
}

json::object address(const google::protobuf::RepeatedPtrField<std::string>& lines, std::string_view postal_code,
                     std::string_view city, const json::storage_ptr& sp, bool* complete) {
  std::string line;
  for (const auto& l : lines) {
    const std::string_view part = trim(l);
    if (part.empty()) continue;
    if (!line.empty()) line += ", ";
    line += part;
  }
  json::object out(sp);
  if (!line.empty()) {
    json::array one(sp);
    one.emplace_back(json::string(line, sp));
    out["line"] = std::move(one);
  }
  fhir::put(out, "city", trim(city));
  fhir::put(out, "postalCode", trim(postal_code));
  if (complete != nullptr) *complete = address_complete(lines, postal_code, city);
  return out;
}

json::object searchset_entry(std::string_view base, std::string_view type, std::string_view id, json::object resource,
                             std::string_view mode, const json::storage_ptr& sp) {
  json::object e(sp);
  e.reserve(3);
  e["fullUrl"] = fhir::full_url(base, type, id);
  e["resource"] = std::move(resource);
  json::object search(sp);
  search["mode"] = mode;
  e["search"] = std::move(search);
  return e;
}

json::array single(json::value item, const json::storage_ptr& sp) {
  json::array a(sp);
  a.emplace_back(std::move(item));
  return a;
}

}  // namespace sas::test::oracle::fields
