// The profile validator against the SAS IG package in ../shared/ig: every official example is valid,
// and mutated copies of them are caught with the right kind of issue.
#include <sas/conformance/profile_validator.hpp>
#include <sas_test/support.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using sas::conformance::Constraint;
using sas::conformance::Issue;
using sas::conformance::ProfileSet;

constexpr const char* kSasSlot = "http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur";
constexpr const char* kSosSlot =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator";
constexpr const char* kRegul = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul";
constexpr const char* kPractitioner = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur";
constexpr const char* kSosSecurity = "https://interop.esante.gouv.fr/ig/fhir/sas/ValueSet/sas-sos-valueset-typecreneau";

const ProfileSet& profiles() {
  static const ProfileSet set = ProfileSet::load(sas::test::ig_dir());
  return set;
}

json::value example(const std::string& file) {
  return json::parse(sas::test::read_file(sas::test::ig_dir() / "example" / file));
}

std::string describe(const std::vector<Issue>& issues) {
  std::ostringstream out;
  for (const auto& i : issues) out << "  " << sas::conformance::to_string(i) << "\n";
  return out.str();
}

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(sas::test::ig_dir() / "example"))
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string test_name(const std::string& file) {
  std::string name = file.substr(0, file.size() - 5);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// --- The package ----------------------------------------------------------------------------------------

TEST(ProfileSetLoad, LoadsEveryStructureDefinitionOfThePackage) {
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(sas::test::ig_dir()))
    if (e.path().filename().string().starts_with("StructureDefinition-")) ++files;
  EXPECT_EQ(profiles().profile_urls().size(), files);

  const auto* slot = profiles().find(kSasSlot);
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(slot->type, "Slot");
  EXPECT_EQ(slot->elements.front().id, "Slot");
  EXPECT_NE(profiles().find(std::string(kSasSlot) + "|1.2.0"), nullptr);
  EXPECT_EQ(profiles().find("http://example.org/StructureDefinition/none"), nullptr);
}

TEST(ProfileSetLoad, ThrowsOnAMissingDirectory) {
  EXPECT_THROW(ProfileSet::load(sas::test::ig_dir() / "no-such-dir"), std::runtime_error);
}

TEST(ProfileSetLoad, BuildsTheElementTreeFromIds) {
  const auto* slot = profiles().find(kSasSlot);
  ASSERT_NE(slot, nullptr);
  const auto& els = slot->elements;
  auto it = std::find_if(els.begin(), els.end(), [](const auto& e) { return e.id == "Slot.serviceType"; });
  ASSERT_NE(it, els.end());
  ASSERT_TRUE(it->slicing.has_value());
  ASSERT_EQ(it->slices.size(), 1u);
  const auto& slice = els[it->slices[0]];
  EXPECT_EQ(slice.slice_name, "TypeConsultation");
  auto coding = std::find_if(slice.children.begin(), slice.children.end(),
                             [&](std::size_t c) { return els[c].name() == "coding"; });
  ASSERT_NE(coding, slice.children.end());
  auto system = std::find_if(els[*coding].children.begin(), els[*coding].children.end(),
                             [&](std::size_t c) { return els[c].name() == "system"; });
  ASSERT_NE(system, els[*coding].children.end());
  EXPECT_EQ(els[*system].min, 1u);
  ASSERT_TRUE(els[*system].pattern.has_value());
  EXPECT_EQ(els[*system].pattern->as_string(), "http://terminology.hl7.org/CodeSystem/v3-ActCode");
}

TEST(ValueSets, AreExpandedFromThePackage) {
  EXPECT_EQ(profiles().value_set_contains(
                kSosSecurity, "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau", "SNP"),
            true);
  EXPECT_EQ(profiles().value_set_contains(
                kSosSecurity, "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau", "PRO"),
            false);
  // An include of a whole CodeSystem of the package, next to an explicit concept list.
  const char* orientation = "https://interop.esante.gouv.fr/ig/fhir/sas/ValueSet/categorie-orientation-sas-valueset";
  EXPECT_EQ(profiles().value_set_contains(
                orientation,
                "https://interop.esante.gouv.fr/ig/fhir/sas/CodeSystem/categorie-orientation-sas-codesystem", "003"),
            true);
  EXPECT_EQ(
      profiles().value_set_contains(
          orientation,
          "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement", "604"),
      true);
  EXPECT_EQ(profiles().value_set_contains("http://hl7.org/fhir/ValueSet/slotstatus", "", "free"), std::nullopt);
}

TEST(ValueSets, RequiredBindingsOutsideThePackageAreListed) {
  const auto& skipped = profiles().skipped_bindings();
  auto has = [&](const std::string& profile, const std::string& element, const std::string& vs) {
    return std::any_of(skipped.begin(), skipped.end(), [&](const auto& s) {
      return s.profile_url == profile && s.element_id == element && s.value_set == vs && !s.reason.empty();
    });
  };
  EXPECT_TRUE(has(kSasSlot, "Slot.status", "http://hl7.org/fhir/ValueSet/slotstatus"));
  EXPECT_TRUE(has(kSasSlot, "Slot.meta.security",
                  "https://mos.esante.gouv.fr/NOS/JDV_J165-TypeCreneau-SAS/FHIR/JDV-J165-TypeCreneau-SAS"));
  EXPECT_FALSE(has(kSosSlot, "Slot.meta.security", kSosSecurity));  // in the package: enforced
}

TEST(Constraints, AreDerivedFromTheSnapshot) {
  auto list = profiles().constraints(kSasSlot);
  auto find = [&](const std::string& element, const std::string& kind) -> const Constraint* {
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const auto& c) { return c.element_id == element && c.kind == kind; });
    return it == list.end() ? nullptr : &*it;
  };
  ASSERT_NE(find("Slot.status", "fixed"), nullptr);
  EXPECT_EQ(find("Slot.status", "fixed")->expected, "\"free\"");
  ASSERT_NE(find("Slot.schedule", "cardinality"), nullptr);
  EXPECT_EQ(find("Slot.schedule", "cardinality")->expected, "1..1");
  ASSERT_NE(find("Slot.serviceType:TypeConsultation.coding.system", "pattern"), nullptr);
  ASSERT_NE(find("Slot.meta.security", "binding"), nullptr);
  EXPECT_FALSE(find("Slot.meta.security", "binding")->enforced);
  ASSERT_NE(find("Slot.schedule", "reference"), nullptr);
  EXPECT_EQ(find("Slot.comment", "cardinality"), nullptr);  // 0..1 as in core: nothing to check
  for (const auto& c : list) EXPECT_EQ(c.profile_url, kSasSlot);
  // Every issue kind but "profile" has a root constraint to fall back on.
  for (const char* kind : {"type", "empty", "unknown-element", "cardinality", "fixed", "pattern", "binding", "slicing",
                           "reference", "contained"})
    EXPECT_NE(find("Slot", kind), nullptr) << kind;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& c : list) EXPECT_TRUE(keys.insert({c.element_id, c.kind}).second) << c.element_id << " " << c.kind;

  auto sos = profiles().constraints(kSosSlot);
  EXPECT_TRUE(std::any_of(sos.begin(), sos.end(), [](const auto& c) {
    return c.element_id == "Slot.meta.security" && c.kind == "binding" && c.enforced;
  }));
  EXPECT_TRUE(profiles().constraints("http://example.org/none").empty());
}

// --- Every official example is valid against the profile it declares --------------------------------

class OfficialExample : public testing::TestWithParam<std::string> {};

TEST_P(OfficialExample, IsValidAgainstItsDeclaredProfiles) {
  json::value resource = example(GetParam());
  const auto* meta = resource.as_object().if_contains("meta");
  ASSERT_NE(meta, nullptr);
  const auto& declared = meta->as_object().at("profile").as_array();
  ASSERT_FALSE(declared.empty());
  for (const auto& p : declared) EXPECT_NE(profiles().find(p.as_string()), nullptr) << p;

  auto issues = profiles().validate_declared(resource);
  EXPECT_TRUE(issues.empty()) << describe(issues);
  for (const auto& p : declared) {
    auto own = profiles().validate(resource, p.as_string());
    EXPECT_TRUE(own.empty()) << describe(own);
  }
}

INSTANTIATE_TEST_SUITE_P(Package, OfficialExample, testing::ValuesIn(example_files()),
                         [](const testing::TestParamInfo<std::string>& p) { return test_name(p.param); });

TEST(OfficialExamples, CoverEveryKindOfResourceTheFlowsUse) {
  auto files = example_files();
  EXPECT_GE(files.size(), 40u);
  for (const char* f :
       {"Bundle-ExampleBundlePSIndiv.json", "Bundle-ExampleBundleCPTS1.json", "Bundle-ExampleBundleCPTS2.json",
        "Bundle-ExampleBundleAgregateurSOS.json", "Appointment-1.json", "Practitioner-ExamplePractitionerRegul1.json"})
    EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
}

// --- Mutated copies of the official examples ---------------------------------------------------------

struct Mutation {
  std::string name;
  std::string file;
  std::function<void(json::value&)> mutate;
  std::string kind;
  std::string path;
  std::string element_id;  // "" = not checked
};

json::object& at(json::value& v, std::string_view pointer) { return v.at_pointer(pointer).as_object(); }

json::value coding(const char* system, const char* code) { return json::object{{"system", system}, {"code", code}}; }

std::vector<Mutation> mutations() {
  return {
      // A required element removed.
      {"RemoveSlotStatus", "Slot-ExampleSlotSOS1.json", [](json::value& v) { v.as_object().erase("status"); },
       "cardinality", "status", "Slot.status"},
      {"RemoveOperatorIdentifierSystem", "Appointment-1.json",
       [](json::value& v) { at(v, "/extension/0/valueReference/identifier").erase("system"); }, "cardinality",
       "extension[0].valueReference.identifier.system",
       "Appointment.extension:appointmentOperator.value[x]:valueReference.identifier.system"},
      {"RemoveOperatorExtension", "Appointment-2.json", [](json::value& v) { v.as_object().erase("extension"); },
       "cardinality", "extension", "Appointment.extension:appointmentOperator"},
      {"RemoveContainedLocationCity", "Bundle-ExampleBundlePSIndiv.json",
       [](json::value& v) { at(v, "/entry/3/resource/contained/0/address").erase("city"); }, "cardinality",
       "entry[3].resource.contained[0].address.city", "Location.address.city"},
      {"RemoveRegulatorActive", "Practitioner-ExamplePractitionerRegul1.json",
       [](json::value& v) { v.as_object().erase("active"); }, "cardinality", "active", "Practitioner.active"},
      {"RemoveBundleTotal", "Bundle-ExampleBundleCPTS1.json", [](json::value& v) { v.as_object().erase("total"); },
       "cardinality", "total", "Bundle.total"},
      {"RemoveSosLocationName", "Location-1111111111.json", [](json::value& v) { v.as_object().erase("name"); },
       "cardinality", "name", "Location.name"},
      {"RemovePractitionerIdentifier", "Practitioner-ExamplePractitioner.json",
       [](json::value& v) { v.as_object().erase("identifier"); }, "cardinality", "identifier",
       "Practitioner.identifier"},
      {"RemoveHealthcareServiceProvider", "HealthcareService-ExampleHealthcareServiceCPTS1.json",
       [](json::value& v) { v.as_object().erase("providedBy"); }, "cardinality", "providedBy",
       "HealthcareService.providedBy"},
      {"RemoveCptsServiceTypeReference", "Slot-ExampleSlotCPTS1.json",
       [](json::value& v) { at(v, "/serviceType/1").erase("extension"); }, "cardinality", "serviceType[1].extension",
       "Slot.serviceType:referencecpts.extension:sas-servicetype-r5"},
      // Empty elements.
      {"EmptyStringComment", "Slot-ExampleSlotPSIndiv1.json", [](json::value& v) { v.as_object()["comment"] = ""; },
       "empty", "comment", "Slot.comment"},
      {"EmptyStringInBundleEntry", "Bundle-ExampleBundlePSIndiv.json",
       [](json::value& v) { at(v, "/entry/0/resource/serviceType/2")["text"] = ""; }, "empty",
       "entry[0].resource.serviceType[2].text", ""},
      {"BlankFamilyName", "Practitioner-ExamplePractitioner2.json",
       [](json::value& v) { at(v, "/name/0")["family"] = "   "; }, "empty", "name[0].family", ""},
      {"EmptyObject", "Schedule-ExampleSchedule1.json",
       [](json::value& v) { v.at_pointer("/actor/0") = json::object(); }, "empty", "actor[0]", "Schedule.actor"},
      {"EmptyArray", "Slot-ExampleSlotSOS2.json", [](json::value& v) { at(v, "/meta")["tag"] = json::array(); },
       "empty", "meta.tag", ""},
      {"NullValue", "Appointment-1.json", [](json::value& v) { v.as_object()["comment"] = nullptr; }, "empty",
       "comment", ""},
      {"EmptyObjectInUnknownExtension", "Slot-ExampleSlotSOS3.json",
       [](json::value& v) {
         v.as_object()["extension"] =
             json::array{json::object{{"url", "http://example.org/x"}, {"valueCoding", json::object()}}};
       },
       "empty", "extension[0].valueCoding", ""},
      // Fixed and pattern values changed.
      {"ChangeFixedSlotStatus", "Slot-ExampleSlotPSIndiv2.json",
       [](json::value& v) { v.as_object()["status"] = "busy"; }, "fixed", "status", "Slot.status"},
      {"ChangePatternBundleType", "Bundle-ExampleBundlePSIndiv.json",
       [](json::value& v) { v.as_object()["type"] = "collection"; }, "pattern", "type", "Bundle.type"},
      {"ChangePatternIdentifierSystem", "Practitioner-ExamplePractitioner3.json",
       [](json::value& v) { at(v, "/identifier/0")["system"] = "urn:oid:1.2.3"; }, "pattern", "identifier[0].system",
       "Practitioner.identifier.system"},
      {"ChangePatternIdentifierType", "Organization-ExampleOrgaSOS1.json",
       [](json::value& v) { at(v, "/identifier/0/type/coding/0")["code"] = "FINEG"; }, "pattern", "identifier[0].type",
       "Organization.identifier.type"},
      {"ChangePatternRegulatorEmail", "Practitioner-ExamplePractitionerRegul2.json",
       [](json::value& v) { at(v, "/telecom/0")["system"] = "phone"; }, "pattern", "telecom[0].system",
       "Practitioner.telecom.system"},
      {"ChangePatternMetaSource", "Practitioner-ExamplePractitionerRegul3.json",
       [](json::value& v) { at(v, "/meta")["source"] = "urn:oid:1.2.3"; }, "pattern", "meta.source",
       "Practitioner.meta.source"},
      {"ChangePatternParticipantIdentifier", "Appointment-2.json",
       [](json::value& v) { at(v, "/participant/0/actor/identifier")["system"] = "urn:oid:1.2.250.1.71.4.2.2"; },
       "pattern", "participant[0].actor.identifier.system", "Appointment.participant.actor.identifier.system"},
      // Codes outside a required value set of the package.
      {"SosSlotTypeOutsideValueSet", "Slot-ExampleSlotSOS1.json",
       [](json::value& v) { at(v, "/meta/security/0")["code"] = "PRO"; }, "binding", "meta.security[0]",
       "Slot.meta.security"},
      {"CptsSlotTypeOutsideValueSet", "Slot-ExampleSlotCPTS2.json",
       [](json::value& v) { at(v, "/meta/security/1")["code"] = "XYZ"; }, "binding", "meta.security[1]",
       "Slot.meta.security"},
      {"ParticipantStatusOutsideValueSet", "Appointment-1.json",
       [](json::value& v) { at(v, "/participant/0")["status"] = "declined"; }, "binding", "participant[0].status",
       "Appointment.participant.status"},
      {"AppointmentTypeOutsideValueSet", "Slot-ExampleSlotSOS2.json",
       [](json::value& v) { at(v, "/appointmentType/coding/0")["code"] = "EMERGENCY"; }, "binding",
       "appointmentType.coding[0]", "Slot.appointmentType.coding"},
      {"ConsultationModeOutsideValueSet", "Slot-ExampleSlotSOS3.json",
       [](json::value& v) {
         v.at_pointer("/serviceType/0/coding/0") = coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER");
       },
       "binding", "serviceType[0].coding[0]", "Slot.serviceType.coding"},
      {"OperatorIdentifierTypeOutsideValueSet", "Appointment-12345678.json",
       [](json::value& v) { at(v, "/extension/0/valueReference/identifier/type/coding/0")["code"] = "RPPS"; },
       "binding", "extension[0].valueReference.identifier.type.coding[0]",
       "Appointment.extension:appointmentOperator.value[x]:valueReference.identifier.type.coding"},
      // A second value where the profile allows one.
      {"SecondAppointmentIdentifier", "Appointment-1.json",
       [](json::value& v) {
         v.at_pointer("/identifier").as_array().push_back(json::object{{"system", "urn:oid:1.2.3"}, {"value", "x"}});
       },
       "cardinality", "identifier", "Appointment.identifier"},
      {"SecondGivenName", "Practitioner-ExamplePractitionerRegul4.json",
       [](json::value& v) { v.at_pointer("/name/0/given").as_array().push_back("Marie"); }, "cardinality",
       "name[0].given", "Practitioner.name.given"},
      {"SecondSlotStatus", "Slot-ExampleSlotSOS4.json",
       [](json::value& v) {
         v.as_object()["status"] = json::array{"free", "free"};
       },
       "cardinality", "status", "Slot.status"},
      {"SecondAddressLine", "PractitionerRole-ExamplePractitionerRoleAgregateur.json",
       [](json::value& v) { v.at_pointer("/contained/0/address/line").as_array().push_back("Bat. B"); }, "cardinality",
       "contained[0].address.line", "Location.address.line"},
      {"SecondNationalIdentifier", "Practitioner-ExamplePractitionerRegul3.json",
       [](json::value& v) {
         auto& ids = v.at_pointer("/identifier").as_array();
         json::value second = ids[0];
         second.as_object()["value"] = "810002673900";
         ids.push_back(second);
       },
       "cardinality", "identifier", "Practitioner.identifier:IdentifiantNatPS"},
      {"SecondSelfLink", "Bundle-ExampleBundleCPTS2.json",
       [](json::value& v) { v.at_pointer("/link").as_array().push_back(v.at_pointer("/link/0")); }, "cardinality",
       "link", "Bundle.link"},
      {"ForbiddenScheduleServiceType", "Schedule-ExampleSchedule2.json",
       [](json::value& v) {
         v.as_object()["serviceType"] = json::array{json::object{{"text", "x"}}};
       },
       "cardinality", "serviceType", "Schedule.serviceType"},
      // Unknown elements.
      {"UnknownTopLevelElement", "Slot-ExampleSlotPSIndiv3.json", [](json::value& v) { v.as_object()["foo"] = 1; },
       "unknown-element", "foo", "Slot.foo"},
      {"UnknownCodingElement", "Slot-ExampleSlotPSIndiv4.json",
       [](json::value& v) { at(v, "/appointmentType/coding/0")["sytem"] = "x"; }, "unknown-element",
       "appointmentType.coding[0].sytem", "Slot.appointmentType.coding.sytem"},
      {"UnknownElementInBundleEntry", "Bundle-ExampleBundleAgregateurSOS.json",
       [](json::value& v) { at(v, "/entry/1/resource")["bar"] = "x"; }, "unknown-element", "entry[1].resource.bar",
       "Schedule.bar"},
      // JSON types and lexical forms.
      {"InstantWithoutOffset", "Slot-ExampleSlotPSIndiv5.json",
       [](json::value& v) { v.as_object()["start"] = "2021-11-05T09:00:00"; }, "type", "start", "Slot.start"},
      {"BooleanAsString", "Practitioner-ExamplePractitionerRegul1.json",
       [](json::value& v) { v.as_object()["active"] = "true"; }, "type", "active", "Practitioner.active"},
      {"RepeatingElementNotAnArray", "Practitioner-ExamplePractitioner.json",
       [](json::value& v) { at(v, "/name/0")["given"] = "Pierre"; }, "type", "name[0].given", ""},
      {"TotalAsString", "Bundle-ExampleBundleAgregateurSOS.json", [](json::value& v) { v.as_object()["total"] = "4"; },
       "type", "total", "Bundle.total"},
      {"OperatorValueOfWrongType", "Appointment-2.json",
       [](json::value& v) {
         auto& ext = at(v, "/extension/0");
         ext.erase("valueReference");
         ext["valueString"] = "3456780581";
       },
       "slicing", "extension[0].valueString", ""},
      // References and contained resources.
      {"UnresolvedReferenceInBundle", "Bundle-ExampleBundleCPTS1.json",
       [](json::value& v) { at(v, "/entry/0/resource/schedule")["reference"] = "Schedule/Nope"; }, "reference",
       "entry[0].resource.schedule.reference", "Slot.schedule"},
      {"ReferenceToWrongResourceType", "Bundle-ExampleBundlePSIndiv.json",
       [](json::value& v) { at(v, "/entry/0/resource/schedule")["reference"] = "Practitioner/ExamplePractitioner2"; },
       "reference", "entry[0].resource.schedule.reference", "Slot.schedule"},
      {"LocalReferenceToMissingContained", "PractitionerRole-ExamplePractitionerRoleAgregateur2.json",
       [](json::value& v) { at(v, "/location/0")["reference"] = "#Other"; }, "reference", "location[0].reference",
       "PractitionerRole.location"},
      {"UnreferencedContained", "PractitionerRole-ExamplePractitionerRoleAgregateur3.json",
       [](json::value& v) {
         json::value extra = v.at_pointer("/contained/0");
         extra.as_object()["id"] = "Extra";
         v.at_pointer("/contained").as_array().push_back(extra);
       },
       "contained", "contained[1]", ""},
      {"ContainedWithoutId", "PractitionerRole-ExamplePractitionerRoleAgregateur4.json",
       [](json::value& v) { at(v, "/contained/0").erase("id"); }, "contained", "contained[0]", ""},
      // Bundle slices and the profiles they impose on entries.
      {"CptsBundleWithoutCptsSlot", "Bundle-ExampleBundleCPTS1.json",
       [](json::value& v) { at(v, "/entry/0/resource/meta")["profile"] = json::array{kSasSlot}; }, "cardinality",
       "entry", "Bundle.entry:slotAgregateurCPTS"},
      {"UndeclaredEntryStillValidatedAgainstItsSlice", "Bundle-ExampleBundlePSIndiv.json",
       [](json::value& v) {
         at(v, "/entry/1/resource/meta").erase("profile");
         at(v, "/entry/1/resource")["serviceType"] = json::array{json::object{{"text", "x"}}};
       },
       "cardinality", "entry[1].resource.serviceType", "Schedule.serviceType"},
      {"UndeclaredTargetValidatedAgainstTargetProfile", "Bundle-ExampleBundleCPTS2.json",
       [](json::value& v) {
         at(v, "/entry/5/resource/meta").erase("profile");
         at(v, "/entry/5/resource/identifier/0")["system"] = "urn:oid:1.2.3";
       },
       "pattern", "entry[5].resource.identifier[0].system", "Organization.identifier.system"},
  };
}

class MutatedExample : public testing::TestWithParam<Mutation> {};

TEST_P(MutatedExample, IsCaughtWithTheRightKind) {
  const Mutation& m = GetParam();
  json::value resource = example(m.file);
  ASSERT_TRUE(profiles().validate_declared(resource).empty()) << m.file << " must be valid before the mutation";
  m.mutate(resource);
  auto issues = profiles().validate_declared(resource);
  auto match = std::find_if(issues.begin(), issues.end(), [&](const Issue& i) {
    return i.kind == m.kind && i.path == m.path && (m.element_id.empty() || i.element_id == m.element_id);
  });
  ASSERT_NE(match, issues.end()) << "expected [" << m.kind << "] at " << m.path << " (" << m.element_id << "), got:\n"
                                 << describe(issues);
  EXPECT_FALSE(match->message.empty());
  // Profile-derived issues carry the (profile, element, kind) of a constraint the suite can number.
  auto list = profiles().constraints(match->profile_url);
  static const std::set<std::string> kElementKinds = {"cardinality", "fixed", "pattern", "binding", "reference"};
  if (kElementKinds.contains(m.kind)) {
    EXPECT_TRUE(std::any_of(
        list.begin(), list.end(),
        [&](const Constraint& c) { return c.element_id == match->element_id && c.kind == match->kind && c.enforced; }))
        << "no constraint for " << sas::conformance::to_string(*match);
  }
  // Every issue maps at least to the root constraint of its kind.
  for (const auto& issue : issues) {
    if (issue.kind == "profile") continue;
    auto rules = profiles().constraints(issue.profile_url);
    EXPECT_TRUE(std::any_of(rules.begin(), rules.end(), [&](const Constraint& c) { return c.kind == issue.kind; }))
        << sas::conformance::to_string(issue);
  }
}

INSTANTIATE_TEST_SUITE_P(Package, MutatedExample, testing::ValuesIn(mutations()),
                         [](const testing::TestParamInfo<Mutation>& p) { return p.param.name; });

// --- API edges -------------------------------------------------------------------------------------------

TEST(Validate, UnknownProfileIsReported) {
  auto issues = profiles().validate(example("Slot-ExampleSlotSOS1.json"), "http://example.org/none");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, "profile");
}

TEST(Validate, ResourceOfAnotherTypeIsReported) {
  auto issues = profiles().validate(example("Slot-ExampleSlotSOS1.json"), kPractitioner);
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].kind, "type");
  EXPECT_EQ(issues[0].path, "");
}

TEST(Validate, MissingResourceTypeAndNonObjectsAreReported) {
  json::value slot = example("Slot-ExampleSlotSOS1.json");
  slot.as_object().erase("resourceType");
  auto issues = profiles().validate(slot, kSosSlot);
  EXPECT_TRUE(std::any_of(issues.begin(), issues.end(), [](const Issue& i) {
    return i.kind == "type" && i.path.empty();
  })) << describe(issues);
  EXPECT_FALSE(profiles().validate(json::value("Slot"), kSosSlot).empty());
  EXPECT_FALSE(profiles().validate_declared(json::value(42)).empty());
}

TEST(Validate, ResourceWithoutPackageProfileIsReported) {
  json::value slot = example("Slot-ExampleSlotSOS1.json");
  at(slot, "/meta")["profile"] = json::array{"http://hl7.org/fhir/StructureDefinition/Slot"};
  auto issues = profiles().validate_declared(slot);
  ASSERT_EQ(issues.size(), 1u) << describe(issues);
  EXPECT_EQ(issues[0].kind, "profile");
}

TEST(ValidateBundle, RejectsNonBundles) {
  auto issues = profiles().validate_bundle(example("Slot-ExampleSlotSOS1.json"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, "profile");
}

TEST(ValidateBundle, ReportsEntryIssuesUnderTheEntryProfile) {
  json::value bundle = example("Bundle-ExampleBundleAgregateurSOS.json");
  at(bundle, "/entry/0/resource")["comment"] = "";
  auto issues = profiles().validate_bundle(bundle);
  ASSERT_EQ(issues.size(), 1u) << describe(issues);
  EXPECT_EQ(issues[0].profile_url, kSosSlot);
  EXPECT_EQ(issues[0].path, "entry[0].resource.comment");
  EXPECT_EQ(issues[0].element_id, "Slot.comment");
}

TEST(ValidateBundle, BundleProfileAloneDoesNotDescendIntoEntries) {
  json::value bundle = example("Bundle-ExampleBundleAgregateurSOS.json");
  at(bundle, "/entry/0/resource")["comment"] = "";
  const char* sos_bundle = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator";
  EXPECT_TRUE(profiles().validate(bundle, sos_bundle).empty());
}

TEST(Validate, SeveralIssuesAreAllReported) {
  json::value regul = example("Practitioner-ExamplePractitionerRegul1.json");
  auto& o = regul.as_object();
  o.erase("active");
  o["gender"] = "";
  o["unknown"] = json::object{{"a", 1}};
  auto issues = profiles().validate(regul, kRegul);
  std::set<std::string> kinds;
  for (const auto& i : issues) kinds.insert(i.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"cardinality", "empty", "unknown-element"})) << describe(issues);
}

}  // namespace
