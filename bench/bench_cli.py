"""Commands that answer in a blink and listings of any length (issue 22), on the bench vault of
bench_calls_list.py (200 calls a day for ``--years``; built once, kept in ``--cache``).

Every figure is a real ``callrec`` process (the venv's python, as a user runs it), timed wall
clock, median of ``--runs`` interleaved rounds, against a bare ``python -c pass`` measured in the
same rounds (through ``runuser`` for the socket's commands, which run as another account):

- ``callrec --version`` (goal ≤ 4× the bare start);
- through the daemon's socket, as an ops account: ``status`` and a one-day ``calls list`` (≤ 8×);
- ``health check`` run here: the whole command, and the checks' own time (the ``health.check``
  use case in this process, warm): what the command adds around its checks should be about what
  ``--version`` costs;
- a month's ``calls list --json``: run here (≤ 0.15 s) and through the socket (≤ 0.2 s);
- a listing of ten years (every call of the vault) through the socket: the first line's time, the
  whole, and peak memory above idle of the client (its own VmHWM, reported by the process itself)
  and of the daemon (VmHWM of its process before and after); the goal is ≤ 50 MB each;
- the daily report in a fresh process (the first after a restart) and again.

Needs root (the socket's client runs as ``--account``, default ``nobody``, given ops and maintainer
in the bench vault). Run: ``python bench/bench_cli.py [--years 5] [--runs 7]``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_calls_list import _month, build

from callrec.access import Actor, perform
from callrec.config import load_config
from callrec.timefmt import format_ts
from callrec.vault import Vault
from callrec.vault.people import add_user, roles_of

PY = sys.executable
#: ``python -c pass`` on the machine where issue 22 set the listing's goals in seconds (9 ms): on a
#: loaded machine the goals are compared as the same multiple of the bare start.
ISSUE_BARE = 0.009
#: Runs ``callrec`` as ``python -m callrec`` would, then writes the process's own peak RSS (VmHWM).
PEAK = ("import sys, runpy\nsys.argv = ['callrec', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('callrec', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "sys.stderr.write(f'VmHWM {peak}\\n')\n")


def _kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise KeyError(field)


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd="/")
    return time.perf_counter() - t


def _serve(config_file: Path, socket_path: Path) -> subprocess.Popen:
    server = subprocess.Popen([PY, "-m", "callrec", "--config", str(config_file), "serve"], cwd="/",
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        if socket_path.exists():
            return server
        time.sleep(0.05)
    raise SystemExit("the daemon's socket did not appear")


def _streamed(cmd: list[str]) -> tuple[float, float, int, int]:
    """First line's time, the whole time, bytes written, and the client's peak RSS (KiB)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
    first = proc.stdout.readline()
    t_first = time.perf_counter() - t
    size = len(first) + sum(len(chunk) for chunk in iter(lambda: proc.stdout.read(1 << 20), b""))
    err = proc.stderr.read().decode()
    proc.wait()
    total = time.perf_counter() - t
    peak = next((int(line.split()[1]) for line in err.splitlines() if line.startswith("VmHWM")), -1)
    return t_first, total, size, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--account", default="nobody")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "callrec-bench-calls-list")
    args = ap.parse_args()
    config_file = build(args.cache / f"{args.years}y", args.years)
    for d in (args.cache, args.cache / f"{args.years}y"):
        d.chmod(0o755)
    config_file.chmod(0o644)
    config = load_config(config_file)
    with Vault.open(config) as vault:
        for account in (args.account, getpass.getuser()):  # the socket's client, and this account here
            if not {"ops", "maintainer"} <= roles_of(vault, account):
                add_user(vault, "admin", account, ["ops", "maintainer"])
        month = _month(vault)
        _timed(vault, args.account, "health.check")  # warm: imports, pages
        checks = statistics.median(_timed(vault, args.account, "health.check") for _ in range(args.runs))
        status = statistics.median(_timed(vault, args.account, "status") for _ in range(args.runs))
    zone = config.zone
    day = (format_ts(month[0], zone), format_ts(month[0] + 86400, zone))
    span = (format_ts(month[0], zone), format_ts(month[1], zone))
    me = [PY, "-m", "callrec", "--config", str(config_file)]
    them = ["runuser", "-u", args.account, "--", *me]
    commands = {
        "python -c pass": [PY, "-c", "pass"],
        "runuser python -c pass": ["runuser", "-u", args.account, "--", PY, "-c", "pass"],
        "callrec --version": [PY, "-m", "callrec", "--version"],
        "status (socket)": [*them, "status"],
        "calls list, one day (socket)": [*them, "calls", "list", "--from", day[0], "--to", day[1]],
        "health check (here)": [*me, "health", "check"],
        "calls list --json, a month (here)": [*me, "calls", "list", "--json", "--from", span[0], "--to", span[1]],
        "calls list --json, a month (socket)": [*them, "calls", "list", "--json", "--from", span[0], "--to", span[1]],
    }
    server = _serve(config_file, config.socket_path)
    try:
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(_wall(cmd))
        med = {name: statistics.median(ts) for name, ts in times.items()}
        idle_daemon = _kib(server.pid, "VmHWM")
        peak_cmd = ["runuser", "-u", args.account, "--", PY, "-c", PEAK, "--config", str(config_file)]
        _, _, _, idle_client = _streamed([*peak_cmd, "calls", "list", "--from", day[0], "--to", day[1]])
        ten_years = ("-3650d", "now")
        first, whole, size, client = _streamed([*peak_cmd, "calls", "list", "--json", "--from", ten_years[0],
                                                "--to", ten_years[1]])
        daemon = _kib(server.pid, "VmHWM")
        _, whole_here, _, client_here = _streamed([PY, "-c", PEAK, "--config", str(config_file), "calls", "list",
                                                   "--json", "--from", ten_years[0], "--to", ten_years[1]])
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = [_wall([*me, "health", "report", "--json"]) for _ in range(2)]
    base, base_ru = med["python -c pass"], med["runuser python -c pass"]
    print(f"start-up and listings, median of {args.runs} interleaved rounds (wall); bare python {base * 1000:.0f} ms,"
          f" through runuser {base_ru * 1000:.0f} ms")
    for name, goal, against in (("callrec --version", 4, base), ("status (socket)", 8, base_ru),
                                ("calls list, one day (socket)", 8, base_ru)):
        print(f"  {name:<38} {med[name] * 1000:7.0f} ms  {med[name] / against:5.1f}× bare (goal ≤ {goal}×)")
    print(f"  (status's use case alone, in the daemon's place: {status * 1000:.0f} ms of the above)")
    hc = med["health check (here)"]
    print(f"  {'health check (here)':<38} {hc * 1000:7.0f} ms  {hc / base:5.1f}× bare; its checks alone"
          f" {checks * 1000:.0f} ms, the rest {(hc - checks) * 1000:.0f} ms (--version {med['callrec --version'] * 1000:.0f} ms)")
    for name, goal in (("calls list --json, a month (here)", 0.15), ("calls list --json, a month (socket)", 0.2)):
        print(f"  {name:<38} {med[name] * 1000:7.0f} ms  {med[name] / base:5.1f}× bare (goal ≤ {goal * 1000:.0f} ms,"
              f" {goal / ISSUE_BARE:.0f}× the bare start it was set against)")
    print(f"ten years' window through the socket ({size / 1e6:.0f} MB of JSON): first line {first * 1000:.0f} ms,"
          f" all {whole:.1f} s; run here: all {whole_here:.1f} s")
    print(f"  client peak {client / 1024:.0f} MiB, {(client - idle_client) / 1024:.0f} MiB above a one-day listing's"
          f" {idle_client / 1024:.0f} MiB (goal ≤ 50 MB); run here: peak {client_here / 1024:.0f} MiB")
    print(f"  daemon peak {daemon / 1024:.0f} MiB, {(daemon - idle_daemon) / 1024:.0f} MiB above its peak before"
          f" the listing ({idle_daemon / 1024:.0f} MiB; goal ≤ 50 MB)")
    print(f"health report --json in a fresh process: first {report[0]:.2f} s, again {report[1]:.2f} s")


def _timed(vault: Vault, account: str, action: str) -> float:
    """The use case alone, in this process (warm): what a command spends beyond starting."""
    t = time.perf_counter()
    perform(vault, Actor.person(account), action, {})
    return time.perf_counter() - t


if __name__ == "__main__":
    os.umask(0o022)
    main()
