#!/usr/bin/env python3
"""The soak (issue #21): the real `sas-host serve` (reference plugin over a generated agenda, mutual
TLS, admin API, INT_R03 delivery) and `sas-sim serve` as the platform receiving the notifications,
loaded by `sas-sim load --rate` with a steady mix of INT_R01 searches, INT_R02 account writes and
appointment events, the host's memory sampled. Exits with sas-sim load's verdict (0 passed, 1
failed); every process it starts is stopped, every file removed (unless --keep).

  tests/soak/soak.py --build build --ig IG_DIR                              # the 1-hour soak
  tests/soak/soak.py --build build --ig IG_DIR --duration 120 --settle-s 30 \\
      --sample-interval 10 --max-rss-growth-pct 15                          # ctest's soak_short
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = args.work or tempfile.mkdtemp(prefix="sas-soak-")
        os.makedirs(self.work, exist_ok=True)
        self.processes = []  # (name, Popen, log path or None), stopped in reverse order

    def bin(self, tool):
        return os.path.join(self.args.build, "bin", tool)

    def run(self, *argv):
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit("soak: %s failed (%d):\n%s%s" % (" ".join(argv), result.returncode, result.stdout, result.stderr))
        return result.stdout

    def start(self, name, argv):
        log = os.path.join(self.work, name + ".log")
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        self.processes.append((name, process, log))
        return process

    def wait_for(self, name, process, log, ready, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if process.poll() is not None:
                sys.exit("soak: %s exited (%d) before it was ready:\n%s" % (name, process.returncode, open(log).read()))
            if ready():
                return
            time.sleep(0.1)
        sys.exit("soak: %s not ready after %d s:\n%s" % (name, timeout, open(log).read()))

    def stop_all(self):
        for name, process, log in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def setup(self):
        a = self.args
        pki = os.path.join(self.work, "pki")
        self.run(self.bin("sas-sim"), "pki", "--out", pki)
        self.pki = lambda name: os.path.join(pki, name)
        # Starts today (Europe/Paris); the load searches up to a day ahead over windows up to 48 h.
        self.agenda = os.path.join(self.work, "agenda.db")
        self.run(self.bin("sas-sim"), "gen-agenda", "--out", self.agenda, "--practitioners", str(a.practitioners),
                 "--days", "8", "--seed", "21")
        self.token = os.path.join(self.work, "admin.token")
        with open(os.open(self.token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex())

        self.platform_db = os.path.join(self.work, "platform.db")
        platform_port = free_port()
        platform = self.start("platform", [
            self.bin("sas-sim"), "serve", "--listen", "127.0.0.1:%d" % platform_port,
            "--tls-cert", self.pki("server.pem"), "--tls-key", self.pki("server-key.pem"),
            "--client-ca", self.pki("ca.pem"), "--db", self.platform_db, "--ig", a.ig, *a.platform_arg])
        self.wait_for("sas-sim serve", platform, self.processes[-1][2], lambda: accepts(platform_port))

        self.port, self.admin_port = free_port(), free_port()
        host = self.start("host", [
            self.bin("sas-host"), "serve",
            "--plugin", os.path.join(self.args.build, "lib", "sas", "plugins", "libsas-sqlite-agenda.so"),
            "--plugin-config", "db=" + self.agenda,
            "--store", "sqlite:" + os.path.join(self.work, "host.db"),
            "--listen", "127.0.0.1:%d" % self.port,
            "--tls-cert", self.pki("server.pem"), "--tls-key", self.pki("server-key.pem"),
            "--client-ca", self.pki("ca.pem"), "--client-crl", self.pki("crl.pem"),
            "--allow-client-subject", "CN=sas.sante.fr,OU=SAS",
            "--admin-listen", "127.0.0.1:%d" % self.admin_port, "--admin-token-file", self.token,
            "--sas-base", "https://localhost:%d/fhir" % platform_port,
            "--sas-cert", self.pki("vendor.pem"), "--sas-key", self.pki("vendor-key.pem"), "--sas-ca", self.pki("ca.pem"),
            *a.host_arg])
        log = self.processes[-1][2]
        self.wait_for("sas-host serve", host, log,
                      lambda: open(log).read().count("listening on") >= 2 and accepts(self.port) and accepts(self.admin_port))
        self.host, self.host_log = host, log

    def load(self):
        a = self.args
        argv = [self.bin("sas-sim"), "load", "--rate", str(a.rate), "--duration", str(a.duration),
                "--mix", a.mix, "--concurrency", str(a.concurrency),
                "--practitioners-per-search", str(a.practitioners_per_search), "--window-hours", str(a.window_hours),
                "--base", "https://localhost:%d" % self.port,
                "--cert", self.pki("client.pem"), "--key", self.pki("client-key.pem"), "--ca", self.pki("ca.pem"),
                "--agenda", self.agenda,
                "--admin", "https://localhost:%d" % self.admin_port, "--admin-token-file", self.token,
                "--platform-db", self.platform_db,
                "--host-pid", str(self.host.pid), "--sample-interval", str(a.sample_interval),
                "--settle-s", str(a.settle_s), "--max-rss-growth-pct", str(a.max_rss_growth_pct),
                "--notification-drain-s", str(a.notification_drain_s),
                "--report", a.report or os.path.join(self.work, "report.json")]
        print("soak: " + " ".join(argv), flush=True)
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.processes.append(("sas-sim load", load, None))
        output = []
        for line in load.stdout:  # shown as it comes: a row per sample
            print(line, end="", flush=True)
            output.append(line)
        code = load.wait()
        if self.host.poll() is not None:
            print("soak: sas-host exited (%d) during the load; its log:\n%s" % (
                self.host.returncode, open(self.host_log).read()[-4000:]), flush=True)
            code = code or 1
        if a.expect_failure:
            # A test that the soak can fail: it passes only when the verdict fails for that reason.
            if code == 1 and re.search(a.expect_failure, "".join(output)):
                print("soak: failed as expected (%s)" % a.expect_failure)
                return 0
            print("soak: expected sas-sim load to fail (exit 1) with output matching %r; exit %d" % (a.expect_failure, code))
            return 1
        return code


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True, help="the build directory (bin/, lib/sas/plugins/)")
    p.add_argument("--ig", required=True, help="the SAS IG package (sas-sim serve validates the notifications)")
    p.add_argument("--duration", type=float, default=3600)
    p.add_argument("--rate", type=float, default=30, help="requests per second, all kinds")
    p.add_argument("--mix", default="search=80,account=10,event=10")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--practitioners", type=int, default=2000, help="in the generated agenda")
    p.add_argument("--practitioners-per-search", type=int, default=25)
    p.add_argument("--window-hours", type=float, default=48)
    p.add_argument("--sample-interval", type=float, default=60)
    p.add_argument("--settle-s", type=float, default=300)
    p.add_argument("--max-rss-growth-pct", type=float, default=5)
    p.add_argument("--notification-drain-s", type=float, default=30)
    p.add_argument("--report", help="sas-sim load's JSON report (default: in the work directory)")
    p.add_argument("--work", help="work directory (default: a new temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--host-arg", action="append", default=[], help="one more sas-host serve argument (repeatable)")
    p.add_argument("--platform-arg", action="append", default=[],
                   help="one more sas-sim serve argument (repeatable), e.g. --platform-arg=--fail=reject")
    p.add_argument("--expect-failure", metavar="REGEX",
                   help="exit 0 only if the verdict fails (exit 1) with output matching REGEX (negative tests)")
    args = p.parse_args()
    # Stopped by a timeout (ctest sends SIGTERM first): stop the servers too, through `finally`.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    soak = Soak(args)
    code = 1
    try:
        soak.setup()
        code = soak.load()
    finally:
        soak.stop_all()
        if args.keep:
            print("soak: work directory kept: " + soak.work)
        else:
            shutil.rmtree(soak.work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
