"""Hostile socket clients run as other OS accounts (``runuser … python -c CLIENT``), shared by
the fairness and refusal tests and by bench/bench_flood.py and bench/bench_fairness.py.

``CLIENT`` takes: socket path, seconds, connections, mode:

- ``refuse``: each connection sends a request the account may not run, reads the refusal, again
  and again; prints how many refusals (rc 4) it got;
- ``upload``: each connection starts a 16 MiB upload, sends 4 MiB of it and then a trickle that
  keeps it from idling out, never finishing (the read buffer and the account's share fill up);
- ``unread``: each connection asks for a long listing (``log.show``) and never reads the reply.
"""

from __future__ import annotations

CLIENT = r"""
import json, socket, struct, sys, threading, time
path, seconds, conns, mode = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
stop = time.monotonic() + seconds
REQUESTS = [{"v": 1, "action": "log.show", "args": {}}, {"v": 1, "action": "status", "args": {}},
            {"v": 1, "action": "calls.list", "args": {"from_iso": "2000-01-01", "to_iso": "2100-01-01"}}]
refused = [0] * conns

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    return s

def refuse(i):
    n = i
    while time.monotonic() < stop:
        try:
            with connect() as s:
                s.sendall(json.dumps(REQUESTS[n % len(REQUESTS)]).encode() + b"\n")
                reply = json.loads(s.makefile("rb").readline() or b"{}")
                refused[i] += reply.get("rc") == 4
        except (OSError, ValueError):
            time.sleep(0.01)
        n += 1

def upload(i):
    while time.monotonic() < stop:
        try:
            s = connect()
            s.sendall(b'{"v": 1, "action": "cdr.import", "args": {"name": "x.csv"}}\n' + struct.pack("!Q", 16 << 20))
            s.sendall(b"1" * (4 << 20))
            while time.monotonic() < stop:
                s.sendall(b"1" * 1024)
                time.sleep(1.0)
        except OSError:
            time.sleep(0.2)

def unread(i):
    held = []
    while time.monotonic() < stop:
        try:
            s = connect()
            s.sendall(json.dumps({"v": 1, "action": "log.show", "args": {}}).encode() + b"\n")
            held.append(s)
        except OSError:
            pass
        time.sleep(max(0.0, min(20.0, stop - time.monotonic())))

threads = [threading.Thread(target={"refuse": refuse, "upload": upload, "unread": unread}[mode], args=(i,), daemon=True)
           for i in range(conns)]
for t in threads:
    t.start()
print("started", flush=True)
for t in threads:
    t.join(max(0.0, stop - time.monotonic()) + 20)
print(sum(refused), flush=True)
"""
