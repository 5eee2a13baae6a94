"""Writing the hot file's copy in a backup directory: whole, or only the rows changed since.

A full copy recreates the schema in a new file and copies every row *with its rowid* (``SELECT *``
in ``sqlcipher_export`` renumbers the rows of tables without an INTEGER PRIMARY KEY, and the
changes are named by rowid). An incremental copy ATTACHes the backup's ``vault.db`` and, in one
transaction that also holds the read snapshot of the vault, deletes the rows that are gone,
writes the changed rows again (``INSERT OR REPLACE`` by rowid) and advances the cursor kept in
``backup_state``. The attached file uses a rollback journal with ``synchronous = FULL``, so a run
cut short leaves the previous copy, whole, after the journal is rolled back.

Each copied row is digested from the vault inside the snapshot; the caller reads the same rows
back from the backup on a fresh connection and compares (:func:`digest_rows`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlcipher3

from callrec.vault._schema import TRACKED_TABLES, UNTRACKED_TABLES
from callrec.vault.archive._changes import KEEP_DAYS, ChangeState, change_state
from callrec.vault.archive._periods import file_sha256

__all__ = ["Applied", "NeedsFullCopy", "Snapshot", "apply_changes", "copy_hashed", "digest_rows", "export_full",
           "export_transaction", "take_snapshot"]

#: Tables whose rows a backup never takes from the vault (each file keeps its own).
_NOT_COPIED = ("row_changes", "backup_state")
_CREATE = re.compile(r"CREATE (?:TABLE|UNIQUE INDEX|INDEX|TRIGGER|VIEW) ")


@dataclass(frozen=True)
class Snapshot:
    """What a copy must match: the access-log head and the row count of every table."""

    head_seq: int
    head_hash: str
    counts: tuple[tuple[str, int], ...]
    #: The closed period files the copy names: (file, sha256, bytes).
    periods: tuple[tuple[str, str, int], ...] = ()


class NeedsFullCopy(Exception):
    """Why the backup's copy cannot be brought up to date by its changes (a short phrase)."""


@dataclass(frozen=True)
class Applied:
    """What an incremental run copied, as read from the vault in its snapshot."""

    snapshot: Snapshot
    #: Per changed table: the rowids named since the cursor, and the digest of those rows in the vault.
    keys: dict[str, list[int]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    #: Bytes of the backup file rewritten (journaled pages and growth).
    written: int = 0


def _tables(conn: sqlcipher3.Connection, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def take_snapshot(conn: sqlcipher3.Connection, schema: str = "main", tables: list[str] | None = None) -> Snapshot:
    """Head, periods and the row count of ``tables`` (default: every copied table)."""
    names = _tables(conn, schema)
    wanted = [t for t in names if t not in UNTRACKED_TABLES] if tables is None else tables
    counts = tuple((t, conn.execute(f'SELECT count(*) FROM {schema}."{t}"').fetchone()[0]) for t in sorted(wanted))
    row = conn.execute(f"SELECT seq, hash FROM {schema}.access_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, digest = row if row else (0, "")
    periods = tuple(conn.execute(f"SELECT file, sha256, bytes FROM {schema}.periods ORDER BY file")) \
        if "periods" in names else ()
    return Snapshot(seq, digest, counts, periods)


def _columns(conn: sqlcipher3.Connection, schema: str, table: str) -> str:
    """The select list that carries a row whole, its rowid included."""
    info = conn.execute(f'PRAGMA {schema}.table_info("{table}")').fetchall()
    names = ", ".join(f'"{r[1]}"' for r in info)
    keys = [r for r in info if r[5]]
    is_alias = len(keys) == 1 and keys[0][2].upper() == "INTEGER"
    return names if is_alias else f"_rowid_, {names}"


def _in_export(sql: str) -> str:
    match = _CREATE.match(sql)
    if match is None:
        raise NeedsFullCopy(f"unexpected schema statement {sql[:30]!r}")
    return f"{match.group(0)}export.{sql[match.end():]}"


def _configure_export(conn: sqlcipher3.Connection) -> None:
    conn.execute("PRAGMA export.journal_mode = DELETE")
    conn.execute("PRAGMA export.synchronous = FULL")


def _mark(conn: sqlcipher3.Connection, state: ChangeState) -> None:
    conn.execute("INSERT OR REPLACE INTO export.backup_state (id, generation, change_id, ts) VALUES (1, ?, ?, ?)",
                 (state.generation, state.newest, time.time()))


@contextlib.contextmanager
def export_transaction(conn: sqlcipher3.Connection) -> Iterator[None]:
    """One transaction over the vault (its read snapshot) and the attached ``export`` file
    (rollback journal, ``synchronous = FULL``): committed when the block ends, rolled back on any
    error; ``export`` is detached either way."""
    try:
        _configure_export(conn)
        conn.execute("BEGIN")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("DETACH DATABASE export")


def export_full(conn: sqlcipher3.Connection, dest: Path, key: bytes) -> Snapshot:
    """Copy the vault on ``conn`` into the new, empty file ``dest`` under ``key``, rowids kept,
    in one read snapshot; the copy holds that snapshot's change cursor. Returns the snapshot."""
    conn.execute("ATTACH DATABASE ? AS export KEY ?", (str(dest), f"x'{key.hex()}'"))
    with export_transaction(conn):
        conn.execute("PRAGMA defer_foreign_keys = ON")
        snapshot, state = take_snapshot(conn), change_state(conn)
        version = int(conn.execute("PRAGMA main.user_version").fetchone()[0])
        objects = conn.execute("SELECT type, name, sql FROM main.sqlite_master"
                               " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
        for kind, _, sql in objects:
            if kind == "table":
                conn.execute(_in_export(sql))
        for kind, name, _ in objects:
            if kind == "table" and name not in _NOT_COPIED:
                columns = _columns(conn, "main", name)
                conn.execute(f'INSERT INTO export."{name}" ({columns}) SELECT {columns} FROM main."{name}"')
        conn.execute("INSERT INTO export.sqlite_sequence SELECT * FROM main.sqlite_sequence")
        for kind, _, sql in objects:
            if kind != "table":
                conn.execute(_in_export(sql))
        _mark(conn, state)
        conn.execute(f"PRAGMA export.user_version = {version}")
    return snapshot


def _cursor(conn: sqlcipher3.Connection) -> tuple[ChangeState, int]:
    """The vault's change state and the backup's cursor; raises NeedsFullCopy when the copy
    cannot follow the changes from there."""
    if conn.execute("PRAGMA export.user_version").fetchone()[0] != conn.execute("PRAGMA main.user_version").fetchone()[0]:
        raise NeedsFullCopy("the schema changed since the last backup")
    if "backup_state" not in _tables(conn, "export"):
        raise NeedsFullCopy("the last backup was written before change tracking")
    row = conn.execute("SELECT generation, change_id FROM export.backup_state").fetchone()
    state = change_state(conn)
    if row is None or row[0] != state.generation:
        raise NeedsFullCopy("the vault was restored or the last backup was not verified")
    if row[1] < state.pruned_upto:
        raise NeedsFullCopy(f"the last backup is older than the {KEEP_DAYS} days of changes kept")
    if row[1] > state.newest:
        raise NeedsFullCopy("the backup is newer than the vault")
    triggers = {r[0] for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'trigger'")}
    for table in _tables(conn, "main"):
        if table not in UNTRACKED_TABLES and not {f"{table}_track_{e}" for e in ("insert", "update", "delete")} <= triggers:
            raise NeedsFullCopy(f"table {table} has no change tracking")
    return state, row[1]


def digest_rows(conn: sqlcipher3.Connection, schema: str, table: str, keys: list[int]) -> str:
    """SHA-256 over the rows with these rowids, in rowid order, every value typed and length-prefixed
    (a rowid absent on one side and present on the other changes it)."""
    digest = hashlib.sha256()
    columns = _columns(conn, schema, table)
    for row in conn.execute(f'SELECT _rowid_, {columns} FROM {schema}."{table}"'
                            " WHERE _rowid_ IN (SELECT value FROM json_each(?)) ORDER BY _rowid_", (json.dumps(keys),)):
        for value in row:
            data = value if isinstance(value, bytes) else repr(value).encode()
            digest.update(b"%s%d:" % (type(value).__name__.encode(), len(data)))
            digest.update(data)
    return digest.hexdigest()


def apply_changes(conn: sqlcipher3.Connection, dest: Path, key: bytes,
                  fetch_periods: Callable[[tuple[tuple[str, str, int], ...]], None], full_check: bool) -> Applied:
    """Bring the backup copy ``dest`` up to date with the vault on ``conn`` in one transaction.

    ``fetch_periods`` is called inside the snapshot with the periods it names (so a day closed
    just before is copied before the copy names it). Raises :class:`NeedsFullCopy` (nothing
    written) when the copy cannot follow the changes: another key, another generation, a cursor
    older than the changes kept, a schema change.
    """
    try:
        conn.execute("ATTACH DATABASE ? AS export KEY ?", (str(dest), f"x'{key.hex()}'"))
    except sqlcipher3.DatabaseError:
        raise NeedsFullCopy("the backup is under another key") from None
    try:
        conn.execute("SELECT count(*) FROM export.sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.execute("DETACH DATABASE export")
        raise NeedsFullCopy("the backup is under another key") from None
    with export_transaction(conn):
        return _apply(conn, dest, fetch_periods, full_check)


def _apply(conn: sqlcipher3.Connection, dest: Path, fetch_periods: Callable[[tuple[tuple[str, str, int], ...]], None],
           full_check: bool) -> Applied:
    conn.execute("PRAGMA defer_foreign_keys = ON")
    state, cursor = _cursor(conn)
    keys: dict[str, list[int]] = {}
    for table, rowid in conn.execute("SELECT DISTINCT tbl, key FROM main.row_changes WHERE id > ? AND id <= ?"
                                     " ORDER BY tbl, key", (cursor, state.newest)):
        keys.setdefault(table, []).append(rowid)
    unknown = set(keys) - set(TRACKED_TABLES)
    if unknown:
        raise NeedsFullCopy(f"changes name unknown tables ({', '.join(sorted(unknown))})")
    size_before = dest.stat().st_size
    # Row counts cost a walk of each table: only a full check takes them. The digests over every
    # changed rowid already show each insert, update and delete landed (a row left behind or
    # missing changes its table's digest), and the rest of the copy was verified before. The
    # snapshot reads the vault (``main``) only, so it may come before the copy is written.
    snapshot = take_snapshot(conn, tables=None if full_check else [])
    fetch_periods(snapshot.periods)
    for table, rowids in keys.items():
        params = (json.dumps(rowids),)
        conn.execute(f'DELETE FROM export."{table}" WHERE _rowid_ IN (SELECT value FROM json_each(?1))'
                     f' AND _rowid_ NOT IN (SELECT _rowid_ FROM main."{table}" WHERE _rowid_ IN (SELECT value FROM json_each(?1)))',
                     params)
    for table, rowids in keys.items():
        columns = _columns(conn, "main", table)
        conn.execute(f'INSERT OR REPLACE INTO export."{table}" ({columns}) SELECT {columns} FROM main."{table}"'
                     " WHERE _rowid_ IN (SELECT value FROM json_each(?))", (json.dumps(rowids),))
    digests = {table: digest_rows(conn, "main", table, rowids) for table, rowids in keys.items()}
    rows = sum(len(rowids) for rowids in keys.values())
    conn.execute("DELETE FROM export.row_changes")
    _mark(conn, state)
    journal = Path(f"{dest}-journal")
    written = (journal.stat().st_size if journal.exists() else 0) + max(0, dest.stat().st_size - size_before)
    return Applied(snapshot, keys, digests, rows, written)


def copy_hashed(src: Path, part: Path, fsync: Callable[[Path], None]) -> str:
    """Copy ``src`` to the new file ``part`` (mode 0600) and fsync it; the SHA-256 of ``src``,
    computed in a second thread while the kernel copies and writes the file (hashlib and file
    I/O release the GIL). The copy is made from the same cached pages the hash reads, so a day
    file costs about one copy rather than a copy and a second read of the result."""
    found: list[str | BaseException] = []

    def hash_source() -> None:
        try:
            found.append(file_sha256(src))
        except BaseException as exc:  # handed to the caller below
            found.append(exc)

    hasher = threading.Thread(target=hash_source, name="backup-sha256")
    hasher.start()
    try:
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        shutil.copyfile(src, part)
        fsync(part)
    finally:
        hasher.join()
    if isinstance(found[0], BaseException):
        raise found[0]
    return found[0]
