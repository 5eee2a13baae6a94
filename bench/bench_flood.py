"""Refusal flood beside a recording daemon (issue 18, item 4): does the capture path still commit
within a second, and how much do the log and the witness grow?

The daemon's parts are assembled in this process as ``callrec run`` assembles them (the access
socket server and the capture pipeline sharing the vault file and the process), with the replay
source at real-time pace in place of the sound card. Eight real OS accounts without a role (made
with useradd, removed at the end) each send refused requests over 8 connections as fast as the
daemon answers, for ``--seconds`` (the issue asks for 600; the default is 60).

Printed, for a baseline phase without the flood and for the flood phase, measured in the same run:
frame-to-commit p50/p99/max (limit 1 s), gaps recorded, access-log entries and bytes added,
witness lines added, refusals answered. Needs root (useradd, runuser).
Run: ``python bench/bench_flood.py [--seconds 600] [--baseline-s 20]``.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_capture import WARM_UP_S, new_config, pattern, write_feed  # noqa: E402

from callrec.capture import FileSource, Pipeline  # noqa: E402
from callrec.daemon import AccessServer  # noqa: E402
from callrec.vault import Vault
from tests.access.socket_clients import CLIENT  # noqa: E402

ACCOUNTS = 8
CONNECTIONS = 8


def _log_size(vault: Vault, after: int) -> tuple[int, int]:
    """(entries, bytes of their columns) after seq ``after``."""
    (n, size), = vault.query(
        "SELECT count(*), coalesce(sum(length(actor) + length(action) + length(outcome) + length(reason)"
        " + length(detail) + length(prev_hash) + length(hash) + coalesce(length(nonce), 0)"
        " + coalesce(length(sig), 0) + 40), 0) FROM access_log WHERE seq > ?", (after,))
    return n, size


def _snapshot(vault: Vault, witness: Path, pipeline: Pipeline) -> dict:
    return {"seq": vault.query("SELECT coalesce(max(seq), 0) FROM access_log")[0][0],
            "witness": len(witness.read_text().splitlines()) if witness.exists() else 0,
            "commits": len(pipeline.commit_latencies), "gaps": vault.query("SELECT count(*) FROM gaps")[0][0],
            "t": time.monotonic()}


def _report(name: str, vault: Vault, witness: Path, pipeline: Pipeline, before: dict, refusals: int | None) -> None:
    after = _snapshot(vault, witness, pipeline)
    lat = np.array(list(pipeline.commit_latencies)[before["commits"]:after["commits"]])
    entries, size = _log_size(vault, before["seq"])
    wall = after["t"] - before["t"]
    print(f"{name:<9} {wall:5.0f} s  frame-to-commit p50 {np.percentile(lat, 50):.3f} s  p99 {np.percentile(lat, 99):.3f} s"
          f"  max {lat.max():.3f} s ({len(lat)} commits)  gaps +{after['gaps'] - before['gaps']}")
    print(f"{'':<9} log +{entries} entries, +{size / 1024:.1f} KiB  witness +{after['witness'] - before['witness']} lines"
          + (f"  refusals answered {refusals} ({refusals / wall:.0f}/s)" if refusals is not None else ""))


def _flood(base: Path, socket_path: Path, accounts: list[str], seconds: float) -> int:
    script = base / "client.py"
    script.write_text(CLIENT)
    procs = [subprocess.Popen(["runuser", "-u", name, "--", sys.executable, str(script), str(socket_path), str(seconds),
                               str(CONNECTIONS), "refuse"], stdout=subprocess.PIPE, text=True, cwd="/",
                              start_new_session=True) for name in accounts]
    return sum(int(p.communicate(timeout=seconds + 120)[0].split()[-1]) for p in procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the flood (the issue: 600)")
    parser.add_argument("--baseline-s", type=float, default=20.0, help="length of the phase without a flood")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="callrec-bench-flood-", dir="/tmp"))
    base.chmod(0o755)
    accounts = [f"crbf{i}{secrets.token_hex(3)}" for i in range(ACCOUNTS)]
    made = []
    try:
        for name in accounts:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
            made.append(name)
        feed = base / "feed.wav"
        write_feed(feed, (WARM_UP_S + args.baseline_s + args.seconds) / 60 + 2, pattern())
        config = new_config(base / "site")
        server = AccessServer(config)
        server.start()
        with Vault.open(config) as writer, Vault.open(config) as reader:
            pipeline = Pipeline(config, writer, FileSource(feed, time.time() - 3600, realtime=True))
            pipeline.start()
            pipeline.join(WARM_UP_S)
            witness = config.witness_path
            before = _snapshot(reader, witness, pipeline)
            pipeline.join(args.baseline_s)
            _report("baseline", reader, witness, pipeline, before, None)
            before = _snapshot(reader, witness, pipeline)
            refusals = _flood(base, config.socket_path, accounts, args.seconds)
            server.stop()  # writes the counts still in memory
            _report("flood", reader, witness, pipeline, before, refusals)
            pipeline.stop()
            pipeline.join()
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
