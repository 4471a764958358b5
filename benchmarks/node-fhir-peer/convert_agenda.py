#!/usr/bin/python3
"""Converts an agenda made by `sas-sim gen-agenda` (the reference plugin's SQLite file) into the
FHIR resources the node peer serves: one Practitioner per practitioner, one Schedule and one
PractitionerRole (with its contained Location) per place, one Slot per slot that may leave for an
INT_R01 search (PUBLIC, PRO or SNP). The resources are shaped as sas-host writes them (SAS
profiles, the same codings, Europe/Paris times), so that both servers answer the same search with
Bundles of the same content and about the same size. Stdlib only.

  convert_agenda.py AGENDA.db OUT.json
"""
import datetime
import json
import re
import sqlite3
import sys
import zoneinfo

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SAS = "http://sas.fr/fhir/StructureDefinition/"
SLOT_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
APPOINTMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0276"
SPECIALTY_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
ID_TYPE_SYSTEM = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
LOCATION_ID_TYPE_SYSTEM = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"
PRACTITIONER_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
STRUCTURE_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
# INT_R01 sends these types, in this order; CPTS-only and PATIENTELE slots do not leave.
SLOT_TYPES = ("PUBLIC", "PRO", "SNP")
MODES = ("AMB", "HH", "VR")


def department_coded_9(s):
    return len(s) == 9 and (s.isdigit() or (s[:2] in ("2A", "2B") and s[2:].isdigit()))


def practitioner_id(raw):
    """The prefixed national id (8 + RPPS, 0 + ADELI), as the platform searches it."""
    s = raw.strip()
    if len(s) == 11 and s.isdigit():
        return "8" + s
    if len(s) == 12 and s[0] == "8" and s.isdigit():
        return s
    if department_coded_9(s):
        return "0" + s
    if len(s) == 10 and s[0] == "0" and department_coded_9(s[1:]):
        return s
    return None


def structure_id(finess, siret, rpps_rang):
    """FINESS (1 + 9), else SIRET (3 + 14), else RPPS-rang (4 + 11 to 14 digits): the first valid one."""
    f, s, r = ((x or "").strip() for x in (finess, siret, rpps_rang))
    if department_coded_9(f):
        return "1" + f
    if len(f) == 10 and f[0] == "1" and department_coded_9(f[1:]):
        return f
    if s.isdigit() and (len(s) == 14 or (len(s) == 15 and s[0] == "3")):
        return s if len(s) == 15 else "3" + s
    if r.isdigit() and r.startswith("4") and 12 <= len(r) <= 15:
        return r
    if r.isdigit() and 11 <= len(r) <= 14:
        return "4" + r
    return None


def plus33(raw):
    digits = re.sub(r"\D", "", raw or "")
    if raw and raw.strip().startswith("+33") or digits.startswith("33") and len(digits) > 10:
        rest = digits[2:]
        rest = rest[1:] if rest.startswith("0") else rest
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        return None
    return "+33" + rest if len(rest) == 9 else None


def paris(seconds):
    t = datetime.datetime.fromtimestamp(seconds, PARIS)
    offset = t.strftime("%z")
    return t.strftime("%Y-%m-%dT%H:%M:%S.000") + offset[:3] + ":" + offset[3:]


def meta(profile, security=None):
    m = {"profile": [SAS + profile]}
    if security:
        m["security"] = security
    return m


def specialties(lines):
    out, seen = [], set()
    for code, label in lines:
        key = (code, label)
        if key in seen:
            continue
        seen.add(key)
        if code:
            item = {"coding": [{"system": SPECIALTY_SYSTEM, "code": code}]}
            if label:
                item["text"] = label
        else:
            item = {"text": label}
        out.append(item)
    return out


def convert(agenda):
    db = sqlite3.connect("file:%s?mode=ro" % agenda, uri=True)
    practitioners, practitioner_specialties = {}, {}
    for code, label, pid in db.execute("SELECT code, label, practitioner_id FROM practitioner_specialty ORDER BY rowid"):
        practitioner_specialties.setdefault(pid, []).append((code, label))
    for pid, national, family, given, phone in db.execute(
            "SELECT id, national_id, family_name, given_names, phone FROM practitioner"):
        prefixed = practitioner_id(national)
        if prefixed is None:
            continue
        name = {"family": family.strip()}
        given_list = [g.strip() for g in given.split("\n") if g.strip()]
        if given_list:
            name["given"] = given_list
        practitioners[pid] = {
            "identifier": prefixed,
            "phone": phone,
            "resource": {
                "resourceType": "Practitioner", "id": pid, "meta": meta("FrPractitionerAgregateur"),
                "identifier": [{"type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "IDNPS"}]},
                                "system": PRACTITIONER_SYSTEM, "value": prefixed}],
                "name": [name]},
            "specialties": specialties(practitioner_specialties.get(pid, [])),
        }

    places = {}
    for (place_id, pid, name, address, postal_code, city, finess, siret, rpps_rang, phone,
         booking_url) in db.execute("SELECT id, practitioner_id, name, address, postal_code, city, finess, siret, "
                                    "rpps_rang, phone, booking_url FROM place"):
        practitioner = practitioners.get(pid)
        lines = [line.strip() for line in address.split("\n") if line.strip()]
        if practitioner is None or not lines or not city.strip() or not postal_code.strip():
            continue  # the host sends no slot of an unknown practitioner or an incomplete address
        location = {"resourceType": "Location", "id": "location", "meta": meta("FrLocationAgregateur"),
                    # the system is the server's own base, set when it starts
                    "identifier": [{"type": {"coding": [{"system": LOCATION_ID_TYPE_SYSTEM, "code": "INTRN"}]},
                                    "system": "", "value": place_id}]}
        if name and name.strip():
            location["name"] = name.strip()
        location["address"] = {"line": [", ".join(lines)], "city": city.strip(), "postalCode": postal_code.strip()}
        role = {"resourceType": "PractitionerRole", "id": place_id, "meta": meta("FrPractitionerRoleExerciceAgregateur"),
                "contained": [location], "practitioner": {"reference": "Practitioner/" + pid}}
        structure = structure_id(finess, siret, rpps_rang)
        if structure:
            role["organization"] = {"identifier": {"type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "IDNST"}]},
                                                   "system": STRUCTURE_SYSTEM, "value": structure}}
        role["location"] = [{"reference": "#location"}]
        telephone = plus33(phone) or plus33(practitioner["phone"])
        if telephone:
            role["telecom"] = [{"system": "phone", "value": telephone}]
        schedule = {"resourceType": "Schedule", "id": place_id, "meta": meta("FrScheduleAgregateur"),
                    "actor": [{"reference": "Practitioner/" + pid}, {"reference": "PractitionerRole/" + place_id}]}
        places[place_id] = {"practitioner": pid, "booking_url": booking_url, "schedule": schedule, "role": role}

    slots = []
    for (slot_id, place_id, start, end, status, audiences, modes, motives, walk_in, booking_url,
         slot_specialties) in db.execute("SELECT id, place_id, start_utc, end_utc, status, audiences, modes, motives, "
                                         "walk_in, booking_url, specialties FROM slot ORDER BY start_utc, id"):
        place = places.get(place_id)
        kinds = set(a.strip() for a in audiences.split(","))
        types = [t for t in SLOT_TYPES if t in kinds]
        if place is None or not types:
            continue
        service_types = [{"coding": [{"system": ACT_CODE_SYSTEM, "code": m}]}
                         for m in MODES if m in set(x.strip() for x in (modes or "").split(","))]
        seen_motives = set()
        for motive in (motives or "").split("\n"):
            motive = motive.strip()
            if motive and motive not in seen_motives:
                seen_motives.add(motive)
                service_types.append({"text": motive})
        if slot_specialties:
            specialty = specialties([(s.strip(), None) if re.fullmatch(r"SM\d+", s.strip()) else (None, s.strip())
                                     for s in slot_specialties.split("\n") if s.strip()])
        else:
            specialty = practitioners[place["practitioner"]]["specialties"]
        slot = {"resourceType": "Slot", "id": str(slot_id),
                "meta": meta("FrSlotAgregateur", [{"system": SLOT_TYPE_SYSTEM, "code": t} for t in types])}
        if service_types:
            slot["serviceType"] = service_types
        if specialty:
            slot["specialty"] = specialty
        slot["appointmentType"] = {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM,
                                               "code": "WALKIN" if walk_in else "ROUTINE"}]}
        slot["schedule"] = {"reference": "Schedule/" + place_id}
        slot["status"] = status
        slot["start"] = paris(start)
        slot["end"] = paris(end)
        url = booking_url or place["booking_url"]
        if url:
            slot["comment"] = url
        slots.append({"start_utc": start, "resource": slot})

    return {
        "practitioners": [{"identifier": p["identifier"], "resource": p["resource"]} for p in practitioners.values()],
        "places": [{"practitioner": p["practitioner"], "schedule": p["schedule"], "role": p["role"]}
                   for p in places.values()],
        "slots": slots,
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data = convert(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
    print(json.dumps({"practitioners": len(data["practitioners"]), "places": len(data["places"]),
                      "slots": len(data["slots"])}))


if __name__ == "__main__":
    main()
