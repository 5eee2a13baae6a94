"""Closed periods: the sealed audio of each past day in a SQLCipher file of its own.

The hot file (``vault.db``) holds metadata, the access log, transcripts and the sealed audio of
days not yet closed. :func:`close_periods` moves each finished day's sealed audio into
``periods/<day>.db`` — written, fsynced and hashed before the hot file commits the switch — and
enters the file's SHA-256 into the access-log chain (``period.close``). From then on the file never
changes: backups copy it once, verification re-hashes it, retention deletes it whole.

Crash safety without cross-file transactions: a period file is first written as ``*.tmp``, then
renamed, then registered in the hot file in the transaction that drops the rows it replaces. A
crash before that commit leaves an unregistered file that nothing reads; :func:`remove_leftovers`
deletes such files once they are older than :data:`LEFTOVER_AGE_S` (so it never races a writer).
After a commit that replaces or drops a file, the old file is unlinked (again a leftover if the
process dies first).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from callrec.errors import NotFound, VaultCorrupt
from callrec.timefmt import day_bounds
from callrec.vault._db import classify, fsync_path
from callrec.vault._store import SERVICE_ACTOR, Vault

__all__ = ["HELD", "LEFTOVER_AGE_S", "Period", "close_periods", "copy_rows", "drop_file_later", "file_sha256", "fsync_path",
           "list_periods", "open_period", "read_flac", "remove_leftovers", "rewrite_without", "sealed_bytes_since",
           "sealed_flac"]

#: ``calls.period`` of a call whose audio a legal hold kept in the hot file after its period was dropped.
HELD = "held"
#: Unregistered files younger than this may still be being written; older ones are leftovers.
LEFTOVER_AGE_S = 600.0
_HASH_BLOCK = 1 << 20
#: Cipher settings of day files, newest first; a file is read with the first that opens it.
#: Files are written once with 16 KiB pages and HMAC-SHA256 (bench/bench_cipher.py, fastest of 9,
#: against a plain file of the same page size: writes 2.8× → 2.3× and reads 6.6× → 3.7× of
#: SQLCipher 4's defaults; 32/64 KiB pages and HMAC-SHA1 are no faster beyond the noise, 64 KiB
#: files are 4% larger; see "What the key costs" in docs/design/vault.md); files closed before
#: used those defaults.
_CIPHER_SETTINGS = (
    ("PRAGMA cipher_page_size = 16384", "PRAGMA cipher_hmac_algorithm = HMAC_SHA256"),
    (),
)
_PERIOD_SCHEMA = (
    "CREATE TABLE sealed_audio (call_id INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (call_id, seq))",
    "CREATE TABLE period (name TEXT NOT NULL, from_ts REAL NOT NULL, to_ts REAL NOT NULL)",
)


@dataclass(frozen=True)
class Period:
    name: str
    day: str
    from_ts: float
    to_ts: float
    file: str
    sha256: str
    bytes: int
    calls: int
    closed_ts: float
    verified_ts: float
    mtime_ns: int


_COLUMNS = "name, day, from_ts, to_ts, file, sha256, bytes, calls, closed_ts, verified_ts, mtime_ns"


def list_periods(vault: Vault, order: str = "name") -> list[Period]:
    return [Period(*r) for r in vault.query(f"SELECT {_COLUMNS} FROM periods ORDER BY {order}")]


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_HASH_BLOCK):
            sha.update(block)
    return sha.hexdigest()


def open_period(path: Path, key: bytes) -> sqlcipher3.Connection:
    """A read-only connection to a period file (never written after it was registered)."""
    if not path.is_file():
        raise NotFound(f"period file {path}")
    for settings in _CIPHER_SETTINGS:
        conn = _keyed(f"{path.resolve().as_uri()}?mode=ro", key, settings)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlcipher3.DatabaseError:
            conn.close()
    # Page 1 opens with none of them: damage, which the caller's first read reports as before.
    return _keyed(f"{path.resolve().as_uri()}?mode=ro", key, _CIPHER_SETTINGS[0])


def _keyed(uri: str, key: bytes, settings: tuple[str, ...]) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for statement in settings:
        conn.execute(statement)
    return conn


def _period_key(conn: sqlcipher3.Connection, name: str) -> tuple[str, bytes]:
    row = conn.execute("SELECT file, key FROM periods WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"period {name}")
    return row[0], bytes(row[1])


def read_flac(vault: Vault, conn: sqlcipher3.Connection, call_id: int) -> bytes:
    """A call's sealed FLAC, wherever it is; call inside a transaction so the location and the
    read belong to one snapshot (a content read logs in that same transaction)."""
    row = conn.execute("SELECT period FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise NotFound(f"call {call_id}")
    if row[0] in (None, HELD):
        return b"".join(r[0] for r in conn.execute(
            "SELECT data FROM main.sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))
    file, key = _period_key(conn, row[0])
    period = open_period(vault.periods_dir / file, key)
    try:
        return b"".join(r[0] for r in period.execute(
            "SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))
    except sqlcipher3.DatabaseError as exc:
        raise classify(vault.periods_dir / file, exc) from None
    finally:
        period.close()


def sealed_flac(vault: Vault, call_id: int) -> bytes:
    """A call's sealed FLAC for the service's own use (transcription); not a person's read."""
    with vault._lock:
        vault.conn.execute("BEGIN")
        try:
            return read_flac(vault, vault.conn, call_id)
        finally:
            vault.conn.execute("ROLLBACK")


def sealed_bytes_since(vault: Vault, since_ts: float) -> int:
    """Bytes of sealed audio of calls started since ``since_ts`` (hot file and period files)."""
    hot = vault.query("SELECT coalesce(sum(length(a.data)), 0) FROM main.sealed_audio a JOIN calls c ON c.id = a.call_id"
                      " WHERE c.started_ts >= ?", (since_ts,))[0][0]
    closed = vault.query("SELECT coalesce(sum(bytes), 0) FROM periods WHERE from_ts >= ?", (since_ts,))[0][0]
    return hot + closed


def copy_rows(dest: sqlcipher3.Connection, rows: Iterable[tuple[int, int, bytes]]) -> int:
    n = 0
    for n, row in enumerate(rows, 1):  # noqa: B007 - n counts the rows
        dest.execute("INSERT INTO sealed_audio (call_id, seq, data) VALUES (?,?,?)", row)
    return n


def _write_file(directory: Path, file: str, name: str, bounds: tuple[float, float],
                rows: Iterable[tuple[int, int, bytes]]) -> tuple[bytes, int]:
    """Write a new period file ``file`` (via ``file.tmp``) under a fresh random key; fsynced and
    renamed into place. Returns (key, rows written)."""
    directory.mkdir(mode=0o700, exist_ok=True)
    final, tmp = directory / file, directory / f"{file}.tmp"
    if final.exists():
        raise FileExistsError(final)
    tmp.unlink(missing_ok=True)
    key = os.urandom(32)
    conn = _keyed(tmp.resolve().as_uri(), key, _CIPHER_SETTINGS[0])
    try:
        os.chmod(tmp, 0o600)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN")
        for statement in _PERIOD_SCHEMA:
            conn.execute(statement)
        conn.execute("INSERT INTO period (name, from_ts, to_ts) VALUES (?,?,?)", (name, *bounds))
        written = copy_rows(conn, rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
    fsync_path(tmp)
    os.rename(tmp, final)
    fsync_path(directory)
    return key, written


def _unlink_later(vault: Vault, path: Path) -> None:
    def unlink() -> None:
        path.unlink(missing_ok=True)
        fsync_path(path.parent)
    vault.after_commit(unlink)


def _register(vault: Vault, conn: sqlcipher3.Connection, *, name: str, day: str, bounds: tuple[float, float],
              file: str, key: bytes, calls: int, action: str, detail: dict) -> None:
    """Enter a period file written by :func:`_write_file` into ``periods`` and the chain."""
    path = vault.periods_dir / file
    digest, st, now = file_sha256(path), path.stat(), time.time()
    conn.execute("INSERT OR REPLACE INTO periods (name, day, from_ts, to_ts, file, key, sha256, bytes, calls, closed_ts,"
                 " verified_ts, mtime_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 (name, day, *bounds, file, key, digest, st.st_size, calls, now, now, st.st_mtime_ns))
    vault.log(SERVICE_ACTOR, action, detail={"period": name, "file": file, "sha256": digest, "bytes": st.st_size,
                                             **detail})


def _free_name(vault: Vault, day: str) -> str:
    """``day``, or ``day.2``, ``day.3``… when calls of an already closed day arrive later (a replay)."""
    taken = {r[0] for r in vault.query("SELECT name FROM periods WHERE day = ?", (day,))}
    n = 1
    while (name := day if n == 1 else f"{day}.{n}") in taken or (vault.periods_dir / f"{name}.db").exists():
        n += 1
    return name


def _hot_rows(vault: Vault, call_ids: list[int]) -> Iterable[tuple[int, int, bytes]]:
    for call_id in call_ids:
        for seq, data in vault.query("SELECT seq, data FROM main.sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)):
            yield call_id, seq, data


def _close_day(vault: Vault, day: dt.date, bounds: tuple[float, float], call_ids: list[int]) -> str:
    name = _free_name(vault, day.isoformat())
    file = f"{name}.db"
    key, rows = _write_file(vault.periods_dir, file, name, bounds, _hot_rows(vault, call_ids))
    marks = ",".join("?" * len(call_ids))
    with vault.transaction() as conn:
        still = conn.execute(f"SELECT count(*) FROM main.sealed_audio a JOIN calls c ON c.id = a.call_id"
                             f" WHERE c.id IN ({marks}) AND c.period IS NULL", call_ids).fetchone()[0]
        if still != rows:  # a call was purged while its file was written: try again next run
            raise VaultCorrupt(vault.periods_dir / file, "the day changed while it was being closed")
        _register(vault, conn, name=name, day=day.isoformat(), bounds=bounds, file=file, key=key, calls=len(call_ids),
                  action="period.close", detail={"calls": call_ids})
        conn.execute(f"UPDATE calls SET period = ? WHERE id IN ({marks})", (name, *call_ids))
        conn.execute(f"DELETE FROM main.sealed_audio WHERE call_id IN ({marks})", call_ids)
    return name


def close_periods(vault: Vault, now: float | None = None) -> list[str]:
    """Close every past local day whose calls are all sealed; returns the new period names."""
    now = time.time() if now is None else now
    zone = vault.config.zone
    today = dt.datetime.fromtimestamp(now, zone).date()
    remove_leftovers(vault)
    rows = vault.query("SELECT DISTINCT c.id, c.started_ts FROM calls c JOIN main.sealed_audio a ON a.call_id = c.id"
                       " WHERE c.period IS NULL AND c.status IN ('sealed', 'interrupted') AND c.started_ts < ?"
                       " ORDER BY c.started_ts, c.id", (day_bounds(today, zone)[0],))
    days: dict[dt.date, list[int]] = {}
    for call_id, started in rows:
        days.setdefault(dt.datetime.fromtimestamp(started, zone).date(), []).append(call_id)
    closed = []
    for day, call_ids in sorted(days.items()):
        bounds = day_bounds(day, zone)
        if vault.query("SELECT 1 FROM calls WHERE status = 'recording' AND started_ts >= ? AND started_ts < ? LIMIT 1",
                       bounds):
            continue  # closed once its last call is sealed
        closed.append(_close_day(vault, day, bounds, call_ids))
    if closed:
        vault.checkpoint()
    return closed


def rewrite_without(vault: Vault, conn: sqlcipher3.Connection, name: str, call_ids: list[int], reason: str) -> None:
    """Inside a transaction: replace period ``name``'s file by one without ``call_ids`` (an approved
    deletion of a call in a closed period), entering the new file's hash (``period.amend``)."""
    row = conn.execute("SELECT day, from_ts, to_ts, file, key, calls FROM periods WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"period {name}")
    day, from_ts, to_ts, old_file, key, calls = row
    old = open_period(vault.periods_dir / old_file, bytes(key))
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    file = f"{name}.r{stamp}.db"
    marks = ",".join("?" * len(call_ids))
    try:
        rows = old.execute(f"SELECT call_id, seq, data FROM sealed_audio WHERE call_id NOT IN ({marks})"
                           " ORDER BY call_id, seq", call_ids)
        new_key, _ = _write_file(vault.periods_dir, file, name, (from_ts, to_ts), rows)
    finally:
        old.close()
    _register(vault, conn, name=name, day=day, bounds=(from_ts, to_ts), file=file, key=new_key,
              calls=calls - len(call_ids), action="period.amend", detail={"removed": call_ids, "why": reason})
    _unlink_later(vault, vault.periods_dir / old_file)


def drop_file_later(vault: Vault, file: str) -> None:
    _unlink_later(vault, vault.periods_dir / file)


def remove_leftovers(vault: Vault) -> list[str]:
    """Delete files in the periods directory that no period names and that are older than
    :data:`LEFTOVER_AGE_S`: what a crash left between writing a file and committing (or after
    committing its replacement). They hold content that retention or deletion already let go."""
    directory = vault.periods_dir
    if not directory.is_dir():
        return []
    now = time.time()
    known = {r[0] for r in vault.query("SELECT file FROM periods")}
    removed = []
    for path in directory.iterdir():
        if path.name in known or not path.is_file() or now - path.stat().st_mtime < LEFTOVER_AGE_S:
            continue
        path.unlink()
        removed.append(path.name)
    if removed:
        fsync_path(directory)
    return removed
