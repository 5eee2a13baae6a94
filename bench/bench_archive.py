"""The nightly and admin work on a multi-year archive against the day's own work (issue 11).

Builds, once, a real archive through the real recorder: ``--years`` of days with ``--calls``
calls a day of ``--seconds`` of noise-like audio (FLAC barely compresses it, like line hiss),
each with a transcript, every past day closed into its own file. It is kept in ``--cache`` and
reused; each run adds one more day (yesterday's calls), then times, in that one run:

- incremental backup (``callrec backup DIR``, after the previous night's) against copying that
  day's new data (its day file) with ``shutil.copyfile`` + fsync — the goal is ≤ 2×. The day
  backed up is recorded at production size (``--day-calls 200 --day-seconds 180``, ≈ 360 MB of
  FLAC), so the ratio is measured, not extrapolated; beside it, in the same run, what the backup
  did before schema 6 (export and check the whole hot file, copy and re-hash the day file);
- the nightly verify (default mode: structure, chain, rows, what changed) and one scrub slice
  (1/30 of the day files' bytes re-hashed);
- the daily report for yesterday;
- ``calls list`` for a 30-day window in the middle of the archive (median of 7) against the
  pre-schema-5 query (no lower bound: reads every earlier call) on the same vault — goal ≤ 20 ms;
- retention of the oldest 30 days: time and the disk space returned (statvfs before/after).

The synthetic archive is scaled down so the bench runs in minutes on a small machine: production
is about 200 calls a day of 3 minutes (≈ 358 MB of FLAC a day). The figures marked "≈ at full
scale" are extrapolated linearly — byte-bound work (copying, hashing) by the audio bytes per day,
row-bound work (chain, rows, reports, exports of the hot file) by the calls per day — and are
estimates, not measurements. Each run drops the oldest month (retention), so the archive slowly
shrinks; delete ``--cache`` to rebuild.

Run: ``python bench/bench_archive.py [--years 5] [--calls 10] [--seconds 2] [--day-calls 200 --day-seconds 180]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from callrec.config import load_config
from callrec.health import build_report
from callrec.timefmt import day_bounds
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault._keyfile import read_key_file
from callrec.vault.archive import close_periods
from callrec.vault.archive._backup import _export, backup, inspect_copy
from callrec.vault.archive._periods import file_sha256, list_periods
from callrec.vault.archive._retention import run_retention
from callrec.vault.calls import CallRecorder
from callrec.vault.calls._calls import _WINDOW, _bounds, list_calls
from callrec.vault.calls._transcripts import insert_transcript
from callrec.vault.log import scrub
from callrec.vault.log._verify import verify
from callrec.vault.people._users import add_user

RATE = 8000
FULL_CALLS, FULL_SECONDS, FULL_FLAC_PER_DAY = 200, 180, 358e6
WORDS = [{"word": "w", "start": i * 0.5, "end": i * 0.5 + 0.4, "conf": 0.9} for i in range(60)]


def _record_day(vault: Vault, day: dt.date, calls: int, seconds: float, rng: np.random.Generator) -> None:
    rec = CallRecorder(vault)
    start = day_bounds(day, vault.config.zone)[0] + 8.5 * 3600
    for i in range(calls):
        call = rec.start_call(start + i * (9 * 3600 / calls), RATE, 1)
        rec.append(call, (rng.standard_normal((int(seconds * RATE), 1)) * 800).astype(np.int16))
        rec.seal(call)
        with vault.transaction():
            insert_transcript(vault, call, 0, "vosk", "bench", "0" * 64, WORDS, "x" * 120)


def build(cache: Path, years: int, calls: int, seconds: float) -> Path:
    config_file = cache / "callrec.toml"
    if (cache / "built.json").exists():
        return config_file
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    config_file.write_text(f'state_dir = "{cache / "state"}"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    add_user(vault, SERVICE_ACTOR, "root", ["admin"])
    today = dt.datetime.now(config.zone).date()
    first = today - dt.timedelta(days=years * 365 + 1)
    first_ts = day_bounds(first, config.zone)[0]
    with vault.transaction() as conn:
        conn.execute("UPDATE service_info SET value = ? WHERE key = 'in_service_since'", (str(first_ts),))
        conn.execute("INSERT INTO capture_sessions (source, started_ts, heartbeat_ts) VALUES ('bench', ?, ?)",
                     (first_ts, time.time()))
    rng = np.random.default_rng(3)
    t0 = time.perf_counter()
    for d in range(years * 365):
        _record_day(vault, first + dt.timedelta(days=d), calls, seconds, rng)
        if d % 30 == 29:
            close_periods(vault)
            print(f"  built {d + 1} days ({time.perf_counter() - t0:.0f} s)", flush=True)
    close_periods(vault)
    vault.close()
    (cache / "built.json").write_text(json.dumps({"years": years, "calls": calls, "seconds": seconds}))
    return config_file


def _timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def _old_backup(vault: Vault, day_file: Path, scratch: Path) -> tuple[float, float, int]:
    """What 'callrec backup' did before schema 6: export the whole hot file and check it whole,
    then copy the new day file and re-hash the copy. The time of each part and the hot copy's size."""
    hot = scratch / "vault.db"
    t0 = time.perf_counter()
    with vault._lock:
        _export(vault.conn, hot, read_key_file(vault.config.key_path), "bench")
    inspect_copy(hot, read_key_file(vault.config.key_path), vault.config.key_path)
    t1 = time.perf_counter()
    _copy_fsync(day_file, scratch / day_file.name)
    file_sha256(scratch / day_file.name)
    return t1 - t0, time.perf_counter() - t1, hot.stat().st_size


def _copy_fsync(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)
    fd = os.open(dest, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


_OLD_LIST = ("SELECT id, started_ts, ended_ts, frames, sample_rate, kind, status, channels, transcript_status, flags,"
             " levels FROM calls WHERE started_ts < ? AND coalesce(ended_ts, started_ts + frames * 1.0 / sample_rate) >= ?"
             " ORDER BY started_ts, id")


def full_density_list(directory: Path, years: int) -> None:
    """``calls list`` for a month at production density (200 calls a day for ``years``): call rows
    only, inserted directly (no audio, no log), in a vault of their own."""
    config_file = directory / "callrec.toml"
    config_file.write_text(f'state_dir = "{directory / "state"}"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    start = time.time() - years * 365 * 86400
    rng = np.random.default_rng(7)
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, status, frames, pcm_sha256)"
            " VALUES (?, ?, 8000, 1, 'sealed', ?, '')",
            ((t, t + d, int(d * 8000)) for t, d in zip(
                start + np.sort(rng.random(years * 365 * FULL_CALLS)) * years * 365 * 86400,
                rng.gamma(2.0, FULL_SECONDS / 2.0, years * 365 * FULL_CALLS), strict=True)))
        conn.execute("UPDATE archive_state SET value = (SELECT max(ended_ts - started_ts) FROM calls)"
                     " WHERE key = 'max_call_s'")
    window = (start + years * 365 * 86400 / 2, start + years * 365 * 86400 / 2 + 30 * 86400)
    new = statistics.median(_timed(list_calls, vault, *window, config.zone)[0] for _ in range(5))
    rows = statistics.median(_timed(vault.query, _WINDOW, _bounds(*window, window[0] - 3600, 10**9))[0]
                             for _ in range(5))
    old = statistics.median(_timed(vault.query, _OLD_LIST, (window[1], window[0]))[0] for _ in range(5))
    n = len(list_calls(vault, *window, config.zone))
    vault.close()
    print(f"calls list at full density ({years * 365 * FULL_CALLS} calls; a month in the middle, {n} calls):"
          f" {new * 1000:.1f} ms with formatting; rows {rows * 1000:.1f} ms against {old * 1000:.1f} ms with the"
          f" old query (ratio {old / rows:.1f}×)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--calls", type=int, default=10, help="calls a day")
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds of audio per call")
    ap.add_argument("--day-calls", type=int, default=200, help="calls of the day recorded for the incremental backup")
    ap.add_argument("--day-seconds", type=float, default=180.0, help="seconds of audio per call of that day")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "callrec-bench-archive")
    args = ap.parse_args()
    cache = args.cache / f"{args.years}y-{args.calls}c-{args.seconds:g}s"
    t_build, config_file = _timed(build, cache, args.years, args.calls, args.seconds)
    config = load_config(config_file)
    bytes_factor = FULL_CALLS * FULL_SECONDS / (args.calls * args.seconds)
    rows_factor = FULL_CALLS / args.calls
    dest = cache / "backup"
    with Vault.open(config) as vault:
        periods = list_periods(vault)
        archive_bytes = sum(p.bytes for p in periods)
        print(f"archive: {len(periods)} closed days, {archive_bytes / 1e6:.0f} MB of day files,"
              f" {vault.query('SELECT count(*) FROM calls')[0][0]} calls,"
              f" {vault.query('SELECT count(*) FROM access_log')[0][0]} log entries"
              f" (built or reused in {t_build:.0f} s)")
        t_prev, prev = _timed(backup, vault, "root", dest)
        print(f"the previous night's backup: {t_prev:.1f} s"
              f" ({'copied whole: ' + prev.full_reason if prev.full_reason else f'{prev.rows} changed rows'})")

        yesterday = dt.datetime.now(config.zone).date() - dt.timedelta(days=1)
        t_day, _ = _timed(_record_day, vault, yesterday, args.day_calls, args.day_seconds,
                          np.random.default_rng(int(time.time())))
        (new,) = close_periods(vault)
        day_file = vault.periods_dir / next(p.file for p in list_periods(vault) if p.name == new)
        day_bytes = day_file.stat().st_size
        print(f"the day backed up: {args.day_calls} calls × {args.day_seconds:g} s, day file {day_bytes / 1e6:.0f} MB"
              f" (recorded and closed in {t_day:.1f} s)")
        scratch = cache / "copy-baseline"
        scratch.mkdir(exist_ok=True)
        # The baseline copy runs before and after the backup, and every timed step starts with no
        # dirty pages (os.sync), so none pays for the writeback of the one before.
        os.sync()
        t_copy1, _ = _timed(_copy_fsync, day_file, scratch / day_file.name)
        (scratch / day_file.name).unlink()
        os.sync()
        t_backup, result = _timed(backup, vault, "root", dest)
        assert result.full_reason == "", result.full_reason
        os.sync()
        t_copy2, _ = _timed(_copy_fsync, day_file, scratch / day_file.name)
        (scratch / day_file.name).unlink()
        os.sync()
        t_hot_old, t_day_old, hot_old = _old_backup(vault, day_file, scratch)
        shutil.rmtree(scratch)
        t_copy = (t_copy1 + t_copy2) / 2
        print(f"incremental backup: {t_backup:.3f} s ({result.rows} changed rows, wrote {result.written / 1e6:.1f} MB"
              f" of which the day file {day_bytes / 1e6:.1f} MB); copying the day's file alone: {t_copy1:.3f} s"
              f" before, {t_copy2:.3f} s after; ratio {t_backup / t_copy:.2f}× the mean,"
              f" {t_backup / min(t_copy1, t_copy2):.2f}× the faster copy (goal ≤ 2×)")
        t_old = t_hot_old + t_day_old
        print(f"  before (schema 5, same run): export + page check of the whole hot file ({hot_old / 1e6:.0f} MB)"
              f" {t_hot_old:.2f} s, copy and re-hash of the day file {t_day_old:.2f} s: {t_old:.2f} s,"
              f" ratio {t_old / t_copy:.1f}×; ≈ at full scale (hot file ≈ {hot_old * rows_factor / 1e9:.1f} GB, its"
              f" export row-bound) ≈ {(t_hot_old * rows_factor + t_day_old) / t_copy:.0f}×")
        probe = cache / "probe.bin"
        probe.write_bytes(os.urandom(64 << 20))
        t_hash, _ = _timed(file_sha256, probe)
        hash_bw = (64 << 20) / t_hash
        probe.unlink()

        t_verify, findings = _timed(verify, vault)
        assert findings == [], findings
        t_scrub, (files, problems) = _timed(scrub, vault, 30)
        assert problems == [], problems
        print(f"nightly verify (default): {t_verify:.2f} s; scrub slice (1/30): {files} files in {t_scrub:.2f} s;"
              f" total {t_verify + t_scrub:.2f} s")
        nightly = archive_bytes * bytes_factor / 30
        print(f"  ≈ at full scale: verify ≈ {t_verify * rows_factor:.0f} s (row-bound); scrub of"
              f" {nightly / 1e9:.0f} GB a night ≈ {nightly / hash_bw:.0f} s at the SHA-256 rate measured here"
              f" ({hash_bw / 1e6:.0f} MB/s, file in page cache; a disk reading slower than that bounds it instead),"
              f" ≈ {t_scrub * bytes_factor:.0f} s if this run's per-byte cost (small files) held")

        with vault.transaction() as conn:
            conn.execute("DELETE FROM chain_verified")  # no signed point: once, after the upgrade to schema 11
        t_first, _ = _timed(build_report, vault, config, yesterday)
        t_report, _ = _timed(build_report, vault, config, yesterday)
        print(f"daily report: {t_report:.3f} s once the health checks have verified the chain up to the day"
              f" (as the daemon's checks do every minute, and the point is kept signed in the vault across a restart;"
              f" {t_first:.3f} s when no signed point is there and the whole chain is verified);"
              f" ≈ {t_report * rows_factor:.1f} s at full scale if row-bound")

        mid = periods[len(periods) // 2]
        window = (mid.from_ts, mid.from_ts + 30 * 86400)
        new_times, rows_times, old_times = [], [], []
        for _ in range(7):
            new_times.append(_timed(list_calls, vault, *window, config.zone)[0])
            rows_times.append(_timed(vault.query, _WINDOW, _bounds(*window, window[0] - 3600, 10**9))[0])
            old_times.append(_timed(vault.query, _OLD_LIST, (window[1], window[0]))[0])
        n = len(list_calls(vault, *window, config.zone))
        t_new, t_rows, t_old = (statistics.median(t) for t in (new_times, rows_times, old_times))
        print(f"calls list, 30 days in the middle ({n} calls): {t_new * 1000:.1f} ms with formatting;"
              f" the rows alone {t_rows * 1000:.2f} ms against {t_old * 1000:.2f} ms with the old query"
              f" (ratio {t_old / t_rows:.1f}×)")

        with tempfile.TemporaryDirectory() as scratch_dir:
            full_density_list(Path(scratch_dir), args.years)

        oldest = list_periods(vault)[0]
        keep_days = int((time.time() - oldest.from_ts) / 86400) - 30
        month = [p for p in list_periods(vault) if p.to_ts <= time.time() - keep_days * 86400]
        month_bytes = sum(p.bytes for p in month)
        du_before = sum(p.stat().st_blocks * 512 for p in vault.periods_dir.iterdir())
        free_before = shutil.disk_usage(vault.periods_dir).free
        t_ret, (purged, held) = _timed(run_retention, vault, time.time(), keep_days)
        du_after = sum(p.stat().st_blocks * 512 for p in vault.periods_dir.iterdir())
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        freed = shutil.disk_usage(vault.periods_dir).free - free_before
        print(f"retention of the oldest {len(month)} days: {purged} calls purged in {t_ret:.2f} s;"
              f" {month_bytes / 1e6:.1f} MB of day files; the periods directory shrank by"
              f" {(du_before - du_after) / 1e6:.1f} MB; disk free grew by {freed / 1e6:.1f} MB after the WAL checkpoint")


if __name__ == "__main__":
    main()
