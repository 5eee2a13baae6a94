"""Daily-report generation over a year of synthetic history (200 calls a day) against just reading
those rows.

Builds a real SQLCipher vault with 365 days of call metadata, one capture session, a gap or two
a week, and one access-log entry per call (the seal), then times:

- baseline: reading every call, gap and access-log row of the year (one SELECT each);
- one daily report on that vault (the nightly job's cost: it also verifies the whole chain);
- the same report in a new process, as the first after a daemon's restart: it starts from the
  verified point the first one signed (issue 22 item 4: ≤ 0.5 s at five years), and again with
  that point's signature dropped (every entry re-checked, and a finding);
- the 365 daily reports of the year, without the full-chain check (the same work 365 times).

Prints the times and their ratios to the baseline. Run: ``python bench/bench_report.py [--days 365]
[--per-day 200] [--no-year]`` (``--days 1825 --per-day 200 --no-year``: five years at production
density, the restart figures only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from callrec.config import load_config
from callrec.health import _checks, build_report, write_report
from callrec.vault import SERVICE_ACTOR, Vault


def populate(vault: Vault, first: dt.date, days: int, per_day: int, zone) -> int:
    rng = random.Random(5)
    start = dt.datetime.combine(first, dt.time(0), zone).timestamp()
    end = start + days * 86400
    with vault.transaction() as conn:
        conn.execute("INSERT INTO capture_sessions (source, started_ts, heartbeat_ts, ended_ts, end_cause)"
                     " VALUES ('bench', ?, ?, ?, 'stopped')", (start - 60, end + 60, end + 60))
        rows = 0
        for d in range(days):
            day0 = start + d * 86400
            for i in range(per_day):
                s = day0 + 8.5 * 3600 + rng.random() * 9 * 3600
                kind = "test" if i == 0 else "call"
                cur = conn.execute(
                    "INSERT INTO calls (started_ts, ended_ts, sample_rate, channels, kind, status, flags, frames,"
                    " levels, pcm_sha256, sealed_ts, transcript_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (s, s + 30 + rng.random() * 300, 8000, 1, kind, "sealed", json.dumps(["short"] if i % 17 == 0 else []),
                     0, "{}", "0" * 64, s + 400, "done" if i % 50 else "failed"))
                vault.log(SERVICE_ACTOR, "seal", call_id=cur.lastrowid, detail={"pcm_sha256": "0" * 64}, ts=s + 400)
                rows += 2
            if d % 3 == 0:
                g = day0 + rng.random() * 86000
                conn.execute("INSERT INTO gaps (start_ts, end_ts, cause) VALUES (?,?,?)",
                             (g, g + rng.random() * 120, rng.choice(["overflow", "flatline"])))
                rows += 1
    return rows


def read_rows(vault: Vault) -> int:
    n = 0
    for table in ("calls", "gaps", "access_log", "capture_sessions"):
        n += len(vault.query(f"SELECT * FROM {table}"))
    return n


#: A new process builds one report and prints its time and its access-log findings.
_FRESH = """
import datetime as dt, sys, time
from callrec.config import load_config
from callrec.health import build_report
from callrec.vault import Vault
config = load_config(sys.argv[1])
with Vault.open(config) as vault:
    t = time.perf_counter()
    report = build_report(vault, config, dt.date.fromisoformat(sys.argv[2]))
    print(time.perf_counter() - t, sum(f["check"] == "access_log" for f in report["findings"]))
"""


def fresh_report(config_file: Path, day: dt.date) -> tuple[float, int]:
    """The report's time in a new process (the first after a restart) and its access-log findings."""
    out = subprocess.run([sys.executable, "-c", _FRESH, str(config_file), day.isoformat()], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


def timed(func) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--no-year", action="store_true", help="leave out the year of reports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "callrec.toml"
        config_file.write_text(f'state_dir = "{tmp}/state"\n[asr]\nenabled = false\n')
        config = load_config(config_file)
        vault, _ = Vault.initialise(config)
        first = dt.date.today() - dt.timedelta(days=args.days + 1)  # every day over, the last yesterday
        t_fill, rows = timed(lambda: populate(vault, first, args.days, args.per_day, config.zone))
        print(f"history: {args.days} days x {args.per_day} calls, {rows} rows written in {t_fill:.1f} s")

        t_read, n = timed(lambda: read_rows(vault))
        print(f"baseline: read all {n} rows of the year            {t_read:8.3f} s")
        mid = first + dt.timedelta(days=args.days // 2)
        t_one, report = timed(lambda: write_report(build_report(vault, config, mid), config))
        print(f"one daily report (incl. whole-chain verification) {t_one:8.3f} s  = {t_one / t_read:6.2f} x baseline")
        entries = vault.query("SELECT count(*) FROM access_log")[0][0]
        t_restart, found = fresh_report(config_file, mid)
        print(f"the same in a new process (first after a restart, {entries} entries, from the signed point)"
              f" {t_restart:8.3f} s  ({found} access-log finding(s); goal ≤ 0.5 s at five years)")
        with vault.transaction() as conn:
            conn.execute("UPDATE chain_verified SET sig = NULL")
        t_unsigned, found = fresh_report(config_file, mid)
        print(f"  with the point's signature dropped (whole chain re-checked) {t_unsigned:8.3f} s"
              f"  ({found} access-log finding(s): the unsigned point)")
        if args.no_year:
            vault.close()
            return

        days = [first + dt.timedelta(days=d) for d in range(args.days)]
        # Regenerating the year: the whole-chain check is left out (it is the same work each time and
        # dominates above); what remains is the cost of the report's own queries and rendering.
        access_log = next(c for c in _checks.CHECKS if c.name == "access_log")
        _checks.CHECKS.remove(access_log)
        try:
            t_plain, _ = timed(lambda: [write_report(build_report(vault, config, d), config) for d in days])
        finally:
            _checks.CHECKS.append(access_log)
        print(f"{args.days} daily reports, without the chain check {t_plain:8.3f} s  = {t_plain / t_read:6.2f} x baseline"
              f"  ({t_plain / args.days * 1000:.0f} ms a report)")
        vault.close()


if __name__ == "__main__":
    main()
