"""``calls list`` for a month on a five-year archive at production density (issue 11: ≤ 20 ms).

Builds once (kept in ``--cache``) a vault of call rows only — 200 calls a day for ``--years``,
with flags and levels shaped like the segmenter's — then times, in one run (median of 7):
``list_calls`` for 30 days in the middle of the archive, against the bare window query on the
same vault, so the ratio shows what building the output objects costs on top of the rows. The
CPU time is given too: on a shared machine the wall time also counts time spent waiting for a core.

Run: ``python bench/bench_calls_list.py [--years 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault._calls import _WINDOW, list_calls

CALLS_A_DAY, MEAN_S = 200, 180
FLAGS = ["[]", "[]", "[]", '["short"]', '["one_sided"]', '["clipped", "short"]']
ENDS = ["silence", "tone", "hangup", "max_length"]


def _levels(rng: np.random.Generator) -> str:
    return json.dumps({
        "speech_s": round(float(rng.gamma(2.0, 60.0)), 2),
        "active_s": [round(float(a), 2) for a in rng.gamma(2.0, 40.0, 2)],
        "peak_dbfs": [round(float(p), 1) for p in -rng.gamma(2.0, 3.0, 2)],
        "noise_floor_dbfs": round(float(-50 - rng.gamma(2.0, 4.0)), 1),
        "end": ENDS[int(rng.integers(len(ENDS)))],
    })


def build(directory: Path, years: int) -> Path:
    """The vault's config file; the vault is built on the first run and reused after."""
    config_file = directory / "callrec.toml"
    if (directory / "built").exists():
        return config_file
    directory.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'state_dir = "{directory / "state"}"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    n = years * 365 * CALLS_A_DAY
    rng = np.random.default_rng(7)
    start = time.time() - years * 365 * 86400
    starts = start + np.sort(rng.random(n)) * years * 365 * 86400
    durations = rng.gamma(2.0, MEAN_S / 2.0, n)
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, status, frames, pcm_sha256, flags, levels,"
            " transcript_status) VALUES (?, ?, 8000, 2, 'sealed', ?, '', ?, ?, ?)",
            ((float(t), float(t + d), int(d * 8000), FLAGS[i % len(FLAGS)], _levels(rng),
              ("done", "pending", "running", "failed")[i % 4])
             for i, (t, d) in enumerate(zip(starts, durations, strict=True))))
        conn.execute("UPDATE archive_state SET value = (SELECT max(ended_ts - started_ts) FROM calls)"
                     " WHERE key = 'max_call_s'")
    vault.close()
    (directory / "built").write_text(str(n))
    return config_file


def _timed(fn, *args, clock=time.perf_counter) -> float:
    t = clock()
    fn(*args)
    return clock() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "callrec-bench-calls-list")
    args = ap.parse_args()
    config = load_config(build(args.cache / f"{args.years}y", args.years))
    with Vault.open(config) as vault:
        (first, last, total) = vault.query("SELECT min(started_ts), max(started_ts), count(*) FROM calls")[0]
        middle = (first + last) / 2
        window = (middle, middle + 30 * 86400)
        (max_call_s,) = vault.query("SELECT value FROM archive_state WHERE key = 'max_call_s'")[0]
        bounds = {"from": window[0], "to": window[1], "earliest": window[0] - float(max_call_s) - 1.0}
        listed = statistics.median(_timed(list_calls, vault, *window, config.zone) for _ in range(7))
        cpu = statistics.median(_timed(list_calls, vault, *window, config.zone, clock=time.process_time)
                                for _ in range(15))
        rows = statistics.median(_timed(vault.query, _WINDOW, bounds) for _ in range(7))
        n = len(list_calls(vault, *window, config.zone))
    print(f"calls list, 30 days in the middle of {total} calls ({n} listed): {listed * 1000:.1f} ms"
          f" ({cpu * 1000:.1f} ms of CPU; goal ≤ 20 ms); the window query alone {rows * 1000:.1f} ms; output objects cost"
          f" {(listed - rows) * 1000:.1f} ms ({listed / rows:.1f}× the query)")


if __name__ == "__main__":
    main()
