"""What the key costs: SQLCipher writes and reads against the same ``sqlcipher3`` build without a
key (issue 11: ≤ 1.3× each), in one run.

- **Recording writes** (the hot file): one-second chunk rows of 8 kHz mono PCM as the recorder
  writes them, one commit per second (insert + frames update), WAL, ``synchronous = FULL``.
- **Day file writes**: a closed day's sealed audio written once (FLAC-sized rows ≤ 256 KiB in one
  transaction, rollback journal, ``synchronous = FULL``, then fsync), as ``close_periods`` does.
- **Day file reads**: every call's sealed FLAC read back, each through a new connection as
  ``read_flac`` does (a content read opens the day file, keys it and reads the call's rows).

Each encrypted variant (page size and cipher settings for the write-once day files) is timed
against the plain file with SQLite's defaults; the variants run interleaved, ``--rounds`` times,
and the median is reported. The blobs are random bytes (FLAC of line hiss barely compresses).

Run: ``python bench/bench_cipher.py [--seconds 120] [--calls 12] [--call-mb 1.8] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import sqlcipher3

from callrec.vault._audio import MAX_ROW_BYTES, split_rows
from callrec.vault._periods import _CIPHER_SETTINGS, fsync_path

RATE = 8000
KEY = os.urandom(32)
#: name → (keyed, statements run right after the key, before the first page is touched)
VARIANTS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "plain": (False, ()),
    "sqlcipher default": (True, ()),
    "HMAC-SHA256": (True, ("PRAGMA cipher_hmac_algorithm = HMAC_SHA256",)),
    "16 KiB pages": (True, ("PRAGMA cipher_page_size = 16384",)),
    "64 KiB pages": (True, ("PRAGMA cipher_page_size = 65536",)),
    "16 KiB, HMAC-SHA256 (day files)": (True, _CIPHER_SETTINGS[0]),
    "64 KiB, HMAC-SHA256": (True, ("PRAGMA cipher_page_size = 65536", "PRAGMA cipher_hmac_algorithm = HMAC_SHA256")),
    "no HMAC (floor, not a choice)": (True, ("PRAGMA cipher_use_hmac = OFF",)),
}


def _connect(path: Path, variant: str) -> sqlcipher3.Connection:
    keyed, settings = VARIANTS[variant]
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    if keyed:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    for statement in settings:
        conn.execute(statement)
    return conn


def recording_writes(path: Path, variant: str, seconds: int) -> float:
    conn = _connect(path, variant)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, frames INTEGER NOT NULL DEFAULT 0)")
    conn.execute("CREATE TABLE chunks (call_id INTEGER NOT NULL, seq INTEGER NOT NULL, frames INTEGER NOT NULL,"
                 " pcm BLOB NOT NULL, PRIMARY KEY (call_id, seq))")
    conn.execute("INSERT INTO calls (id) VALUES (1)")
    pcm = os.urandom(RATE * 2)
    t0 = time.perf_counter()
    for seq in range(seconds):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO chunks VALUES (1, ?, ?, ?)", (seq, RATE, pcm))
        conn.execute("UPDATE calls SET frames = frames + ? WHERE id = 1", (RATE,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def day_file_write(path: Path, variant: str, flacs: list[bytes]) -> float:
    t0 = time.perf_counter()
    conn = _connect(path, variant)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE sealed_audio (call_id INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,"
                 " PRIMARY KEY (call_id, seq))")
    for call_id, flac in enumerate(flacs, 1):
        for seq, row in enumerate(split_rows(flac, MAX_ROW_BYTES)):
            conn.execute("INSERT INTO sealed_audio VALUES (?, ?, ?)", (call_id, seq, row))
    conn.execute("COMMIT")
    conn.close()
    fsync_path(path)
    return time.perf_counter() - t0


def day_file_reads(path: Path, variant: str, calls: int) -> float:
    t0 = time.perf_counter()
    total = 0
    for call_id in range(1, calls + 1):
        conn = _connect(path, variant)
        total += len(b"".join(r[0] for r in conn.execute(
            "SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,))))
        conn.close()
    elapsed = time.perf_counter() - t0
    assert total > 0
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=120, help="seconds of recording (one commit each)")
    ap.add_argument("--calls", type=int, default=12, help="calls in the day file")
    ap.add_argument("--call-mb", type=float, default=1.8, help="FLAC bytes per call (3 min of line audio ≈ 1.8 MB)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    flacs = [os.urandom(int(args.call_mb * 1e6)) for _ in range(args.calls)]
    times: dict[str, dict[str, list[float]]] = {v: {"rec": [], "write": [], "read": []} for v in VARIANTS}
    sizes: dict[str, int] = {}
    version = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0]
    with tempfile.TemporaryDirectory(dir=Path.home() if os.access(Path.home(), os.W_OK) else None) as tmp:
        for r in range(args.rounds):
            for i, variant in enumerate(VARIANTS):
                base = Path(tmp) / f"{r}-{i}"
                times[variant]["rec"].append(recording_writes(base.with_suffix(".hot"), variant, args.seconds))
                times[variant]["write"].append(day_file_write(base.with_suffix(".day"), variant, flacs))
                times[variant]["read"].append(day_file_reads(base.with_suffix(".day"), variant, args.calls))
                sizes[variant] = base.with_suffix(".day").stat().st_size
    median = {v: {k: statistics.median(t) for k, t in kinds.items()} for v, kinds in times.items()}
    plain = median["plain"]
    mb = args.calls * args.call_mb
    print(f"SQLCipher {version}; recording (hot file, per commit): {args.seconds} one-second commits; day file: {args.calls} calls,"
          f" {mb:.0f} MB; median of {args.rounds}; ratios are time against the plain file (goal ≤ 1.3×)")
    print(f"{'':32} {'recording':>18} {'day file write':>20} {'day file read':>20} {'day file size':>14}")
    for variant, m in median.items():
        print(f"{variant:32} {m['rec'] * 1000 / args.seconds:8.2f} ms {m['rec'] / plain['rec']:5.2f}×"
              f" {mb / m['write']:9.0f} MB/s {m['write'] / plain['write']:5.2f}×"
              f" {mb / m['read']:9.0f} MB/s {m['read'] / plain['read']:5.2f}×"
              f" {sizes[variant] / sizes['plain']:13.3f}×")


if __name__ == "__main__":
    main()
