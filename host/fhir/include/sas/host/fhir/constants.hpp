// Every URL, system, code and profile the host writes into SAS FHIR resources, in one place,
// spelled exactly as in the ANS IG "Service d'Accès aux Soins" 1.2.0 (FHIR R4 4.0.1).
#pragma once

#include <string_view>

#include "sas/sdk/ids.hpp"

namespace sas::host::fhir {

inline constexpr std::string_view kFhirVersion = "4.0.1";

// ---- Media types -----------------------------------------------------------------------------
inline constexpr std::string_view kFhirJsonMime = "application/fhir+json";
inline constexpr std::string_view kFhirJsonContentType = "application/fhir+json; charset=utf-8";

// ---- The guide --------------------------------------------------------------------------------
inline constexpr std::string_view kImplementationGuide = "https://interop.esante.gouv.fr/ig/fhir/sas";
inline constexpr std::string_view kCapabilityAgendaPsIndiv =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-PsIndiv";
inline constexpr std::string_view kCapabilityAgendaCpts =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-CPTS";
inline constexpr std::string_view kCapabilityAgendaSos =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/SAS-GestionnaireAgenda-SOS";
inline constexpr std::string_view kSearchParamSlotStart =
    "https://interop.esante.gouv.fr/ig/fhir/sas/SearchParameter/slot-sp-start";
inline constexpr std::string_view kSearchParamCptsServiceType =
    "https://interop.esante.gouv.fr/ig/fhir/sas/SearchParameter/cptsslot-sp-servicetype";

// ---- Identifier systems -----------------------------------------------------------------------
inline constexpr std::string_view kPractitionerIdSystem = sas::sdk::ids::kPractitionerSystem;  // RPPS/ADELI
inline constexpr std::string_view kStructureIdSystem = sas::sdk::ids::kStructureSystem;        // FINESS/SIRET/RPPS-rang
inline constexpr std::string_view kSasPlatformSystem = "urn:oid:1.2.250.1.213.3.6";  // SAS technical ids, meta.source

// ---- Code systems -----------------------------------------------------------------------------
inline constexpr std::string_view kIdentifierTypeSystem = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203";
// The same identifier types as FR Core publishes them: the system sas-cpts-organization-aggregator
// pins for its IDNST (where FrPractitionerRoleExerciceAgregateur keeps the interopsante one).
inline constexpr std::string_view kFrCoreIdentifierTypeSystem =
    "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
inline constexpr std::string_view kLocationIdentifierTypeSystem =
    "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type";
inline constexpr std::string_view kSlotTypeSystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau";
inline constexpr std::string_view kSpecialtySystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
inline constexpr std::string_view kCategorieEtablissementSystem =
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement";
inline constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
inline constexpr std::string_view kAppointmentTypeSystem = "http://terminology.hl7.org/CodeSystem/v2-0276";
inline constexpr std::string_view kIso3166System = "urn:iso:std:iso:3166";
// Appointment.participant.type of an SOS Médecins appointment (no practitioner named).
inline constexpr std::string_view kParticipationTypeSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

// ---- Codes ------------------------------------------------------------------------------------
namespace code {
// Identifier types (fr-v2-0203; INTRN also in fr-location-identifier-type).
inline constexpr std::string_view kIdnps = "IDNPS";
inline constexpr std::string_view kIdnst = "IDNST";
inline constexpr std::string_view kIntrn = "INTRN";
// Slot types (TRE_R314).
inline constexpr std::string_view kSlotPublic = "PUBLIC";
inline constexpr std::string_view kSlotPro = "PRO";
inline constexpr std::string_view kSlotSnp = "SNP";
inline constexpr std::string_view kSlotCpts = "CPTS";
// Consultation modes (v3-ActCode).
inline constexpr std::string_view kModeAmbulatory = "AMB";
inline constexpr std::string_view kModeHome = "HH";
inline constexpr std::string_view kModeVirtual = "VR";
// With / without appointment (v2-0276).
inline constexpr std::string_view kRoutine = "ROUTINE";
inline constexpr std::string_view kWalkIn = "WALKIN";
// CPTS service type (TRE_R66).
inline constexpr std::string_view kCategorieCpts = "604";
// SOS Médecins appointment participant type (v3-ParticipationType, sas-valueset-appointmentparticipanttype).
inline constexpr std::string_view kParticipantAdmitter = "ADM";
}  // namespace code

// ---- Profiles ---------------------------------------------------------------------------------
namespace profile {
// INT_R01 (individual practitioners).
inline constexpr std::string_view kBundle = "http://sas.fr/fhir/StructureDefinition/BundleAgregateur";
inline constexpr std::string_view kSlot = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur";
inline constexpr std::string_view kSchedule = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur";
inline constexpr std::string_view kPractitioner = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur";
inline constexpr std::string_view kPractitionerRole =
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur";
inline constexpr std::string_view kLocation = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur";
// INT_R02 / INT_R03.
inline constexpr std::string_view kPractitionerRegul =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul";
inline constexpr std::string_view kAppointment = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";
// INT_R04 (CPTS).
inline constexpr std::string_view kCptsBundle =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";
inline constexpr std::string_view kCptsSlot =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
inline constexpr std::string_view kCptsHealthcareService =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator";
inline constexpr std::string_view kCptsOrganization =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator";
// SOS Médecins.
inline constexpr std::string_view kSosBundle =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator";
inline constexpr std::string_view kSosSlot =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator";
inline constexpr std::string_view kSosSchedule =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-schedule-aggregator";
inline constexpr std::string_view kSosLocation =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator";
inline constexpr std::string_view kSosOrganization =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-organization-aggregator";
inline constexpr std::string_view kSosAppointment =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-appointment";
}  // namespace profile

// ---- Extensions -------------------------------------------------------------------------------
namespace extension {
inline constexpr std::string_view kSlotServiceTypeR5 =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";
inline constexpr std::string_view kAppointmentOperator =
    "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator";
inline constexpr std::string_view kCategorieOrientation =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-categorie-orientation";
}  // namespace extension

}  // namespace sas::host::fhir
