#!/usr/bin/env python3
"""An independent SAS vendor endpoint, for testing `sas-conformance endpoint` both ways.

A small FHIR R4 server written from the SAS IG 1.2.0 (ans.fhir.fr.sas) and docs/SAS-DOMAIN.md
only: no code of our host, no SDK. It is a *different but conformant* vendor:

- it ignores `_count` (FHIR lenient handling of a parameter the IG's CapabilityStatement
  SAS-GestionnaireAgenda-PsIndiv does not declare) and always returns every match;
- it matches only the prefixed national ids the platform sends (`8`+RPPS, `0`+ADELI), whatever
  form it stores them in, and always answers the prefixed form;
- its Bundle lists the included resources first (per practitioner: Practitioner, then per place
  PractitionerRole and Schedule), then the Slots by start; dates in UTC (`+00:00`);
- INT_R02 follows FHIR R4 to the letter: every Location header names the version
  (`[base]/Practitioner/[id]/_history/[vid]`), and a second create of one regulator is a 409.

Served over mutual TLS (TLS 1.2 or later): the client certificate must chain to the client CA,
must not be revoked (CRL), and its subject must carry the allowed CN and OU; anything else is
refused before any HTTP byte is exchanged.

It also answers the CPTS search (INT_R04: the slot search with `_include=Slot:service-type-reference`)
and the SOS Médecins search (`GET [base]/Schedule?...`), and declares both in its CapabilityStatement
(`--no-cpts-sos`: a vendor offering neither). Its own choices there: the CPTS search answers every
free slot of the practitioners asked, those open to a CPTS typed CPTS with their chain; without
`_include:iterate=HealthcareService:organization` it leaves the CPTS Organizations out (FHIR: only
what is asked); it refuses an `_include` it does not know; the SOS Bundle's `total` counts the
Schedules (FHIR), where the IG's example counts the Slots; a slot typed PUBLIC and PRO is sent to
SOS as PUBLIC.

Data: a small fixed in-memory agenda, with slots placed relative to `--now`: practitioners
810002673899 (stored without its prefix, two places), 810100050075 (stored prefixed) and
0751234567 (an ADELI, stored as its 9 characters), each with free slots in [now, now + 48 h],
plus slots outside that window and busy slots that a search must never return. 810002673899's
first place is open to two CPTS (FINESS stored 950047225 and 1950046227), 810100050075's to the
first. SOS associations 34173748400020 (stored without its 3, two consultation places) and
392080466300010 (stored prefixed, one place), with free slots in the same window.

`--fault NAME` introduces one real fault (see FAULTS) so that the suite can be shown to fail it.

Usage:
  vendor_endpoint.py --port 0 --pki DIR --now 2026-11-23T08:00:00+01:00 [--base-path /fhir]
                     [--allow-client-subject CN=sas.sante.fr,OU=SAS] [--fault NAME]
Prints `listening on 127.0.0.1:PORT` on stdout once it accepts connections.
Python 3 standard library only.
"""

import argparse
import datetime as dt
import http.server
import json
import re
import socket
import ssl
import sys
import threading
import urllib.parse
import uuid

FAULTS = {
    "unprefixed-response-ids": "Practitioner.identifier.value sent as stored (RPPS without its 8)",
    "local-phone": "phone numbers sent in the local form 01 23 45 67 89 instead of +33...",
    "error-on-unknown": "a search naming only unknown practitioners answers 404 instead of total: 0",
    "no-slot-type": "Slot.meta.security (the TRE_R314 slot types) left out",
    "empty-element": "an empty string sent for an address element the agenda does not have",
    "no-crl": "the client CRL is not loaded: a revoked certificate is accepted",
    "cpts-missing-organization": "CPTS search: the CPTS Organizations left out of the Bundle",
    "cpts-one-of-two": "CPTS search: a slot open to two CPTS linked to the first only",
    "cpts-no-security-type": "CPTS search: slots linked to a CPTS without the slot type CPTS",
    "cpts-no-chain": "CPTS search: slots typed CPTS without their serviceType 604 (and no HealthcareService)",
    "cpts-unprefixed-finess": "CPTS search: the CPTS Organization's FINESS sent as stored (without its 1)",
    "cpts-local-phone": "CPTS search: the CPTS phone sent in its local form",
    "cpts-no-name": "CPTS search: the CPTS Organization without its name",
    "cpts-error-on-no-match": "CPTS search: practitioners with no slot answered 404 instead of total: 0",
    "sos-wrong-slot-type": "SOS search: PRO sent among the slot types",
    "sos-unprefixed-siret": "SOS search: the association's SIRET sent as stored (without its 3)",
    "sos-26-sirets": "SOS search: 26 SIRETs accepted",
    "sos-max-10-sirets": "SOS search: more than 10 SIRETs refused (the functional text's limit, not the technical 25)",
    "sos-self-link-without-query": "SOS search: the self link is [base]/Schedule, without the query",
    "sos-schedule-per-association": "SOS search: one Schedule per association, its places all actors",
    "sos-local-phone": "SOS search: the places' phones sent in their local form",
}

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
IDNST = "urn:oid:1.2.250.1.71.4.2.2"
SAS_TECHNICAL = "urn:oid:1.2.250.1.213.3.6"
ID_TYPES = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
SLOT_TYPES = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
SPECIALTIES = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
APPOINTMENT_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0276"
LOCATION_ID_TYPES = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"
VENDOR_PLACE_OID = "urn:oid:1.2.250.1.999.42.1"  # this vendor's own place numbering
PROFILE = "http://sas.fr/fhir/StructureDefinition/"
IG_PROFILE = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
IG_CAPABILITY = "https://interop.esante.gouv.fr/ig/fhir/sas/CapabilityStatement/"
CPTS_CATEGORY = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"
SERVICE_TYPE_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
FR_CORE_ID_TYPES = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
MAX_SIRETS = 25
# The _include values each search knows; any other is refused.
SLOT_INCLUDES = {"_include": {"Slot:schedule", "Slot:service-type-reference"},
                 "_include:iterate": {"Schedule:actor", "HealthcareService:organization"}}
SCHEDULE_INCLUDES = {"_include": {"Schedule:actor:Location"}, "_include:iterate": {"Location:organization"},
                     "_revinclude": {"Slot:schedule"}}
FHIR_JSON = "application/fhir+json; charset=utf-8"
MAX_IDS = 25

# --- the vendor's own agenda -------------------------------------------------------------------
# Stored the way this vendor stores things: ids in mixed forms, phones in local form.
DOCTORS = [
    {
        "key": "d1", "stored_id": "10002673899", "family": "MARTIN", "given": "Claire",
        "phone": "01 45 67 89 10", "specialty": ("SM54", "Médecine générale"),
        "places": [
            {"key": "a", "line": "12 rue des Lilas", "city": "PARIS", "postal": "75011",
             "structure": "1750000123", "modes": ["AMB"], "motive": "Consultation de médecine générale",
             "types": ["PUBLIC", "SNP"], "cpts": ["axe", "vdo"]},
            {"key": "b", "line": "3 place du Marché", "city": "MONTREUIL", "postal": "93100",
             "structure": "31234567800019", "modes": ["AMB", "VR"], "motive": "Téléconsultation possible",
             "types": ["PRO"]},
        ],
    },
    {
        "key": "d2", "stored_id": "810100050075", "family": "THOMAS", "given": "Sébastien",
        "phone": "+33553123456", "specialty": ("SM54", None),
        "places": [
            {"key": "a", "line": "1 rue Mme DELMAS", "city": "AGEN", "postal": "47000",
             "structure": "1810004421", "modes": ["AMB", "HH"], "motive": "Visite urgente",
             "types": ["PUBLIC", "PRO", "SNP"], "cpts": ["axe"]},
        ],
    },
    {
        "key": "d3", "stored_id": "751234567", "family": "NGUYEN", "given": "Linh",
        "phone": "0612345678", "specialty": (None, "Pédiatrie"),
        "places": [
            {"key": "a", "line": "8 avenue Jean Jaurès", "city": "LYON", "postal": "69007",
             "structure": "0691234567", "modes": ["AMB"], "motive": "Consultation pédiatrique",
             "types": ["PUBLIC"]},
        ],
    },
]


# The CPTS the agenda's places are open to, stored as this vendor stores them.
CPTS = {
    "axe": {"finess": "950047225", "name": "CPTS AXE MAJEUR", "phone": "01 02 03 04 05"},
    "vdo": {"finess": "1950046227", "name": "CPTS VAL D OISE CENTRE", "phone": "+33139599280"},
}

# SOS Médecins associations and their consultation places.
SOS_ASSOCIATIONS = [
    {
        "key": "rennes", "stored_siret": "34173748400020", "name": "SOS Médecins de Rennes",
        "places": [
            {"key": "nord", "name": "Centre de consultation Rennes Nord", "line": "320 avenue Général Patton",
             "city": "RENNES", "postal": "35700", "phone": "02 99 00 11 22", "modes": ["AMB"],
             "types": ["PUBLIC", "SNP"]},
            {"key": "cleunay", "name": "Centre de consultation Rennes Cleunay", "line": "106 rue Eugène Pottier",
             "city": "RENNES", "postal": "35000", "phone": "+33299334455", "modes": ["AMB", "VR"],
             "types": ["PUBLIC", "PRO"]},
        ],
    },
    {
        "key": "lorient", "stored_siret": "392080466300010", "name": "SOS Médecins Lorient et agglomération",
        "places": [
            {"key": "centre", "name": "Centre de consultation Lorient", "line": "12 impasse Royer Dubail",
             "city": "LORIENT", "postal": "56100", "phone": "02 97 00 11 22", "modes": ["AMB"], "types": ["SNP"]},
        ],
    },
]


def prefixed(stored, prefix, length):
    """A structure id with its prefix ("1" FINESS, "3" SIRET), from the form stored."""
    s = stored.strip()
    return s if len(s) == length + 1 and s.startswith(prefix) else prefix + s


def national_id(stored):
    """The prefixed national id of a stored one: 8 + RPPS (11 digits), 0 + ADELI (9 characters)."""
    s = stored.strip()
    if len(s) == 12 and s[0] == "8":
        return s
    if len(s) == 10 and s[0] == "0":
        return s
    if len(s) == 11 and s.isdigit():
        return "8" + s
    if len(s) == 9:
        return "0" + s
    return s


def international_phone(local):
    digits = re.sub(r"[^\d+]", "", local)
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def build_slots(now):
    """Slots of every place, relative to `now` (UTC): free ones in the 48 h window, and others."""
    slots = []
    origin = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    for d_index, doctor in enumerate(DOCTORS):
        for p_index, place in enumerate(doctor["places"]):
            # every 5 hours from origin, 30 minutes long; shifted per place so they differ
            for k in range(-2, 12):
                start = origin + dt.timedelta(hours=5 * k + d_index + 2 * p_index, minutes=15 * p_index)
                status = "busy" if k in (1, 6) else "free"
                slots.append({
                    "id": "crn-%s%s-%02d" % (doctor["key"], place["key"], k + 2),
                    "doctor": doctor, "place": place, "start": start,
                    "end": start + dt.timedelta(minutes=30), "status": status,
                    "walkin": k == 3,
                })
    return slots


def build_sos_slots(now):
    """Slots of every SOS consultation place, relative to `now`, as build_slots."""
    slots = []
    origin = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    for a_index, association in enumerate(SOS_ASSOCIATIONS):
        for p_index, place in enumerate(association["places"]):
            for k in range(-2, 12):
                start = origin + dt.timedelta(hours=4 * k + a_index + 2 * p_index, minutes=20 * p_index)
                slots.append({
                    "id": "sos-%s-%s-%02d" % (association["key"], place["key"], k + 2),
                    "association": association, "place": place, "start": start,
                    "end": start + dt.timedelta(minutes=20), "status": "busy" if k in (2, 5) else "free",
                })
    return slots


# --- FHIR helpers --------------------------------------------------------------------------------
def fhir_instant(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+00:00" % (t.microsecond // 1000)


DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$")


def parse_fhir_date(text):
    """A FHIR date or dateTime (with offset when it has a time); None when malformed."""
    m = DATE_RE.match(text)
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    try:
        if hh is None:
            return dt.datetime(int(year), int(month), int(day), tzinfo=dt.timezone.utc)
        micro = int((frac or "0")[:6].ljust(6, "0"))
        tz = dt.timezone.utc
        if zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        return dt.datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss or 0), micro, tzinfo=tz)
    except ValueError:
        return None


def outcome(code, text):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


class BadRequest(Exception):
    def __init__(self, status, code, text):
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def query_pairs(raw_query):
    """(name, value) pairs, percent-decoded; `+` stays `+` (FHIR dates carry raw offsets)."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


# --- the endpoint ----------------------------------------------------------------------------------
class Vendor:
    def __init__(self, now, base_path, fault):
        self.now = now
        self.base_path = base_path
        self.fault = fault
        self.slots = build_slots(now)
        self.sos_slots = build_sos_slots(now)
        self.by_national_id = {national_id(d["stored_id"]): d for d in DOCTORS}
        self.by_siret = {prefixed(a["stored_siret"], "3", 14): a for a in SOS_ASSOCIATIONS}
        self.cpts_sos = True  # False: --no-cpts-sos
        self.accounts = {}  # id -> {"resource": {...}, "version": n}
        self.lock = threading.Lock()

    # INT_R01 --------------------------------------------------------------------------------------
    def search_slots(self, raw_query, origin):
        params = query_pairs(raw_query)
        ge = le = None
        statuses, ids, includes = [], [], set()
        for name, value in params:
            if name == "start":
                date = parse_fhir_date(value[2:].replace(" ", "+")) if value[:2] in ("ge", "le") else None
                if date is None:
                    raise BadRequest(400, "invalid", "start must be start=geDATE or start=leDATE: %r" % value)
                if value[:2] == "ge":
                    ge = date
                else:
                    le = date
            elif name == "status":
                statuses.append(value)
            elif name in SLOT_INCLUDES:
                if value not in SLOT_INCLUDES[name] or (not self.cpts_sos and value in (
                        "Slot:service-type-reference", "HealthcareService:organization")):
                    raise BadRequest(400, "not-supported", "%s=%s is not supported" % (name, value))
                includes.add(value)
            elif name == "schedule.actor:Practitioner.identifier":
                for token in value.split(","):
                    token = token.strip()
                    if not token:
                        raise BadRequest(400, "invalid", "an empty practitioner identifier")
                    system, bar, code = token.rpartition("|")
                    if bar and system != IDNPS:
                        raise BadRequest(400, "not-supported",
                                         "practitioner identifiers are searched in %s only" % IDNPS)
                    ids.append(code.strip())
            # _count and anything else: lenient handling, ignored
        if ge is None or le is None:
            raise BadRequest(400, "required", "start=ge and start=le are both required")
        if le < ge:
            raise BadRequest(400, "invalid", "start=le is before start=ge")
        if statuses != ["free"]:
            raise BadRequest(400, "required", "status=free is required")
        if not ids:
            raise BadRequest(400, "required", "schedule.actor:Practitioner.identifier is required")
        if len(ids) > MAX_IDS:
            raise BadRequest(400, "too-costly", "at most %d practitioners per search" % MAX_IDS)

        cpts = "Slot:service-type-reference" in includes
        wanted = [self.by_national_id[i] for i in dict.fromkeys(ids) if i in self.by_national_id]
        if not wanted and self.fault == ("cpts-error-on-no-match" if cpts else "error-on-unknown"):
            raise BadRequest(404, "not-found", "no such practitioner")
        matches = [s for s in self.slots
                   if s["doctor"] in wanted and s["status"] == "free" and ge <= s["start"] <= le]
        matches.sort(key=lambda s: (s["start"], s["id"]))
        return self.bundle(matches, origin + self.base_path + "/Slot?" + raw_query, origin,
                           cpts, "HealthcareService:organization" in includes)

    def linked_cpts(self, place):
        """The CPTS a slot of the place is linked to in a CPTS answer."""
        keys = place.get("cpts", [])
        if self.fault == "cpts-no-chain":
            return []
        return keys[:1] if self.fault == "cpts-one-of-two" else keys

    def bundle(self, matches, self_url, origin, cpts=False, cpts_organizations=False):
        base = origin + self.base_path
        entries = []
        for doctor in DOCTORS:
            places = [p for p in doctor["places"] if any(s["place"] is p for s in matches)]
            if not places:
                continue
            entries.append(self.entry(base, self.practitioner(doctor)))
            for place in places:
                entries.append(self.entry(base, self.role(doctor, place)))
                entries.append(self.entry(base, self.schedule(doctor, place)))
        if cpts:  # the CPTS of the slots, by _include=Slot:service-type-reference (then :iterate)
            keys = [k for k in CPTS if any(k in self.linked_cpts(s["place"]) for s in matches)]
            entries += [self.entry(base, self.healthcare_service(k)) for k in keys]
            if cpts_organizations and self.fault != "cpts-missing-organization":
                entries += [self.entry(base, self.cpts_organization(k)) for k in keys]
        entries += [self.entry(base, self.slot(s, cpts), "match") for s in matches]
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [IG_PROFILE + "sas-cpts-bundle-aggregator" if cpts else PROFILE + "BundleAgregateur"]},
            "type": "searchset",
            "total": len(matches),
            "link": [{"relation": "self", "url": self_url}],
        }
        if entries:  # FHIR JSON: an array is never empty; no match is `total: 0` and no `entry`
            bundle["entry"] = entries
        return bundle

    @staticmethod
    def entry(base, resource, mode="include"):
        return {"fullUrl": "%s/%s/%s" % (base, resource["resourceType"], resource["id"]),
                "resource": resource, "search": {"mode": mode}}

    def practitioner(self, doctor):
        value = doctor["stored_id"] if self.fault == "unprefixed-response-ids" else national_id(doctor["stored_id"])
        phone = doctor["phone"] if self.fault == "local-phone" else international_phone(doctor["phone"])
        if self.fault == "local-phone" and phone.startswith("+"):
            phone = "0" + phone[3:]
        return {
            "resourceType": "Practitioner",
            "id": "ps-" + doctor["key"],
            "meta": {"profile": [PROFILE + "FrPractitionerAgregateur"]},
            "identifier": [{
                "type": {"coding": [{"system": ID_TYPES, "code": "IDNPS"}]},
                "system": IDNPS,
                "value": value,
            }],
            "name": [{"family": doctor["family"], "given": [doctor["given"]]}],
            "telecom": [{"system": "phone", "value": phone, "use": "work"}],
        }

    def role(self, doctor, place):
        address = {"line": [place["line"]], "city": place["city"], "postalCode": place["postal"]}
        if self.fault == "empty-element":
            address["district"] = ""
        return {
            "resourceType": "PractitionerRole",
            "id": "exercice-%s-%s" % (doctor["key"], place["key"]),
            "meta": {"profile": [PROFILE + "FrPractitionerRoleExerciceAgregateur"]},
            "contained": [{
                "resourceType": "Location",
                "id": "lieu",
                "meta": {"profile": [PROFILE + "FrLocationAgregateur"]},
                "identifier": [{
                    "type": {"coding": [{"system": LOCATION_ID_TYPES, "code": "INTRN"}]},
                    "system": VENDOR_PLACE_OID,
                    "value": "%s-%s" % (doctor["key"], place["key"]),
                }],
                "address": address,
            }],
            "practitioner": {"reference": "Practitioner/ps-" + doctor["key"]},
            "organization": {"identifier": {
                "type": {"coding": [{"system": ID_TYPES, "code": "IDNST"}]},
                "system": IDNST,
                "value": place["structure"],
            }},
            "location": [{"reference": "#lieu"}],
        }

    @staticmethod
    def schedule(doctor, place):
        return {
            "resourceType": "Schedule",
            "id": "agenda-%s-%s" % (doctor["key"], place["key"]),
            "meta": {"profile": [PROFILE + "FrScheduleAgregateur"]},
            "actor": [
                {"reference": "Practitioner/ps-" + doctor["key"]},
                {"reference": "PractitionerRole/exercice-%s-%s" % (doctor["key"], place["key"])},
            ],
        }

    def slot(self, s, cpts=False):
        doctor, place = s["doctor"], s["place"]
        meta = {"profile": [IG_PROFILE + "sas-cpts-slot-aggregator" if cpts else PROFILE + "FrSlotAgregateur"]}
        types = list(place["types"])
        if cpts and place.get("cpts") and self.fault != "cpts-no-security-type":
            types.append("CPTS")
        if self.fault != "no-slot-type":
            meta["security"] = [{"system": SLOT_TYPES, "code": t} for t in types]
        code, label = doctor["specialty"]
        specialty = {}
        if code:
            specialty["coding"] = [{"system": SPECIALTIES, "code": code}]
        if label:
            specialty["text"] = label
        service_types = [{"coding": [{"system": ACT_CODE, "code": m}]} for m in place["modes"]]
        if cpts:  # one serviceType 604 per CPTS, referencing its HealthcareService
            service_types += [{
                "extension": [{"url": SERVICE_TYPE_R5, "valueReference": {"reference": "HealthcareService/hs-" + k}}],
                "coding": [{"system": CPTS_CATEGORY, "code": "604"}],
            } for k in self.linked_cpts(place)]
        service_types.append({"text": place["motive"]})
        return {
            "resourceType": "Slot",
            "id": s["id"],
            "meta": meta,
            "serviceType": service_types,
            "specialty": [specialty],
            "appointmentType": {"coding": [{"system": APPOINTMENT_TYPES,
                                            "code": "WALKIN" if s["walkin"] else "ROUTINE"}]},
            "schedule": {"reference": "Schedule/agenda-%s-%s" % (doctor["key"], place["key"])},
            "status": "free",
            "start": fhir_instant(s["start"]),
            "end": fhir_instant(s["end"]),
            "comment": "https://rdv.vendor-agenda.example/%s/%s" % (doctor["family"].lower(), doctor["key"]),
        }

    # INT_R04 CPTS -----------------------------------------------------------------------------------
    @staticmethod
    def healthcare_service(key):
        return {
            "resourceType": "HealthcareService",
            "id": "hs-" + key,
            "meta": {"profile": [IG_PROFILE + "sas-cpts-healthcareservice-aggregator"]},
            "providedBy": {"reference": "Organization/cpts-" + key},
        }

    def cpts_organization(self, key):
        cpts = CPTS[key]
        finess = cpts["finess"] if self.fault == "cpts-unprefixed-finess" else prefixed(cpts["finess"], "1", 9)
        phone = cpts["phone"] if self.fault == "cpts-local-phone" else international_phone(cpts["phone"])
        organization = {
            "resourceType": "Organization",
            "id": "cpts-" + key,
            "meta": {"profile": [IG_PROFILE + "sas-cpts-organization-aggregator"]},
            "identifier": [{
                "type": {"coding": [{"system": FR_CORE_ID_TYPES, "code": "IDNST"}]},
                "system": IDNST,
                "value": finess,
            }],
            "name": cpts["name"],
            "telecom": [{"system": "phone", "value": phone}],
        }
        if self.fault == "cpts-no-name":
            del organization["name"]
        return organization

    # SOS Médecins -----------------------------------------------------------------------------------
    def search_sos(self, raw_query, origin):
        if not self.cpts_sos:
            raise BadRequest(404, "not-supported", "GET /Schedule is not supported")
        ge = le = None
        statuses, sirets = [], []
        for name, value in query_pairs(raw_query):
            if name == "_has:Slot:schedule:start":
                date = parse_fhir_date(value[2:].replace(" ", "+")) if value[:2] in ("ge", "le") else None
                if date is None:
                    raise BadRequest(400, "invalid", "_has:Slot:schedule:start must be ge or le a date: %r" % value)
                if value[:2] == "ge":
                    ge = date
                else:
                    le = date
            elif name == "_has:Slot:schedule:status":
                statuses.append(value)
            elif name in SCHEDULE_INCLUDES:
                if value not in SCHEDULE_INCLUDES[name]:
                    raise BadRequest(400, "not-supported", "%s=%s is not supported" % (name, value))
            elif name == "actor:Location.organization.identifier":
                for token in value.split(","):
                    system, bar, code = token.strip().rpartition("|")
                    if not bar or system != IDNST or not re.match(r"^3\d{14}$", code.strip()):
                        raise BadRequest(400, "invalid", "an association is %s|3 + SIRET: %r" % (IDNST, token))
                    sirets.append(code.strip())
            # _count and anything else: lenient handling, ignored
        if ge is None or le is None:
            raise BadRequest(400, "required", "_has:Slot:schedule:start=ge and =le are both required")
        if statuses != ["free"]:
            raise BadRequest(400, "required", "_has:Slot:schedule:status=free is required")
        limit = {"sos-26-sirets": 26, "sos-max-10-sirets": 10}.get(self.fault, MAX_SIRETS)
        if not sirets or len(sirets) > limit:
            raise BadRequest(400, "too-costly", "1 to %d associations per search" % limit)
        wanted = [self.by_siret[i] for i in dict.fromkeys(sirets) if i in self.by_siret]
        matches = [s for s in self.sos_slots
                   if s["association"] in wanted and s["status"] == "free" and ge <= s["start"] <= le]
        matches.sort(key=lambda s: (s["start"], s["id"]))
        base = origin + self.base_path
        # One Schedule per place (the fault: per association), its Location(s), the Organization once.
        schedules, locations, organizations = [], [], []
        for association in SOS_ASSOCIATIONS:
            places = [p for p in association["places"] if any(s["place"] is p for s in matches)]
            if not places:
                continue
            groups = [places] if self.fault == "sos-schedule-per-association" else [[p] for p in places]
            schedules += [self.sos_schedule(association, group) for group in groups]
            locations += [self.sos_location(association, p) for p in places]
            organizations.append(self.sos_organization(association))
        entries = [self.entry(base, r, "match") for r in schedules]
        entries += [self.entry(base, r) for r in locations + organizations]
        entries += [self.entry(base, self.sos_slot(s)) for s in matches]
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [IG_PROFILE + "sas-sos-bundle-aggregator"]},
            "type": "searchset",
            "total": len(schedules),
            "link": [{"relation": "self", "url": base + "/Schedule" + (
                "" if self.fault == "sos-self-link-without-query" else "?" + raw_query)}],
        }
        if entries:
            bundle["entry"] = entries
        return bundle

    def sos_schedule(self, association, places):
        return {
            "resourceType": "Schedule",
            "id": "sos-%s-%s" % (association["key"], places[0]["key"]),
            "meta": {"profile": [IG_PROFILE + "sas-sos-schedule-aggregator"]},
            "actor": [{"reference": "Location/lieu-%s-%s" % (association["key"], p["key"])} for p in places],
        }

    def sos_location(self, association, place):
        phone = place["phone"] if self.fault == "sos-local-phone" else international_phone(place["phone"])
        if self.fault == "sos-local-phone" and phone.startswith("+"):
            phone = "0" + phone[3:]
        return {
            "resourceType": "Location",
            "id": "lieu-%s-%s" % (association["key"], place["key"]),
            "meta": {"profile": [IG_PROFILE + "sas-sos-location-aggregator"]},
            "identifier": [{
                "type": {"coding": [{"system": LOCATION_ID_TYPES, "code": "INTRN"}]},
                "system": VENDOR_PLACE_OID,
                "value": "%s-%s" % (association["key"], place["key"]),
            }],
            "name": place["name"],
            "telecom": [{"system": "phone", "value": phone}],
            "address": {"line": [place["line"]], "city": place["city"], "postalCode": place["postal"]},
            "managingOrganization": {"reference": "Organization/sos-" + association["key"]},
        }

    def sos_organization(self, association):
        siret = association["stored_siret"]
        return {
            "resourceType": "Organization",
            "id": "sos-" + association["key"],
            "meta": {"profile": [IG_PROFILE + "sas-sos-organization-aggregator"]},
            "identifier": [{
                "type": {"coding": [{"system": LOCATION_ID_TYPES, "code": "IDNST"}]},
                "system": IDNST,
                "value": siret if self.fault == "sos-unprefixed-siret" else prefixed(siret, "3", 14),
            }],
            "name": association["name"],
        }

    def sos_slot(self, s):
        association, place = s["association"], s["place"]
        # An SOS slot is PUBLIC and/or SNP: the agenda's other types are not this search's.
        types = [t for t in place["types"] if t in ("PUBLIC", "SNP") or self.fault == "sos-wrong-slot-type"]
        return {
            "resourceType": "Slot",
            "id": s["id"],
            "meta": {"profile": [IG_PROFILE + "sas-sos-slot-aggregator"],
                     "security": [{"system": SLOT_TYPES, "code": t} for t in types]},
            "serviceType": [{"coding": [{"system": ACT_CODE, "code": m}]} for m in place["modes"]],
            "appointmentType": {"coding": [{"system": APPOINTMENT_TYPES, "code": "ROUTINE"}]},
            "schedule": {"reference": "Schedule/sos-%s-%s" % (association["key"], (
                association["places"][0] if self.fault == "sos-schedule-per-association" else place)["key"])},
            "status": "free",
            "start": fhir_instant(s["start"]),
            "end": fhir_instant(s["end"]),
            "comment": "https://rdv.vendor-agenda.example/sos/%s/%s" % (association["key"], place["key"]),
        }

    # INT_R02 --------------------------------------------------------------------------------------
    @staticmethod
    def validated_account(body):
        try:
            resource = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise BadRequest(400, "structure", "the body is not JSON: %s" % e)
        if not isinstance(resource, dict) or resource.get("resourceType") != "Practitioner":
            raise BadRequest(400, "structure", "a Practitioner resource is expected")
        identifiers = resource.get("identifier")
        if not isinstance(identifiers, list) or not identifiers or not all(
                isinstance(i, dict) and isinstance(i.get("system"), str) and isinstance(i.get("value"), str)
                and i["system"] and i["value"] for i in identifiers):
            raise BadRequest(422, "business-rule", "an identifier (IDNPS or INTRN) with system and value is required")
        names = resource.get("name")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
        given = name.get("given")
        if not isinstance(name.get("family"), str) or not name["family"].strip() or not (
                isinstance(given, list) and given and isinstance(given[0], str) and given[0].strip()):
            raise BadRequest(422, "business-rule", "the regulator's name and given name are required")
        telecom = resource.get("telecom")
        if not isinstance(telecom, list) or not any(
                isinstance(t, dict) and t.get("system") == "email" and t.get("value") for t in telecom):
            raise BadRequest(422, "business-rule", "the regulator's e-mail is required")
        if not isinstance(resource.get("active", True), bool):
            raise BadRequest(400, "structure", "active must be a boolean")
        return resource

    def find_accounts(self, system, value):
        return [k for k, a in self.accounts.items()
                if any(i.get("system") == system and i.get("value") == value for i in a["resource"]["identifier"])]

    def store(self, account_id, resource):
        version = self.accounts.get(account_id, {}).get("version", 0) + 1
        resource = dict(resource)
        resource["id"] = account_id
        meta = dict(resource.get("meta") or {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = fhir_instant(dt.datetime.now(dt.timezone.utc))
        resource["meta"] = meta
        self.accounts[account_id] = {"resource": resource, "version": version}
        return resource, version

    def create_account(self, body, origin):
        resource = self.validated_account(body)
        with self.lock:
            for i in resource["identifier"]:
                if self.find_accounts(i["system"], i["value"]):
                    raise BadRequest(409, "duplicate", "a regulator account with this identifier exists; "
                                                       "update it with a conditional PUT")
            stored, version = self.store(uuid.uuid4().hex, resource)
        return 201, stored, self.location(origin, stored["id"], version)

    def upsert_account(self, raw_query, body, origin):
        wanted = [v for n, v in query_pairs(raw_query) if n == "identifier"]
        if len(wanted) != 1 or "|" not in wanted[0]:
            raise BadRequest(400, "required", "a conditional update needs identifier=SYSTEM|VALUE")
        system, _, value = wanted[0].partition("|")
        resource = self.validated_account(body)
        with self.lock:
            found = self.find_accounts(system, value)
            if len(found) > 1:
                raise BadRequest(412, "multiple-matches", "several accounts match this identifier")
            stored, version = self.store(found[0] if found else uuid.uuid4().hex, resource)
        return (200 if found else 201), stored, self.location(origin, stored["id"], version)

    def location(self, origin, account_id, version):
        # FHIR R4 create/update: the Location names the logical id and the version.
        return "%s%s/Practitioner/%s/_history/%d" % (origin, self.base_path, account_id, version)

    def capability_statement(self):
        statement = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-01",
            "kind": "instance",
            "software": {"name": "vendor-agenda (independent test vendor)", "version": "1.0"},
            "implementation": {"description": "SAS INT_R01, INT_R02, INT_R04 and SOS endpoint of an independent vendor"},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "rest": [{
                "mode": "server",
                "resource": [
                    {"type": "Slot", "profile": PROFILE + "FrSlotAgregateur",
                     "interaction": [{"code": "search-type"}],
                     "searchInclude": ["Slot:schedule", "Schedule:actor"] + (
                         ["Slot:service-type-reference", "HealthcareService:organization"] if self.cpts_sos else []),
                     "searchParam": [
                         {"name": "start", "type": "date"},
                         {"name": "status", "type": "token"},
                         {"name": "schedule.actor:Practitioner.identifier", "type": "token"}]},
                    {"type": "Practitioner",
                     "interaction": [{"code": "create"}, {"code": "update"}],
                     "conditionalCreate": False, "conditionalUpdate": True},
                ] + ([
                    {"type": "Schedule", "profile": IG_PROFILE + "sas-sos-schedule-aggregator",
                     "interaction": [{"code": "search-type"}],
                     "searchInclude": ["Schedule:actor:Location", "Location:organization"],
                     "searchRevInclude": ["Slot:schedule"]},
                ] if self.cpts_sos else []),
            }],
        }
        statement["instantiates"] = [IG_CAPABILITY + "SAS-GestionnaireAgenda-PsIndiv"] + (
            [IG_CAPABILITY + "SAS-GestionnaireAgenda-CPTS", IG_CAPABILITY + "SAS-GestionnaireAgenda-SOS"]
            if self.cpts_sos else [])
        return statement


# --- HTTP over mutual TLS ----------------------------------------------------------------------------
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vendor-agenda/1.0"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (flushed after each request)

    def log_message(self, fmt, *args):  # one line per request on stderr
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def reply(self, status, resource, extra_headers=()):
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", FHIR_JSON)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def origin(self):
        return "https://" + (self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1])

    def route(self):
        vendor = self.server.vendor
        path, _, raw_query = self.path.partition("?")
        if not path.startswith(vendor.base_path + "/"):
            raise BadRequest(404, "not-found", "unknown path " + path)
        resource_path = path[len(vendor.base_path):].rstrip("/")
        return resource_path, raw_query

    def handle_errors(self, action):
        try:
            action()
        except BadRequest as e:
            self.reply(e.status, outcome(e.code, e.text))
        except Exception as e:  # noqa: BLE001 - an endpoint answers 500 rather than dropping the call
            self.reply(500, outcome("exception", "internal error: %s" % e))

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self):
        def action():
            resource_path, raw_query = self.route()
            vendor = self.server.vendor
            if resource_path == "/metadata" and not self.server.no_metadata:
                self.reply(200, vendor.capability_statement())
            elif resource_path == "/Slot":
                self.reply(200, vendor.search_slots(raw_query, self.origin()))
            elif resource_path == "/Schedule":
                self.reply(200, vendor.search_sos(raw_query, self.origin()))
            else:
                raise BadRequest(404, "not-supported", "GET %s is not supported" % resource_path)
        self.handle_errors(action)

    def do_POST(self):
        body = self.read_body()

        def action():
            resource_path, _ = self.route()
            if resource_path != "/Practitioner":
                raise BadRequest(404, "not-supported", "POST %s is not supported" % resource_path)
            status, stored, location = self.server.vendor.create_account(body, self.origin())
            self.reply(status, stored, [("Location", location), ("ETag", 'W/"%s"' % stored["meta"]["versionId"])])
        self.handle_errors(action)

    def do_PUT(self):
        body = self.read_body()

        def action():
            resource_path, raw_query = self.route()
            if resource_path != "/Practitioner":
                raise BadRequest(404, "not-supported", "PUT %s is not supported" % resource_path)
            status, stored, location = self.server.vendor.upsert_account(raw_query, body, self.origin())
            self.reply(status, stored, [("Location", location), ("ETag", 'W/"%s"' % stored["meta"]["versionId"])])
        self.handle_errors(action)


def allowed_subject(cert, wanted):
    """Every attribute of `wanted` (e.g. {"commonName": "sas.sante.fr", ...}) is the subject's only value."""
    subject = {}
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            subject.setdefault(name, []).append(value)
    return all(subject.get(name) == [value] for name, value in wanted.items())


class MutualTlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, context, wanted_subject, vendor):
        super().__init__(address, Handler)
        self.context = context
        self.wanted_subject = wanted_subject
        self.vendor = vendor
        self.no_metadata = False

    def finish_request(self, request, client_address):
        # In the connection's own thread: the handshake, then the subject, then HTTP.
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write("%s refused during the handshake: %s\n" % (client_address[0], e))
            return
        if not allowed_subject(tls.getpeercert() or {}, self.wanted_subject):
            sys.stderr.write("%s refused: client subject %s is not allowed\n"
                             % (client_address[0], tls.getpeercert().get("subject")))
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        sys.stderr.write("%s connection error: %s\n" % (client_address[0], sys.exc_info()[1]))


SUBJECT_NAMES = {"CN": "commonName", "OU": "organizationalUnitName", "O": "organizationName", "C": "countryName"}


def parse_subject(text):
    wanted = {}
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        if key.upper() not in SUBJECT_NAMES or not value:
            raise SystemExit("--allow-client-subject: cannot read %r" % part)
        wanted[SUBJECT_NAMES[key.upper()]] = value
    return wanted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port, printed once listening")
    parser.add_argument("--pki", required=True, help="a `sas-conformance pki` directory")
    parser.add_argument("--tls-cert", help="default PKI/server.pem")
    parser.add_argument("--tls-key", help="default PKI/server-key.pem")
    parser.add_argument("--client-ca", help="default PKI/ca.pem")
    parser.add_argument("--client-crl", help="default PKI/crl.pem")
    parser.add_argument("--allow-client-subject", default="CN=sas.sante.fr,OU=SAS")
    parser.add_argument("--base-path", default="/fhir")
    parser.add_argument("--now", required=True, help="the agenda's clock, e.g. 2026-11-23T08:00:00+01:00")
    parser.add_argument("--fault", choices=sorted(FAULTS), help="introduce one fault: " + "; ".join(
        "%s: %s" % kv for kv in sorted(FAULTS.items())))
    parser.add_argument("--no-metadata", action="store_true",
                        help="a search-only vendor: no GET /metadata (the IG does not require it of the agenda; "
                             "without a CapabilityStatement declaring Practitioner create/update, the platform "
                             "does not use INT_R02)")
    parser.add_argument("--no-cpts-sos", action="store_true",
                        help="a vendor offering neither the CPTS nor the SOS search: its CapabilityStatement "
                             "declares neither, it refuses the CPTS _include and has no GET /Schedule")
    args = parser.parse_args()

    now = parse_fhir_date(args.now)
    if now is None or "T" not in args.now:
        raise SystemExit("--now: a dateTime with offset is expected")
    pki = args.pki.rstrip("/")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.tls_cert or pki + "/server.pem", args.tls_key or pki + "/server-key.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=args.client_ca or pki + "/ca.pem")
    if args.fault != "no-crl":
        context.load_verify_locations(cafile=args.client_crl or pki + "/crl.pem")
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    context.num_tickets = 0

    vendor = Vendor(now.astimezone(dt.timezone.utc), args.base_path.rstrip("/"), args.fault)
    server = MutualTlsServer((args.host, args.port), context, parse_subject(args.allow_client_subject), vendor)
    server.no_metadata = args.no_metadata
    vendor.cpts_sos = not args.no_cpts_sos
    print("listening on %s:%d" % (args.host, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
