// The elements of a Slot every search of the guide writes the same way (INT_R01, INT_R04 CPTS,
// SOS Médecins): slot types, consultation modes and motives, specialties, with or without
// appointment, and the one-line address of a place. Each builder omits what it was given empty.
#pragma once

#include <string>
#include <string_view>

#include "sas/host/fhir/json_writer.hpp"
#include "sas/plugin/v1/plugin.pb.h"

namespace sas::host::slot_search {

// Slot types (TRE_R314), as bits, in the order they are written to meta.security.
enum SlotType : unsigned { kSlotPublic = 1, kSlotPro = 2, kSlotSnp = 4, kSlotCpts = 8 };

// The types the slot's audiences give; PATIENTELE_ONLY (never leaves) and unknown values give none.
unsigned slot_types(const sas::plugin::v1::Slot& slot);

// Each is written into the open object or array of a JsonWriter (fhir/json_writer.hpp).

// Items of the open serviceType array for the consultation motives, each as free text, once (FAQ
// error 5: modes coded and motives as text, both needed).
void write_motives(sas::host::fhir::JsonWriter& w, const sas::plugin::v1::Slot& slot);

// The specialty array as JSON ("" when there is none), to be written with JsonWriter::raw (a
// practitioner's is written once and repeated on each of their slots): TRE_R38 codings when
// coded (with the vendor's label as text), else the text alone (FAQ error 3: never drop a
// specialty); duplicates once. A code that is not a FHIR code (whitespace or control characters
// in it) would make the Bundle invalid: that specialty goes as text (its label, else the code
// itself), counted in `invalid_codes`.
std::string specialties_json(const google::protobuf::RepeatedPtrField<sas::plugin::v1::Specialty>& list,
                             int* invalid_codes = nullptr);
// The warning after "slot \"ID\": " (or the practitioner) when `invalid_codes` counted any.
inline constexpr const char* kSpecialtyCodeSentAsText =
    "a specialty code that is not a FHIR code (whitespace or control characters in it) is sent as text";

// "address" of a place as the Location profiles want it: the vendor's lines joined into the one
// line they allow, city, postalCode (all three required by FrLocationAgregateur and
// FrLocationAgregateurSOS: see address_complete).
void write_address(sas::host::fhir::JsonWriter& w, const google::protobuf::RepeatedPtrField<std::string>& lines,
                   std::string_view postal_code, std::string_view city);

// The parts of a Slot resource that repeat from one slot to the next, each written once per
// Bundle and then copied with JsonWriter::raw.
class SlotFragments {
 public:
  explicit SlotFragments(std::string_view profile) : profile_(profile) {}
  // "meta": {"profile": [profile], "security": one TRE_R314 coding per type bit set, in the order
  // PUBLIC, PRO, SNP, CPTS}, as members.
  std::string_view meta(unsigned types);
  // The serviceType items of the slot's consultation modes: v3-ActCode codings (AMB, HH, VR),
  // each once, in the slot's order.
  std::string_view consultation_modes(const sas::plugin::v1::Slot& slot);
  // "appointmentType": v2-0276 WALKIN (no appointment) or ROUTINE, as members.
  std::string_view appointment_type(bool walk_in);

 private:
  std::string_view profile_;
  std::string meta_[16];             // by type bits
  std::string modes_[64];            // by the codes in their order, two bits each
  std::string appointment_type_[2];  // by walk_in
};

// Whether a place has all three: a non-blank address line, city and postal code.
bool address_complete(const google::protobuf::RepeatedPtrField<std::string>& lines, std::string_view postal_code,
                      std::string_view city);

}  // namespace sas::host::slot_search
