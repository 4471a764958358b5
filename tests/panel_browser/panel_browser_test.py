#!/usr/bin/env python3
"""The doctor's panel (docs/doctor-panel.md) in a real browser, against a real `sas-host serve`.

Debian's headless Chromium, driven by chromium-driver through python3-selenium, opens the panel
page the host serves on its admin listener, as a vendor would (`/panel/#token=JWT`), and uses it
as a doctor does. Every change made in the page is then checked where it matters: the real FHIR
slot search over mutual TLS (the SAS platform's client certificate, through `sas-sim search`),
the agenda's own billing decisions, the host's report. The refusals (another doctor's page, an
expired token, a forged token, no token), a keyboard-only path through one form, the sample
agenda embedding the panel in an iframe, and screenshots of each section at 1280 and 390 px
wide (kept in ARTEFACTS; the chosen ones are committed under docs/doctor-panel/).

The browser does not trust the test CA: Chromium runs with --ignore-certificate-errors (the
TLS of the admin listener is tested elsewhere; here the page is). The mTLS checks use the CA.

  panel_browser_test.py --build BUILD --artefacts DIR [--keep]
"""

import argparse
import base64
import datetime
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import ssl
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "demo"))
import demo as demo_tools  # noqa: E402  the demo's host, PKI, agenda and search plumbing

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PARIS = demo_tools.PARIS
SUBJECT = "secretariat-test"  # who acts with the panel tokens of this test (recorded as changed_by)
BACKOFFICE = "backoffice-test"  # who back-dates the doctor's options through the admin API
SECTIONS = ["participation", "creneaux", "consultations", "forfait"]
WIDTHS = [1280, 390]


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(key, claims):
    """A JWT made with Python's standard library, not with the code under test."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (header, payload, b64url(signature))


class PanelWorld(demo_tools.Demo):
    """The demo's world (agenda, PKI, host with its admin listener and panel key), and a browser."""

    def __init__(self, build, work, artefacts):
        super().__init__(build, "", work)
        self.artefacts = artefacts
        self.driver = None

    # --- the world ----------------------------------------------------------------------------
    def setup(self):
        now = self.now()
        end = (now.astimezone(datetime.timezone.utc) + datetime.timedelta(hours=48)).astimezone(PARIS)
        self.window = (demo_tools.iso_ms(now), demo_tools.iso_ms(end))
        self.agenda_db = os.path.join(self.work, "agenda.db")
        self.pki = os.path.join(self.work, "pki")
        self.step("setup", "agenda, PKI, sas-host with its admin listener and the panel key")
        self.run(self.bin("sas-sim"), "gen-agenda", "--out", self.agenda_db, "--practitioners", 12, "--days", 3,
                 "--seed", 7, "--start", now.date().isoformat())
        self.run(self.bin("sas-sim"), "pki", "--out", self.pki)
        self.start_platform()  # the host's INT_R03 deliveries go there, as in production
        self.start_host(os.path.join(self.build, "lib/sas/plugins/libsas-sqlite-agenda.so"))
        self.admin_base = "https://localhost:%d" % self.admin_port
        self.tls = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.pem"))
        self.choose_practitioners()
        self.other = self.booked  # the doctor whose page A's token must not open

    def admin_call(self, method, path, token=None, body=None):
        """(status, decoded JSON or text) of the admin API, with the admin token by default."""
        if token is None:
            token = open(os.path.join(self.work, "admin.token")).read().strip()
        request = urllib.request.Request(self.admin_base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def panel_token(self, practitioner, ttl=900):
        return self.run(self.bin("sas-host"), "panel-token", "--key-file", self.panel_key_file, "--practitioner",
                        practitioner, "--subject", SUBJECT, "--ttl-s", ttl).stdout.strip()

    def panel_url(self, token, practitioner=None):
        fragment = "token=" + token + ("&practitioner=" + practitioner if practitioner else "")
        return "%s/panel/#%s" % (self.admin_base, fragment)

    def agenda_write(self, statements):
        with sqlite3.connect(self.agenda_db, timeout=10) as db:
            for sql, params in statements:
                db.execute(sql, params)

    def add_consultations(self):
        """Four honoured SAS-origin consultations of the doctor last week, written where the vendor's
        software writes them; the reference plugin reports them and the host decides each code."""
        stored = self.agenda("SELECT p.id, s.id FROM practitioner p JOIN place l ON l.practitioner_id = p.id "
                             "JOIN slot s ON s.place_id = l.id WHERE p.national_id IN (?, ?) ORDER BY s.id LIMIT 1",
                             self.doctor, self.doctor[1:])
        check(stored, "no slot of %s in the agenda" % self.doctor)
        self.doctor_agenda_id, slot = stored[0]
        monday = self.now().date() - datetime.timedelta(days=self.now().weekday() + 7)
        cases = [(1, 10, 0, ""), (2, 10, 0, ""), (3, 10, 0, "MU"), (1, 11, 1, "")]  # day, hour, médecin traitant, codes
        statements = []
        for day, hour, traitant, codes in cases:
            seen = datetime.datetime.combine(monday + datetime.timedelta(days=day), datetime.time(hour), PARIS)
            booked = seen - datetime.timedelta(hours=3)
            appointment = str(uuid.uuid4())
            statements.append(("INSERT INTO appointment (id, slot_id, sas_origin, regulator_id_system, "
                               "regulator_id_value, patient_label, booked_at, status) VALUES (?, ?, 1, ?, ?, ?, ?, "
                               "'fulfilled')", (appointment, slot, demo_tools.RPPS_SYSTEM, demo_tools.REGULATOR_RPPS,
                                                "patient test", int(booked.timestamp()))))
            statements.append(("INSERT INTO consultation (id, appointment_id, consulted_at, medecin_traitant, "
                               "opposable_tariff, other_codes) VALUES (?, ?, ?, ?, 1, ?)",
                               (appointment, appointment, int(seen.timestamp()), traitant, codes)))
        self.agenda_write(statements)
        self.wait_for("the host's four billing decisions in the agenda",
                      lambda: self.agenda("SELECT count(*) FROM billing_decision")[0][0] == 4, seconds=30)

    def backdate_options(self):
        """The doctor's options as their agenda software recorded them ten days ago (or on 1 January):
        another door (the admin API), another author, for the history and the forfait."""
        now = self.now()
        start = max(now - datetime.timedelta(days=10),
                    datetime.datetime(now.year, 1, 1, 0, 1, tzinfo=PARIS))
        self.backdated_at = start
        status, answer = self.admin_call("PATCH", "/admin/v1/practitioners/%s/settings" % self.doctor,
                                         body={"volunteer": True, "visible": True,
                                               "effective_at": start.isoformat(timespec="seconds"),
                                               "changed_by": BACKOFFICE})
        check(status == 200, "back-dating the options: %s %s" % (status, answer))

    # --- the platform's view (mutual TLS) -------------------------------------------------------
    def slots_of_doctor(self):
        answer = self.search([self.doctor, self.other])
        return answer, answer.by_practitioner.get(self.doctor, [])

    def types_of_doctor(self):
        _, slots = self.slots_of_doctor()
        return sorted("+".join(demo_tools.SearchAnswer.slot_types(s)) for s in slots)

    # --- the browser ----------------------------------------------------------------------------
    def start_browser(self):
        self.downloads = os.path.join(self.work, "downloads")
        os.makedirs(self.downloads)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--lang=fr-FR", "--window-size=1280,1000", "--disable-gpu", "--no-first-run",
                     "--user-data-dir=" + os.path.join(self.work, "chromium-profile")):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"download.default_directory": self.downloads,
                                                  "download.prompt_for_download": False,
                                                  "intl.accept_languages": "fr-FR,fr"})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path="/usr/bin/chromedriver", log_path=os.path.join(self.work, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": self.downloads})

    def stop_browser(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # the browser may be gone already; its driver is stopped either way
                pass
            self.driver = None

    def wait(self, condition, what, seconds=20):
        try:
            return WebDriverWait(self.driver, seconds).until(condition)
        except TimeoutException:
            self.screenshot("failure-" + re.sub(r"[^a-z0-9]+", "-", what.lower())[:60])
            raise Failure("%s: not seen after %d s" % (what, seconds))

    def open_panel(self, url, ready="true"):
        self.driver.get("about:blank")  # a new document: the same page with a new fragment would not reload
        self.driver.get(url)
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready || ''"), "the panel to load")
        state = self.driver.execute_script("return document.body.dataset.ready")
        check(state == ready, "the panel ended as %r, expected %r (%s)" % (state, ready, self.problem_text()))

    def problem_text(self):
        return self.driver.find_element(By.ID, "session-problem").text

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def status_after(self, status_id, action, expect_error=False):
        """Runs `action` and waits for the section's aria-live status to say how it went."""
        status = self.find("#" + status_id)
        self.driver.execute_script("arguments[0].textContent = ''", status)
        action()
        self.wait(lambda d: status.text and not status.text.endswith("…"), "the status of " + status_id)
        is_error = "error" in status.get_attribute("class").split()
        check(is_error == expect_error, "%s says %r" % (status_id, status.text))
        return status.text

    def screenshot(self, name):
        if self.driver is None:
            return
        os.makedirs(self.artefacts, exist_ok=True)
        self.driver.save_screenshot(os.path.join(self.artefacts, name + ".png"))

    def section_screenshots(self, prefix):
        os.makedirs(self.artefacts, exist_ok=True)
        for width in WIDTHS:
            # Tall enough that a whole section fits: element screenshots stay within the viewport.
            self.driver.set_window_size(width, 3200)
            time.sleep(0.3)
            for section in SECTIONS:
                element = self.find("#" + section)
                self.driver.execute_script("arguments[0].scrollIntoView()", element)
                path = os.path.join(self.artefacts, "%s-%s-%d.png" % (prefix, section, width))
                check(element.screenshot(path), "no screenshot written to %s" % path)
                overflow = self.driver.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                check(overflow <= 0, "at %d px the page scrolls sideways by %d px" % (width, overflow))
        self.driver.set_window_size(1280, 1000)

    def csp_violations(self):
        return [entry["message"] for entry in self.driver.get_log("browser")
                if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]

    # --- the checks -----------------------------------------------------------------------------
    def test_loads_and_forgets_the_token(self):
        self.step("load", "the panel opens with a token for the doctor and forgets it from the address bar")
        token = self.panel_token(self.doctor)
        self.open_panel(self.panel_url(token))
        check("token" not in self.driver.current_url, "the token stays in the address bar: " + self.driver.current_url)
        info = self.find("#session-info").text
        check(self.doctor in info and SUBJECT in info, "the session line says %r" % info)
        check(not self.csp_violations(), "the page breaks its Content-Security-Policy: %s" % self.csp_violations())
        self.main_token = token

    def test_forfait(self):
        self.step("forfait", "this year's volunteer and visible days, as the history says")
        expected = (self.now() - self.backdated_at).total_seconds() / 86400
        for field in ("volunteer", "visible", "both"):
            text = self.find("#forfait-%s-days" % field).text
            shown = float(re.match(r"([\d\s ,]+) jour", text).group(1).replace(",", ".").replace(" ", "")
                          .replace("\u202f", ""))
            check(abs(shown - expected) <= 0.15, "forfait %s: the page shows %r, the history makes %.2f days"
                  % (field, text, expected))
        check("rempli" in self.find("#forfait-now").text, "forfait: %r" % self.find("#forfait-now").text)

    def set_option(self, name, value):
        self.find('input[name="%s"][value="%s"]' % (name, "true" if value else "false")).click()

    def save_participation(self, expect_error=False):
        return self.status_after("participation-status",
                                 lambda: self.find("#participation-form button[type=submit]").click(), expect_error)

    def test_options(self):
        self.step("options", "each option changed in the page, and its effect on the real FHIR search")
        _, before = self.slots_of_doctor()
        check(before, "%s has no slot in the window to begin with" % self.doctor)

        self.set_option("visible", False)
        said = self.save_participation()
        check("Mon agenda est visible par le SAS : non" in said, "after hiding: %r" % said)
        _, slots = self.slots_of_doctor()
        check(not slots, "hidden in the page, yet the search offers %d slot(s)" % len(slots))
        reasons = self.find("#slots-table").text if self.find("#slots-table").is_displayed() else ""
        check("l'agenda n'est pas visible par le SAS" in reasons, "the slots do not say why they are hidden")

        self.set_option("visible", True)
        self.set_option("volunteer", False)
        self.save_participation()
        _, slots = self.slots_of_doctor()
        check(not slots, "not a volunteer in the page, yet the search offers %d slot(s)" % len(slots))

        self.set_option("volunteer", True)
        self.set_option("consent_to_call", True)
        phone = self.find("#phone")
        phone.clear()
        phone.send_keys("12")
        said = self.save_participation(expect_error=True)
        error = self.find("#phone-error")
        check(error.is_displayed() and "numéro" in error.text, "no error next to the phone: %r" % error.text)
        check("phone-error" in phone.get_attribute("aria-describedby").split(),
              "the phone's error is not in its aria-describedby")
        check(phone.get_attribute("aria-invalid") == "true", "the phone is not marked invalid")
        check(self.driver.switch_to.active_element == phone, "the focus is not on the phone after its error")
        _, slots = self.slots_of_doctor()
        check(not slots, "a refused form changed the settings (%d slots)" % len(slots))

        phone.clear()
        phone.send_keys("06 12 34 56 78")
        said = self.save_participation()
        check(not self.find("#phone-error").is_displayed(), "the phone's error stays after a good number")
        check(self.find("#phone").get_attribute("value") == "06 12 34 56 78", "the phone reads back as %r"
              % self.find("#phone").get_attribute("value"))
        answer, slots = self.slots_of_doctor()
        check(len(slots) == len(before), "shown again: %d slots, %d before" % (len(slots), len(before)))
        calls = [text for _, text in answer.call_first()]
        check(any("+33612345678" in text for text in calls), "no PractitionerRole says to call first: %s" % calls)

        self.set_option("consent_to_call", False)
        self.save_participation()
        answer, _ = self.slots_of_doctor()
        check(not answer.call_first(), "consent withdrawn in the page, yet: %s" % answer.call_first())

        # The history: who (the token's subject, the back office), when, through what door.
        self.find("#visible-option details summary").click()
        history = self.find('[data-history="visible"]').text
        check(SUBJECT in history and BACKOFFICE in history, "the history of visible: %r" % history)
        check("non" in history and "oui" in history, "the history of visible lacks its values: %r" % history)
        status, changes = self.admin_call("GET", "/admin/v1/practitioners/%s/settings/history" % self.doctor)
        ours = [c for c in changes["changes"] if c["changed_by"] == SUBJECT]
        check(len(ours) >= 6, "the host recorded %d changes by %s" % (len(ours), SUBJECT))

    def rule_form(self, kind, days=(), start=None, end=None, motives=None):
        Select(self.find("#rule-kind")).select_by_value(kind)
        for box in self.driver.find_elements(By.CSS_SELECTOR, "input[name=days]") if kind == "snp-hours" else []:
            if box.is_selected() != (box.get_attribute("value") in days):
                box.click()
        if start is not None:
            for field, value in (("#rule-from", start), ("#rule-to", end)):
                self.find(field).clear()
                self.find(field).send_keys(value)
        if motives is not None:
            self.find("#rule-motives").clear()
            self.find("#rule-motives").send_keys(motives)

    def add_rule(self, expect_error=False, **form):
        self.rule_form(**form)
        return self.status_after("rule-form-status", lambda: self.find("#rule-form button[type=submit]").click(),
                                 expect_error)

    def rule_ids(self):
        return [int(li.get_attribute("data-rule")) for li in self.driver.find_elements(By.CSS_SELECTOR, "#rules-list li")]

    def test_rules(self):
        self.step("rules", "publication rules added, refused and removed in the page, and the FHIR search")
        before = self.types_of_doctor()
        check("PUBLIC" in before, "%s has no public-only slot: %s" % (self.doctor, before))

        said = self.add_rule(kind="public-also-snp")
        check("aussi proposés" in said, "adding public-also-snp: %r" % said)
        after = self.types_of_doctor()
        check("PUBLIC" not in after and after.count("PUBLIC+SNP") == before.count("PUBLIC"),
              "public-also-snp: the search types %s (before %s)" % (after, before))
        check("aussi proposé en SNP" in self.find("#slots-table").text, "the slots do not say they are also SNP")

        self.add_rule(expect_error=True, kind="snp-hours", days=("mon",), start="25:00", end="26:00")
        error = self.find("#rule-from-error")
        check(error.is_displayed() and "HH:MM" in error.text, "a bad hour is not shown next to it: %r" % error.text)
        check("rule-from-error" in self.find("#rule-from").get_attribute("aria-describedby").split(),
              "the hour's error is not in its aria-describedby")
        check(len(self.rule_ids()) == 1, "a refused rule was added: %s" % self.rule_ids())

        every_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        self.add_rule(kind="snp-hours", days=every_day, start="00:00", end="24:00")
        snp_rule = max(self.rule_ids())
        after = self.types_of_doctor()
        check(after and all(t == "SNP" for t in after), "snp-hours all day: the search types %s" % after)
        check("réservé SNP : commence" in self.find("#slots-table").text, "the slots do not say why they are SNP")

        said = self.add_rule(expect_error=True, kind="snp-hours", days=("mon",), start="08:00", end="09:00")
        error = self.find("#rule-error")
        check(error.is_displayed() and ("règle %d" % snp_rule) in error.text and "00:00 et 24:00" in error.text,
              "the conflict is not shown with its rule: %r" % error.text)
        check("conflict" in self.find("#rule-%d" % snp_rule).get_attribute("class"),
              "the conflicting rule is not marked in the list")
        check(len(self.rule_ids()) == 2, "a refused rule was added: %s" % self.rule_ids())

        for rule in sorted(self.rule_ids(), reverse=True):
            self.status_after("rules-status", lambda: self.find("#rule-%d button" % rule).click())
        check(not self.rule_ids(), "rules left after removing: %s" % self.rule_ids())
        after = self.types_of_doctor()
        check(after == before, "the rules removed, the search types %s, before %s" % (after, before))

    def test_consultations(self):
        self.step("consultations", "the SAS consultations by week, their codes and amounts, and the CSV")
        self.open_panel(self.panel_url(self.panel_token(self.doctor)))
        decisions = {row[0]: row[1] or "none" for row in self.agenda(
            "SELECT consultation_id, code FROM billing_decision")}
        rows = self.driver.find_elements(By.CSS_SELECTOR, "tr[data-consultation]")
        shown = {row.get_attribute("data-consultation"): row.get_attribute("data-code") for row in rows}
        check(shown == decisions, "the page shows %s, the agenda's decisions are %s" % (shown, decisions))
        check(len(set(decisions.values())) >= 2, "the consultations were all coded %s" % set(decisions.values()))
        snp = list(decisions.values()).count("SNP")
        weeks = self.driver.find_elements(By.CSS_SELECTOR, "section.week")
        check(len(weeks) == 1 and ("SNP : %d/20" % snp) in weeks[0].text,
              "the week's count: %r (SNP %d)" % ([w.text[:80] for w in weeks], snp))
        for row in rows:
            code = row.get_attribute("data-code")
            text = row.text
            check(("SNP + U" in text) if code == "SNP" else ("MRT" in text) if code == "MRT"
                  else ("aucune majoration" in text), "a %s consultation reads %r" % (code, text))
            check(("15,00 €" in text) if code in ("SNP", "MRT") else ("0,00 €" in text), "amount of %r" % text)

        self.status_after("consultations-status", lambda: self.find("#consultations-csv").click())
        self.wait(lambda d: glob.glob(os.path.join(self.downloads, "*.csv")), "the CSV file")
        csv = open(glob.glob(os.path.join(self.downloads, "*.csv"))[0], encoding="utf-8").read().splitlines()
        check(csv[0].startswith("consultation_id,consulted_at,") and len(csv) == 1 + len(decisions),
              "the CSV: %s" % csv[:2])

    def test_keyboard(self):
        self.step("keyboard", "hide and show the agenda with the keyboard only, focus visible at each stop")
        self.open_panel(self.panel_url(self.panel_token(self.doctor)))
        order = []
        for _ in range(40):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            active = self.driver.switch_to.active_element
            key = active.get_attribute("id") or active.get_attribute("name") or active.tag_name
            order.append(key)
            outline = self.driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", active)
            check(outline not in ("none", ""), "no visible focus on %s" % key)
            if key == "visible":
                break
        check(order[:6] == ["a", "a", "a", "a", "a", "volunteer"] and order[-1] == "visible",
              "the focus order from the top: %s" % order)
        active = self.driver.switch_to.active_element
        # Arrow keys move within a radio group and select: "Oui" then "Non".
        if active.get_attribute("value") == "true" and active.is_selected():
            active.send_keys(Keys.ARROW_RIGHT)
        else:
            check(False, "the visible group's focus is on %r" % active.get_attribute("value"))
        check(self.find('input[name="visible"][value="false"]').is_selected(), "the arrow key did not choose Non")
        for _ in range(10):
            self.driver.switch_to.active_element.send_keys(Keys.TAB)
            if self.driver.switch_to.active_element.get_attribute("type") == "submit":
                break
        check(self.driver.switch_to.active_element.text == "Enregistrer mes choix", "no way to the save button")
        self.status_after("participation-status", lambda: self.driver.switch_to.active_element.send_keys(Keys.ENTER))
        _, slots = self.slots_of_doctor()
        check(not slots, "hidden with the keyboard, yet %d slots are searched" % len(slots))
        self.find('input[name="visible"][value="true"]').send_keys(Keys.SPACE)
        self.save_participation()
        _, slots = self.slots_of_doctor()
        check(slots, "shown again with the keyboard, yet no slot is searched")

    def test_refusals(self):
        self.step("refusals", "another doctor's page, an expired token, a forged token, no token")
        status, other_before = self.admin_call("GET", "/admin/v1/practitioners/%s/settings" % self.other)
        token = self.panel_token(self.doctor)
        self.open_panel(self.panel_url(token, self.other), ready="ended")
        check(self.find("#session-problem").get_attribute("data-reason") == "forbidden"
              and "Accès refusé" in self.problem_text(), "A's token on B's page: %r" % self.problem_text())
        check(not self.find("#main").is_displayed(), "B's page is shown with A's token")
        self.screenshot("refused-other-doctor")
        status, other_after = self.admin_call("GET", "/admin/v1/practitioners/%s/settings" % self.other)
        check(other_after == other_before, "B's settings changed: %s -> %s" % (other_before, other_after))

        key = open(self.panel_key_file).read().strip()
        now = int(time.time())
        expired = jwt_hs256(key, {"aud": "sas-host-panel", "sub": SUBJECT, "practitioner": self.doctor,
                                  "iat": now - 1200, "exp": now - 600})
        self.open_panel(self.panel_url(expired), ready="ended")
        check("Votre session a expiré : rouvrez le panneau depuis votre logiciel." in self.problem_text(),
              "an expired token: %r" % self.problem_text())
        self.screenshot("refused-expired")

        forged = jwt_hs256("not-the-host-key-" + "x" * 40, {"aud": "sas-host-panel", "sub": SUBJECT,
                                                           "practitioner": self.doctor, "iat": now, "exp": now + 600})
        self.open_panel(self.panel_url(forged), ready="ended")
        check(self.find("#session-problem").get_attribute("data-reason") == "expired", "a forged token: %r"
              % self.problem_text())
        # A genuine token of the right key, made without the host's code, is accepted: the refusal
        # above is the signature's.
        genuine = jwt_hs256(key, {"aud": "sas-host-panel", "sub": SUBJECT, "practitioner": self.doctor,
                                  "iat": now, "exp": now + 600})
        self.open_panel(self.panel_url(genuine))

        self.open_panel("%s/panel/" % self.admin_base, ready="ended")
        check("Aucune session" in self.problem_text(), "no token: %r" % self.problem_text())

    def test_embedded(self):
        self.step("embedded", "the sample agenda's page for the doctor embeds the panel in an iframe")
        self.driver.get("%s/medecin/%s/sas" % (self.web_base, self.doctor_agenda_id))
        frame = self.wait(EC.presence_of_element_located((By.ID, "sas-panel")), "the iframe")
        check("#token=" in frame.get_attribute("src"), "the iframe has no token")
        self.driver.switch_to.frame(frame)
        try:
            self.wait(lambda d: d.execute_script("return document.body && document.body.dataset.ready || ''"),
                      "the panel in the iframe")
            check(self.driver.execute_script("return document.body.dataset.ready") == "true",
                  "the embedded panel: %s" % self.problem_text())
            check(self.doctor in self.find("#session-info").text, "the embedded panel's session line")
        finally:
            self.driver.switch_to.default_content()
        self.driver.set_window_size(1280, 1200)
        self.screenshot("embedded-sample-agenda-1280")

    def start_sample_agenda(self):
        log = os.path.join(self.work, "web.log")
        process = self.start([self.bin("sas-sample-agenda"), "serve", "--agenda", self.agenda_db, "--listen",
                              "127.0.0.1:%d" % self.web_port, "--panel-key-file", self.panel_key_file,
                              "--panel-admin-base", self.admin_base], log)
        self.wait_for("sample agenda listening", lambda: self.accepts(self.web_port), process, log)
        self.web_base = "http://127.0.0.1:%d" % self.web_port

    def main(self):
        self.setup()
        self.backdate_options()
        self.add_consultations()
        self.start_sample_agenda()
        self.start_browser()
        self.test_loads_and_forgets_the_token()
        self.test_forfait()
        self.section_screenshots("before")
        self.test_options()
        self.test_rules()
        self.test_consultations()
        self.test_keyboard()
        # The sections as a doctor would see them, with a rule and an explanation to show.
        self.open_panel(self.panel_url(self.panel_token(self.doctor)))
        self.add_rule(kind="snp-hours", days=("mon", "tue", "wed", "thu", "fri"), start="17:00", end="19:00")
        self.add_rule(kind="public-also-snp")
        self.set_option("consent_to_call", True)
        self.save_participation()
        self.find("#visible-option details summary").click()
        self.find("tr[data-consultation] details summary").click()
        self.section_screenshots("panel")
        self.test_embedded()
        self.test_refusals()
        check(not self.csp_violations(), "Content-Security-Policy violations: %s" % self.csp_violations())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--artefacts", required=True, help="where the screenshots go (emptied first)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args()
    shutil.rmtree(options.artefacts, ignore_errors=True)
    os.makedirs(options.artefacts)
    work = tempfile.mkdtemp(prefix="sas-panel-browser.")
    world = PanelWorld(options.build, work, os.path.abspath(options.artefacts))
    code = 1
    try:
        world.main()
        print("\npanel browser test passed; screenshots in %s" % options.artefacts)
        code = 0
    except (Failure, demo_tools.DemoFailure) as failure:
        print("\npanel browser test FAILED at %s: %s" % (world.step_name, failure), file=sys.stderr)
    except Exception as error:  # a bug of the test or a driver failure: still say where
        traceback.print_exc()
        print("\npanel browser test FAILED at %s: %s: %s" % (world.step_name, type(error).__name__, error),
              file=sys.stderr)
    finally:
        if code != 0:
            world.screenshot("failure")
            print("(work kept in %s)" % work, file=sys.stderr)
            options.keep = True
        world.stop_browser()
        world.stop_all()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
