"""The vault: one SQLCipher database, opened with the key from outside it.

``Vault`` is the small storage interface every layer uses: a connection, a transaction
context that serialises writers in this process, and the access-log append. Tests use the real
thing on a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlcipher3

from callrec.config import Config
from callrec.errors import AccessLogWriteFailed, VaultCorrupt
from callrec.vault import _accesslog, _checkpoint, _db, _journal
from callrec.vault._keyfile import create_key_file, read_key_file
from callrec.vault._view import ReadView

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Vault", "SERVICE_ACTOR"]

#: Actor name for what the daemon itself does (capture, seal, transcribe, purge by retention). It
#: holds a ':', which no OS account name can, so no person is ever mistaken for the daemon.
SERVICE_ACTOR = "callrec:service"


#: Signing keys already read by this process, by file identity (a replaced file is read again): the
#: daemon opens a vault per socket request and must not read the key file for each.
_SIGNERS: dict[tuple, Ed25519PrivateKey] = {}


def _signer(path: Path) -> Ed25519PrivateKey:
    try:
        st = path.stat()
    except OSError:
        return _checkpoint.load_signing_key(path)  # names the problem
    ident = (str(path), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
    if ident not in _SIGNERS:
        _SIGNERS.clear()
        _SIGNERS[ident] = _checkpoint.load_signing_key(path)
    return _SIGNERS[ident]


class Vault:
    def __init__(self, conn: sqlcipher3.Connection, config: Config) -> None:
        self.conn = conn
        self.config = config
        self._lock = threading.RLock()
        #: True once this connection appended to the access log (then a checkpoint is due).
        self.appended = False
        self._signer: Ed25519PrivateKey | None = None
        #: Work that must follow the commit of the current transaction (e.g. deleting a replaced file).
        self._after_commit: list[Callable[[], None]] = []

    @property
    def signer(self) -> Ed25519PrivateKey:
        """The checkpoint key, loaded once: it signs every entry and checkpoint (never stored inside)."""
        if self._signer is None:
            self._signer = _signer(self.config.checkpoint_key_path)
        return self._signer

    @classmethod
    def open(cls, config: Config) -> Vault:
        key = read_key_file(config.key_path)
        return cls(_db.connect(config.vault_path, key, config.key_path), config)

    @classmethod
    def initialise(cls, config: Config) -> tuple[Vault, list[str]]:
        """Create what is missing (state dir, keys, vault); never overwrite. Returns what was made."""
        made: list[str] = []
        state = config.state_dir
        if not state.exists():
            state.mkdir(parents=True, mode=0o711)
            made.append(f"state directory {state}")
        for path in (config.vault_path.parent, config.models_path, config.reports_path):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        vault_exists = config.vault_path.exists()
        if not config.key_path.exists():
            if vault_exists:
                read_key_file(config.key_path)  # raises KeyFileMissing: never a new key for an old vault
            create_key_file(config.key_path)
            made.append(f"data key {config.key_path}")
        if not config.checkpoint_key_path.exists():
            _checkpoint.create_signing_key(config.checkpoint_key_path)
            made.append(f"checkpoint signing key {config.checkpoint_key_path}")
        key = read_key_file(config.key_path)
        if vault_exists:
            return cls(_db.connect(config.vault_path, key, config.key_path), config), made
        conn = _db.create(config.vault_path, key)
        os.chmod(config.vault_path, 0o600)
        made.append(f"vault {config.vault_path}")
        return cls(conn, config), made

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlcipher3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; rolled back on any exception."""
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlcipher3.DatabaseError as exc:
                raise _db.classify(self.config.vault_path, exc) from None
            try:
                yield self.conn
            except sqlcipher3.DatabaseError as exc:
                self._rollback()
                raise _db.classify(self.config.vault_path, exc) from None
            except BaseException:
                self._rollback()
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlcipher3.DatabaseError as exc:
                self._rollback()
                raise _db.classify(self.config.vault_path, exc) from None
            done, self._after_commit = self._after_commit, []
            for step in done:
                step()

    @property
    def in_transaction(self) -> bool:
        """True while a transaction of this connection is open (left open, it holds the file)."""
        return self.conn.in_transaction

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run ``step`` once the current transaction has committed (never if it rolls back)."""
        self._after_commit.append(step)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[ReadView]:
        """One read transaction: every read through the view sees the same vault. Writers of this
        process wait until the block ends; other processes keep writing (WAL)."""
        with self._lock:
            began = not self.conn.in_transaction
            if began:
                self.conn.execute("BEGIN")
            try:
                yield ReadView(self.conn)
            except sqlcipher3.DatabaseError as exc:
                raise _db.classify(self.config.vault_path, exc) from None
            finally:
                if began:
                    self._rollback()

    def _rollback(self) -> None:
        """Roll back what is left of a failed transaction (SQLite may have rolled back already)."""
        self._after_commit = []
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlcipher3.DatabaseError:
                pass

    def _announce_format(self) -> None:
        """Before the first format-2 entry of a vault migrated from schema 2, log where format 1
        ends (``log.format``): signed, so the boundaries in ``log_format`` cannot be moved later."""
        row = self.conn.execute("SELECT legacy_upto, legacy_calls_upto, legacy_gaps_upto FROM log_format").fetchone()
        if row[0] and _accesslog.head(self.conn)[0] == row[0]:
            _accesslog.append(self.conn, SERVICE_ACTOR, "log.format", signer=self.signer,
                              checkpoints=_checkpoint.checkpoints_written(self.conn),
                              detail={"legacy_upto": row[0], "legacy_calls_upto": row[1], "legacy_gaps_upto": row[2]})

    def log(self, actor: str, action: str, **fields: Any) -> int:
        """Append an access-log entry inside the current transaction."""
        try:
            self._announce_format()
            seq = _accesslog.append(self.conn, actor, action, signer=self.signer,
                                    checkpoints=_checkpoint.checkpoints_written(self.conn), **fields)
            self.appended = True
            return seq
        except sqlcipher3.DatabaseError as exc:
            cause = _db.classify(self.config.vault_path, exc)
            if not isinstance(cause, VaultCorrupt):  # a full disk is a full disk, also here
                raise cause from None
            raise AccessLogWriteFailed(str(exc)) from None

    def log_now(self, actor: str, action: str, **fields: Any) -> int:
        """Append an entry in a transaction of its own (e.g. a refused attempt)."""
        with self.transaction():
            return self.log(actor, action, **fields)

    def query(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def checkpoint(self) -> _checkpoint.Checkpoint | None:
        """Write a signed checkpoint of the log head to the witness file if it moved; once
        committed, send its head to the system journal (outside the write lock)."""
        with self.transaction() as conn:
            cp = _checkpoint.write_checkpoint(conn, self.signer, self.config.witness_path)
        if cp is not None:
            _journal.send_head(self.config.syslog_socket, cp, _checkpoint.fingerprint(self.signer.public_key()))
        return cp

    @property
    def path(self) -> Path:
        return self.config.vault_path

    @property
    def periods_dir(self) -> Path:
        """Where the closed period files live (beside the hot file)."""
        return self.config.vault_path.parent / "periods"
