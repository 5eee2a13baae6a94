"""Opening the SQLCipher vault.

The key is applied raw (``x'…'``), so no passphrase KDF runs per connection. WAL lets the daemon
write while the CLI reads. A wrong key, a plain SQLite file, a file that is not a database and a
vault from a newer schema are told apart here and become one-line errors.

The hot file has the day files' cipher settings (16 KiB pages, HMAC-SHA256: bench/bench_cipher.py).
A vault made before them has SQLCipher 4's defaults: it still opens, and the first open that has
it to itself rewrites it with ``sqlcipher_export`` (:func:`_upgrade`; a kill at any moment leaves
the old file whole or the new one complete).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import sqlcipher3

from callrec.errors import (
    NotAVault,
    SchemaTooNew,
    VaultBusy,
    VaultCorrupt,
    VaultError,
    VaultMissing,
    VaultPagesDamaged,
    VaultTruncated,
    WrongKey,
    WrongKeyRekeyPending,
    from_os_error,
)
from callrec.vault._schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["connect", "create", "classify", "fsync_path", "open_read_only", "opens_with", "PLAIN_SQLITE_HEADER", "DatabaseError", "HOT_SETTINGS"]

PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
#: The smallest page any vault has had (SQLCipher's default): every vault file is a multiple of it.
PAGE_SIZE = 4096
#: The hot file's cipher settings, newest first, each with its page size: a file opens with the
#: first that reads its first page. The last are SQLCipher 4's defaults (vaults before issue 22).
HOT_SETTINGS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (16384, ("PRAGMA cipher_page_size = 16384", "PRAGMA cipher_hmac_algorithm = HMAC_SHA256")),
    (4096, ()),
)
_UPGRADING = ".upgrading"
DatabaseError = sqlcipher3.DatabaseError


def _raw(path: Path | str, key: bytes, settings: tuple[str, ...] = HOT_SETTINGS[0][1], **kwargs: Any) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False, **kwargs)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for statement in settings:
        conn.execute(statement)
    return conn


def _readable(path: Path, key: bytes) -> tuple[sqlcipher3.Connection, int]:
    """A connection with the settings that read the file's first page, and their place in
    :data:`HOT_SETTINGS` (the current ones when none does: the caller tells why)."""
    for number, (_, settings) in enumerate(HOT_SETTINGS):
        conn = _raw(path, key, settings)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn, number
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            if "not a database" not in str(exc):  # not a question of settings: the caller meets it again
                return _raw(path, key, settings), number
    return _raw(path, key), 0


def open_read_only(path: Path, key: bytes) -> sqlcipher3.Connection | None:
    """A read-only connection to a vault file of any settings a vault has had (a backup copy, a
    vault moved aside), or None when ``key`` opens it with none of them."""
    for _, settings in HOT_SETTINGS[::-1]:  # backup copies have SQLCipher's defaults
        conn = _raw(f"{path.resolve().as_uri()}?mode=ro", key, settings, uri=True)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlcipher3.DatabaseError:
            conn.close()
    return None


def opens_with(path: Path, key: bytes) -> bool:
    """Whether ``key`` opens the vault file ``path`` (read only, whatever its settings)."""
    conn = open_read_only(path, key)
    if conn is not None:
        conn.close()
    return conn is not None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VaultMissing(path)
    if path.is_dir():
        raise NotAVault(path, "it is a directory")
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(len(PLAIN_SQLITE_HEADER))
    if head == PLAIN_SQLITE_HEADER:
        raise NotAVault(path, "it is an unencrypted SQLite file")
    if size < PAGE_SIZE:
        raise NotAVault(path, "it is smaller than one vault page" if size else "it is empty")
    if size % PAGE_SIZE:
        raise VaultTruncated(path, size, PAGE_SIZE)


def _writable_problem(path: Path) -> VaultError | None:
    """The vault's directory must be writable (WAL needs its -wal and -shm files beside it)."""
    for target in (path.parent, path):
        if not os.access(target, os.W_OK):
            code = errno.EROFS if os.statvfs(target).f_flag & os.ST_RDONLY else errno.EACCES
            return from_os_error(OSError(code, os.strerror(code)), target)
    return None


def classify(path: Path, exc: sqlcipher3.DatabaseError) -> VaultError:
    """What a SQLite error on an open vault really means: a full disk and a read-only or forbidden
    directory are not damage, and restoring a backup would be the wrong fix for them; nor is a vault
    that another writer held past the busy timeout ("database is locked"): that is busy, retry."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:  # SQLITE_BUSY / SQLITE_LOCKED: a writer held it too long
        return VaultBusy(path, str(exc))
    if "disk is full" in text or "disk i/o error" in text and os.statvfs(path.parent).f_bavail == 0:
        return from_os_error(OSError(errno.ENOSPC, "No space left on device"), path)
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        problem = _writable_problem(path)
        if problem is not None:
            return problem
    return VaultCorrupt(path, str(exc))


def _key_or_damage(path: Path, key: bytes, key_path: Path) -> VaultError:
    """Page 1 does not decrypt: a wrong key fails every page's check, damage only some (under
    either settings a vault may have)."""
    for page_size, settings in HOT_SETTINGS:
        conn = _raw(path, key, settings)
        try:
            failed = len(conn.execute("PRAGMA cipher_integrity_check").fetchall())
        except sqlcipher3.DatabaseError:
            failed = None
        finally:
            conn.close()
        pages = path.stat().st_size // page_size
        if failed is not None and 0 < failed < pages:
            return VaultPagesDamaged(path, failed, pages, key_path)
    if key_path.with_name(f"{key_path.name}.new").exists():
        return WrongKeyRekeyPending(path, key_path)
    return WrongKey(path, key_path)


def _configure(conn: sqlcipher3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: Path, key: bytes, key_path: Path) -> sqlcipher3.Connection:
    """Open an existing vault and bring its schema up to date."""
    _check_file(path)
    problem = _writable_problem(path)
    if problem is not None:
        raise problem
    conn, settings = _readable(path, key)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise (_key_or_damage(path, key, key_path) if "not a database" in str(exc) else classify(path, exc)) from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise SchemaTooNew(path, version, SCHEMA_VERSION)
    try:
        _configure(conn)
        _migrate(conn, version)
        return _upgrade(conn, path, key) if settings else conn
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise classify(path, exc) from None


def _upgrade(conn: sqlcipher3.Connection, path: Path, key: bytes) -> sqlcipher3.Connection:
    """Rewrite a vault of older cipher settings with the current ones, or leave it as it is for a
    later open when another connection has it open (only the last one can leave WAL mode; a
    process still holding the old file could otherwise write to a file no longer the vault).

    ``sqlcipher_export`` copies it, under an exclusive lock, into ``vault.db.upgrading`` (the new
    settings, rollback journal, ``synchronous = FULL``), which is fsynced and renamed over the
    vault: killed before the rename, the old file is whole (the copy is dropped next time); after
    it, the new one is complete. The copy renumbers the rowids of tables without an INTEGER
    PRIMARY KEY, so the change tracking starts a new generation (every backup's next run is full).
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        alone = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    except sqlcipher3.OperationalError:  # locked: another connection has the vault open
        alone = False
    if not alone:
        conn.execute("PRAGMA busy_timeout = 30000")
        _configure(conn)
        return conn
    copy = path.with_name(path.name + _UPGRADING)
    for leftover in (copy, copy.with_name(copy.name + "-journal")):
        leftover.unlink(missing_ok=True)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("ATTACH DATABASE ? AS upgraded KEY ?", (str(copy), f"x'{key.hex()}'"))
    for statement in HOT_SETTINGS[0][1]:
        conn.execute(statement.replace("PRAGMA ", "PRAGMA upgraded."))
    conn.execute("PRAGMA upgraded.synchronous = FULL")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("SELECT sqlcipher_export('upgraded')")
    conn.execute(f"PRAGMA upgraded.user_version = {int(version)}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE upgraded")
    fsync_path(copy)
    os.rename(copy, path)  # the old file's exclusive lock is held until here
    fsync_path(path.parent)
    conn.close()
    upgraded = _raw(path, key)
    _configure(upgraded)
    _new_change_generation(upgraded)
    return upgraded


def fsync_path(path: Path) -> None:
    """fsync a file or a directory by name (a directory: so a rename in it is durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_change_generation(conn: sqlcipher3.Connection) -> None:
    """As ``_changes.start_new_generation`` (which builds on the store this module opens)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'row_changes'").fetchone()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM row_changes")
    conn.execute("DELETE FROM backup_state")
    conn.execute("UPDATE change_tracking SET generation = lower(hex(randomblob(16))), pruned_upto = ?",
                 (row[0] if row else 0,))
    conn.execute("COMMIT")


def create(path: Path, key: bytes) -> sqlcipher3.Connection:
    """Create a new vault; refuses when a file is already there."""
    if path.exists():
        raise NotAVault(path, "a file is already there; init never overwrites a vault")
    conn = _raw(path, key)
    _configure(conn)
    _migrate(conn, 0)
    return conn


def _migrate(conn: sqlcipher3.Connection, version: int) -> None:
    for number in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlcipher3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]
