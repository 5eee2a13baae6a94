"""Opening the SQLCipher vault.

The key is applied raw (``x'…'``), so no passphrase KDF runs per connection. WAL lets the daemon
write while the CLI reads. A wrong key, a plain SQLite file, a file that is not a database and a
vault from a newer schema are told apart here and become one-line errors.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

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

__all__ = ["connect", "create", "classify", "PLAIN_SQLITE_HEADER", "DatabaseError"]

PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
PAGE_SIZE = 4096
DatabaseError = sqlcipher3.DatabaseError


def _raw(path: Path, key: bytes) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


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


def _key_or_damage(conn: sqlcipher3.Connection, path: Path, key_path: Path) -> VaultError:
    """Page 1 does not decrypt: a wrong key fails every page's check, damage only some."""
    try:
        failed = len(conn.execute("PRAGMA cipher_integrity_check").fetchall())
    except sqlcipher3.DatabaseError:
        failed = None
    pages = path.stat().st_size // PAGE_SIZE
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
    conn = _raw(path, key)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        error = _key_or_damage(conn, path, key_path) if "not a database" in str(exc) else classify(path, exc)
        conn.close()
        raise error from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise SchemaTooNew(path, version, SCHEMA_VERSION)
    try:
        _configure(conn)
        _migrate(conn, version)
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise classify(path, exc) from None
    return conn


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
