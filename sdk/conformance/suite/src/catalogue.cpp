// The hand-written checks, and the profile checks generated from the IG package.
#include <sas/conformance/catalogue.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sas::conformance {
namespace {

constexpr const char* kIg = "https://interop.esante.gouv.fr/ig/fhir/sas/";
constexpr const char* kSearchPage =
    "https://interop.esante.gouv.fr/ig/fhir/sas/specifications_techniques-ps-recherche_creneaux.html";
constexpr const char* kAccountsPage =
    "https://interop.esante.gouv.fr/ig/fhir/sas/specifications_techniques-ps-gestion_regulateur.html";
constexpr const char* kFaqPage = "https://interop.esante.gouv.fr/ig/fhir/sas/faq.html";
constexpr const char* kCptsPage =
    "https://interop.esante.gouv.fr/ig/fhir/sas/specifications_techniques-cpts-recherche_creneaux.html";
constexpr const char* kSosPage =
    "https://interop.esante.gouv.fr/ig/fhir/sas/specifications_techniques-sos-recherche_creneaux.html";
constexpr const char* kSecurityPage = "https://interop.esante.gouv.fr/ig/fhir/sas/securite.html";
constexpr const char* kMtlsSpec =
    "https://esante.gouv.fr/sites/default/files/media/document/"
    "SAS_SPEC_Securisation-des-echanges-par-mTLS_20240524_V3.2.pdf";
constexpr const char* kBoth = "plugin endpoint";
constexpr const char* kAppointmentProfile =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition-FrAppointmentSAS.html";
constexpr const char* kAppointmentCapability =
    "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement-SAS-GestionnaireAgenda-RDVpsindiv.html";
// The SAS functional specification (where SAS-origin consultations come from); the billing host
// calls themselves are our own ABI (docs/abi.md), which has no public page.
constexpr const char* kAbiPage = "https://interop.esante.gouv.fr/ig/fhir/sas/specifications_fonctionnelles.html";

std::vector<std::string> reqs(std::initializer_list<int> numbers) {
  std::vector<std::string> out;
  for (int n : numbers) out.push_back("agg-psindiv@" + std::to_string(n));
  return out;
}

// Tests of ANS's kit that no requirement names, by the kit's run option: ig_launch_2 is CPTS,
// ig_launch_3 SOS (kit_tests() lists them).
std::vector<std::string> kit(const char* option, std::initializer_list<const char*> tests) {
  std::vector<std::string> out;
  for (const char* t : tests) out.push_back(std::string(option) + ":" + t);
  return out;
}
std::vector<std::string> cpts_kit(std::initializer_list<const char*> tests) { return kit("ig_launch_2", tests); }
std::vector<std::string> sos_kit(std::initializer_list<const char*> tests) { return kit("ig_launch_3", tests); }

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Check check(std::string id, std::string title, std::string reference, Severity severity, std::string modes,
            std::string flow, std::string group, std::vector<std::string> requirements) {
  Check c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.reference = std::move(reference);
  c.severity = severity;
  c.modes = std::move(modes);
  c.flow = std::move(flow);
  c.group = std::move(group);
  c.requirements = std::move(requirements);
  return c;
}

// The SHALLs the hand-written checks cite (docs/certification.md, "Severity rule").
constexpr const char* kQueryForms =
    "IG INT_R01 (recherche de créneaux): the platform's query, with `|` possibly sent as %7C, `+` as %2B or raw, "
    "and spaces after the commas in its own example";
constexpr const char* kRefusal =
    "IG INT_R01: a request the server cannot execute (missing or invalid parameter, more than 25 ids) is "
    "answered 4xx with an OperationOutcome";
constexpr const char* kCptsRefusal =
    "IG INT_R04 (recherche de créneaux CPTS): the INT_R01 search and its rules, a request the server cannot "
    "execute answered 4xx with an OperationOutcome";
constexpr const char* kSosRefusal =
    "IG SOS Médecins (recherche de créneaux SOS): 1 to 25 association SIRETs; a request the server cannot execute "
    "is answered 4xx with an OperationOutcome";

std::vector<Check> written_checks() {
  const auto E = Severity::error;
  const auto W = Severity::warning;
  const std::string faq = kFaqPage;
  std::vector<Check> c;
  auto cited = [&](std::string citation) { c.back().citation = std::move(citation); };
  // --- INT_R01 queries: every form the platform sends, and the refusals -------------------------
  auto q = [&](const char* n, const char* title, Severity s, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("R01-QUERY-") + n, title, kSearchPage, s, kBoth, "INT_R01", "QUERY", std::move(r)));
    cited(std::move(why));
  };
  q("001", "the platform's query (`|` raw, `+` as %2B, milliseconds) is answered 200 with a searchset Bundle", E,
    reqs({4, 6, 26, 27, 28, 29, 30}),
    "agg-psindiv@4, @26-30: the server SHALL support the Slot search with start, status, _include, "
    "_include:iterate and schedule.actor:Practitioner.identifier");
  q("002", "`|` sent as %7C gives the same answer", E, reqs({29}), std::string(kQueryForms) + "; agg-psindiv@29");
  q("003", "`+` of the offsets sent raw gives the same answer", E, reqs({26}),
    std::string(kQueryForms) + "; agg-psindiv@26");
  q("004", "dates without milliseconds give the same answer", W, {},
    "warning: the platform always sends milliseconds (IG INT_R01); other precisions are robustness only");
  q("005", "spaces after the commas of the identifier list give the same answer", E, reqs({29}),
    std::string(kQueryForms) + "; agg-psindiv@29");
  q("006", "the parameters in another order (`status` and `_include`s first) give the same answer", E, reqs({28, 30}),
    "agg-psindiv@28, @30 (SHALL support the parameters); FHIR R4 search: the order of the parameters has no meaning");
  q("007", "`_count` caps the entries, not `total`", W, {},
    "warning: the IG's CapabilityStatement SAS-GestionnaireAgenda-PsIndiv declares no _count; FHIR lets a server "
    "ignore a parameter it does not support");
  q("008", "unprefixed RPPS ids in the query find the same slots", W, {},
    "warning: the platform sends prefixed ids (IG INT_R01); agg-psindiv@16 is about Practitioner.identifier, not "
    "the query");
  q("009", "an unknown practitioner is answered 200 with an empty Bundle, `total: 0`", E, reqs({8}),
    "agg-psindiv@8: when no slot is available the server SHALL return an empty Bundle; IG FAQ item 9");
  q("010", "`start=ge` missing: 4xx with an OperationOutcome", E, {}, kRefusal);
  q("011", "`start=le` missing: 4xx with an OperationOutcome", E, {}, kRefusal);
  q("012", "a malformed date: 4xx with an OperationOutcome", E, {}, kRefusal);
  q("013", "`le` before `ge`: 4xx with an OperationOutcome", W, {},
    "warning: an empty window is a valid (empty) search in FHIR; the IG does not call it invalid");
  q("014", "more than 25 practitioner ids: 4xx with an OperationOutcome", E, {}, kRefusal);
  q("015", "an identifier system other than urn:oid:1.2.250.1.71.4.2.1: 4xx with an OperationOutcome", W, {},
    "warning: the platform only sends the RPPS system; FHIR lets a server answer a search on an unknown system "
    "with no match");
  q("016", "`status` missing: 4xx with an OperationOutcome", W, reqs({27}),
    "warning: status=free is always sent by the platform; a server may treat it as optional");
  q("017", "`GET [base]/metadata` answers a CapabilityStatement with the Slot search", W, {},
    "warning: the platform never calls /metadata and neither the IG nor ANS's kit require it of the agenda");
  // --- INT_R01 answers: what the profiles cannot say --------------------------------------------
  auto b = [&](const char* n, const char* title, Severity s, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("R01-BUNDLE-") + n, title, kSearchPage, s, kBoth, "INT_R01", "BUNDLE", std::move(r)));
    cited(std::move(why));
  };
  b("001", "`total` is the number of Slot matches", E, reqs({13}),
    "agg-psindiv@13 (Bundle SHALL conform to BundleAgregateur); FHIR R4 Bundle.total: the number of matches");
  b("002", "`search.mode` is `match` for Slots and `include` for the other resources", E, reqs({13}),
    "agg-psindiv@13; FHIR R4 search: matches are `match`, _include'd resources `include`");
  b("003", "every Slot starts inside the requested window", E, reqs({5, 6, 7}),
    "agg-psindiv@5 (SHALL NOT start before start=ge), @6 (SHALL filter), @7 (SHALL be in the window)");
  b("004", "every Slot ends after it starts", W, reqs({11}),
    "warning: agg-psindiv@11 requires start and end (the profile checks); their order is not stated as a SHALL");
  b("005", "no resource appears twice in the Bundle", E, reqs({42, 44}),
    "agg-psindiv@42, @44: the Bundle SHALL be consistent in the cardinality of its resources; FHIR bdl-7 "
    "(fullUrl unique)");
  b("006", "`Slot.comment` is the booking page, an absolute https URL", E, reqs({25}),
    "agg-psindiv@25: a free Slot SHALL have its comment set to the booking URL");
  b("007", "`Slot.start`/`end` written as YYYY-MM-DDThh:mm:ss.sss+hh:mm", E, reqs({45}),
    "agg-psindiv@45: start and end SHALL follow the format AAAA-MM-DDTHH:MM:SS.000+0X:00");
  b("008", "`Slot.appointmentType` says how to come: v2-0276 ROUTINE (appointment) or WALKIN", E, reqs({49}),
    "agg-psindiv@49: whether an appointment is needed SHALL be carried in Slot.appointmentType.coding.code");
  // --- The eleven errors of the IG's FAQ --------------------------------------------------------
  auto f = [&](const char* n, const char* title, std::vector<std::string> r) {
    c.push_back(check(std::string("R01-FAQ-") + n, title, faq, E, kBoth, "INT_R01", "FAQ", std::move(r)));
    std::string why = std::string("IG FAQ, error ") + n + " of the errors the FAQ lists";
    for (const auto& req : c.back().requirements) why += "; " + req;
    cited(why);
  };
  f("01", "national ids are prefixed: Practitioner IDNPS `8`+RPPS or `0`+ADELI, structure IDNST `0`/`1`/`3`/`4`",
    reqs({16, 17, 18}));
  f("02", "phone numbers in international format (+33...)", {});
  f("03", "specialties sent, as TRE_R38 coding or as text", reqs({41}));
  f("04", "every Slot carries its slot types (TRE_R314 PUBLIC, PRO, SNP, CPTS) in meta.security", reqs({23, 46}));
  f("05", "consultation modes coded (v3-ActCode AMB, HH, VR), motives as text", reqs({24, 48}));
  f("06", "a CPTS slot has the serviceType 604 → HealthcareService → Organization chain", {});
  f("07", "several places: each Schedule is one place, its PractitionerRole belongs to its Practitioner",
    reqs({19, 22, 42, 43}));
  f("08", "several doctors: every Slot belongs to a practitioner who was asked for, one Practitioner per id",
    reqs({15, 44}));
  f("09", "no match is a success: 200, `total: 0`", reqs({8}));
  f("10", "no empty element (\"\", {}, [], null, blank strings)", {});
  f("11", "a slot visible to two CPTS is linked to both (one serviceType 604 per HealthcareService)", {});
  // --- INT_R04 CPTS search: the INT_R01 search with the CPTS chain ------------------------------
  auto cq = [&](const char* n, const char* title, Severity s, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("R04-QUERY-") + n, title, kCptsPage, s, kBoth, "INT_R04", "QUERY", std::move(r)));
    cited(std::move(why));
  };
  cq("001",
     "the platform's CPTS query (`_include=Slot:service-type-reference`, `_include:iterate=HealthcareService:"
     "organization` and the INT_R01 parameters) is answered 200 with a searchset Bundle",
     E, joined(reqs({4, 28, 30}), cpts_kit({"slot_search_setup"})),
     "IG INT_R04: the server SHALL answer the platform's CPTS search; ANS test kit ig_launch_2:slot_search_setup "
     "(200 and a Bundle); agg-psindiv@4, @28, @30");
  cq("002", "`|` sent as %7C, `+` sent raw and the parameters in another order give the same answer", E,
     reqs({26, 28, 29, 30}), std::string(kQueryForms) + " (INT_R04 is the same search); agg-psindiv@26, @28-30");
  cq("003",
     "the query without `_include:iterate=HealthcareService:organization` (the IG examples' self link) gives the "
     "same Slots",
     W, {},
     "warning: the IG page sends the `_include:iterate`; its examples ExampleBundleCPTS1/2 were answered to a query "
     "without it");
  cq("004", "`start=ge` missing: 4xx with an OperationOutcome", E, {}, kCptsRefusal);
  cq("005", "more than 25 practitioner ids: 4xx with an OperationOutcome", E, {}, kCptsRefusal);
  cq("006", "an `_include` the IG does not define (`Slot:unknown`): 4xx with an OperationOutcome", W, {},
     "warning: FHIR R4 lets a server ignore an _include it does not support (lenient handling); the IG does not "
     "say which");
  cq("007", "practitioners with no CPTS slot are answered 200 with an empty Bundle, `total: 0`", E, reqs({8}),
     "IG FAQ item 9 (no match is a success, total: 0), for the CPTS search too; agg-psindiv@8");
  auto cc = [&](const char* n, const char* title, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("R04-CPTS-") + n, title, kCptsPage, E, kBoth, "INT_R04", "CPTS", std::move(r)));
    cited(std::move(why));
  };
  cc("001",
     "the answer declares the CPTS profiles: the Bundle sas-cpts-bundle-aggregator, each Slot "
     "sas-cpts-slot-aggregator, each HealthcareService and Organization its CPTS profile",
     cpts_kit({"slot_group"}),
     "IG INT_R04: the answer is a sas-cpts-bundle-aggregator Bundle of the CPTS profiles; ANS test kit "
     "ig_launch_2:slot_group validates the Bundle against sas-cpts-bundle-aggregator");
  cc("002",
     "a Slot typed CPTS has, per CPTS, a serviceType coded TRE_R66 `604` whose R5 extension "
     "(extension-Slot.serviceType) references a HealthcareService of the Bundle",
     cpts_kit({"cpts_validate_service_type", "cpts_validate_service_type_healthcare_service_ref", "validate_ref_cpts"}),
     "IG FAQ, error 06 (a CPTS slot without its serviceType → HealthcareService → Organization chain); IG INT_R04 "
     "(the profile's reference constraint on the R5 extension, whose issues this check numbers); ANS test kit "
     "ig_launch_2:cpts_validate_service_type, cpts_validate_service_type_healthcare_service_ref, "
     "validate_ref_cpts");
  cc("003",
     "a Slot linked to a CPTS (serviceType `604` or its R5 extension) carries the slot type CPTS in meta.security",
     joined(reqs({23}), cpts_kit({"cpts_validate_meta"})),
     "IG FAQ, errors 04 and 06 (the slot types in meta.security; the CPTS type and its chain go together); ANS test "
     "kit ig_launch_2:cpts_validate_meta; agg-psindiv@23");
  cc("004", "every HealthcareService's `providedBy` references a CPTS Organization of the Bundle",
     cpts_kit({"cpts_validate_healthcare_service_organization_ref", "validate_ref_cpts"}),
     "IG FAQ, error 06 (the chain ends at the CPTS Organization); IG INT_R04 (_include:iterate=HealthcareService:"
     "organization; the profile's reference constraint on providedBy, whose issues this check numbers); ANS test kit "
     "ig_launch_2:cpts_validate_healthcare_service_organization_ref, validate_ref_cpts");
  cc("005",
     "one HealthcareService per CPTS: as many HealthcareServices as CPTS Organizations, each Organization provided by "
     "one",
     cpts_kit({"validate_cardinality_cpts"}),
     "IG INT_R04: one HealthcareService per CPTS, pointing to the CPTS Organization; ANS test kit "
     "ig_launch_2:validate_cardinality_cpts (as many HealthcareServices as Organizations)");
  cc("006",
     "a Slot open to two CPTS references both: distinct HealthcareServices of distinct Organizations (and the "
     "practitioner declared so has such a Slot)",
     cpts_kit({"cpts_validate_service_type_multiple_healthcare_service_ref",
               "cpts_validate_healthcare_service_cardinality", "cpts_validate_organization_cardinality"}),
     "IG FAQ, error 11 (a slot visible to two CPTS not linked to both); ANS test kit "
     "ig_launch_2:cpts_validate_service_type_multiple_healthcare_service_ref, "
     "cpts_validate_healthcare_service_cardinality, cpts_validate_organization_cardinality");
  cc("007", "the CPTS Organization is identified by its IDNST `1`+FINESS (system urn:oid:1.2.250.1.71.4.2.2)",
     cpts_kit({"validate_cpts_id"}),
     "IG INT_R04 (the CPTS Organization, IDNST 1 + FINESS); IG FAQ, error 01 (national ids prefixed); ANS test kit "
     "ig_launch_2:validate_cpts_id");
  cc("008", "every CPTS Organization has its name", cpts_kit({"orga_optionnel_group"}),
     "ANS test kit ig_launch_2:orga_optionnel_group (CPTS name: the name of the CPTS must be present); IG INT_R04");
  cc("009", "every CPTS Organization has its phone, in international format (+33...)",
     cpts_kit({"orga_optionnel_group"}),
     "ANS test kit ig_launch_2:orga_optionnel_group (CPTS phone: the phone of the CPTS must be present); IG FAQ, "
     "error 02 (phones as +33...)");
  cc("010", "every practitioner declared open to CPTS (--cpts-practitioners) has Slots open to a CPTS in the answer",
     cpts_kit({"slot_search_setup", "validate_cardinality_cpts"}),
     "IG INT_R04: a slot visible to a CPTS is sent in the CPTS search (typed CPTS, with its chain: R04-CPTS-002 and "
     "-003); ANS test kit ig_launch_2:slot_search_setup (Slots returned for the practitioner) and "
     "validate_cardinality_cpts (HealthcareService and Organization present)");
  // --- SOS Médecins search ------------------------------------------------------------------------
  auto sq = [&](const char* n, const char* title, Severity s, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("SOS-QUERY-") + n, title, kSosPage, s, kBoth, "SOS", "QUERY", std::move(r)));
    cited(std::move(why));
  };
  sq("001",
     "the platform's SOS query (`GET [base]/Schedule?_revinclude=Slot:schedule&...&actor:Location.organization."
     "identifier=...`) is answered 200 with a searchset Bundle",
     E, sos_kit({"slot_search_setup"}),
     "IG SOS Médecins: the server SHALL answer the platform's Schedule search; ANS test kit "
     "ig_launch_3:slot_search_setup (200 and a Bundle)");
  sq("002",
     "the query as the IG example's self link writes it (`|` as %7C, dates without milliseconds, `+` raw, "
     "`_count=1000`) gives the same answer",
     E, {}, "IG SOS Médecins, ExampleBundleAgregateurSOS: its self link is the platform's query, in that form");
  sq("003", "25 association SIRETs are accepted: 200 with a searchset Bundle", E, {},
     "IG SOS Médecins (technical table): up to 25 SIRETs per search (the functional text's 10 is lower; the "
     "technical limit governs)");
  sq("004", "26 association SIRETs: 4xx with an OperationOutcome", E, {}, kSosRefusal);
  sq("005", "`_has:Slot:schedule:start=ge` missing: 4xx with an OperationOutcome", E, {}, kSosRefusal);
  sq("006", "an association unknown to the agenda is answered 200 with an empty Bundle, `total: 0`", E, {},
     "IG FAQ item 9 (no match is a success, total: 0), for the SOS search too");
  auto sb = [&](const char* n, const char* title, std::vector<std::string> r, std::string why) {
    c.push_back(check(std::string("SOS-BUNDLE-") + n, title, kSosPage, E, kBoth, "SOS", "BUNDLE", std::move(r)));
    cited(std::move(why));
  };
  sb("001",
     "the answer declares the SOS profiles: the Bundle sas-sos-bundle-aggregator, each Schedule, Slot, Location "
     "and Organization its SOS profile",
     sos_kit({"validate_bundle"}),
     "IG SOS Médecins: the answer is a sas-sos-bundle-aggregator Bundle; ANS test kit ig_launch_3:validate_bundle");
  sb("002", "`search.mode` is `match` for Schedules and `include` for Slots, Locations and Organizations", {},
     "IG SOS Médecins (the search is on Schedule; Slots come by _revinclude, Locations and Organizations by "
     "_include); FHIR R4 search: matches are `match`, the others `include`; IG example ExampleBundleAgregateurSOS");
  sb("003", "`total` is the number of Schedule matches (FHIR) or of Slots (as the IG example counts)", {},
     "FHIR R4 Bundle.total: the number of matches; the IG example ExampleBundleAgregateurSOS counts its 4 Slots "
     "(for 3 Schedules), so either count passes and any other fails");
  sb("004", "every Slot starts inside the requested window and ends after it starts", sos_kit({"sos_validate_dates"}),
     "IG SOS Médecins (`_has:Slot:schedule:start=ge` and `le`: the start window); ANS test kit "
     "ig_launch_3:sos_validate_dates (start in the window, start before end)");
  sb("005", "every Slot carries its slot types in meta.security, only PUBLIC and SNP", sos_kit({"sos_validate_meta"}),
     "IG SOS Médecins: slot types limited to PUBLIC and SNP (sas-sos-slot-aggregator binds meta.security to "
     "sas-sos-valueset-typecreneau, whose issues this check numbers); ANS test kit ig_launch_3:sos_validate_meta");
  sb("006", "every Slot's `schedule` is a Schedule of the Bundle", sos_kit({"validate_slot_schedule_ref"}),
     "IG SOS Médecins (_revinclude=Slot:schedule; the profile's reference constraint on Slot.schedule, whose "
     "issues this check numbers); ANS test kit ig_launch_3:validate_slot_schedule_ref");
  sb("007", "every Schedule is one place: its one actor is a Location of the Bundle, the place of no other Schedule",
     sos_kit(
         {"validate_schedule_location_ref", "sos_validate_schedule_cardinality", "sos_validate_location_cardinality"}),
     "IG SOS Médecins: one Schedule per fixed consultation place (Location), _include=Schedule:actor:Location; ANS "
     "test kit ig_launch_3:validate_schedule_location_ref, sos_validate_schedule_cardinality, "
     "sos_validate_location_cardinality");
  sb("008", "every Location's `managingOrganization` is an Organization of the Bundle",
     sos_kit({"validate_location_organization_ref", "validate_organization_cardinality"}),
     "IG SOS Médecins (_include:iterate=Location:organization; the profile's reference constraint on "
     "Location.managingOrganization, whose issues this check numbers); ANS test kit "
     "ig_launch_3:validate_location_organization_ref, validate_organization_cardinality");
  sb("009",
     "the association is identified by its SIRET prefixed `3` (IDNST, 15 digits), one asked for (and every association "
     "declared with slots is in the answer)",
     sos_kit({"validate_organization_siret"}),
     "IG SOS Médecins (actor:Location.organization.identifier=urn:oid:1.2.250.1.71.4.2.2|3SIRET); IG FAQ, error 01; "
     "ANS test kit ig_launch_3:validate_organization_siret (the SIRET asked for, 3 + 14 digits)");
  sb("010", "one `self` link: the platform's query (a Schedule search; in a run, the parameters of the request)",
     sos_kit({"sos_validate_bundle_link"}),
     "ANS test kit ig_launch_3:sos_validate_bundle_link (Bundle.link.url has the request's query); IG example "
     "ExampleBundleAgregateurSOS (its self link is the platform's query)");
  sb("011", "phone numbers in international format (+33...)", sos_kit({"validate_location_phone"}),
     "IG FAQ, error 02; ANS test kit ig_launch_3:validate_location_phone");
  sb("012", "every association (Organization) has its name", sos_kit({"sos_validate_organization_name"}),
     "ANS test kit ig_launch_3:sos_validate_organization_name; IG example ExampleBundleAgregateurSOS");
  sb("013", "`Slot.comment` is the booking page, an absolute http(s) URL", sos_kit({"sos_validate_slots_comment"}),
     "ANS test kit ig_launch_3:sos_validate_slots_comment (a booking URL on every Slot); IG SOS Médecins");
  sb("014", "no empty element (\"\", {}, [], null, blank strings)", {},
     "IG FAQ, error 10 (an element the vendor does not have is omitted), for the SOS search too");
  sb("015", "no resource appears twice in the Bundle", {}, "IG SOS Médecins; FHIR bdl-7 (fullUrl unique in a Bundle)");
  // --- INT_R02 regulator accounts ---------------------------------------------------------------
  auto r = [&](const char* n, const char* title, Severity s, std::string why) {
    c.push_back(check(std::string("R02-") + n, title, kAccountsPage, s, kBoth, "INT_R02", "R02", {}));
    cited(std::move(why));
  };
  r("001", "POST [base]/Practitioner creates an account: 201 with a Location header", E,
    "IG INT_R02 (création par POST); FHIR R4 create: 201 Created, and the server SHALL return a Location header");
  r("002", "the same POST replayed is refused with a 4xx and an OperationOutcome", W,
    "warning: the IG does not state what a second create of one regulator gets");
  r("003", "a conditional PUT for an unknown identifier creates the account (201, or 200) with a Location", E,
    "IG INT_R02 (mise à jour par PUT conditionnel); FHIR R4 conditional update: no match, the server performs a "
    "create");
  r("004", "the same conditional PUT twice is idempotent: 200 the second time, a Location naming the same account", E,
    "IG INT_R02; FHIR R4 conditional update: one match, the server performs the update (200); the Location's "
    "version (`/_history/[vid]`, which FHIR R4 create requires) may change");
  r("005", "`active: false` (habilitation withdrawn) is accepted", E,
    "IG INT_R02: active = false is how the platform withdraws a habilitation");
  r("006", "a body that is not FHIR JSON: 400 with an OperationOutcome", E,
    "IG INT_R02 errors: 400 for malformed FHIR, with an OperationOutcome");
  r("007", "a Practitioner breaking the profile (no name): 422 with an OperationOutcome", W,
    "warning: the platform only sends valid accounts; 422 is the IG's answer to a business rule");
  // --- mutual TLS: refusals during the handshake -------------------------------------------------
  auto t = [&](const char* n, const char* title, std::vector<std::string> rq, std::string why) {
    c.push_back(check(std::string("TLS-") + n, title, kMtlsSpec, E, "endpoint", "mTLS", "TLS", std::move(rq)));
    cited(std::move(why));
  };
  const std::string mtls = "agg-psindiv@1: servers SHALL support mTLS for every incoming request; SAS mTLS spec 3.2";
  t("001", "the SAS client certificate (CN=sas.sante.fr, OU=SAS, test CA) is accepted", reqs({1}), mtls);
  t("002", "no client certificate: refused during the handshake", reqs({1}), mtls);
  t("003", "a certificate from another CA: refused during the handshake", reqs({1}), mtls);
  t("004", "a revoked certificate (test CRL): refused during the handshake", reqs({1}),
    mtls + " (certificates checked against the IGC-Santé revocation lists)");
  t("005", "an expired certificate: refused during the handshake", reqs({1}), mtls);
  t("006", "a wrong CN: refused during the handshake", reqs({2}), "agg-psindiv@2: servers SHALL check the CN");
  t("007", "a wrong OU: refused during the handshake", reqs({3}), "agg-psindiv@3: servers SHALL check the OU");
  t("008", "TLS 1.1: refused during the handshake", {}, "SAS mTLS spec 3.2 and IG security page: TLS 1.2 or later");
  // --- INT_R03 appointment events the plugin pushes (plugin mode: its host calls) -------------------
  auto a = [&](const char* n, const char* title, const char* reference, Severity s, std::string why) {
    c.push_back(check(std::string("R03-") + n, title, reference, s, "plugin", "INT_R03", "R03", {}));
    cited(std::move(why));
  };
  a("001", "the host accepts every appointment event the plugin reports (nothing refused as invalid)",
    kAppointmentProfile, E,
    "IG INT_R03, FrAppointmentSAS: identifier (1..1, system and value), appointmentOperator (1..1), start and end "
    "(1..1) and the practitioner's identifier are required; an event the host refuses never reaches the platform");
  a("002",
    "the FrAppointmentSAS (sas-sos-appointment for SOS Médecins) the host builds from each accepted event validates "
    "against the IG profile",
    kAppointmentProfile, E,
    "IG INT_R03: the notification the platform receives conforms to FrAppointmentSAS (sas-sos-appointment)");
  a("003", "an appointment keeps one identifier (system and value) across all its events", kAppointmentCapability, E,
    "IG INT_R03: every change is a conditional update `PUT Appointment?identifier=SYSTEM|ID` of the appointment "
    "created at booking; another identifier is another appointment for the platform");
  a("004", "the first event of every appointment is `booked`", kAppointmentCapability, E,
    "IG INT_R03 (SAS-GestionnaireAgenda-RDVpsindiv: create, then update): the appointment is created on the "
    "platform when the regulator books it, every later event updates it");
  a("005", "the regulator who booked is named by a prefixed IDNPS (8+RPPS, 0+ADELI) or an INTRN UUID",
    kAppointmentProfile, E,
    "IG INT_R03, FrAppointmentSAS appointmentOperator: the regulator's IDNPS or INTRN as received through INT_R02 "
    "(INTRN: the SAS technical id, a UUID); IG FAQ, error 01: national ids are prefixed");
  a("006",
    "the practitioner is a valid RPPS (11 digits) or ADELI (9 digits), prefixed or not; an SOS Médecins "
    "appointment names a valid association SIRET and no practitioner",
    kAppointmentProfile, E,
    "IG INT_R03, FrAppointmentSAS participant.actor.identifier: the doctor's IDNPS (1..1); IG FAQ, error 01; "
    "sas-sos-appointment (IG Appointment-12345678): the association's, without a practitioner");
  a("007", "times are coherent: the booking (`created`) is not after the appointment's start", kAppointmentProfile, W,
    "warning: the IG does not state it; a booking recorded after the appointment began is most often a clock or "
    "time-zone error");
  a("008", "a plugin declaring the flow `appointments` reports appointment events within --host-calls-wait",
    kAppointmentCapability, W,
    "warning: about the test data, not the plugin: without a SAS-origin appointment to report, nothing of INT_R03 "
    "can be checked");
  // --- sas-billing: consultations the plugin reports (our ABI, docs/abi.md) -------------------------
  auto bill = [&](const char* n, const char* title, std::string why) {
    c.push_back(check(std::string("BILL-") + n, title, kAbiPage, W, "plugin", "sas-billing", "BILL", {}));
    cited(std::move(why));
  };
  const std::string abi = "warning: our ABI contract (docs/abi.md), not a requirement of the IG";
  bill("001", "the host accepts every consultation the plugin reports (report_consultation)",
       abi + ": the host refuses a consultation without id, valid practitioner, consultation or regulation time");
  bill("002", "a plugin declaring `sas-billing` accepts apply_billing_decision for each consultation it reported",
       abi + ": apply_billing_decision is idempotent and answers SAS_OK");
  bill("003", "a plugin declaring `sas-billing` reports consultations within --host-calls-wait",
       "warning: about the test data, not the plugin: without an honoured SAS-origin consultation to report, nothing "
       "of billing can be checked");
  // --- doctor-settings: settings and publication rules the plugin reports (our ABI, docs/abi.md) --
  auto set = [&](const char* n, const char* title, std::string why) {
    c.push_back(check(std::string("SET-") + n, title, kAbiPage, W, "plugin", "doctor-settings", "SET", {}));
    cited(std::move(why));
  };
  const std::string settings_abi =
      "warning: our ABI contract (docs/abi.md, \"Doctor settings and publication rules\"; docs/doctor-options.md), "
      "not a requirement of the IG";
  set("001",
      "the host accepts every doctor-settings host call the plugin makes (none refused for a reason SET-002 to "
      "SET-005 do not name: a malformed or unknown rule, a change with no option set, a rule the host does not have)",
      settings_abi +
          ": the host refuses bad input with SAS_ERR_INVALID_ARGUMENT and a rule it does not have with "
          "SAS_ERR_NOT_FOUND; nothing is stored, so the doctor's choice never reaches search");
  set("002", "every practitioner named is a valid RPPS (11 digits) or ADELI (9 digits), prefixed or not",
      settings_abi +
          ": \"Practitioner ids are RPPS or ADELI, prefixed or not: the host normalises\"; any other id "
          "is refused");
  set("003",
      "every phone is a French number the host can write as +33XXXXXXXXX (any French form), or \"\" to remove it",
      settings_abi + ": phone in \"any French format\", \"\" removes it; the host refuses anything else");
  set("004", "every effective_at is UTC seconds, not after the host's clock (--now) and not before 2020 (0: now)",
      settings_abi +
          ": effective_at is \"when the doctor chose, UTC seconds; 0 = now; never in the future\" (the "
          "host refuses a later one); a time before 2020, before SAS, is most often a unit or time-zone "
          "error");
  set("005", "no publication rule conflicts with another active rule the plugin reported for the same doctor",
      settings_abi +
          ": a rule in conflict with an active one (a motive both SNP and hidden, a motive twice in one "
          "kind, a second public-also-snp, overlapping snp-hours) is refused, naming that rule");
  set("006", "a plugin declaring the flow `doctor-settings` makes doctor-settings host calls within --host-calls-wait",
      "warning: about the test data, not the plugin: without a doctor's change to report, nothing of the settings "
      "calls can be checked");
  // --- latency --------------------------------------------------------------------------------------
  c.push_back(check("PERF-001", "searches answer within the platform's 7 s (p95 and max)", kSecurityPage, E, kBoth,
                    "performance", "PERF", {}));
  cited("IG: the platform gives up on an agenda after 7 s; a later answer is never shown to the regulator");
  c.push_back(check("PERF-002", "searches answer within the advisory budget (p95, --budget-ms)", kSecurityPage, W,
                    kBoth, "performance", "PERF", {}));
  cited("warning: an advisory budget chosen by the certification team");
  return c;
}

// The profiles the suite numbers, by flow, with the short name in their check ids.
struct ProfileGroup {
  const char* name;  // StructureDefinition.name
  const char* flow;
  const char* abbreviation;
  const char* modes;
};
constexpr ProfileGroup kProfiles[] = {
    {"BundleAgregateur", "INT_R01", "BUNDLE", kBoth},
    {"FrSlotAgregateur", "INT_R01", "SLOT", kBoth},
    {"FrScheduleAgregateur", "INT_R01", "SCHEDULE", kBoth},
    {"FrPractitionerAgregateur", "INT_R01", "PRACTITIONER", kBoth},
    {"FrPractitionerRoleExerciceAgregateur", "INT_R01", "ROLE", kBoth},
    {"FrLocationAgregateur", "INT_R01", "LOCATION", kBoth},
    {"FrPractitionerRegul", "INT_R02", "PRACTITIONER", kBoth},
    {"FrAppointmentSAS", "INT_R03", "APPOINTMENT", "plugin files"},
    {"FrAppointmentSASSOS", "INT_R03", "SOS-APPOINTMENT", "plugin files"},
    {"BundleAgregateurCPTS", "INT_R04", "BUNDLE", kBoth},
    {"FrSlotAgregateurCPTS", "INT_R04", "SLOT", kBoth},
    {"FrHealthcareServiceAgregateurCPTS", "INT_R04", "SERVICE", kBoth},
    {"FrOrganizationAgregateurCPTS", "INT_R04", "ORGANIZATION", kBoth},
    {"BundleAgregateurSOS", "SOS", "BUNDLE", kBoth},
    {"FrSlotAgregateurSOS", "SOS", "SLOT", kBoth},
    {"FrScheduleAgregateurSOS", "SOS", "SCHEDULE", kBoth},
    {"FrLocationAgregateurSOS", "SOS", "LOCATION", kBoth},
    {"FrOrganizationAgregateurSOS", "SOS", "ORGANIZATION", kBoth},
};

// Constraints a written check numbers instead of a generated one: the written check says what the
// IG means by it (the links of the CPTS chain and of the SOS structure, the SOS slot types), and a
// vendor's fault is named once.
struct ClaimedConstraint {
  const char* profile_url;
  const char* element_id;
  const char* kind;
  const char* check_id;
};
constexpr ClaimedConstraint kClaimed[] = {
    {"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator",
     "Slot.serviceType:referencecpts.extension:sas-servicetype-r5.value[x]", "reference", "R04-CPTS-002"},
    {"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator",
     "HealthcareService.providedBy", "reference", "R04-CPTS-004"},
    {"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator", "Slot.meta.security",
     "binding", "SOS-BUNDLE-005"},
    {"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-slot-aggregator", "Slot.schedule",
     "reference", "SOS-BUNDLE-006"},
    {"https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-location-aggregator",
     "Location.managingOrganization", "reference", "SOS-BUNDLE-008"},
};

const ClaimedConstraint* claimed(std::string_view url, std::string_view element, std::string_view kind) {
  for (const auto& c : kClaimed)
    if (url == c.profile_url && element == c.element_id && kind == c.kind) return &c;
  return nullptr;
}

bool is_sos_profile(std::string_view url) {
  return url.find("/StructureDefinition/sas-sos-") != std::string_view::npos;
}

std::string flow_prefix(std::string_view flow) {
  if (flow.starts_with("INT_")) return std::string(flow.substr(4));
  return std::string(flow);
}

// What of ANS's kit a profile check covers: the requirements naming the profile (conformance to
// it) or the element, and the kit's CPTS/SOS tests that assert the same.
std::vector<std::string> profile_requirements(std::string_view name, std::string_view element, std::string_view kind) {
  struct Rule {
    const char* profile;
    const char* element_prefix;  // "" = any element
    std::initializer_list<const char*> ids;
  };
  static const Rule rules[] = {
      {"FrSlotAgregateur", "", {"agg-psindiv@9"}},
      {"FrSlotAgregateur", "Slot.start", {"agg-psindiv@11"}},
      {"FrSlotAgregateur", "Slot.end", {"agg-psindiv@11"}},
      {"FrSlotAgregateur", "Slot.schedule", {"agg-psindiv@12"}},
      {"FrSlotAgregateur", "Slot.status", {"agg-psindiv@10"}},
      {"FrSlotAgregateur", "Slot.meta.security", {"agg-psindiv@23", "agg-psindiv@46"}},
      {"FrSlotAgregateur", "Slot.serviceType", {"agg-psindiv@24", "agg-psindiv@48"}},
      {"FrSlotAgregateur", "Slot.specialty", {"agg-psindiv@41"}},
      {"FrSlotAgregateur", "Slot.appointmentType", {"agg-psindiv@49"}},
      {"FrSlotAgregateur", "Slot.comment", {"agg-psindiv@25"}},
      {"BundleAgregateur", "", {"agg-psindiv@13"}},
      {"BundleAgregateur", "Bundle.type", {"agg-psindiv@14"}},
      {"FrPractitionerAgregateur", "", {"agg-psindiv@32"}},
      {"FrPractitionerAgregateur", "Practitioner.identifier", {"agg-psindiv@16"}},
      {"FrPractitionerAgregateur", "Practitioner.name", {"agg-psindiv@33"}},
      {"FrPractitionerAgregateur", "Practitioner.telecom", {"agg-psindiv@34", "agg-psindiv@35"}},
      {"FrPractitionerRoleExerciceAgregateur", "", {"agg-psindiv@31"}},
      {"FrPractitionerRoleExerciceAgregateur", "PractitionerRole.organization", {"agg-psindiv@20"}},
      {"FrPractitionerRoleExerciceAgregateur", "PractitionerRole.practitioner", {"agg-psindiv@21"}},
      {"FrPractitionerRoleExerciceAgregateur", "PractitionerRole.contained", {"agg-psindiv@22"}},
      {"FrPractitionerRoleExerciceAgregateur", "PractitionerRole.location", {"agg-psindiv@22"}},
      {"FrLocationAgregateur", "Location.address.line", {"agg-psindiv@38"}},
      {"FrLocationAgregateur", "Location.address.city", {"agg-psindiv@39"}},
      {"FrLocationAgregateur", "Location.address.postalCode", {"agg-psindiv@40"}},
      {"BundleAgregateurCPTS", "", {"ig_launch_2:slot_group"}},
      {"FrSlotAgregateurCPTS", "Slot.serviceType:referencecpts", {"ig_launch_2:cpts_validate_service_type"}},
      {"FrHealthcareServiceAgregateurCPTS",
       "HealthcareService.providedBy",
       {"ig_launch_2:cpts_validate_healthcare_service_organization_ref"}},
      {"FrOrganizationAgregateurCPTS", "Organization.identifier", {"ig_launch_2:validate_cpts_id"}},
      {"BundleAgregateurSOS", "", {"ig_launch_3:validate_bundle"}},
      {"FrSlotAgregateurSOS", "Slot.appointmentType", {"ig_launch_3:sos_validate_slots_appointmentType"}},
      {"FrSlotAgregateurSOS", "Slot.status", {"ig_launch_3:sos_validate_slots_status"}},
      {"FrSlotAgregateurSOS", "Slot.serviceType", {"ig_launch_3:sos_validate_serviceType"}},
      {"FrLocationAgregateurSOS", "Location.name", {"ig_launch_3:sos_validate_location_name"}},
      {"FrLocationAgregateurSOS", "Location.address", {"ig_launch_3:validate_location_adresse"}},
      {"FrLocationAgregateurSOS", "Location.identifier", {"ig_launch_3:sos_validate_location_idnst"}},
  };
  std::vector<std::string> out;
  for (const auto& rule : rules) {
    if (name != rule.profile) continue;
    std::string_view prefix = rule.element_prefix;
    bool root_rule = prefix.empty();
    bool matches = !prefix.empty() && element.starts_with(prefix) &&
                   (element.size() == prefix.size() || element[prefix.size()] == '.' || element[prefix.size()] == ':');
    if (root_rule || matches)
      for (const char* id : rule.ids) out.emplace_back(id);
  }
  (void)kind;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string describe_constraint(const Constraint& c) {
  if (c.element_id.find('.') == std::string::npos) return "every element (" + c.kind + "): " + c.expected;
  if (c.kind == "cardinality") return "`" + c.element_id + "` cardinality " + c.expected;
  if (c.kind == "fixed") return "`" + c.element_id + "` fixed to " + c.expected;
  if (c.kind == "pattern") return "`" + c.element_id + "` matches pattern " + c.expected;
  if (c.kind == "binding") return "`" + c.element_id + "` bound (required) to " + c.expected;
  if (c.kind == "slicing") return "`" + c.element_id + "` closed slicing";
  if (c.kind == "reference") return "`" + c.element_id + "` references " + c.expected;
  return "`" + c.element_id + "` " + c.kind + ": " + c.expected;
}

std::string constraint_key(std::string_view url, std::string_view element, std::string_view kind) {
  return std::string(url) + "|" + std::string(element) + "|" + std::string(kind);
}

std::string md_escape(std::string text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|')
      out += "\\|";
    else if (ch == '\n')
      out += ' ';
    else
      out += ch;
  }
  return out;
}

}  // namespace

std::string_view to_string(Severity severity) { return severity == Severity::error ? "error" : "warning"; }

Catalogue Catalogue::build(const ProfileSet& profiles) {
  Catalogue cat;
  cat.checks_ = written_checks();
  for (const auto& group : kProfiles) {
    const StructureDefinition* sd = nullptr;
    for (const auto& url : profiles.profile_urls()) {
      const auto* candidate = profiles.find(url);
      if (candidate && candidate->name == group.name) sd = candidate;
    }
    if (!sd) continue;
    int number = 0;
    for (const auto& constraint : profiles.constraints(sd->url)) {
      // empty: R01-FAQ-10 (SOS-BUNDLE-014); claimed: the written check that numbers it.
      if (!constraint.enforced || constraint.kind == "empty" ||
          claimed(constraint.profile_url, constraint.element_id, constraint.kind))
        continue;
      char digits[16];
      std::snprintf(digits, sizeof digits, "%03d", ++number);
      Check c;
      c.id = flow_prefix(group.flow) + "-PROFILE-" + group.abbreviation + "-" + digits;
      c.title = sd->name + ": " + describe_constraint(constraint);
      std::string page = sd->url.substr(sd->url.rfind('/') + 1);
      c.reference = std::string(kIg) + "StructureDefinition-" + page + ".html";
      c.severity = Severity::error;
      c.modes = group.modes;
      c.flow = group.flow;
      c.group = "PROFILE";
      c.requirements = profile_requirements(sd->name, constraint.element_id, constraint.kind);
      c.profile_url = constraint.profile_url;
      c.element_id = constraint.element_id;
      c.constraint_kind = constraint.kind;
      c.expected = constraint.expected;
      // A profile's constraint is a SHALL by definition (FHIR R4 profiling): conformance to it.
      c.citation = sd->name + " (IG profile): " + describe_constraint(constraint);
      cat.checks_.push_back(std::move(c));
    }
  }
  for (std::size_t i = 0; i < cat.checks_.size(); ++i) {
    const auto& c = cat.checks_[i];
    cat.by_id_.emplace(c.id, i);
    if (!c.profile_url.empty())
      cat.by_constraint_.emplace(constraint_key(c.profile_url, c.element_id, c.constraint_kind), i);
  }
  return cat;
}

const Check* Catalogue::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &checks_[it->second];
}

const Check* Catalogue::for_issue(const Issue& issue) const {
  if (issue.kind == "empty") return find(is_sos_profile(issue.profile_url) ? "SOS-BUNDLE-014" : "R01-FAQ-10");
  if (const auto* c = claimed(issue.profile_url, issue.element_id, issue.kind)) return find(c->check_id);
  if (auto it = by_constraint_.find(constraint_key(issue.profile_url, issue.element_id, issue.kind));
      it != by_constraint_.end())
    return &checks_[it->second];
  // The profile's root constraint of that kind: the root element id is the resource type.
  for (const auto& c : checks_) {
    if (c.profile_url == issue.profile_url && c.constraint_kind == issue.kind &&
        c.element_id.find('.') == std::string::npos)
      return &c;
  }
  return nullptr;
}

std::string Catalogue::markdown(const std::vector<Requirement>& requirements) const {
  std::ostringstream out;
  std::size_t errors = 0;
  for (const auto& c : checks_) errors += c.severity == Severity::error ? 1 : 0;
  out << "<!-- Generated by `sas-conformance catalogue --markdown`; do not edit by hand. -->\n\n";
  out << checks_.size() << " checks (" << errors << " errors, " << checks_.size() - errors << " warnings).\n\n";
  std::string group;
  for (const auto& c : checks_) {
    std::string heading = c.group == "PROFILE" ? c.flow + " profile checks (generated from the StructureDefinitions)"
                                               : c.flow + " " + c.group;
    if (heading != group) {
      group = heading;
      out << "\n### " << heading
          << "\n\n| id | check | severity | modes | ANS requirements | citation |\n"
             "| --- | --- | --- | --- | --- | --- |\n";
    }
    out << "| [" << c.id << "](" << c.reference << ") | " << md_escape(c.title) << " | " << to_string(c.severity)
        << " | " << c.modes << " | ";
    for (std::size_t i = 0; i < c.requirements.size(); ++i) out << (i ? ", " : "") << c.requirements[i];
    // Profile checks cite their own constraint, which their title already says.
    out << " | " << (c.group == "PROFILE" ? std::string("the profile's constraint") : md_escape(c.citation)) << " |\n";
  }
  if (!requirements.empty()) {
    out << "\n### Coverage of ANS's test-kit requirements\n\n| requirement | checks |\n| --- | --- |\n";
    std::vector<std::string> uncovered;
    for (const auto& [req, ids] : coverage(*this, requirements)) {
      out << "| " << req.id << " | ";
      if (ids.empty()) {
        out << "**not covered**" << (req.not_tested_reason.empty() ? "" : " (ANS: " + req.not_tested_reason + ")");
        uncovered.push_back(req.id);
      }
      const std::size_t shown = std::min<std::size_t>(ids.size(), 8);
      for (std::size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << ids[i];
      if (ids.size() > shown) out << " and " << ids.size() - shown << " more";
      out << " |\n";
    }
    out << "\nUncovered: " << uncovered.size() << " of " << requirements.size();
    for (std::size_t i = 0; i < uncovered.size(); ++i) out << (i ? ", " : ": ") << uncovered[i];
    out << ".\n";
  }
  out << "\n### Coverage of ANS's CPTS and SOS kit tests\n\n"
         "The kit certifies the CPTS search (option `ig_launch_2`) and the SOS search (`ig_launch_3`) with tests "
         "that its requirement list does not name; the checks cite the tests' ids.\n\n"
         "| kit test | what it asserts | checks |\n| --- | --- | --- |\n";
  std::vector<std::string> untested;
  for (const auto& [test, ids] : kit_coverage(*this)) {
    out << "| " << test.id << " | " << md_escape(test.title) << " | ";
    if (ids.empty()) untested.push_back(test.id);
    const std::size_t shown = std::min<std::size_t>(ids.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << ids[i];
    if (ids.empty()) out << "**not covered**";
    if (ids.size() > shown) out << " and " << ids.size() - shown << " more";
    out << " |\n";
  }
  out << "\nUncovered: " << untested.size() << " of " << kit_tests().size();
  for (std::size_t i = 0; i < untested.size(); ++i) out << (i ? ", " : ": ") << untested[i];
  out << ".\n";
  return out.str();
}

const std::vector<KitTest>& kit_tests() {
  // ansforge/interop-outil-fhir-sas-test-kit, lib/sas_test_kit/aggregation: the tests its CPTS run
  // (cpts_aggregation_group, option ig_launch_2) and its SOS run (single_association_single_pfg,
  // ig_launch_3) add to the individual practitioner's. Titles in our words.
  static const std::vector<KitTest> tests = {
      {"ig_launch_2:slot_search_setup", "CPTS search of a practitioner: 200, a Bundle with Slots"},
      {"ig_launch_2:slot_group", "the Bundle validates against sas-cpts-bundle-aggregator"},
      {"ig_launch_2:validate_cardinality_cpts",
       "HealthcareService and Organization present, as many HealthcareServices as Organizations"},
      {"ig_launch_2:validate_ref_cpts",
       "the Slot's serviceType 604 extension references the HealthcareService, its providedBy the Organization"},
      {"ig_launch_2:validate_cpts_id", "the CPTS Organization's identifier is 1 + 9 digits (prefixed FINESS)"},
      {"ig_launch_2:cpts_validate_slot_type",
       "the slot types returned are exactly those the solution declares offering (a tester's input)"},
      {"ig_launch_2:cpts_validate_healthcare_service_cardinality", "two CPTS: at least two HealthcareServices"},
      {"ig_launch_2:cpts_validate_organization_cardinality", "two CPTS: at least two Organizations"},
      {"ig_launch_2:cpts_validate_meta", "the CPTS Slots carry the slot type CPTS in meta.security"},
      {"ig_launch_2:cpts_validate_service_type", "a Slot serviceType coded TRE_R66 604"},
      {"ig_launch_2:cpts_validate_service_type_healthcare_service_ref",
       "a serviceType extension references a HealthcareService of the Bundle"},
      {"ig_launch_2:cpts_validate_service_type_multiple_healthcare_service_ref",
       "a Slot references two distinct HealthcareServices of the Bundle"},
      {"ig_launch_2:cpts_validate_healthcare_service_organization_ref",
       "every HealthcareService's providedBy is an Organization of the Bundle, two distinct ones"},
      {"ig_launch_2:orga_optionnel_group", "the CPTS Organization's name and phone are present"},
      {"ig_launch_3:slot_search_setup", "SOS search of an association: 200, a Bundle"},
      {"ig_launch_3:validate_bundle", "the Bundle validates against sas-sos-bundle-aggregator"},
      {"ig_launch_3:validate_organization_cardinality", "the association's Organization present"},
      {"ig_launch_3:sos_validate_location_cardinality", "the place's Location present"},
      {"ig_launch_3:sos_validate_schedule_cardinality", "one Schedule for the one place"},
      {"ig_launch_3:validate_organization_siret", "the Organization's SIRET is the one asked for, 3 + 14 digits"},
      {"ig_launch_3:validate_location_organization_ref", "the Location's managingOrganization is the Organization"},
      {"ig_launch_3:validate_schedule_location_ref", "the Schedule's actor is the Location"},
      {"ig_launch_3:validate_slot_schedule_ref", "every Slot's schedule is the Schedule"},
      {"ig_launch_3:sos_validate_organization_name", "the Organization's name is present"},
      {"ig_launch_3:sos_validate_location_name", "the Location's name is present"},
      {"ig_launch_3:validate_location_adresse", "the Location's address (line, city, postal code) is present"},
      {"ig_launch_3:validate_location_phone", "the Location's phone is +33 (or an overseas code) and 9 digits"},
      {"ig_launch_3:sos_validate_location_idnst", "a Location identifier that is not INTRN is a prefixed IDNST"},
      {"ig_launch_3:sos_validate_slots_status", "every Slot is free"},
      {"ig_launch_3:sos_validate_dates", "Slots start in the window, have an end, and end after they start"},
      {"ig_launch_3:sos_validate_meta", "every Slot has slot types in meta.security"},
      {"ig_launch_3:sos_validate_slots_appointmentType", "every Slot has its appointmentType"},
      {"ig_launch_3:sos_validate_serviceType", "every Slot has its consultation mode in serviceType"},
      {"ig_launch_3:sos_validate_slots_comment", "every Slot has a booking URL in comment"},
      {"ig_launch_3:sos_validate_bundle_link", "Bundle.link.url has the query of the request"},
  };
  return tests;
}

std::vector<Requirement> load_requirements(const std::filesystem::path& csv) {
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + csv.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  // RFC 4180 fields: quoted fields may hold commas, doubled quotes and newlines.
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += ch;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(std::move(field));
  std::vector<Requirement> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.size() < 4 || row[1].empty()) continue;
    Requirement req;
    req.id = row[0] + "@" + row[1];
    req.url = row[2];
    req.text = row[3];
    if (row.size() > 8) req.not_tested_reason = row[8];
    out.push_back(std::move(req));
  }
  if (out.empty()) throw std::runtime_error(csv.string() + ": no requirement");
  return out;
}

std::vector<std::pair<KitTest, std::vector<std::string>>> kit_coverage(const Catalogue& catalogue) {
  std::vector<std::pair<KitTest, std::vector<std::string>>> out;
  for (const auto& test : kit_tests()) {
    std::vector<std::string> ids;
    for (const auto& c : catalogue.checks())
      if (std::find(c.requirements.begin(), c.requirements.end(), test.id) != c.requirements.end()) ids.push_back(c.id);
    out.emplace_back(test, std::move(ids));
  }
  return out;
}

std::vector<std::pair<Requirement, std::vector<std::string>>> coverage(const Catalogue& catalogue,
                                                                       const std::vector<Requirement>& requirements) {
  std::vector<std::pair<Requirement, std::vector<std::string>>> out;
  for (const auto& req : requirements) {
    std::vector<std::string> ids;
    for (const auto& c : catalogue.checks())
      if (std::find(c.requirements.begin(), c.requirements.end(), req.id) != c.requirements.end()) ids.push_back(c.id);
    out.emplace_back(req, std::move(ids));
  }
  return out;
}

}  // namespace sas::conformance
