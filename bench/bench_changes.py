"""What change tracking (schema 6: a ``row_changes`` entry per written row, for incremental
backups) costs on the recording path, against the same vault with the tracking triggers dropped.

Both vaults record the same calls through the real recorder with a commit per second of audio
(the live capture's durability rule, fsync included); rounds alternate between them so a busy
shared machine slows both alike. Reported: the time per commit (median and p99) and per seal,
with/without ratios, and the change entries a production day (200 calls × 3 minutes) adds.

Run: ``python bench/bench_changes.py [--calls 6] [--seconds 60] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder

RATE = 8000
FULL_CALL_SECONDS = 200 * 180


def _vault(directory: Path, tracked: bool) -> Vault:
    directory.mkdir()
    cfg = directory / "callrec.toml"
    cfg.write_text(f'state_dir = "{directory}"\n')
    vault, _ = Vault.initialise(load_config(cfg))
    if not tracked:
        with vault.transaction() as conn:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_track\\_%'"
                                        " ESCAPE '\\'").fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
    return vault


def _record(vault: Vault, calls: int, seconds: int, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    rec = CallRecorder(vault)
    commits, seals = [], []
    for _ in range(calls):
        call = rec.start_call(time.time(), RATE, 1)
        for _ in range(seconds):
            block = (rng.standard_normal((RATE, 1)) * 300).astype(np.int16)
            t0 = time.perf_counter()
            rec.append(call, block)
            rec.flush()
            commits.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rec.seal(call)
        seals.append(time.perf_counter() - t0)
    return commits, seals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=6, help="calls per round")
    ap.add_argument("--seconds", type=int, default=60, help="seconds of audio per call")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vaults = {True: _vault(Path(tmp) / "tracked", True), False: _vault(Path(tmp) / "untracked", False)}
        commits: dict[bool, list[float]] = {True: [], False: []}
        seals: dict[bool, list[float]] = {True: [], False: []}
        for r in range(args.rounds):
            for tracked in ((True, False) if r % 2 == 0 else (False, True)):
                c, s = _record(vaults[tracked], args.calls, args.seconds, np.random.default_rng(r))
                commits[tracked] += c
                seals[tracked] += s
        entries = vaults[True].query("SELECT count(*) FROM row_changes")[0][0]
        call_seconds = args.rounds * args.calls * args.seconds
        for vault in vaults.values():
            vault.close()

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if q < 100 else max(values)

    for name, data in (("commit (1 s of audio)", commits), ("seal", seals)):
        on, off = data[True], data[False]
        print(f"{name}: median {statistics.median(on) * 1000:.2f} ms with tracking, {statistics.median(off) * 1000:.2f} ms"
              f" without (ratio {statistics.median(on) / statistics.median(off):.2f});"
              f" p99 {p(on, 99) * 1000:.2f} ms vs {p(off, 99) * 1000:.2f} ms")
    per_s = entries / call_seconds
    print(f"change entries: {per_s:.2f} per second of call audio ≈ {per_s * FULL_CALL_SECONDS:,.0f} a production day"
          f" (200 calls × 3 min), ≈ {per_s * FULL_CALL_SECONDS * 40 / 1e6:.1f} MB at ~40 bytes each")


if __name__ == "__main__":
    main()
