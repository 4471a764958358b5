#!/usr/bin/python3
"""Host CPU per INT_R01 search (issue #22): the real `sas-host serve` (reference plugin over an
agenda from `sas-sim gen-agenda`, mutual TLS with the `sas-sim pki` test PKI, as
benchmarks/searches/compare.sh starts it) loaded by `sas-sim load` for three cases, (1 id, 48 h),
(25 ids, 72 h) and (25 ids, 168 h). For each case: an unmeasured warm-up run, the server's CPU time
(utime + stime from /proc, with its plugin runners under --plugin-isolation process), the measured
run, the CPU time again; CPU-ms per search is the difference over the searches sas-sim counted.
With --peer node, the same cases against benchmarks/node-fhir-peer (a generic FHIR server,
@asymmetrik/node-fhir-server-core, over the same agenda and PKI), case by case in the same run,
after a check that both answer one search of each case with the same entries.
With --baseline, a second sas-host from another build (the commit before a change) on its own copy
of the agenda, checked the same way, and --rounds N alternates the servers N times per case: on a
shared machine whose speed drifts by tens of percent from one minute to the next, the change is
read round by round (each round's two runs shared the same minutes) and reported as their median.
Every process it starts is stopped and its work directory removed. Stdlib only.

  benchmarks/searches/cpu_per_search.py --build BUILD [--baseline BUILD --rounds N] [--peer node [--peer node-plain]]
      [--duration 25] [--concurrency 8] [--warmup 3] [--case 25x72 ...] [--isolation in-process|process] [--json REPORT]

docs/performance.md, "Host CPU per search, and a generic FHIR server side by side".
"""
import argparse
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER_DIR = os.path.join(REPO, "benchmarks", "node-fhir-peer")
CASES = {"1x48": (1, 48), "25x72": (25, 72), "25x168": (25, 168)}
# --peer value -> target name: the node-fhir-server-core peer as its examples use it, and the same
# server answering plain objects instead of the core's resource classes.
PEERS = {"node": "node-peer", "node-plain": "node-plain"}
TICKS = os.sysconf("SC_CLK_TCK")


def median(values):
    values = sorted(v for v in values if v is not None)  # a change of 0.0 counts too
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid):
    """(user, system) CPU seconds of `pid` and of its children: live ones read directly (the plugin
    runners), waited-for ones through cutime + cstime. Fields 14-17 of proc(5), here from index 11."""
    fields = stat_fields(pid)
    user = int(fields[11]) + int(fields[13])
    system = int(fields[12]) + int(fields[14])
    for child in children(pid):
        try:
            child_fields = stat_fields(child)
            user += int(child_fields[11])
            system += int(child_fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass  # ended between the listing and the read
    return user / TICKS, system / TICKS


def resident_mib(pid):
    """VmRSS of `pid` and of its children (the plugin runners), MiB."""
    total = 0
    for p in [pid] + children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            pass
    return round(total / 1024.0)


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(stat_fields(int(entry))[1]) == pid:
                found.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return found + [g for c in found for g in children(c)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="sas-cpu-per-search-")
        self.processes = []  # (name, Popen), stopped in reverse order

    def bin(self, tool):
        return os.path.join(self.args.build, "bin", tool)

    def run(self, *argv):
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit("cpu_per_search: %s failed (%d):\n%s%s" % (" ".join(argv), result.returncode, result.stdout,
                                                                 result.stderr))
        return result.stdout

    def start(self, name, argv, **popen):
        log = open(os.path.join(self.work, name + ".log"), "w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, **popen)
        self.processes.append((name, process))
        return process

    def wait_for_url(self, name, process, pattern, timeout=120):
        """Waits for the line the server prints when it listens; returns the first group of `pattern`."""
        log = os.path.join(self.work, name + ".log")
        deadline = time.time() + timeout
        while time.time() < deadline:
            match = re.search(pattern, open(log).read())
            if match:
                return match.group(1)
            if process.poll() is not None:
                sys.exit("cpu_per_search: %s exited (%d) before listening:\n%s" % (name, process.returncode,
                                                                                  open(log).read()[-4000:]))
            time.sleep(0.1)
        sys.exit("cpu_per_search: %s not listening after %d s:\n%s" % (name, timeout, open(log).read()[-4000:]))

    def stop_all(self):
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def setup(self):
        a = self.args
        # As benchmarks/searches/compare.sh: 2,000 practitioners x 8 days from today, the test PKI.
        self.agenda = os.path.join(self.work, "agenda.db")
        self.run(self.bin("sas-sim"), "gen-agenda", "--out", self.agenda, "--practitioners", str(a.practitioners),
                 "--days", "8", "--start", datetime.date.today().isoformat())
        self.pki = os.path.join(self.work, "pki")
        self.run(self.bin("sas-sim"), "pki", "--out", self.pki)
        self.targets = {}  # name -> (base URL, pid)
        # The baseline gets its own copy of the agenda: a newer plugin may add an index to its file
        # at start-up, which an older plugin would then use too.
        if a.baseline:
            shutil.copyfile(self.agenda, os.path.join(self.work, "baseline-agenda.db"))
        self.start_host("sas-host", a.build, self.agenda)
        if a.baseline:
            self.start_host("baseline", a.baseline, os.path.join(self.work, "baseline-agenda.db"))
        for peer in a.peer or []:
            self.setup_node_peer(PEERS[peer], peer == "node")

    def start_host(self, name, build, agenda):
        a = self.args
        host = self.start(name, [
            os.path.join(build, "bin", "sas-host"), "serve",
            "--plugin", os.path.join(build, "lib", "sas", "plugins", "libsas-sqlite-agenda.so"),
            "--plugin-config", "db=" + agenda, "--plugin-isolation", a.isolation,
            "--store", "sqlite:" + os.path.join(self.work, name + ".db"), "--listen", "127.0.0.1:0",
            "--tls-cert", self.pem("server.pem"), "--tls-key", self.pem("server-key.pem"),
            "--client-ca", self.pem("ca.pem"), "--allow-client-subject", "CN=sas.sante.fr,OU=SAS"])
        port = self.wait_for_url(name, host, r"listening on https://127\.0\.0\.1:(\d+)")
        self.targets[name] = ("https://127.0.0.1:%s" % port, host.pid)

    def setup_node_peer(self, name, resource_classes):
        if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "@asymmetrik", "node-fhir-server-core")):
            sys.exit("cpu_per_search: --peer: run `npm ci` in %s first (its README)" % PEER_DIR)
        data = os.path.join(self.work, "peer.json")
        if not os.path.exists(data):
            self.run(sys.executable, os.path.join(PEER_DIR, "convert_agenda.py"), self.agenda, data)
        peer = self.start(name, [
            self.args.node, os.path.join(PEER_DIR, "server.js"), "--data", data, "--listen", "127.0.0.1:0",
            "--cert", self.pem("server.pem"), "--key", self.pem("server-key.pem"), "--ca", self.pem("ca.pem"),
            "--resource-classes", "yes" if resource_classes else "no"], cwd=PEER_DIR)
        base = self.wait_for_url(name, peer, r"listening on (https://\S+)")
        self.targets[name] = (base, peer.pid)

    def search(self, base, ids, hours):
        """One INT_R01 search as sas-sim sends it; the answer's entries, comparable across servers."""
        now = datetime.datetime.now(datetime.timezone.utc)
        fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        target = (urllib.parse.urlsplit(base).path + "/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor"
                  "&start=ge" + fmt(now) + "&start=le" + fmt(now + datetime.timedelta(hours=hours)) +
                  "&schedule.actor:Practitioner.identifier=" +
                  ",".join("urn:oid:1.2.250.1.71.4.2.1|" + i for i in ids) + "&status=free")
        context = ssl.create_default_context(cafile=self.pem("ca.pem"))
        context.load_cert_chain(self.pem("client.pem"), self.pem("client-key.pem"))
        context.check_hostname = False  # the test PKI's server certificate names localhost
        url = urllib.parse.urlsplit(base)
        connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=30)
        connection.request("GET", target, headers={"Accept": "application/fhir+json"})
        answer = connection.getresponse()
        body = json.loads(answer.read())
        connection.close()
        if answer.status != 200:
            sys.exit("cpu_per_search: %s answered %d: %s" % (base, answer.status, json.dumps(body)[:500]))
        entries = []
        for entry in body.get("entry", []):
            resource = entry["resource"]
            if resource["resourceType"] == "PractitionerRole":  # the place identifier's system is the base
                for location in resource.get("contained", []):
                    for identifier in location.get("identifier", []):
                        identifier["system"] = "BASE"
            entries.append((entry["fullUrl"][len(base):], entry["search"]["mode"], resource))
        return body.get("total"), entries

    def check_same_answers(self, case):
        """The comparison is fair only if both servers answer the same: one search of the case, same draw."""
        sys.path.insert(0, PEER_DIR)
        from convert_agenda import practitioner_id
        import sqlite3
        with sqlite3.connect("file:%s?mode=ro" % self.agenda, uri=True) as db:
            everyone = [practitioner_id(r[0]) for r in db.execute("SELECT national_id FROM practitioner ORDER BY id")]
        ids, hours = CASES[case]
        drawn = random.Random(case).sample([i for i in everyone if i], ids)
        answers = {target: self.search(base, drawn, hours) for target, (base, _) in self.targets.items()}
        host = answers.pop("sas-host")
        for target, peer in answers.items():
            if host != peer:
                sys.exit("cpu_per_search: %s: sas-host and %s answer differently (%d and %d entries)"
                         % (case, target, len(host[1]), len(peer[1])))
        print("%-9s %s: same answer from all %d servers (%d entries)" % ("check", case, len(answers) + 1,
                                                                           len(host[1])), flush=True)

    def pem(self, name):
        return os.path.join(self.pki, name)

    def load(self, base, ids, hours, duration):
        a = self.args
        argv = [self.bin("sas-sim"), "load", "--base", base, "--cert", self.pem("client.pem"),
                "--key", self.pem("client-key.pem"), "--ca", self.pem("ca.pem"), "--agenda", self.agenda,
                "--practitioners-per-search", str(ids), "--window-hours", str(hours),
                "--concurrency", str(a.concurrency), "--duration", str(duration)]
        return json.loads(self.run(*argv))

    def measure(self, target, case):
        base, pid = self.targets[target]
        ids, hours = CASES[case]
        # A separate warm-up run: connections, caches, JIT; the CPU sample is taken once it has ended.
        self.load(base, ids, hours, self.args.warmup)
        user_before, system_before = cpu_seconds(pid)
        result = self.load(base, ids, hours, self.args.duration)
        user_after, system_after = cpu_seconds(pid)
        used = (user_after - user_before) + (system_after - system_before)
        system = system_after - system_before
        rss_mib = resident_mib(pid)
        searches = result["requests"]
        row = {
            "target": target, "case": case, "practitioners_per_search": ids, "window_hours": hours,
            "concurrency": self.args.concurrency, "searches": searches, "errors": result["errors"],
            "searches_per_s": result["searches_per_s"], "p50_ms": result["latency_ms"]["p50"],
            "p99_ms": result["latency_ms"]["p99"], "cpu_s": round(used, 3),
            "cpu_ms_per_search": round(used * 1000.0 / searches, 3) if searches else None,
            "system_cpu_ms_per_search": round(system * 1000.0 / searches, 3) if searches else None,
            "answer_kb": round(result["bytes"] / searches / 1024.0, 1) if searches else None,
            "rss_mib": rss_mib,
        }
        if "first_error" in result:
            row["first_error"] = result["first_error"]
        print("%-9s %3d x %3d h  %6d searches  %8.1f /s  p50 %8.1f ms  p99 %8.1f ms  CPU %7.2f ms/search "
              "(kernel %.2f)  answer %6.1f KB  errors %d"
              % (target, ids, hours, searches, row["searches_per_s"], row["p50_ms"], row["p99_ms"],
                 row["cpu_ms_per_search"] or 0, row["system_cpu_ms_per_search"] or 0, row["answer_kb"] or 0,
                 row["errors"]), flush=True)
        return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(REPO, "build-release"),
                   help="a Release build directory with bin/ and lib/sas/plugins/ (default: %(default)s)")
    p.add_argument("--duration", type=float, default=25, help="measured seconds per case and server")
    p.add_argument("--warmup", type=float, default=3, help="seconds of the unmeasured run before each case")
    p.add_argument("--concurrency", type=int, default=8, help="sas-sim load's kept-alive connections")
    p.add_argument("--case", action="append", choices=sorted(CASES), help="ids x hours (repeatable; default: all three)")
    p.add_argument("--practitioners", type=int, default=2000, help="in the generated agenda")
    p.add_argument("--isolation", choices=("in-process", "process"), default="in-process",
                   help="sas-host --plugin-isolation (process: the runners' CPU is counted too)")
    p.add_argument("--peer", action="append", choices=sorted(PEERS),
                   help="node: also the generic FHIR server of benchmarks/node-fhir-peer, case by case; node-plain: "
                        "the same server answering plain objects, not the core's resource classes (repeatable)")
    p.add_argument("--node", default="/usr/bin/node", help="the Node.js binary for --peer node")
    p.add_argument("--baseline", metavar="BUILD",
                   help="also a second sas-host from this build (e.g. the commit before a change), on its own "
                        "copy of the agenda; reports the change of CPU per search round by round")
    p.add_argument("--rounds", type=int, default=1,
                   help="measured runs per case and server, the servers' order alternating (default: %(default)s)")
    p.add_argument("--json", metavar="REPORT", help="write the rows (and the peer/host ratios) as JSON here")
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    for tool in ("sas-host", "sas-sim"):
        if not os.access(os.path.join(args.build, "bin", tool), os.X_OK):
            sys.exit("cpu_per_search: no %s in %s/bin (--build)" % (tool, args.build))
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        if not os.access(os.path.join(args.baseline, "bin", "sas-host"), os.X_OK):
            sys.exit("cpu_per_search: no sas-host in %s/bin (--baseline)" % args.baseline)
    if args.rounds < 1:
        sys.exit("cpu_per_search: --rounds must be at least 1")
    # Stopped by a signal: stop the servers too, through `finally`.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    bench = Bench(args)
    rows, ratios = [], []
    load_before = os.getloadavg()
    try:
        bench.setup()
        for case in args.case or list(CASES):
            if len(bench.targets) > 1:
                bench.check_same_answers(case)
            # Rounds alternate the servers' order, so that a slower or faster minute of a shared
            # machine falls on each of them in turn.
            by_target = {target: [] for target in bench.targets}
            order = list(bench.targets)
            for round_index in range(args.rounds):
                for target in order if round_index % 2 == 0 else reversed(order):
                    row = bench.measure(target, case)
                    row["round"] = round_index + 1
                    by_target[target].append(row)
            rows.extend(row for runs in by_target.values() for row in runs)
            host = by_target.pop("sas-host")
            host_cpu = median(r["cpu_ms_per_search"] for r in host)
            host_rate = median(r["searches_per_s"] for r in host)
            baseline = by_target.pop("baseline", None)
            if baseline:
                # Per round, then the median: each round's two runs shared the same minutes.
                changes = [h["cpu_ms_per_search"] / b["cpu_ms_per_search"] - 1 for h, b in zip(host, baseline)
                           if h["cpu_ms_per_search"] and b["cpu_ms_per_search"]]
                ratio = {"case": case, "peer": "baseline", "host_cpu_ms_median": host_cpu,
                         "baseline_cpu_ms_median": median(r["cpu_ms_per_search"] for r in baseline),
                         "cpu_per_search_change_by_round": [round(c, 3) for c in changes],
                         "cpu_per_search_change_median": round(median(changes), 3) if changes else None}
                ratios.append(ratio)
                print("%-9s %s: sas-host %.2f ms, baseline %.2f ms per search (medians); change per round %s, "
                      "median %+.0f %%" % ("change", case, host_cpu, ratio["baseline_cpu_ms_median"],
                                           " ".join("%+.0f%%" % (100 * c) for c in changes),
                                           100 * (ratio["cpu_per_search_change_median"] or 0)), flush=True)
            for target, runs in by_target.items():
                peer_cpu = median(r["cpu_ms_per_search"] for r in runs)
                peer_rate = median(r["searches_per_s"] for r in runs)
                if not (host_cpu and peer_cpu):
                    continue
                ratio = {"case": case, "peer": target,
                         "cpu_per_search_peer_over_host": round(peer_cpu / host_cpu, 2),
                         "throughput_host_over_peer": round(host_rate / peer_rate, 2)}
                ratios.append(ratio)
                print("%-9s %s: %s CPU per search %.1f x sas-host's, sas-host throughput %.1f x %s's"
                      % ("ratio", case, target, ratio["cpu_per_search_peer_over_host"],
                         ratio["throughput_host_over_peer"], target), flush=True)
    finally:
        bench.stop_all()
        shutil.rmtree(bench.work, ignore_errors=True)
    if args.json:
        report = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "build": args.build, "duration_s": args.duration, "warmup_s": args.warmup,
                  "baseline": args.baseline, "rounds": args.rounds,
                  "concurrency": args.concurrency, "isolation": args.isolation, "cpus": os.cpu_count(),
                  "load_average_before": load_before, "load_average_after": os.getloadavg(), "rows": rows, "ratios": ratios}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    sys.exit(1 if any(r["errors"] or not r["searches"] for r in rows) else 0)


if __name__ == "__main__":
    main()
