"""The daemon's socket under a flood: request latency and memory against calling the access layer
directly.

Runs a real :class:`callrec.server.AccessServer` in this process on a temporary vault with 200
calls, then times ``calls.list`` for an ops account:

- baseline: the access function called directly (what a local CLI does, without process start-up);
- through the socket, idle;
- through the socket while another account (``nobody``, via runuser; needs root) holds 2,000
  connections and sends an oversized and an unterminated request.

Prints the median and worst times, their ratios to the baseline, and the process's RSS growth.
Run: ``/opt/callrec-venv/bin/python bench/bench_socket.py``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from callrec.access import ACTIONS, Actor, calls_list
from callrec.cli._remote import request
from callrec.config import load_config
from callrec.daemon import AccessServer
from callrec.vault import Vault
from callrec.vault.people._users import add_user

ROOT = Path(__file__).resolve().parent.parent
WINDOW = {"from_iso": "2000-01-01", "to_iso": "2100-01-01"}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _times(fn, n: int = 50) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def _line(name: str, times: list[float], base: float) -> str:
    med = statistics.median(times)
    return f"{name:<32} median {med * 1000:7.2f} ms  worst {max(times) * 1000:7.2f} ms  ratio {med / base:6.1f}x"


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="callrec-bench-socket-", dir="/tmp"))
    base.chmod(0o755)
    try:
        (base / "callrec.toml").write_text(f'state_dir = "{base / "state"}"\n[asr]\nenabled = false\n')
        config = load_config(base / "callrec.toml")
        vault, _ = Vault.initialise(config)
        me = getpass.getuser()
        add_user(vault, "bench", me, ["ops"])
        with vault.transaction() as conn:
            for i in range(200):
                conn.execute("INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, kind, status, flags, frames,"
                             " levels, transcript_status) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (1.7e9 + i * 600, 1.7e9 + i * 600 + 60, 8000, 1, "call", "sealed", "[]", 480000, "{}", "done"))
        server = AccessServer(config)
        server.start()
        direct = _times(lambda: calls_list(vault, Actor.person(me), **WINDOW))
        base_med = statistics.median(direct)
        print(_line("direct (baseline)", direct, base_med))
        idle = _times(lambda: request(config.socket_path, ACTIONS["calls.list"], WINDOW))
        print(_line("socket, idle", idle, base_med))
        rss = _rss_mib()
        if os.geteuid() == 0 and shutil.which("runuser"):
            sys.path.insert(0, str(ROOT))  # the flood client is the regression test's own
            from tests.cli.test_access_accounts import _FLOOD

            script = base / "flood.py"
            script.write_text(_FLOOD)
            flood = subprocess.Popen(["runuser", "-u", "nobody", "--", sys.executable, str(script),
                                      str(config.socket_path), "2000", "60"], stdout=subprocess.PIPE, text=True,
                                     cwd=str(ROOT), start_new_session=True)
            try:
                flood.stdout.readline()
                flooded = _times(lambda: request(config.socket_path, ACTIONS["calls.list"], WINDOW))
            finally:
                os.killpg(flood.pid, 9)
                flood.wait()
            print(_line("socket, 2,000-connection flood", flooded, base_med))
            print(f"RSS growth during the flood: {_rss_mib() - rss:.1f} MiB")
        else:
            print("flood skipped: needs root and runuser")
        server.stop()
        vault.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
