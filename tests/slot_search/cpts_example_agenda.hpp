// The agenda behind the IG's Bundle-ExampleBundleCPTS1 and Bundle-ExampleBundleCPTS2 (INT_R04),
// written as a vendor's plugin would return it (shared by the CPTS golden, validation and
// end-to-end tests). The values are the examples' data typed in the forms an agenda stores them
// (unprefixed RPPS and FINESS, national phone formats); what the answer must be is read from the
// official files, never from here.
#pragma once

#include <string>

#include "agenda.hpp"

namespace sas::test::agenda {

// Dr Pierre Foret, the examples' practitioner (RPPS stored unprefixed), asked for by the
// examples' self links; and a second practitioner whom they do not ask for, with a slot open to
// CPTS only and a public one (what the INT_R01 / INT_R04 difference is checked on).
inline constexpr const char* kCptsExamplePractitioner = "810002909371";
inline constexpr const char* kCptsOnlyPractitioner = "810003333336";
inline constexpr const char* kCptsExamplePlaceSystem = "https://editeur.com";  // the examples' INTRN system

// The two CPTS of the examples, as the agenda stores them.
inline void add_example_cpts(pb::SearchSlotsResponse& r) {
  auto& axe = *r.add_cpts();
  axe.set_finess("950047225");
  axe.set_name("CPTS AXE MAJEUR");
  axe.set_phone("01 02 03 04 05");
  auto& val = *r.add_cpts();
  val.set_finess("1950046227");  // stored prefixed: the host matches both forms
  val.set_name("CPTS VAL D OISE CENTRE");
  val.set_phone("01.39.59.92.80");
}

// `example` 1: the slot is open to CPTS AXE MAJEUR; 2: to both CPTS. Both with the same motive
// (example 2 writes it as the text of its AMB concept: see golden_cpts_compare.hpp).
inline pb::SearchSlotsResponse cpts_example_agenda(int example) {
  pb::SearchSlotsResponse r;
  auto& foret = practitioner(r, "ExamplePractitioner", "10002909371", "Foret", {"Pierre"});
  specialty(foret, "SM54");
  auto& office = place(r, "123456789", "ExamplePractitioner", {"25 CHEMIN DE MOUNESTIE"}, "31840", "Aussonne");
  office.set_rpps_rang("12345678912345");
  office.set_phone("05 61 85 59 77");

  auto& s = slot(r, "cpts-slot", "123456789", "2024-06-12T16:40:00+02:00", "2024-06-12T17:00:00+02:00",
                 {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_CPTS});
  s.add_modes(pb::MODE_AT_PRACTICE);
  s.set_booking_url("https://exemple.com/rdv/com/");
  s.add_motives("Visite de contrôle");
  s.add_cpts_finess("950047225");
  if (example == 2) {
    s.add_cpts_finess("950046227");
    s.add_cpts_finess("1950047225");  // the first one again, prefixed: one reference only
  }

  // The rest of the agenda, which must not appear in the examples' answers.
  slot(r, "busy", "123456789", "2024-06-12T16:20:00+02:00", "2024-06-12T16:40:00+02:00",
       {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_CPTS})
      .set_status(pb::SLOT_BUSY);
  slot(r, "own-patients", "123456789", "2024-06-12T17:00:00+02:00", "2024-06-12T17:20:00+02:00",
       {pb::AUDIENCE_PATIENTELE_ONLY});
  slot(r, "too-late", "123456789", "2024-06-12T17:21:00+02:00", "2024-06-12T17:40:00+02:00", {pb::AUDIENCE_CPTS})
      .add_cpts_finess("950047225");

  // Another doctor, not asked for by the examples.
  practitioner(r, "other", "10003333336", "MARTIN", {"Claire"});
  place(r, "other-office", "other", {"1 place de la Mairie"}, "95000", "Cergy").set_finess("950000000");
  slot(r, "other-public", "other-office", "2024-06-12T16:30:00+02:00", "2024-06-12T16:50:00+02:00");
  slot(r, "other-cpts-only", "other-office", "2024-06-12T16:50:00+02:00", "2024-06-12T17:10:00+02:00",
       {pb::AUDIENCE_CPTS})
      .add_cpts_finess("950046227");

  add_example_cpts(r);
  return r;
}

}  // namespace sas::test::agenda
