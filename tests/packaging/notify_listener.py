#!/usr/bin/env python3
"""notify_listener.py SOCKET OUT: plays systemd's side of NOTIFY_SOCKET for a shell test.

Binds the unix datagram socket SOCKET (mode 0666, so that a service run as another user can
send to it) and appends each notification to OUT as one line, its assignments separated by
spaces ("READY=1 STATUS=serving ..."), until it is terminated.
"""
import os
import signal
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(out, "a", encoding="utf-8") as f:
    while True:
        message = sock.recv(4096).decode(errors="replace")
        f.write(message.replace("\n", " ").strip() + "\n")
        f.flush()
