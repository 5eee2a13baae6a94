"""What the key costs: SQLCipher writes and reads against the same ``sqlcipher3`` build without a
key (issue 11: ≤ 1.3× each), in one run.

- **Recording writes** (the hot file): one-second chunk rows of 8 kHz mono PCM as the recorder
  writes them, one commit per second (insert + frames update), WAL, ``synchronous = FULL`` (an
  fsync of the WAL per commit); long enough (``--seconds``) that WAL auto-checkpoints, with their
  fsyncs of the database file, are part of the time.
- **Hot reads**: the recorded chunks read back by a new connection (a content read of a call not
  yet in a day file).
- **Day file writes**: a closed day's sealed audio written once (FLAC-sized rows ≤ 256 KiB in one
  transaction, rollback journal, ``synchronous = FULL``, then fsync), as ``close_periods`` does.
- **Day file reads**: every call's sealed FLAC read back, each through a new connection as
  ``read_flac`` does (open, key, first look at the schema, read the call's rows).

Apples to apples: each encrypted variant is timed against a plain file **with the same page size**
(the key's own cost) and, separately, against the plain file with SQLite's default 4 KiB pages
(what choosing the layout and the key together cost). Both sides have the same journal mode,
``synchronous``, cache size (the build's default, 8 MB) and ``mmap_size`` (0 in this build: the
plain file is not read through mmap). One difference cannot be removed: this build has
``SQLITE_DIRECT_OVERFLOW_READ``, so a plain file's blob overflow pages are read straight from the
file into the result, while SQLCipher must read every page into its cache, verify and decrypt it.
The physical floor, measured in the same run: the bytes each encrypted run moved through the
cipher (what it wrote and read, from ``/proc/self/io``) encrypted with AES-256-CBC and
authenticated with the variant's HMAC by OpenSSL in bulk (``cryptography``), added to the plain
file's time with the same page size. No page format can cost less than the plain file plus its
crypto on the same bytes; issue 22's goal is ≤ 1.3× that floor for recording writes, day writes
and reads. The variants run interleaved, ``--rounds`` times, and the fastest round of each is reported, both
wall-clock and CPU time (user + system of this process: the crypto is CPU work, while fsync waits
show only in wall-clock time). The machine is shared: other work only ever adds time, and medians
of 5 moved by 2× between runs. The blobs are random
bytes (FLAC of line hiss barely compresses).

``cipher_memory_security`` (wipe and lock every allocation) is off by default in this build and
callrec never turns it on; ``--memory-security`` runs the whole bench with it on, in a process of
its own, because once on it cannot be turned off again (``PRAGMA cipher_memory_security = OFF``
still reads 1 afterwards; an earlier version of this bench that tried it as one variant slowed
every later variant 2×).

Run: ``python bench/bench_cipher.py [--seconds 600] [--calls 12] [--call-mb 1.8] [--rounds 9]
[--memory-security]``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import tempfile
import time
from pathlib import Path

import sqlcipher3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from callrec.vault.archive._periods import _CIPHER_SETTINGS, fsync_path
from callrec.vault.calls._audio import MAX_ROW_BYTES, split_rows

RATE = 8000
KEY = os.urandom(32)
_SHA256 = "PRAGMA cipher_hmac_algorithm = HMAC_SHA256"
_NO_HMAC = "PRAGMA cipher_use_hmac = OFF"


def _pages(size: int) -> str:
    return f"PRAGMA cipher_page_size = {size}"


#: name → (page size, keyed, statements run right after the key, before the first page is touched)
VARIANTS: dict[str, tuple[int, bool, tuple[str, ...]]] = {
    "plain 4 KiB": (4096, False, ()),
    "plain 16 KiB": (16384, False, ()),
    "plain 32 KiB": (32768, False, ()),
    "plain 64 KiB": (65536, False, ()),
    "default (4 KiB, SHA512)": (4096, True, ()),
    "4 KiB, HMAC-SHA256": (4096, True, (_SHA256,)),
    "16 KiB, SHA256 (day files)": (16384, True, _CIPHER_SETTINGS[0]),
    "32 KiB, HMAC-SHA256": (32768, True, (_pages(32768), _SHA256)),
    "64 KiB, HMAC-SHA256": (65536, True, (_pages(65536), _SHA256)),
    "16 KiB, HMAC-SHA1": (16384, True, (_pages(16384), "PRAGMA cipher_hmac_algorithm = HMAC_SHA1")),
    "64 KiB, HMAC-SHA1": (65536, True, (_pages(65536), "PRAGMA cipher_hmac_algorithm = HMAC_SHA1")),
    "4 KiB, no HMAC (floor)": (4096, True, (_NO_HMAC,)),
    "16 KiB, no HMAC (floor)": (16384, True, (_pages(16384), _NO_HMAC)),
    "64 KiB, no HMAC (floor)": (65536, True, (_pages(65536), _NO_HMAC)),
}


def _connect(path: Path, variant: str) -> sqlcipher3.Connection:
    page_size, keyed, settings = VARIANTS[variant]
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    if keyed:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    else:
        conn.execute(f"PRAGMA page_size = {page_size}")  # a no-op once the file exists
    for statement in settings:
        conn.execute(statement)
    return conn


def _io() -> int:
    """Bytes this process has read and written through system calls so far (rchar + wchar)."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["rchar"]) + int(fields["wchar"])


#: Bytes moved through the file by the last run of each kind (the cipher's share of the floor).
MOVED: dict[str, int] = {}


class Clock:
    """Wall-clock and CPU time (user + system of this process) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.io = time.perf_counter(), time.process_time(), _io()

    def read(self, kind: str | None = None) -> tuple[float, float]:
        elapsed = time.perf_counter() - self.wall, time.process_time() - self.cpu
        if kind is not None:
            MOVED[kind] = _io() - self.io
        return elapsed


def _hmac_of(settings: tuple[str, ...], keyed: bool) -> str | None:
    """The HMAC a variant uses (SQLCipher 4's default is SHA512)."""
    if not keyed or _NO_HMAC in settings:
        return None
    named = [s.rsplit("HMAC_", 1)[1].lower() for s in settings if "cipher_hmac_algorithm" in s]
    return named[0] if named else "sha512"


def crypto_seconds(size: int, digest: str | None, decrypt: bool) -> tuple[float, float]:
    """AES-256-CBC over ``size`` bytes (decrypting for reads: CBC decryption runs blocks in
    parallel, encryption cannot) and ``digest``'s HMAC over the ciphertext, in bulk (OpenSSL)."""
    data = memoryview(os.urandom(min(size, 1 << 24) // 16 * 16 or 16))
    clock = Clock()
    done = 0
    while done < size:
        chunk = data[: max(16, min(len(data), (size - done) // 16 * 16))]
        aes = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16]))
        worker = aes.decryptor() if decrypt else aes.encryptor()
        worker.update(chunk)
        worker.finalize()
        if digest:
            hmac.new(KEY, chunk, getattr(hashlib, digest)).digest()
        done += len(chunk)
    return clock.read()


def recording_writes(path: Path, variant: str, seconds: int) -> tuple[float, float]:
    conn = _connect(path, variant)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, frames INTEGER NOT NULL DEFAULT 0)")
    conn.execute("CREATE TABLE chunks (call_id INTEGER NOT NULL, seq INTEGER NOT NULL, frames INTEGER NOT NULL,"
                 " pcm BLOB NOT NULL, PRIMARY KEY (call_id, seq))")
    conn.execute("INSERT INTO calls (id) VALUES (1)")
    pcm = os.urandom(RATE * 2)
    clock = Clock()
    for seq in range(seconds):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO chunks VALUES (1, ?, ?, ?)", (seq, RATE, pcm))
        conn.execute("UPDATE calls SET frames = frames + ? WHERE id = 1", (RATE,))
        conn.execute("COMMIT")
    elapsed = clock.read("rec")
    conn.close()
    return elapsed


def hot_reads(path: Path, variant: str) -> tuple[float, float]:
    clock = Clock()
    conn = _connect(path, variant)
    total = len(b"".join(r[0] for r in conn.execute("SELECT pcm FROM chunks WHERE call_id = 1 ORDER BY seq")))
    conn.close()
    assert total > 0
    return clock.read("hot read")


def day_file_write(path: Path, variant: str, flacs: list[bytes]) -> tuple[float, float]:
    clock = Clock()
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
    return clock.read("write")


def day_file_reads(path: Path, variant: str, calls: int) -> tuple[float, float]:
    clock = Clock()
    total = 0
    for call_id in range(1, calls + 1):
        conn = _connect(path, variant)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        total += len(b"".join(r[0] for r in conn.execute(
            "SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,))))
        conn.close()
    elapsed = clock.read("read")
    assert total > 0
    return elapsed


KINDS = ("rec", "hot read", "write", "read")


def _row(name: str, m: dict[str, tuple[float, float]], base: dict[str, tuple[float, float]], size: float) -> str:
    cells = " ".join(f"{m[k][0] / base[k][0]:5.2f}× {m[k][1] / base[k][1]:5.2f}×" for k in KINDS)
    return f"{name:28} {cells} {size:6.3f}×"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=600, help="seconds of recording (one commit each)")
    ap.add_argument("--calls", type=int, default=12, help="calls in the day file")
    ap.add_argument("--call-mb", type=float, default=1.8, help="FLAC bytes per call (3 min of line audio ≈ 1.8 MB)")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--memory-security", action="store_true",
                    help="run everything with PRAGMA cipher_memory_security = ON (off in this build and in callrec)")
    args = ap.parse_args()
    if args.memory_security:  # one switch for the whole process, plain connections included
        sqlcipher3.connect(":memory:").execute("PRAGMA cipher_memory_security = ON")
    flacs = [os.urandom(int(args.call_mb * 1e6)) for _ in range(args.calls)]
    times: dict[str, dict[str, list[tuple[float, float]]]] = {v: {k: [] for k in KINDS} for v in VARIANTS}
    crypto: dict[str, dict[str, list[tuple[float, float]]]] = {v: {k: [] for k in KINDS} for v in VARIANTS}
    sizes: dict[str, int] = {}
    version = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0]
    with tempfile.TemporaryDirectory(dir=Path.home() if os.access(Path.home(), os.W_OK) else None) as tmp:
        for r in range(args.rounds):
            for i, variant in enumerate(VARIANTS):
                base = Path(tmp) / f"{r}-{i}"
                times[variant]["rec"].append(recording_writes(base.with_suffix(".hot"), variant, args.seconds))
                times[variant]["hot read"].append(hot_reads(base.with_suffix(".hot"), variant))
                times[variant]["write"].append(day_file_write(base.with_suffix(".day"), variant, flacs))
                times[variant]["read"].append(day_file_reads(base.with_suffix(".day"), variant, args.calls))
                digest = _hmac_of(VARIANTS[variant][2], VARIANTS[variant][1])
                for kind in KINDS:  # the floor: the same bytes through AES and the HMAC, then the plain file
                    crypto[variant][kind].append(crypto_seconds(MOVED[kind], digest, "read" in kind)
                                                 if VARIANTS[variant][1]
                                                 else (0.0, 0.0))
                sizes[variant] = base.with_suffix(".day").stat().st_size
                for leftover in Path(tmp).glob(f"{r}-{i}.*"):
                    leftover.unlink()
    # The fastest round, separately for wall-clock and CPU time.
    best = {v: {k: (min(w for w, _ in t), min(c for _, c in t)) for k, t in kinds.items()} for v, kinds in times.items()}
    plain = {VARIANTS[v][0]: v for v in VARIANTS if not VARIANTS[v][1]}
    mb = args.calls * args.call_mb
    security = "on" if args.memory_security else "off"
    print(f"SQLCipher {version}, cipher_memory_security {security}; recording: {args.seconds} one-second commits (WAL, synchronous = FULL); day file:"
          f" {args.calls} calls, {mb:.0f} MB; fastest of {args.rounds} rounds; goal ≤ 1.3×")
    print("plain file, absolute (wall): " + "; ".join(
        f"{v}: recording {best[v]['rec'][0] * 1000 / args.seconds:.2f} ms/commit,"
        f" hot read {args.seconds * RATE * 2e-6 / best[v]['hot read'][0]:.0f} MB/s,"
        f" day write {mb / best[v]['write'][0]:.0f} MB/s, day read {mb / best[v]['read'][0]:.0f} MB/s"
        for v in plain.values()))
    header = f"{'':28} " + " ".join(f"{k:>14}" for k in ("recording", "hot file read", "day write", "day read"))
    for title, against in (("against the plain file with the same page size (the key's own cost)", None),
                           ("against the plain file with 4 KiB pages (layout and key together)", 4096)):
        print(f"\n{title}; each cell: wall-clock×, CPU×; size of the day file\n{header}")
        for variant, m in best.items():
            reference = plain[against or VARIANTS[variant][0]]
            print(_row(variant, m, best[reference], sizes[variant] / sizes[reference]))
    fastest = {v: {k: (min(w for w, _ in t), min(c for _, c in t)) for k, t in kinds.items()} for v, kinds in crypto.items()}
    print(f"\nagainst the floor: the plain file with the same page size plus AES-256-CBC and the variant's HMAC on"
          f" the bytes it moved (goal ≤ 1.3× for recording, day write, day read)\n{header}")
    for variant, m in best.items():
        if VARIANTS[variant][1]:
            reference = best[plain[VARIANTS[variant][0]]]
            floor = {k: (reference[k][0] + fastest[variant][k][0], reference[k][1] + fastest[variant][k][1])
                     for k in KINDS}
            print(_row(variant, m, floor, sizes[variant] / sizes[plain[VARIANTS[variant][0]]]))


if __name__ == "__main__":
    main()
