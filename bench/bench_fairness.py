"""Socket fairness (issue 18, item 5): ops' ``health.check`` latency while eight accounts flood
or stall the daemon's socket, against the same check on an idle socket in the same run.

A real daemon (``callrec serve``) on a temporary vault whose log holds 20,000 entries (so
``log.show`` replies are a few MB); real OS accounts made with useradd (removed at the end). Ops
sends ``health.check`` through the protocol from a process of its own (no start-up in the
figures), 0.2 s apart, in each phase:

- idle: nothing else;
- refuse: 8 accounts without a role, 8 connections each, sending refused requests non-stop;
- upload: 8 accounts without a role, 8 connections each, starting 16 MiB uploads that never end;
- unread: 8 approvers, 8 connections each, asking for the whole log and never reading the reply.

Prints p50/p99/max per phase, the ratio of p99 to idle, and how many checks did not get an
answer (the goal: none, and every answer within 2 s). Needs root. Run:
``python bench/bench_fairness.py [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from callrec.config import load_config  # noqa: E402
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.log import verify_chain_since_last
from callrec.vault.people import add_user
from tests.access.socket_clients import CLIENT  # noqa: E402

ACCOUNTS = 8
OPS_CLIENT = r"""
import json, sys, time
from pathlib import Path
from callrec.access import ACTIONS
from callrec.cli._remote import request
path, seconds = Path(sys.argv[1]), float(sys.argv[2])
out, stop = [], time.monotonic() + seconds
while time.monotonic() < stop:
    started = time.perf_counter()
    try:
        request(path, ACTIONS["health.check"], {})
        what = "ok"
    except Exception as exc:
        what = type(exc).__name__
    out.append([time.perf_counter() - started, what])
    time.sleep(0.2)
print(json.dumps(out))
"""


def _run(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd="/", start_new_session=True)


def _phase(base: Path, sock: Path, ops: str, accounts: list[str], mode: str | None, seconds: float) -> list:
    (base / "client.py").write_text(CLIENT)
    (base / "ops.py").write_text(OPS_CLIENT)
    others = [] if mode is None else [
        _run(["runuser", "-u", a, "--", sys.executable, str(base / "client.py"), str(sock), str(seconds + 4), "8", mode])
        for a in accounts]
    try:
        for p in others:
            p.stdout.readline()
        time.sleep(2 if others else 0)
        ops_proc = _run(["runuser", "-u", ops, "--", sys.executable, str(base / "ops.py"), str(sock), str(seconds)])
        return json.loads(ops_proc.communicate(timeout=seconds + 60)[0])
    finally:
        for p in others:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _print(name: str, results: list, idle_p99: float | None) -> float:
    lat = np.array([r[0] for r in results])
    failed = [r[1] for r in results if r[1] != "ok"]
    p99 = float(np.percentile(lat, 99))
    ratio = f"  p99 {p99 / idle_p99:5.1f}x idle" if idle_p99 else ""
    print(f"{name:<7} {len(lat):4d} checks  p50 {np.percentile(lat, 50) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms"
          f"  max {lat.max() * 1000:7.1f} ms{ratio}  over 2 s: {int((lat > 2).sum())}  no answer: {len(failed)}"
          + (f" ({', '.join(sorted(set(failed)))})" if failed else ""))
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="callrec-bench-fair-", dir="/tmp"))
    base.chmod(0o755)
    suffix = secrets.token_hex(3)
    ops, strangers, approvers = f"crbfo{suffix}", [f"crbs{i}{suffix}" for i in range(ACCOUNTS)], \
        [f"crba{i}{suffix}" for i in range(ACCOUNTS)]
    made, server = [], None
    try:
        for name in [ops, *strangers, *approvers]:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
            made.append(name)
        config_file = base / "callrec.toml"
        config_file.write_text(f'state_dir = "{base / "state"}"\n[asr]\nenabled = false\n')
        config_file.chmod(0o644)
        config = load_config(config_file)
        vault, _ = Vault.initialise(config)
        add_user(vault, "bench", ops, ["ops"])
        for name in approvers:
            add_user(vault, "bench", name, ["approver"])
        with vault.transaction():
            for i in range(20000):
                vault.log(SERVICE_ACTOR, "bench.filler", detail={"n": i, "pad": "x" * 64})
        vault.checkpoint()
        verify_chain_since_last(vault)  # as the daemon's checks job would have
        vault.close()
        server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "serve"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        while not config.socket_path.exists():
            time.sleep(0.1)
        idle = _print("idle", _phase(base, config.socket_path, ops, [], None, args.seconds), None)
        for mode, accounts in (("refuse", strangers), ("upload", strangers), ("unread", approvers)):
            _print(mode, _phase(base, config.socket_path, ops, accounts, mode, args.seconds), idle)
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
        for name in made:
            subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
