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

Data: a small fixed in-memory agenda, with slots placed relative to `--now`: practitioners
810002673899 (stored without its prefix, two places), 810100050075 (stored prefixed) and
0751234567 (an ADELI, stored as its 9 characters), each with free slots in [now, now + 48 h],
plus slots outside that window and busy slots that a search must never return.

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
             "types": ["PUBLIC", "SNP"]},
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
             "types": ["PUBLIC", "PRO", "SNP"]},
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
        self.by_national_id = {national_id(d["stored_id"]): d for d in DOCTORS}
        self.accounts = {}  # id -> {"resource": {...}, "version": n}
        self.lock = threading.Lock()

    # INT_R01 --------------------------------------------------------------------------------------
    def search_slots(self, raw_query, origin):
        params = query_pairs(raw_query)
        ge = le = None
        statuses, ids = [], []
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
            # _include, _include:iterate, _count and anything else: lenient handling, ignored
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

        wanted = [self.by_national_id[i] for i in dict.fromkeys(ids) if i in self.by_national_id]
        if self.fault == "error-on-unknown" and not wanted:
            raise BadRequest(404, "not-found", "no such practitioner")
        matches = [s for s in self.slots
                   if s["doctor"] in wanted and s["status"] == "free" and ge <= s["start"] <= le]
        matches.sort(key=lambda s: (s["start"], s["id"]))
        return self.bundle(matches, origin + self.base_path + "/Slot?" + raw_query, origin)

    def bundle(self, matches, self_url, origin):
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
        entries += [self.entry(base, self.slot(s), "match") for s in matches]
        bundle = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [PROFILE + "BundleAgregateur"]},
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

    def slot(self, s):
        doctor, place = s["doctor"], s["place"]
        meta = {"profile": [PROFILE + "FrSlotAgregateur"]}
        if self.fault != "no-slot-type":
            meta["security"] = [{"system": SLOT_TYPES, "code": t} for t in place["types"]]
        code, label = doctor["specialty"]
        specialty = {}
        if code:
            specialty["coding"] = [{"system": SPECIALTIES, "code": code}]
        if label:
            specialty["text"] = label
        service_types = [{"coding": [{"system": ACT_CODE, "code": m}]} for m in place["modes"]]
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
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-01",
            "kind": "instance",
            "software": {"name": "vendor-agenda (independent test vendor)", "version": "1.0"},
            "implementation": {"description": "SAS INT_R01 and INT_R02 endpoint of an independent vendor"},
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "rest": [{
                "mode": "server",
                "resource": [
                    {"type": "Slot", "profile": PROFILE + "FrSlotAgregateur",
                     "interaction": [{"code": "search-type"}],
                     "searchInclude": ["Slot:schedule", "Schedule:actor"],
                     "searchParam": [
                         {"name": "start", "type": "date"},
                         {"name": "status", "type": "token"},
                         {"name": "schedule.actor:Practitioner.identifier", "type": "token"}]},
                    {"type": "Practitioner",
                     "interaction": [{"code": "create"}, {"code": "update"}],
                     "conditionalCreate": False, "conditionalUpdate": True},
                ],
            }],
        }


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
    print("listening on %s:%d" % (args.host, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
