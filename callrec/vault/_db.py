"""Opening the SQLCipher vault.

The key is applied raw (``x'…'``), so no passphrase KDF runs per connection. WAL lets the daemon
write while the CLI reads. A wrong key, a plain SQLite file, a file that is not a database and a
vault from a newer schema are told apart here and become one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import sqlcipher3

from callrec.errors import NotAVault, SchemaTooNew, VaultCorrupt, VaultMissing, WrongKey, WrongKeyRekeyPending
from callrec.vault._schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["connect", "create", "PLAIN_SQLITE_HEADER", "DatabaseError"]

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
    if size == 0 or size % PAGE_SIZE:
        raise NotAVault(path, "its size is not a whole number of vault pages")


def _configure(conn: sqlcipher3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: Path, key: bytes, key_path: Path) -> sqlcipher3.Connection:
    """Open an existing vault and bring its schema up to date."""
    _check_file(path)
    conn = _raw(path, key)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        if key_path.with_name(f"{key_path.name}.new").exists():
            raise WrongKeyRekeyPending(path, key_path) from None
        raise WrongKey(path, key_path) from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise SchemaTooNew(path, version, SCHEMA_VERSION)
    try:
        _configure(conn)
        _migrate(conn, version)
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise VaultCorrupt(path, str(exc)) from None
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
