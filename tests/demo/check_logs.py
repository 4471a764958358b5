#!/usr/bin/env python3
"""The host's log of a whole demo run (samples/demo/demo.py --work DIR), checked as operations and
the data protection officer would read it (docs/operations.md, "Logs"):

- every line is one JSON object with ts (RFC 3339 UTC, milliseconds), level, component and msg;
- the listeners' "listening on" lines carry their URL and port as fields;
- one access line per answer on both listeners, with the request's id, and the ids the host's
  answers returned (requests.jsonl, written by the demo) among them; no query in any path;
- no secret and no personal datum of the run anywhere in the log: the admin token, the panel
  key, the private keys' base64 bodies, the regulator's names, e-mail and national id, the
  patient's label given at booking, the doctor's phone set through the admin API. They are read from the run's own
  files (the token file, the PKI, the agenda the plugin serves, the host's records of the
  demo's requests), not copied from the code.

  check_logs.py WORK_DIR
"""

import base64
import collections
import glob
import json
import os
import re
import sqlite3
import sys
import urllib.parse

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
LEVELS = {"debug", "info", "warning", "error"}
ACCESS_FIELDS = {"request_id": str, "listener": str, "route": str, "method": str, "path": str, "status": int,
                 "duration_ms": (int, float), "bytes": int, "remote": str}


class Failures:
    def __init__(self):
        self.items = []

    def add(self, message):
        self.items.append(message)


def strings_in(value):
    """Every string of a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def secrets_of(work):
    """(what, value) pairs that must never appear in the host's log."""
    found = []
    token = open(os.path.join(work, "admin.token")).read().strip()
    found.append(("the admin token", token))
    found.append(("the doctor's panel key", open(os.path.join(work, "panel.key")).read().strip()))
    key_lines = {}
    for key in sorted(glob.glob(os.path.join(work, "pki", "*-key.pem"))):
        body = "".join(line.strip() for line in open(key) if line.strip() and not line.startswith("-----"))
        base64.b64decode(body)  # a key's body indeed
        found.append(("the base64 body of " + os.path.basename(key), body))
        key_lines[os.path.basename(key)] = [line.strip() for line in open(key)
                                            if len(line.strip()) >= 24 and not line.startswith("-----")]
    # Any one line of a key would be a leak too, but for the ones every key of its kind shares (the
    # ASN.1 header of a P-256 key is no secret).
    counts = collections.Counter(line for lines in key_lines.values() for line in set(lines))
    for name, lines in key_lines.items():
        found.extend(("a line of " + name, line) for line in lines if counts[line] == 1)
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(work, "agenda.db"), uri=True)
    accounts = db.execute("SELECT family_name, given_names, email, national_id, sas_id FROM regulator_account").fetchall()
    if not accounts:
        raise SystemExit("check_logs: the demo created no regulator account: nothing to look for")
    for family, given, email, national_id, sas_id in accounts:
        found.append(("the regulator's family name", family))
        for name in given.splitlines():
            found.append(("the regulator's given name", name))
        found.append(("the regulator's e-mail", email))
        for identifier in (national_id, sas_id):
            if identifier:
                found.append(("the regulator's identifier", identifier))
                if identifier.isdigit():
                    found.append(("the regulator's identifier", identifier[1:]))  # RPPS without its prefix
    patients = [row[0] for row in db.execute("SELECT patient_label FROM appointment WHERE patient_label <> ''")]
    if not patients:
        raise SystemExit("check_logs: the demo booked no appointment with a patient: nothing to look for")
    for label in patients:
        found.append(("the patient", label))
        for word in label.split():
            if len(word) >= 4:
                found.append(("the patient's name", word))
    # The host's own records of what the demo sent: the INT_R02 requests as received (its audit)
    # and the doctor's phone set through the admin API.
    host = sqlite3.connect("file:%s?mode=ro" % os.path.join(work, "host.db"), uri=True)
    bodies = []
    for (raw,) in host.execute("SELECT body FROM regulator_account_request"):
        try:
            body = json.loads(raw)
        except ValueError:
            continue  # the certification suite's malformed requests
        if isinstance(body, dict):
            bodies.append(body)
    if not bodies:
        raise SystemExit("check_logs: the host recorded no INT_R02 request: nothing to look for")
    for body in bodies:
        for name in body.get("name", []) if isinstance(body.get("name"), list) else []:
            found.append(("the regulator's family name (INT_R02)", name.get("family", "")))
            found.extend(("the regulator's given name (INT_R02)", given) for given in name.get("given", []))
        found.extend(("the regulator's " + t.get("system", "telecom") + " (INT_R02)", t.get("value", ""))
                     for t in body.get("telecom", []))
        found.extend(("the regulator's identifier (INT_R02)", i.get("value", "")) for i in body.get("identifier", []))
    phones = [row[0] for row in host.execute("SELECT value FROM doctor_setting_change WHERE field = 'phone'")]
    if not phones:
        raise SystemExit("check_logs: no phone was set through the admin API: nothing to look for")
    for phone in phones:
        number = json.loads(phone) if phone.startswith('"') else phone
        digits = re.sub(r"\D", "", number)
        national = "0" + digits[2:] if number.startswith("+33") else digits
        found.extend(("the doctor's phone", form) for form in
                     (number, national, " ".join(national[i:i + 2] for i in range(0, len(national), 2))))
    return [(what, value) for what, value in found if value]


def check(work):
    failures = Failures()
    text = open(os.path.join(work, "host.log"), encoding="utf-8", errors="strict").read()
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError as error:
            failures.add("host.log:%d is not JSON (%s): %s" % (number, error, line[:200]))
            continue
        if not isinstance(entry, dict):
            failures.add("host.log:%d is not a JSON object: %s" % (number, line[:200]))
            continue
        for key in ("ts", "level", "component", "msg"):
            if not isinstance(entry.get(key), str):
                failures.add("host.log:%d has no %s: %s" % (number, key, line[:200]))
        if isinstance(entry.get("ts"), str) and not TIMESTAMP.fullmatch(entry["ts"]):
            failures.add("host.log:%d: ts %r is not RFC 3339 UTC with milliseconds" % (number, entry["ts"]))
        if entry.get("level") not in LEVELS:
            failures.add("host.log:%d: level %r" % (number, entry.get("level")))
        entries.append((number, line, entry))

    listening = {e.get("listener"): e for _, _, e in entries if "listening on" in e.get("msg", "")}
    for listener in ("fhir", "admin"):
        entry = listening.get(listener)
        if not entry or not isinstance(entry.get("port"), int) or not entry.get("url", "").endswith(
                ":%s" % entry.get("port")):
            failures.add("no '%s' listening line with its url and port: %s" % (listener, entry))

    access = [(n, e) for n, _, e in entries if e.get("component") == "access"]
    for number, entry in access:
        for key, kind in ACCESS_FIELDS.items():
            if not isinstance(entry.get(key), kind):
                failures.add("host.log:%d: access line without %s: %s" % (number, key, entry))
        if "?" in entry.get("path", ""):
            failures.add("host.log:%d: a query in the access log: %s" % (number, entry["path"]))
    by_listener = {listener: [e for _, e in access if e.get("listener") == listener] for listener in ("fhir", "admin")}
    for listener, lines in by_listener.items():
        if not lines:
            failures.add("no access line for the %s listener" % listener)
    fhir_clients = {e.get("client") for e in by_listener["fhir"]}
    if "CN=sas.sante.fr,OU=SAS" not in fhir_clients:
        failures.add("no access line names the platform's certificate (clients: %s)" % fhir_clients)

    # The ids the host's answers carried, in its access log with the same method and status.
    ids = {e.get("request_id"): e for _, e in access}
    requests = [json.loads(line) for line in open(os.path.join(work, "requests.jsonl"))]
    if not requests:
        failures.add("the demo recorded no request")
    for request in requests:
        entry = ids.get(request["request_id"])
        if not request["request_id"] or entry is None:
            failures.add("request %s %s answered X-Request-Id %r: not in the access log"
                         % (request["method"], request["target"][:40], request["request_id"]))
        elif (entry.get("method"), entry.get("status")) != (request["method"], request["status"]):
            failures.add("request %r logged as %s %s, answered %s %s" % (
                request["request_id"], entry.get("method"), entry.get("status"), request["method"], request["status"]))

    # No secret, no personal datum: in the raw text and in every decoded string (a leak written
    # with \\u escapes is still a leak).
    # Key material and the token match anywhere; names, e-mails, phones and identifiers match as
    # whole words, case aside ("Alice" is not in "malicious").
    # Percent-decoded too: a query logged as received reads "identifier=…%7C810002673899".
    haystacks = []
    for number, line, entry in entries:
        text = line + "\n" + "\n".join(strings_in(entry))
        haystacks.append((number, text + "\n" + urllib.parse.unquote(text)))
    for what, value in secrets_of(work):
        secret = "key" in what or "token" in what
        pattern = re.compile(re.escape(value) if secret else r"(?<!\w)" + re.escape(value) + r"(?!\w)",
                             0 if secret else re.IGNORECASE)
        for number, haystack in haystacks:
            if pattern.search(haystack):
                failures.add("host.log:%d holds %s (%r)" % (number, what, value if "key" not in what and
                                                            "token" not in what else value[:6] + "..."))
                break
    return failures.items, len(entries), len(access)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    failures, lines, access = check(sys.argv[1])
    for failure in failures:
        print("FAIL: " + failure)
    print("%d log lines, %d access lines checked: %s" % (lines, access, "FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
