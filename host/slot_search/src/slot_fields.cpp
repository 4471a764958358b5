#include "sas/host/slot_search/slot_fields.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <sas/host/text/text.hpp>
#include "sas/host/fhir/builders.hpp"
#include "sas/host/fhir/constants.hpp"
#include "sas/host/fhir/element_writers.hpp"

namespace sas::host::slot_search {

namespace fhir = sas::host::fhir;
namespace pb = sas::plugin::v1;
using sas::host::text::trim;

namespace {

// 1, 2, 3 for the three codes, 0 for none: two bits of a set of modes.
int mode_index(int mode) {
  switch (mode) {
    case pb::MODE_AT_PRACTICE:
      return 1;
    case pb::MODE_AT_HOME:
      return 2;
    case pb::MODE_TELECONSULTATION:
      return 3;
    default:
      return 0;
  }
}

// The v3-ActCode code of a mode, by mode_index ("" for none).
std::string_view mode_code(int mode) {
  static constexpr std::string_view kCodes[] = {
      {}, fhir::code::kModeAmbulatory, fhir::code::kModeHome, fhir::code::kModeVirtual};
  return kCodes[mode_index(mode)];
}

void write_security_labels(fhir::JsonWriter& w, unsigned types) {
  w.begin_array("security");
  const std::pair<unsigned, std::string_view> order[] = {{kSlotPublic, fhir::code::kSlotPublic},
                                                         {kSlotPro, fhir::code::kSlotPro},
                                                         {kSlotSnp, fhir::code::kSlotSnp},
                                                         {kSlotCpts, fhir::code::kSlotCpts}};
  for (const auto& [bit, code] : order) {
    if (types & bit) fhir::write_coding(w, {}, fhir::kSlotTypeSystem, code);
  }
  w.end_array();
}

void write_consultation_modes(fhir::JsonWriter& w, const pb::Slot& slot) {
  std::string_view seen[4];
  std::size_t count = 0;
  for (const int mode : slot.modes()) {
    const std::string_view code = mode_code(mode);
    if (code.empty() || std::find(seen, seen + count, code) != seen + count) continue;
    seen[count++] = code;  // three codes at most
    fhir::write_codeable_concept(w, {}, fhir::kActCodeSystem, code);
  }
}

void write_appointment_type(fhir::JsonWriter& w, bool walk_in) {
  fhir::write_codeable_concept(w, "appointmentType", fhir::kAppointmentTypeSystem,
                               walk_in ? fhir::code::kWalkIn : fhir::code::kRoutine);
}

}  // namespace

unsigned slot_types(const pb::Slot& slot) {
  unsigned types = 0;
  for (const int a : slot.audiences()) {
    switch (a) {
      case pb::AUDIENCE_PUBLIC:
        types |= kSlotPublic;
        break;
      case pb::AUDIENCE_PROFESSIONALS:
        types |= kSlotPro;
        break;
      case pb::AUDIENCE_SNP:
        types |= kSlotSnp;
        break;
      case pb::AUDIENCE_CPTS:
        types |= kSlotCpts;
        break;
      default:  // PATIENTELE_ONLY never leaves; unknown values are not guessed at
        break;
    }
  }
  return types;
}

bool address_complete(const google::protobuf::RepeatedPtrField<std::string>& lines, std::string_view postal_code,
                      std::string_view city) {
  const bool line = std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return !trim(l).empty(); });
  return line && !trim(city).empty() && !trim(postal_code).empty();
}

void write_motives(fhir::JsonWriter& w, const pb::Slot& slot) {
  std::vector<std::string_view> seen;
  for (const auto& motive : slot.motives()) {
    const std::string_view text = trim(motive);
    if (text.empty() || std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(text);
    w.begin_object();
    w.string("text", text);
    w.end_object();
  }
}

std::string specialties_json(const google::protobuf::RepeatedPtrField<pb::Specialty>& list, int* invalid_codes) {
  std::vector<std::string> items;  // each written alone, so that duplicates are seen as such
  for (const auto& s : list) {
    std::string_view code = trim(s.code());
    std::string_view text = trim(s.text());
    if (!code.empty() && !fhir::is_valid_code(code)) {
      if (invalid_codes != nullptr) ++*invalid_codes;
      if (text.empty()) text = code;
      code = {};
    }
    std::string item;
    fhir::JsonWriter w(item);
    fhir::write_codeable_concept(w, {}, fhir::kSpecialtySystem, code, text);
    if (!item.empty() && std::find(items.begin(), items.end(), item) == items.end()) items.push_back(std::move(item));
  }
  std::string out;
  fhir::JsonWriter w(out);
  w.begin_array();
  for (const auto& item : items) w.raw(item);
  w.end_array();
  return out;
}

void write_address(fhir::JsonWriter& w, const google::protobuf::RepeatedPtrField<std::string>& lines,
                   std::string_view postal_code, std::string_view city) {
  w.begin_object("address");
  w.begin_array("line");
  std::string line;
  for (const auto& l : lines) {
    const std::string_view part = trim(l);
    if (part.empty()) continue;
    if (!line.empty()) line += ", ";
    line += part;
  }
  w.string(line);
  w.end_array();
  w.string("city", trim(city));
  w.string("postalCode", trim(postal_code));
  w.end_object();
}

std::string_view SlotFragments::meta(unsigned types) {
  std::string& text = meta_[types & 15];
  if (text.empty()) {
    fhir::JsonWriter w(text);
    w.begin_object();
    fhir::begin_meta(w, profile_);
    write_security_labels(w, types & 15);
    w.end_object();
    w.end_object();
  }
  return fhir::JsonWriter::members_of(text);
}

std::string_view SlotFragments::consultation_modes(const pb::Slot& slot) {
  unsigned key = 0;
  unsigned seen = 0;  // bit per index
  for (const int mode : slot.modes()) {
    const int index = mode_index(mode);
    if (index == 0 || (seen & (1U << index)) != 0) continue;
    seen |= 1U << index;
    key = key * 4 + static_cast<unsigned>(index);  // at most three codes: under 64
  }
  std::string& text = modes_[key];
  if (text.empty() && key != 0) {
    fhir::JsonWriter w(text);
    w.begin_array();
    write_consultation_modes(w, slot);
    w.end_array();
  }
  return text.empty() ? std::string_view() : std::string_view(text).substr(1, text.size() - 2);
}

std::string_view SlotFragments::appointment_type(bool walk_in) {
  std::string& text = appointment_type_[walk_in ? 1 : 0];
  if (text.empty()) {
    fhir::JsonWriter w(text);
    w.begin_object();
    write_appointment_type(w, walk_in);
    w.end_object();
  }
  return fhir::JsonWriter::members_of(text);
}

}  // namespace sas::host::slot_search
