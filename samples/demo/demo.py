#!/usr/bin/env python3
"""The main job, end to end, on the embedded default store (run by scripts/demo; tests/demo runs
it under fixed clocks).

A generated agenda behind the reference plugin, the host serving it over mutual TLS, the SAS
platform simulator searching it as the national platform does, a regulator's account, a booking
through the sample agenda, the consultation coded for billing, the notifications delivered, the
doctor's options, the doctor's panel and the certification suite. Every step checks what it shows: a step whose
effect is not visible stops the demo with a message naming the step.

The demo chooses its practitioners and its window from the agenda it generated, so it has
something to show at any hour, on any day, and on the days the clocks change.

  demo.py --build build [--ig DIR] [--at 2026-03-29T08:00:00+02:00]

--at runs the whole demo (every process it starts) under that clock, through libfaketime.
"""

import argparse
import collections
import datetime
import glob
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
REGULATOR_RPPS = "810002673899"
CPTS_BUNDLE = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator"
SOS_BUNDLE = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-sos-bundle-aggregator"
SLOT_SERVICE_TYPE_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
REGULATOR_EMAIL = "jules.marius@sas.test"


class DemoFailure(Exception):
    pass


class Demo:
    def __init__(self, build, ig, work, clock_offset=0):
        self.build = os.path.abspath(build)
        # Under --at, every process the demo starts runs under libfaketime with this offset, and the
        # demo's own clock (now()) adds it; the interpreter itself is not preloaded (its sleeps would
        # break).
        self.clock_offset = clock_offset
        # libfaketime is preloaded directly rather than through the `faketime` wrapper: the wrapper
        # names a shared-memory semaphore after its own pid and leaves it behind when the process it
        # runs is killed, and a later wrapper that gets the same pid then fails ("sem_open: File
        # exists") when several demos run at once.
        self.env = None
        if clock_offset:
            self.env = dict(os.environ, LD_PRELOAD=faketime_library(), FAKETIME="%+ds" % clock_offset,
                            FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.ig = ig
        self.work = work
        self.processes = []
        self.step_name = ""

    # --- plumbing ----------------------------------------------------------------------------
    def bin(self, name):
        return os.path.join(self.build, "bin", name)

    def step(self, number, title):
        self.step_name = "step %s (%s)" % (number, title)
        print("\n== %s. %s" % (number, title), flush=True)

    def expect(self, condition, message):
        if not condition:
            raise DemoFailure("%s: %s" % (self.step_name, message))

    def now(self):
        return datetime.datetime.now(PARIS) + datetime.timedelta(seconds=self.clock_offset)

    def run(self, *args, check=True, stdin=None):
        result = subprocess.run([str(a) for a in args], capture_output=True, text=True, input=stdin,
                                env=self.env)
        if check and result.returncode != 0:
            raise DemoFailure("%s: `%s` exited %d: %s" % (self.step_name, " ".join(str(a) for a in args[:3]),
                                                          result.returncode, (result.stderr or result.stdout).strip()))
        return result

    def show(self, text, indent="   "):
        for line in text.rstrip("\n").splitlines():
            print(indent + line)
        sys.stdout.flush()

    def start(self, args, log):
        process = subprocess.Popen([str(a) for a in args], env=self.env, stdout=subprocess.DEVNULL,
                                   stderr=open(log, "w"))
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def wait_for(self, what, predicate, process=None, log=None, seconds=20.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            if process is not None and process.poll() is not None:
                text = open(log).read() if log else ""
                raise DemoFailure("%s: %s exited (%d) before %s:\n%s" % (self.step_name, process.args[0],
                                                                         process.returncode, what, text))
            time.sleep(0.1)
        raise DemoFailure("%s: no %s after %.0f s" % (self.step_name, what, seconds))

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    @staticmethod
    def accepts(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def agenda(self, query, *params):
        with sqlite3.connect("file:%s?mode=ro" % self.agenda_db, uri=True) as db:
            return db.execute(query, params).fetchall()

    # --- the platform's side -------------------------------------------------------------------
    def search_args(self, ids, cert="client"):
        return [self.bin("sas-sim"), "search", "--base", "https://localhost:%d" % self.port,
                "--cert", os.path.join(self.pki, cert + ".pem"), "--key", os.path.join(self.pki, cert + "-key.pem"),
                "--ca", os.path.join(self.pki, "ca.pem"), "--practitioners", ",".join(ids),
                "--from", self.window[0], "--to", self.window[1]]

    def search(self, ids):
        """The Bundle the platform gets for `ids` over the demo's window, read per practitioner."""
        bundle = json.loads(self.run(*self.search_args(ids), "--raw").stdout)
        self.expect(bundle.get("resourceType") == "Bundle", "the search answer is not a Bundle")
        return SearchAnswer(bundle)

    # --- the steps ------------------------------------------------------------------------------
    def main(self):
        now = self.now()
        print("demo clock: %s (Europe/Paris)" % now.isoformat(timespec="seconds"))
        # The platform's window: now to now + 48 h, written with the offset of each end (they differ
        # on the days the clocks change).
        end = (now.astimezone(datetime.timezone.utc) + datetime.timedelta(hours=48)).astimezone(PARIS)
        self.window = (iso_ms(now), iso_ms(end))
        self.agenda_db = os.path.join(self.work, "agenda.db")
        self.pki = os.path.join(self.work, "pki")
        plugin = os.path.join(self.build, "lib/sas/plugins/libsas-sqlite-agenda.so")

        self.step(1, "A small agenda: 20 practitioners, from today over 4 days, in the reference plugin's SQLite schema")
        summary = json.loads(self.run(self.bin("sas-sim"), "gen-agenda", "--out", self.agenda_db, "--practitioners", 20,
                                      "--days", 4, "--seed", 42, "--start", now.date().isoformat()).stdout)
        self.show(json.dumps(summary))
        self.expect(summary["practitioners"] == 20 and summary["free_slots"] > 0, "the agenda has no free slot")

        self.step(2, "The reference plugin, inspected without running its code")
        inspected = self.run(self.bin("sas-host"), "inspect-plugin", plugin).stdout
        self.show(inspected)
        self.expect(re.search(r"flows:.*slot-search", inspected),
                    "the manifest does not declare the slot search")

        self.step(3, "A throw-away PKI: CA, server certificate, the platform's client certificate (CN=sas.sante.fr, OU=SAS)")
        self.show(self.run(self.bin("sas-sim"), "pki", "--out", self.pki).stdout.splitlines()[0])
        for name in ("ca", "server", "client", "vendor", "client-wrong-ou"):
            self.expect(os.path.exists(os.path.join(self.pki, name + ".pem")), "no %s.pem in the PKI" % name)

        self.step(4, "The SAS platform's appointment side (sas-sim serve), then sas-host serving the SAS FHIR endpoint "
                     "over mutual TLS")
        self.start_platform()
        self.start_host(plugin)

        self.step(5, "The SAS platform simulator searches two practitioners' next 48 hours (INT_R01)")
        self.choose_practitioners()
        searched = self.run(*self.search_args(self.ids))
        self.show(searched.stdout)
        total = int(re.search(r"total (\d+) free slot", searched.stdout).group(1))
        self.expect(total == self.before.total and total > 0,
                    "the summary shows %d slots, the Bundle %d" % (total, self.before.total))

        self.step(6, "INT_R04: the CPTS search, for the practitioners with slots open to a CPTS in the window")
        self.cpts_search()

        self.step(7, "The SOS Médecins search: the free slots of an SOS association's consultation places, by SIRET")
        self.sos_search()

        self.step(8, "A client the host must refuse during the TLS handshake (wrong OU)")
        refused = self.run(*self.search_args(self.ids, cert="client-wrong-ou"), check=False)
        self.show((refused.stderr or refused.stdout).splitlines()[0] if (refused.stderr or refused.stdout) else "")
        self.expect(refused.returncode != 0, "a client certificate with OU other than SAS was answered")

        self.step(9, "INT_R02: the platform creates a regulator's account (conditional PUT), then replays a POST of it")
        self.regulator_account()

        self.step(10, "origin=sas: the regulator follows a returned slot's booking URL into the sample agenda")
        self.book_as_regulator()

        self.step(11, "The doctor sees the patient: the honoured SAS consultation is reported and coded (SNP / MRT rules)")
        self.honour_consultation()

        self.step(12, "INT_R03: the plugin reported the booking and the visit; the host's outbox delivered them to the "
                      "platform")
        self.deliveries()

        self.step(13, "The doctor keeps control (docs/doctor-options.md): settings and rules through the admin API")
        self.doctor_options()

        self.step(14, "The doctor's panel (docs/doctor-panel.md): the page the vendor's software opens for the doctor, "
                      "and the sample agenda embedding it")
        self.doctor_panel()

        self.step(15, "Certification: sas-conformance against this endpoint, as the platform would call it")
        self.certification()
        print("\ndemo finished")

    def start_platform(self):
        self.platform_port = self.free_port()
        args = [self.bin("sas-sim"), "serve", "--listen", "127.0.0.1:%d" % self.platform_port,
                "--tls-cert", os.path.join(self.pki, "server.pem"), "--tls-key", os.path.join(self.pki, "server-key.pem"),
                "--client-ca", os.path.join(self.pki, "ca.pem"), "--db", os.path.join(self.work, "platform.db")]
        if self.ig:
            args += ["--ig", self.ig]
        log = os.path.join(self.work, "platform.log")
        process = self.start(args, log)
        self.wait_for("platform listening", lambda: self.accepts(self.platform_port), process, log)

    def start_host(self, plugin):
        self.port = self.free_port()
        self.admin_port = self.free_port()
        self.web_port = self.free_port()  # the sample agenda's, which frames the doctor's panel
        token = os.path.join(self.work, "admin.token")
        with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex())
        self.panel_key_file = os.path.join(self.work, "panel.key")
        with open(os.open(self.panel_key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex())
        pki = self.pki
        config = os.path.join(self.work, "host.conf")
        with open(config, "w") as f:
            f.write(f"""# sas-host serve --config: every key is also a command-line flag
plugin = {plugin}
plugin-config = db={self.agenda_db}
store = sqlite:{self.work}/host.db
listen = 127.0.0.1:{self.port}
tls-cert = {pki}/server.pem
tls-key = {pki}/server-key.pem
client-ca = {pki}/ca.pem
client-crl = {pki}/crl.pem
allow-client-subject = CN=sas.sante.fr,OU=SAS
# the local admin API (doctor settings, publication rules, reports), on its own port
admin-listen = 127.0.0.1:{self.admin_port}
admin-token-file = {token}
# the doctor's panel on the admin listener (/panel/): the key the vendor's back end signs panel
# tokens with, and the pages allowed to frame it (the sample agenda's)
panel-key-file = {self.panel_key_file}
panel-frame-ancestors = http://127.0.0.1:{self.web_port}
# INT_R03: where appointment notifications go, with the vendor's client certificate
sas-base = https://localhost:{self.platform_port}/fhir
sas-cert = {pki}/vendor.pem
sas-key = {pki}/vendor-key.pem
sas-ca = {pki}/ca.pem
""")
        self.show(open(config).read())
        log = os.path.join(self.work, "host.log")
        process = self.start([self.bin("sas-host"), "serve", "--config", config], log)
        self.wait_for("'listening on' in the host's log", lambda: "listening on" in open(log).read(), process, log)
        # One JSON object per line (docs/operations.md, "Logs"): the listeners' lines, by their message.
        self.show("\n".join(entry["msg"] for entry in map(log_entry, open(log).read().splitlines())
                            if entry and "listening on" in entry.get("msg", "")))
        self.admin = ["--admin", "https://localhost:%d" % self.admin_port, "--admin-token-file", token,
                      "--admin-ca", os.path.join(pki, "ca.pem")]

    def choose_practitioners(self):
        """Two practitioners with slots in the window: `doctor` (whose options change in step 11) has
        public slots that are not SNP yet; `booked` (whose slot the regulator books in step 8) has a
        slot of its own, so the booking leaves the doctor's slots alone."""
        stored = [row[0] for row in self.agenda("SELECT national_id FROM practitioner ORDER BY id")]
        everyone = self.search([platform_id(n) for n in stored])
        ranked = sorted(everyone.by_practitioner, key=lambda p: (-len(everyone.public_only(p)),
                                                                 -len(everyone.by_practitioner[p]), p))
        self.expect(ranked and everyone.public_only(ranked[0]),
                    "no practitioner has a public slot between %s and %s" % self.window)
        self.doctor = ranked[0]
        others = [p for p in ranked[1:] if everyone.by_practitioner[p]]
        self.expect(others, "only one practitioner has slots between %s and %s" % self.window)
        self.booked = others[0]
        self.ids = [self.doctor, self.booked]
        self.before = self.search(self.ids)
        print("   window: %s to %s" % self.window)
        stored = dict((platform_id(n), n) for n in stored)
        print("   asked by the platform as: %s (stored by the agenda as: %s)"
              % (", ".join(self.ids), ", ".join(stored.get(i, i) for i in self.ids)))
        for p in self.ids:
            print("   %s: %d slot(s), %d of them public only" % (p, len(self.before.by_practitioner[p]),
                                                               len(self.before.public_only(p))))

    def window_epoch(self):
        """The window in whole seconds as the host asks the plugin: ge rounded up, le down."""
        start, end = (datetime.datetime.fromisoformat(t).timestamp() for t in self.window)
        return math.ceil(start), math.floor(end)

    def cpts_search(self):
        """The INT_R04 question: the same Slot search with the CPTS includes. Each slot open to a CPTS
        must carry the serviceType -> HealthcareService -> Organization chain (FAQ errors 6 and 11)."""
        start, end = self.window_epoch()
        def open_to_cpts(condition):
            rows = self.agenda("SELECT DISTINCT p.national_id FROM slot s JOIN place pl ON pl.id = s.place_id "
                               "JOIN practitioner p ON p.id = pl.practitioner_id WHERE s.status = 'free' "
                               "AND s.audiences LIKE '%%CPTS%%' AND %s AND s.start_utc BETWEEN ? AND ? "
                               "ORDER BY p.id" % condition, start, end)
            # Not the two practitioners later steps book and hide: certification reuses these.
            return [i for i in (platform_id(row[0]) for row in rows) if i not in self.ids]
        ids = open_to_cpts("coalesce(s.cpts, '') <> ''")[:3]
        self.cpts_ids = ids
        self.cpts_two = open_to_cpts("s.cpts LIKE '%,%'")[:1]
        if not ids:
            print("   no slot is open to a CPTS between %s and %s: the search answers total 0" % self.window)
        args = self.search_args(ids or self.ids) + ["--cpts"]
        self.show(self.run(*args).stdout)
        bundle = json.loads(self.run(*args, "--raw").stdout)
        self.expect(CPTS_BUNDLE in bundle.get("meta", {}).get("profile", []),
                    "the CPTS answer does not declare sas-cpts-bundle-aggregator")
        resources = dict(("%s/%s" % (e["resource"]["resourceType"], e["resource"]["id"]), e["resource"])
                         for e in bundle.get("entry", []))
        open_to_cpts = 0
        for slot in (r for r in resources.values() if r["resourceType"] == "Slot"):
            if "CPTS" not in [c.get("code") for c in slot.get("meta", {}).get("security", [])]:
                continue
            open_to_cpts += 1
            services = [x["valueReference"]["reference"] for st in slot.get("serviceType", [])
                        for x in st.get("extension", []) if x.get("url") == SLOT_SERVICE_TYPE_R5]
            self.expect(services, "slot %s is typed CPTS without a HealthcareService" % slot["id"])
            for service in services:
                self.expect(service in resources, "%s is not in the Bundle" % service)
                organization = resources[service]["providedBy"]["reference"]
                self.expect(organization in resources, "%s (of %s) is not in the Bundle" % (organization, service))
        self.expect(not ids or open_to_cpts > 0, "the agenda has CPTS slots in the window, the answer none")
        print("   %d slot(s) open to a CPTS, each linked to its CPTS through a HealthcareService" % open_to_cpts)

    def sos_search(self):
        """The SOS Médecins question: GET [base]/Schedule by association SIRET (no practitioner named)."""
        sirets = [row[0] if len(row[0]) == 15 else "3" + row[0]
                  for row in self.agenda("SELECT siret FROM sos_association ORDER BY siret LIMIT 1")]
        self.expect(sirets, "the generated agenda has no SOS Médecins association")
        self.sos_sirets = sirets
        args = [self.bin("sas-sim"), "search", "--sos", ",".join(sirets), "--base", "https://localhost:%d" % self.port,
                "--cert", os.path.join(self.pki, "client.pem"), "--key", os.path.join(self.pki, "client-key.pem"),
                "--ca", os.path.join(self.pki, "ca.pem"), "--from", self.window[0], "--to", self.window[1]]
        self.show(self.run(*args).stdout)
        bundle = json.loads(self.run(*args, "--raw").stdout)
        self.expect(SOS_BUNDLE in bundle.get("meta", {}).get("profile", []),
                    "the SOS answer does not declare sas-sos-bundle-aggregator")
        start, end = self.window_epoch()
        stored = sirets + [siret[1:] for siret in sirets]  # the agenda may store either form
        expected = self.agenda("SELECT count(*) FROM slot s JOIN sos_place sp ON sp.id = s.place_id "
                               "WHERE s.status = 'free' AND (s.audiences LIKE '%%PUBLIC%%' OR s.audiences LIKE '%%SNP%%') "
                               "AND s.start_utc BETWEEN ? AND ? AND sp.association_siret IN (%s)"
                               % ",".join("?" * len(stored)), start, end, *stored)[0][0]
        self.expect(bundle.get("total") == expected,
                    "the SOS answer has total %s, the agenda %d free SOS slots" % (bundle.get("total"), expected))

    def regulator_account(self):
        body = json.dumps({
            "resourceType": "Practitioner",
            "meta": {"source": "urn:oid:1.2.250.1.213.3.6",
                     "profile": ["https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/FrPractitionerRegul"]},
            "identifier": [{"type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                 "code": "IDNPS"}]},
                            "system": RPPS_SYSTEM, "value": REGULATOR_RPPS}],
            "active": True, "name": [{"family": "MARIUS", "given": ["Jules"]}],
            "telecom": [{"system": "email", "value": REGULATOR_EMAIL}]})

        def send(method, target, request_id=None):
            # curl, like every client of the demo, runs under the demo's clock (the certificates' too).
            answer = self.run("curl", "-sS", "-X", method, "--cert", os.path.join(self.pki, "client.pem"),
                              "--key", os.path.join(self.pki, "client-key.pem"), "--cacert",
                              os.path.join(self.pki, "ca.pem"), "-H", "Content-Type: application/fhir+json",
                              *(["-H", "X-Request-Id: " + request_id] if request_id else []),
                              "--data-binary", "@-", "-D", "-", "-o", os.path.join(self.work, "answer.json"),
                              "https://localhost:%d%s" % (self.port, target), stdin=body).stdout
            status, headers = parse_head(answer)
            # The id the host logged the request under (tests/demo checks the host's log for it).
            with open(os.path.join(self.work, "requests.jsonl"), "a") as requests:
                requests.write(json.dumps({"method": method, "target": target, "status": status,
                                           "request_id": headers.get("x-request-id", "")}) + "\n")
            return status, headers, open(os.path.join(self.work, "answer.json")).read()

        # The platform may name its request (X-Request-Id): the host logs it under that id and echoes it.
        status, headers, _ = send("PUT", "/Practitioner?identifier=" + urllib.parse.quote(RPPS_SYSTEM + "|" +
                                                                                          REGULATOR_RPPS, safe=":"),
                                  request_id="demo-int-r02-put")
        location = headers.get("location", "")
        print("   PUT  -> HTTP %d, Location: %s, X-Request-Id: %s" % (status, location, headers.get("x-request-id")))
        self.expect(status in (200, 201) and location, "the conditional PUT was answered %d without a Location" % status)
        self.expect(headers.get("x-request-id") == "demo-int-r02-put", "the host did not echo the PUT's X-Request-Id")
        status, headers, answer = send("POST", "/Practitioner")
        self.expect(re.fullmatch(r"[0-9a-f]{16}", headers.get("x-request-id", "")),
                    "the POST's answer has no X-Request-Id of the host's own")
        diagnostics = [i.get("diagnostics", "") for i in json.loads(answer).get("issue", [])] if answer else []
        print("   POST -> HTTP %d: %s" % (status, diagnostics[0] if diagnostics else ""))
        self.expect(400 <= status < 500 and diagnostics, "the replayed POST was answered %d" % status)
        rows = self.agenda("SELECT id, national_id, family_name, given_names, email, active FROM regulator_account")
        print("   in the agenda's user base: %s" % rows)
        self.expect(len(rows) == 1 and rows[0][4] == REGULATOR_EMAIL, "the agenda holds %d accounts" % len(rows))

    def book_as_regulator(self):
        self.run(self.bin("sas-sample-agenda"), "set-password", "--agenda", self.agenda_db, "--email", REGULATOR_EMAIL,
                 "--password", "demo-password")
        web_port = self.web_port
        log = os.path.join(self.work, "web.log")
        process = self.start([self.bin("sas-sample-agenda"), "serve", "--agenda", self.agenda_db,
                              "--listen", "127.0.0.1:%d" % web_port, "--panel-key-file", self.panel_key_file,
                              "--panel-admin-base", "https://localhost:%d" % self.admin_port], log)
        self.wait_for("sample agenda listening", lambda: self.accepts(web_port), process, log)
        self.web = WebClient(self, "http://127.0.0.1:%d" % web_port)

        # A slot of `booked` in the window, found where the regulator finds it: in the Bundle.
        slot = self.before.by_practitioner[self.booked][0]
        booking = slot["comment"]
        path = urllib.parse.urlsplit(booking).path
        print("   %s's slot at %s, booking URL %s (served here at %s%s)" % (self.booked, slot["start"], booking,
                                                                           self.web.base, path))
        status, where = self.web.visit(path)
        print("   without origin=sas         -> %d %s" % (status, where))
        status, login = self.web.visit(path + "?origin=sas")
        print("   origin=sas, not logged in  -> %d %s" % (status, login))
        self.expect(status in (302, 303) and "origin=sas" in login, "origin=sas did not lead to the login page")
        status, where = self.web.visit(login, {"email": REGULATOR_EMAIL, "password": "demo-password"})
        print("   login, origin=sas kept     -> %d %s" % (status, where))
        self.expect(status in (302, 303) and "origin=sas" in where, "the login lost origin=sas (%d %s)" % (status, where))
        terms = "/terms?origin=sas&return=" + urllib.parse.quote(path, safe="")
        csrf = self.web.field(self.web.page(terms), "csrf")
        status, where = self.web.visit(terms, {"csrf": csrf, "accept": "yes"})
        print("   terms accepted             -> %d %s" % (status, where))
        page = self.web.page(path + "?origin=sas")
        offered = re.findall(r'name="slot_id" value="(\d+)"', page)
        agenda_ids = [str(row[0]) for row in self.agenda(
            "SELECT s.id FROM slot s JOIN place l ON l.id = s.place_id JOIN practitioner p ON p.id = l.practitioner_id "
            "WHERE p.national_id IN (?, ?) AND s.start_utc = ? AND s.status = 'free'",
            self.booked, self.booked[1:], epoch(slot["start"]))]
        chosen = [i for i in offered if i in agenda_ids]
        self.expect(chosen, "the booking page does not offer the slot at %s (offers %s)" % (slot["start"], offered))
        status, where = self.web.visit(path + "/book?origin=sas", {"csrf": self.web.field(page, "csrf"),
                                                                   "slot_id": chosen[0], "patient": "DURAND Alice"})
        print("   booking slot %s            -> %d %s" % (chosen[0], status, where))
        rows = self.agenda("SELECT id, slot_id, sas_origin, regulator_id_system, regulator_id_value, "
                           "datetime(booked_at, 'unixepoch') FROM appointment")
        print("   the appointment (slot, SAS origin, regulator's id system and value, booked at UTC): %s"
              % [list(row[1:]) for row in rows])
        self.expect(len(rows) == 1 and rows[0][2] == 1 and rows[0][4] == REGULATOR_RPPS,
                    "no SAS-origin appointment with the regulator's RPPS")
        self.appointment = rows[0][0]
        self.booked_slot_start = slot["start"]
        after = self.search(self.ids)
        print("   %s's slots in the window: %d before, %d after" % (self.booked, len(self.before.by_practitioner[self.booked]),
                                                                  len(after.by_practitioner[self.booked])))
        self.expect(len(after.by_practitioner[self.booked]) == len(self.before.by_practitioner[self.booked]) - 1,
                    "the booked slot is still offered to the platform")
        self.before = after

    def honour_consultation(self):
        seen_at = self.booked_slot_start
        print("   honoured at the slot's time, %s, by a doctor who is not the patient's médecin traitant" % seen_at)
        status, _ = self.web.visit("/consultations/%s/honour" % self.appointment,
                                   {"opposable": "1", "codes": "G", "consulted_at": seen_at})
        print("   POST /consultations/ID/honour -> %d" % status)
        self.expect(status < 400, "the consultation was refused (%d)" % status)
        self.wait_for("billing decision in the agenda", lambda: self.agenda("SELECT code FROM billing_decision"))
        code, indicator, euros, rule_set, reasons = self.agenda(
            "SELECT code, parcours_indicator, amount_cents / 100.0, rule_set, reasons_fr FROM billing_decision")[0]
        print("   the decision the plugin received for the vendor's invoicing:")
        # No code is a decision too (e.g. a public holiday is PDSA time, not SNP); its reasons say why.
        print("     code %s, parcours indicator %s, %.2f EUR, rules %s" % (code or "none", indicator or "none", euros,
                                                                        rule_set))
        self.show(reasons, "     ")
        self.expect(rule_set and reasons.strip(), "the billing decision gives no reasons")
        self.expect(bool(code) == (euros > 0), "the decision's code (%r) and amount (%.2f) disagree" % (code, euros))
        today = self.now().date()
        report = self.run(self.bin("sas-host"), "report", "snp", "--store", "sqlite:%s/host.db" % self.work,
                          "--practitioner", self.booked, "--from", today.isoformat(),
                          "--to", (today + datetime.timedelta(days=7)).isoformat(), "--format", "csv").stdout
        print("   sas-host report snp (CSV):")
        self.show("\n".join(line[:150] for line in report.splitlines()), "     ")
        self.expect(len(report.strip().splitlines()) >= 2, "the SNP report has no consultation")

    def deliveries(self):
        def received():
            out = self.run(self.bin("sas-sim"), "received", "--db", os.path.join(self.work, "platform.db"), check=False)
            return [json.loads(line) for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []

        self.wait_for("two notifications received by the platform", lambda: len(received()) >= 2, seconds=30)
        for r in received():
            print("   %-4s %-70s -> %s  %s" % (r["method"], r["target"][:70], r.get("http_status"), r.get("status", "")))
        self.show(self.run(self.bin("sas-host"), "outbox", "status", "--store", "sqlite:%s/host.db" % self.work).stdout,
                  "   outbox: ")

    def doctor_options(self):
        doctor, other = self.doctor, self.booked
        settings = [self.bin("sas-host"), "settings", "set", "--practitioner", doctor, "--changed-by", "demo"]

        def summary(label, answer):
            print("   %s: %d slot(s) by type %s" % (label, answer.total, dict(sorted(answer.types().items()))))
            for role, text in answer.call_first():
                print("   PractitionerRole/%s: %s" % (role, text))

        before = self.before
        summary("before", before)
        print("   %s hides their agenda from SAS:" % doctor)
        self.show(self.run(*settings, "--visible", "false", *self.admin).stdout)
        hidden = self.search(self.ids)
        summary("after", hidden)
        self.expect(not hidden.by_practitioner[doctor], "%s's slots are still offered while hidden" % doctor)
        self.expect(len(hidden.by_practitioner[other]) == len(before.by_practitioner[other]),
                    "hiding %s changed %s's slots" % (doctor, other))

        print("   %s shows it again, asks to be called first, and offers every public slot to SAS as SNP too:" % doctor)
        self.show(self.run(*settings, "--volunteer", "true", "--visible", "true", "--consent-to-call", "true",
                           "--phone", "06 12 34 56 78", *self.admin).stdout)
        self.show(self.run(self.bin("sas-host"), "rules", "add", "--practitioner", doctor, "--rule",
                           '{"kind":"public-also-snp"}', "--changed-by", "demo", *self.admin).stdout)
        shown = self.search(self.ids)
        summary("after", shown)
        self.expect(len(shown.by_practitioner[doctor]) == len(before.by_practitioner[doctor]),
                    "%s's slots are not all back" % doctor)
        self.expect(not shown.public_only(doctor), "%s's public slots are not offered as SNP too" % doctor)
        self.expect(any("+33612345678" in text or "06 12 34 56 78" in text for _, text in shown.call_first()),
                    "no PractitionerRole says to call %s first" % doctor)

        print("   why %s's first public slot is typed so (rules explain, through the admin API):" % doctor)
        explained = json.loads(self.run(self.bin("sas-host"), "rules", "explain", "--practitioner", doctor,
                                        "--from", self.window[0], "--to", self.window[1], *self.admin).stdout)
        by_rule = [s for s in explained.get("slots", []) if s.get("steps")]
        self.expect(by_rule, "rules explain shows no slot of %s changed by the rule" % doctor)
        print("   " + json.dumps(by_rule[0], ensure_ascii=False))

        # The forfait is reported per calendar year; last year's options are wholly in the past.
        year = self.now().year - 1
        print("   %s's options, as their agenda software recorded them last year (back-dated: --effective-at):" % other)
        for flags, when in (
                (["--volunteer", "true", "--visible", "true"], "%d-03-01T09:00:00+01:00" % year),
                (["--visible", "false"], "%d-07-14T18:00:00+02:00" % year),
                (["--visible", "true"], "%d-09-01T08:00:00+02:00" % year)):
            self.run(self.bin("sas-host"), "settings", "set", "--practitioner", other, *flags, "--effective-at", when,
                     "--changed-by", "demo", *self.admin)
        print("   visible from 1 March, hidden 14 July - 1 September; volunteer from 1 March")
        print("   structure forfait, indicator 8 (volunteer and visible agenda, by period), %d:" % year)
        report = self.run(self.bin("sas-host"), "report", "forfait", "--store", "sqlite:%s/host.db" % self.work,
                          "--year", year, "--format", "csv").stdout
        self.show(report)
        rows = [line for line in report.splitlines() if other in line or other[1:] in line]
        self.expect(len(rows) >= 1, "the forfait report has no line for %s" % other)

    def doctor_panel(self):
        doctor = self.doctor
        admin = "https://localhost:%d" % self.admin_port
        ca = os.path.join(self.pki, "ca.pem")

        def fetch(path, token=None):
            """(status, headers, body) of a GET on the admin listener, as the browser would send it."""
            headers = ["-H", "Authorization: Bearer " + token] if token else []
            answer = self.run("curl", "-sS", "--cacert", ca, *headers, "-D", "-", "-o",
                              os.path.join(self.work, "panel-answer"), admin + path).stdout
            status, head = parse_head(answer)
            return status, head, open(os.path.join(self.work, "panel-answer"), encoding="utf-8").read()

        # What the vendor's back end does when the doctor opens "Mon espace SAS": a token for this
        # doctor, for a few minutes, signed with the key the host was given (panel-key-file).
        token = self.run(self.bin("sas-host"), "panel-token", "--key-file", self.panel_key_file, "--practitioner",
                         doctor, "--subject", "demo-secretariat", "--ttl-s", 900).stdout.strip()
        print("   the vendor's software opens, for %s (a browser that trusts the demo's CA):" % doctor)
        print("   %s/panel/#token=%s" % (admin, token))
        status, head, page = fetch("/panel/")
        policy = head.get("content-security-policy", "")
        print("   GET /panel/ -> %d, %d bytes, Content-Security-Policy: %s" % (status, len(page), policy))
        self.expect(status == 200 and "Mon espace SAS" in page, "the panel page does not load (%d)" % status)
        self.expect("script-src 'self'" in policy and "unsafe-inline" not in policy,
                    "the panel page is served without its strict Content-Security-Policy")
        for asset in re.findall(r'(?:src|href)="([a-z0-9_.-]+\.(?:js|css|svg))"', page):
            status, _, _ = fetch("/panel/" + asset)
            self.expect(status == 200, "the panel's %s answers %d" % (asset, status))
        # What the page asks first with the token from its address (the fragment, never sent).
        status, _, session = fetch("/admin/v1/panel/session", token)
        print("   GET /admin/v1/panel/session -> %d %s" % (status, session.strip()))
        self.expect(status == 200 and json.loads(session).get("practitioner") == doctor,
                    "the panel's token does not open %s's session" % doctor)
        status, _, _ = fetch("/admin/v1/practitioners/%s/settings" % self.booked, token)
        print("   the same token on %s's settings -> %d" % (self.booked, status))
        self.expect(status == 403, "a token for %s reads %s's settings (%d)" % (doctor, self.booked, status))

        agenda_id = self.agenda("SELECT id FROM practitioner WHERE national_id IN (?, ?)", doctor, doctor[1:])[0][0]
        page = self.web.page("/medecin/%s/sas" % agenda_id)
        frame = re.search(r'<iframe id="sas-panel"[^>]* src="([^"]+)"', page)
        self.expect(frame, "the sample agenda's page for the doctor has no panel iframe")
        src = frame.group(1).replace("&amp;", "&")
        print("   the sample agenda's /medecin/%s/sas frames %s" % (agenda_id, src.split("#")[0] + "#token=…"))
        status, _, session = fetch("/admin/v1/panel/session", src.split("#token=", 1)[1])
        self.expect(status == 200 and json.loads(session).get("practitioner") == doctor,
                    "the sample agenda's token does not open %s's panel (%d)" % (doctor, status))
        print("   its token opens the panel of %s, as %s" % (doctor, json.loads(session).get("subject")))

    def declared_test_data(self):
        """What the tester tells the suite about the agenda, so that the CPTS and SOS groups check real
        answers (without it they run their refusal and no-match checks only)."""
        data = ["--sos-sirets", ",".join(self.sos_sirets)]
        if self.cpts_ids:
            data += ["--cpts-practitioners", ",".join(self.cpts_ids)]
            if self.cpts_two:
                data += ["--cpts-two-cpts", self.cpts_two[0]]
        return data

    def certification(self):
        if not self.ig:
            print("   (skipped: no SAS IG package)")
            return
        html = os.path.join(self.work, "certification.html")
        result = self.run(self.bin("sas-conformance"), "endpoint", "--base", "https://localhost:%d" % self.port,
                          "--ca", os.path.join(self.pki, "ca.pem"), "--cert", os.path.join(self.pki, "client.pem"),
                          "--key", os.path.join(self.pki, "client-key.pem"), "--practitioners", ",".join(self.ids),
                          "--now", self.window[0], *self.declared_test_data(),
                          "--ig", self.ig, "--quiet", "--html", html, check=False)
        self.show("\n".join((result.stdout + result.stderr).strip().splitlines()[-12:]))
        self.expect(result.returncode == 0, "the reference host fails its own certification (exit %d)" % result.returncode)


class SearchAnswer:
    """A searchset Bundle, its Slots grouped by the practitioner (platform id) they belong to."""

    def __init__(self, bundle):
        self.bundle = bundle
        self.total = bundle.get("total", 0)
        self.resources = {e["resource"]["resourceType"] + "/" + e["resource"]["id"]: e["resource"]
                          for e in bundle.get("entry", [])}
        self.by_practitioner = collections.defaultdict(list)
        for resource in self.resources.values():
            if resource["resourceType"] == "Slot":
                self.by_practitioner[self.practitioner_of(resource)].append(resource)
        for slots in self.by_practitioner.values():
            slots.sort(key=lambda s: epoch(s["start"]))

    def practitioner_of(self, slot):
        schedule = self.resources.get(slot["schedule"]["reference"], {})
        for actor in schedule.get("actor", []):
            reference = actor.get("reference", "")
            if reference.startswith("PractitionerRole/"):
                reference = self.resources.get(reference, {}).get("practitioner", {}).get("reference", "")
            for identifier in self.resources.get(reference, {}).get("identifier", []):
                if identifier.get("system") == RPPS_SYSTEM:
                    return identifier["value"]
        return None

    @staticmethod
    def slot_types(slot):
        return [label["code"] for label in slot.get("meta", {}).get("security", [])]

    def public_only(self, practitioner):
        return [s for s in self.by_practitioner.get(practitioner, []) if self.slot_types(s) == ["PUBLIC"]]

    def types(self):
        return collections.Counter("+".join(self.slot_types(s)) for slots in self.by_practitioner.values() for s in slots)

    def call_first(self):
        return [(r["id"], r["availabilityExceptions"]) for r in self.resources.values()
                if r["resourceType"] == "PractitionerRole" and "availabilityExceptions" in r]


class WebClient:
    """The regulator's browser (curl under the demo's clock): cookies kept, redirects shown rather
    than followed."""

    def __init__(self, demo, base):
        self.demo = demo
        self.base = base
        self.jar = os.path.join(demo.work, "cookies")
        self.body = os.path.join(demo.work, "page.html")

    def _open(self, target, form=None):
        args = ["curl", "-sS", "-b", self.jar, "-c", self.jar, "-D", "-", "-o", self.body]
        for key, value in (form or {}).items():
            args += ["--data-urlencode", "%s=%s" % (key, value)]
        status, headers = parse_head(self.demo.run(*args, self.base + target).stdout)
        return status, headers.get("location", ""), open(self.body, encoding="utf-8", errors="replace").read()

    def visit(self, target, form=None):
        status, location, _ = self._open(target, form)
        return status, location

    def page(self, target):
        status, _, body = self._open(target)
        self.demo.expect(status == 200, "GET %s answered %d" % (target, status))
        return body

    def field(self, page, name):
        found = re.search(r'name="%s" value="([^"]*)"' % name, page)
        self.demo.expect(found, "no %s field in the page" % name)
        return found.group(1)


def parse_head(text):
    """(status, {lower-case header: value}) of the last response head curl -D printed."""
    status, headers = 0, {}
    for line in text.replace("\r", "").splitlines():
        if line.startswith("HTTP/"):
            status, headers = int(line.split()[1]), {}
        elif ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return status, headers


def platform_id(national_id):
    """The platform's form of a national id: 8 + RPPS (11 digits), 0 + ADELI (9 digits)."""
    return {11: "8", 9: "0"}.get(len(national_id), "") + national_id


def log_entry(line):
    """One line of the host's log as a dict; None when it is not a JSON object."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def iso_ms(moment):
    return moment.isoformat(timespec="milliseconds")


def epoch(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def faketime_library():
    """libfaketime.so.1 of Debian's faketime package (any architecture's multiarch folder)."""
    for candidate in sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")) + [
            "/usr/lib/faketime/libfaketime.so.1", "/usr/local/lib/faketime/libfaketime.so.1"]:
        if os.path.exists(candidate):
            return candidate
    sys.exit("demo: --at needs libfaketime (Debian package faketime)")


def clock_offset(at):
    """Seconds from now to `at` (Paris time when it has no offset)."""
    target = datetime.datetime.fromisoformat(at)
    if target.tzinfo is None:
        target = target.replace(tzinfo=PARIS)
    faketime_library()  # fails early, with the package to install
    return int(round(target.timestamp() - time.time()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, help="the CMake build directory (bin/, lib/)")
    parser.add_argument("--ig", default="", help="the SAS IG package directory (the certification step is skipped without it)")
    parser.add_argument("--at", help="run under this clock, e.g. 2026-03-29T08:00:00+02:00 (Paris time if no offset)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--work", help="work in this directory (created, must not exist) and keep it: the logs, "
                                       "the agenda, the PKI, the admin token and requests.jsonl (tests/demo)")
    options = parser.parse_args()
    if options.work:
        os.makedirs(options.work)
        work = os.path.abspath(options.work)
        options.keep = True
    else:
        work = tempfile.mkdtemp(prefix="sas-demo.")
    demo = Demo(options.build, options.ig if options.ig and os.path.isdir(options.ig) else "", work,
                clock_offset(options.at) if options.at else 0)
    try:
        demo.main()
        return 0
    except DemoFailure as failure:
        print("\ndemo FAILED at %s" % failure, file=sys.stderr)
        print("(logs kept in %s)" % work, file=sys.stderr)
        options.keep = True
        return 1
    except Exception as error:  # a bug of the demo itself: still say where
        print("\ndemo FAILED at %s: %s: %s" % (demo.step_name, type(error).__name__, error), file=sys.stderr)
        print("(logs kept in %s)" % work, file=sys.stderr)
        options.keep = True
        return 1
    finally:
        demo.stop_all()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
