"""What ``callrec rekey --periods`` costs: every closed day file rewritten under a fresh key,
against copying the same files (``shutil.copyfile`` + fsync), in one run.

Builds a small real archive through the real recorder (``--days`` closed days of ``--calls``
calls of ``--seconds`` of noise-like audio, which FLAC barely compresses, like line hiss), rotates
the data key, then times ``rekey_periods`` (read each file, write it under a new key through
``*.tmp`` + fsync + rename, hash it, one signed ``period.rekey`` entry each). The full-scale figure
(≈ 358 MB of FLAC a day, 200 calls of 3 minutes; five years = 1,825 days) is extrapolated by
bytes and is an estimate. The next ``callrec backup`` also copies every rewritten file again.

Run: ``python bench/bench_rekey_periods.py [--days 5] [--calls 4] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from callrec.config import load_config
from callrec.timefmt import day_bounds
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.archive import close_periods, rekey
from callrec.vault.archive._periods import fsync_path, list_periods
from callrec.vault.archive._periods_rekey import rekey_periods
from callrec.vault.calls import CallRecorder
from callrec.vault.people._users import add_user

RATE = 8000
FULL_FLAC_PER_DAY, FIVE_YEARS_DAYS = 358e6, 1825


def _build(directory: Path, days: int, calls: int, seconds: float) -> Vault:
    config_file = directory / "callrec.toml"
    config_file.write_text(f'state_dir = "{directory / "state"}"\n')
    vault, _ = Vault.initialise(load_config(config_file))
    add_user(vault, SERVICE_ACTOR, "root", ["admin"])
    rng = np.random.default_rng(3)
    today = dt.datetime.now(vault.config.zone).date()
    rec = CallRecorder(vault)
    for d in range(days, 0, -1):
        start = day_bounds(today - dt.timedelta(days=d), vault.config.zone)[0] + 8.5 * 3600
        for i in range(calls):
            call = rec.start_call(start + i * 600, RATE, 1)
            rec.append(call, (rng.standard_normal((int(seconds * RATE), 1)) * 800).astype(np.int16))
            rec.seal(call)
    close_periods(vault)
    return vault


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp:
        vault = _build(Path(tmp), args.days, args.calls, args.seconds)
        files = [vault.periods_dir / p.file for p in list_periods(vault)]
        size = sum(f.stat().st_size for f in files)
        copies = Path(tmp) / "copies"
        copies.mkdir()
        t0 = time.perf_counter()
        for f in files:
            shutil.copyfile(f, copies / f.name)
            fsync_path(copies / f.name)
        copy_s = time.perf_counter() - t0
        rekey(vault, "root")
        t0 = time.perf_counter()
        done = rekey_periods(vault, "root")
        rekey_s = time.perf_counter() - t0
        vault.close()
    assert done.files == len(files)
    per_byte = rekey_s / size
    print(f"{len(files)} day files, {size / 1e6:.1f} MB: rekey --periods {rekey_s:.2f} s ({size / 1e6 / rekey_s:.0f} MB/s),"
          f" copy + fsync {copy_s:.2f} s ({size / 1e6 / copy_s:.0f} MB/s) → {rekey_s / copy_s:.1f}× the copy")
    print(f"≈ at full scale (est.): {per_byte * FULL_FLAC_PER_DAY:.1f} s per day of archive,"
          f" {per_byte * FULL_FLAC_PER_DAY * FIVE_YEARS_DAYS / 3600:.1f} h for five years"
          f" ({FULL_FLAC_PER_DAY * FIVE_YEARS_DAYS / 1e9:.0f} GB rewritten, and copied again by the next backup)")


if __name__ == "__main__":
    main()
