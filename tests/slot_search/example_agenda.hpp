// The agenda behind the IG's Bundle-ExampleBundlePSIndiv, written as a vendor's plugin would
// return it (shared by the golden and the profile validation tests).
#pragma once

#include "agenda.hpp"

namespace sas::test::agenda {

// The example's agenda as a vendor's plugin would return it. Stored forms vary on purpose
// (unprefixed RPPS, unprefixed FINESS, phone with dots) and the plugin over-answers with slots
// the host must drop.
inline pb::SearchSlotsResponse example_agenda() {
  pb::SearchSlotsResponse r;
  // Dr Sébastien THOMAS, two places; Dr Guillaume MARCEL, one place.
  auto& thomas = practitioner(r, "thomas", "10100050075", "THOMAS", {"Sébastien"});
  specialty(thomas, "SM54", "Médecine générale");
  specialty(thomas, "SM05");
  auto& marcel = practitioner(r, "marcel", "810002673899", "MARCEL", {"Guillaume"});
  specialty(marcel, "SM41");
  specialty(marcel, "", "Pneumologie");
  specialty(marcel, "SM54");

  place(r, "1", "thomas", {"1 rue Mme DELMAS"}, "47000", "AGEN").set_finess("810004421");
  place(r, "2", "thomas", {"30 rue Mme DELMAS"}, "47000", "AGEN").set_finess("1810004956");
  auto& m = place(r, "3", "marcel", {"1 rue Mme DELMAS"}, "47000", "AGEN");
  m.set_finess("810004421");
  m.set_phone("06.58.91.38.59");

  auto& s1 = slot(r, "slot-1", "1", "2021-11-05T09:00:00Z", "2021-11-05T09:30:00Z", {pb::AUDIENCE_PUBLIC});
  s1.add_modes(pb::MODE_AT_PRACTICE);
  s1.add_modes(pb::MODE_TELECONSULTATION);
  s1.add_motives("Visite de contrôle");
  s1.set_booking_url("https://exemple.com/rdv/com/");
  slot_specialty(s1, "SM54");
  slot_specialty(s1, "SM05");

  auto& s2 = slot(r, "slot-2", "2", "2021-11-05T11:00:00Z", "2021-11-05T11:30:00Z", {pb::AUDIENCE_PROFESSIONALS});
  s2.add_modes(pb::MODE_AT_PRACTICE);
  s2.add_motives("Visite urgente");
  s2.set_walk_in(true);
  slot_specialty(s2, "SM54", "Médecine générale");

  auto& s3 = slot(r, "slot-3", "3", "2021-11-04T14:20:00Z", "2021-11-04T14:40:00Z",
                  {pb::AUDIENCE_PUBLIC, pb::AUDIENCE_PROFESSIONALS});
  s3.add_modes(pb::MODE_TELECONSULTATION);
  s3.add_motives("Visite de contrôle");
  s3.add_motives("Consultation de suivi pneumologie");
  s3.set_booking_url("https://exemple.com/rdv/com/");
  slot_specialty(s3, "SM41");
  slot_specialty(s3, "", "Pneumologie");

  auto& s4 = slot(r, "slot-4", "3", "2021-11-04T14:40:00Z", "2021-11-04T15:00:00Z",
                  {pb::AUDIENCE_PROFESSIONALS, pb::AUDIENCE_PUBLIC});
  s4.add_modes(pb::MODE_AT_HOME);
  s4.add_motives("Visite de contrôle");
  s4.add_motives("Consultation de suivi pneumologique");
  s4.set_booking_url("https://exemple.com/rdv/com/");
  slot_specialty(s4, "SM41");
  slot_specialty(s4, "SM54");

  // The rest of the agenda, which must not appear.
  slot(r, "busy", "1", "2021-11-05T10:00:00Z", "2021-11-05T10:30:00Z").set_status(pb::SLOT_BUSY);
  slot(r, "own-patients", "2", "2021-11-05T12:00:00Z", "2021-11-05T12:30:00Z", {pb::AUDIENCE_PATIENTELE_ONLY});
  slot(r, "too-early", "3", "2021-11-04T14:19:00Z", "2021-11-04T14:39:00Z");
  slot(r, "too-late", "3", "2021-11-07T00:00:00Z", "2021-11-07T00:20:00Z");
  return r;
}

}  // namespace sas::test::agenda
