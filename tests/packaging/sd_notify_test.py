#!/usr/bin/env python3
"""Type=notify of `sas-host serve` (host/cli/systemd_notify.cpp), with the build tree's binaries.

The test plays systemd: it owns the NOTIFY_SOCKET datagram socket and checks that the host says
READY=1 only once both listeners accept connections (it connects right after the message, with
no retry: a mutual-TLS GET /metadata and the admin API's port), RELOADING=1 then READY=1 around a
SIGHUP, and STOPPING=1 on SIGTERM. A socket that cannot be reached is reported in the log, and
the host runs on.

usage: sd_notify_test.py BUILD_DIR
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1]
SAS_HOST = os.path.join(BUILD, "bin", "sas-host")
SAS_SIM = os.path.join(BUILD, "bin", "sas-sim")
PLUGIN = os.path.join(BUILD, "lib", "sas", "plugins", "libsas-sqlite-agenda.so")


def fail(message, log=None):
    if log and os.path.exists(log):
        with open(log, encoding="utf-8", errors="replace") as f:
            sys.stderr.write("--- sas-host log ---\n" + f.read() + "--- end ---\n")
    print("FAIL: " + message)
    sys.exit(1)


def receive(sock, log, what, timeout=30):
    """The next notification, as a dict of its assignments."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096).decode()
    except socket.timeout:
        fail(f"no notification within {timeout} s while waiting for {what}", log)
    fields = dict(line.split("=", 1) for line in data.split("\n") if "=" in line)
    print(f"notification: {fields}")
    return fields


def expect(fields, key, log, when):
    if fields.get(key) != "1":
        fail(f"{when}: expected {key}=1, got {fields}", log)
    if not fields.get("STATUS"):
        fail(f"{when}: {key}=1 without a STATUS= line: {fields}", log)


def mtls_get(port, pki, path):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=os.path.join(pki, "ca.pem"))
    context.load_cert_chain(os.path.join(pki, "client.pem"), os.path.join(pki, "client-key.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    return answer.decode(errors="replace")


def serve_command(work, pki):
    return [SAS_HOST, "serve", "--plugin", PLUGIN, "--plugin-config", "db=" + os.path.join(work, "agenda.db"),
            "--store", "sqlite:" + os.path.join(work, "host.db"), "--listen", "127.0.0.1:0",
            "--tls-cert", os.path.join(pki, "server.pem"), "--tls-key", os.path.join(pki, "server-key.pem"),
            "--client-ca", os.path.join(pki, "ca.pem"), "--allow-client-subject", "CN=sas.sante.fr,OU=SAS",
            "--admin-listen", "127.0.0.1:0", "--admin-token-file", os.path.join(work, "admin.token")]


def main():
    with tempfile.TemporaryDirectory(prefix="sas-sd-notify.") as work:
        pki = os.path.join(work, "pki")
        subprocess.run([SAS_SIM, "pki", "--out", pki], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([SAS_SIM, "gen-agenda", "--out", os.path.join(work, "agenda.db"), "--practitioners", "2",
                        "--days", "2", "--seed", "19"], check=True, stdout=subprocess.DEVNULL)
        token = os.path.join(work, "admin.token")
        with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("t" * 40 + "\n")

        notify_path = os.path.join(work, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(notify_path)
        log = os.path.join(work, "serve.log")
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        with open(log, "w") as log_file:
            host = subprocess.Popen(serve_command(work, pki), env=env, stderr=log_file, stdout=log_file)
        try:
            ready = receive(sock, log, "READY=1 at start", timeout=60)
            expect(ready, "READY", log, "start")
            match = re.search(r"https://127\.0\.0\.1:(\d+) \(admin API on port (\d+)\)", ready["STATUS"])
            if not match:
                fail(f"STATUS does not name both listeners: {ready['STATUS']!r}", log)
            port, admin_port = int(match.group(1)), int(match.group(2))
            # Ready means accepting: one attempt each, no retry loop.
            answer = mtls_get(port, pki, "/metadata")
            if not answer.startswith("HTTP/1.1 200") or "CapabilityStatement" not in answer:
                fail(f"GET /metadata right after READY=1: {answer[:300]!r}", log)
            try:
                socket.create_connection(("127.0.0.1", admin_port), timeout=5).close()
            except OSError as e:
                fail(f"the admin API's port {admin_port} refused a connection right after READY=1: {e}", log)
            print(f"READY=1 after both listeners accept (FHIR {port}, admin {admin_port})")

            host.send_signal(signal.SIGHUP)
            expect(receive(sock, log, "RELOADING=1 after SIGHUP"), "RELOADING", log, "SIGHUP")
            expect(receive(sock, log, "READY=1 after the reload"), "READY", log, "after the reload")
            with open(log) as f:
                if "SIGHUP: TLS material reloaded" not in f.read():
                    fail("READY=1 after SIGHUP but the log does not say the TLS material was reloaded", log)
            answer = mtls_get(port, pki, "/metadata")
            if not answer.startswith("HTTP/1.1 200"):
                fail(f"GET /metadata after the reload: {answer[:300]!r}", log)

            host.send_signal(signal.SIGTERM)
            expect(receive(sock, log, "STOPPING=1 after SIGTERM"), "STOPPING", log, "SIGTERM")
            code = host.wait(timeout=60)
            if code != 0:
                fail(f"sas-host serve exited with {code} after SIGTERM", log)
            print("RELOADING=1, READY=1 on SIGHUP; STOPPING=1 on SIGTERM")
        finally:
            if host.poll() is None:
                host.kill()
                host.wait()

        # A NOTIFY_SOCKET nobody listens on: the host says so in its log and serves anyway.
        os.unlink(notify_path)
        sock.close()
        log = os.path.join(work, "unreachable.log")
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        with open(log, "w") as log_file:
            host = subprocess.Popen(serve_command(work, pki), env=env, stderr=log_file, stdout=log_file)
        try:
            deadline = time.monotonic() + 60
            text = ""
            while time.monotonic() < deadline and "systemd notification READY=1 failed" not in text:
                time.sleep(0.1)
                with open(log) as f:
                    text = f.read()
                if host.poll() is not None:
                    fail(f"sas-host serve exited ({host.returncode}) with an unreachable NOTIFY_SOCKET", log)
            if "systemd notification READY=1 failed" not in text:
                fail("an unreachable NOTIFY_SOCKET is not reported in the log", log)
            host.send_signal(signal.SIGTERM)
            if host.wait(timeout=60) != 0:
                fail(f"sas-host serve exited with {host.returncode} after SIGTERM", log)
            print("an unreachable NOTIFY_SOCKET is logged, and the host serves")
        finally:
            if host.poll() is None:
                host.kill()
                host.wait()
    print("sd_notify: OK")


if __name__ == "__main__":
    main()
