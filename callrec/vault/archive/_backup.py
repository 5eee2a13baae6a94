"""Backup, restore and key rotation of the vault.

A backup is a directory: the hot file's encrypted copy, kept up to date in place with the rows
changed since the last run (:mod:`_backup_copy`, written whole the first time and whenever it
cannot follow the changes), and each closed day's file, copied once. Everything is read in one
read transaction of the vault, so the copy is a consistent snapshot while the daemon keeps
writing (copying the file would miss whatever still sits in the WAL), and it is read back on a
fresh connection with its key. Restore copies the backup with ``sqlcipher_export`` (SQLCipher's
supported way to copy an encrypted database; the page-level backup API refuses encrypted
databases) and starts a new change generation, since that copy renumbers rowids.

Restore and rekey change the vault under every open connection, so they refuse to run while the
daemon answers on its socket. Neither ever deletes a vault or a key that could still be needed:
restore moves the current vault aside, rekey keeps the old key as ``<key>.old-<timestamp>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from callrec.config import Config
from callrec.errors import (
    AccessDenied,
    InvalidState,
    NotAVault,
    NotFound,
    SchemaTooNew,
    UsageError,
    VaultError,
    WrongKey,
)
from callrec.vault._accesslog import head
from callrec.vault._checkpoint import rebase_count
from callrec.vault._db import PLAIN_SQLITE_HEADER, open_read_only, opens_with
from callrec.vault._keyfile import create_key_file, read_key_file
from callrec.vault._owner import match_state_owner
from callrec.vault._schema import SCHEMA_VERSION
from callrec.vault._store import Vault
from callrec.vault.archive._backup_copy import (
    Applied,
    NeedsFullCopy,
    Snapshot,
    apply_changes,
    copy_hashed,
    digest_rows,
    export_full,
    export_transaction,
    take_snapshot,
)
from callrec.vault.archive._changes import start_new_generation
from callrec.vault.archive._periods import file_sha256, fsync_path

__all__ = [
    "BackupFailed",
    "BackupUnverified",
    "BackupWrongKey",
    "DaemonRunning",
    "Snapshot",
    "backup",
    "ensure_daemon_stopped",
    "finish_interrupted_rekey",
    "inspect_copy",
    "rekey",
    "restore",
]


#: A backup directory: the hot file's copy and the closed period files.
HOT = "vault.db"
PERIODS = "periods"


class BackupFailed(VaultError):
    """the copy {0} failed verification ({1}): do not rely on it; remove it and run the command again"""


class BackupUnverified(VaultError):
    """the copy {0} failed verification after an incremental update ({1}): do not rely on it until the next 'callrec backup', which writes it whole again"""


class BackupWrongKey(WrongKey):
    """backup {0} cannot be decrypted with key file {1}: pass --key-file with the key it was written under"""


class DaemonRunning(VaultError):
    """the callrec daemon is running (socket {0} answers): stop it first (systemctl stop callrec), then run '{1}' again"""


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _unused_stamp(*names: Callable[[str], Path]) -> str:
    """A timestamp that none of ``names`` (stamp → path) uses yet: ``-2``, ``-3``… are added when
    two restores run within the same second (following docs/admin.md literally does), so that
    nothing set aside earlier is replaced."""
    base = stamp = _stamp()
    n = 1
    while any(name(stamp).exists() for name in names):
        n += 1
        stamp = f"{base}-{n}"
    return stamp


def _new_file(path: Path, what: str) -> None:
    """Create ``path`` empty with mode 0600; never over an existing file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise UsageError(f"{path} already exists: {what} never writes over a file, choose a new path") from None
    except OSError as exc:
        raise UsageError(f"cannot create {path} ({exc.strerror}): check the directory") from None


def _export(conn: sqlcipher3.Connection, dest: Path, key: bytes, what: str) -> Snapshot:
    """Copy ``conn``'s main database to the new file ``dest`` encrypted under ``key`` with
    ``sqlcipher_export`` (restore: rowids need not be kept, the restored vault starts a new
    change generation). Returns the snapshot the copy was taken from (same read transaction).
    """
    _new_file(dest, what)
    try:
        conn.execute("ATTACH DATABASE ? AS export KEY ?", (str(dest), f"x'{key.hex()}'"))
        with export_transaction(conn):
            snapshot = take_snapshot(conn)
            version = conn.execute("PRAGMA main.user_version").fetchone()[0]
            conn.execute("SELECT sqlcipher_export('export')")
            conn.execute(f"PRAGMA export.user_version = {int(version)}")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    fsync_path(dest)
    return snapshot


@contextlib.contextmanager
def _open_copy(path: Path, key: bytes, key_path: Path) -> Iterator[sqlcipher3.Connection]:
    """A read-only connection to a vault file that is not the configured one (a backup)."""
    if not path.is_file():
        raise NotFound(f"backup file {path}")
    _roll_back_journal(path, key)
    with path.open("rb") as f:
        if f.read(len(PLAIN_SQLITE_HEADER)) == PLAIN_SQLITE_HEADER:
            raise NotAVault(path, "it is an unencrypted SQLite file")
    conn = open_read_only(path, key)
    if conn is None:
        raise BackupWrongKey(path, key_path)
    try:
        yield conn
    finally:
        conn.close()


def _integrity_findings(conn: sqlcipher3.Connection) -> list[str]:
    findings = [" ".join(map(str, r)) for r in conn.execute("PRAGMA cipher_integrity_check")]
    findings += [r[0] for r in conn.execute("PRAGMA quick_check") if r[0] != "ok"]
    return findings


def inspect_copy(path: Path, key: bytes, key_path: Path) -> Snapshot:
    """Open a copy with its key, check its pages and schema version; its snapshot."""
    with _open_copy(path, key, key_path) as conn:
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(path, version, SCHEMA_VERSION)
            findings = _integrity_findings(conn)
            if findings:
                raise BackupFailed(path, findings[0])
            return take_snapshot(conn)
        except sqlcipher3.DatabaseError as exc:
            raise BackupFailed(path, str(exc)) from None


def _check_matches(path: Path, got: Snapshot, expected: Snapshot) -> None:
    if got.periods != expected.periods:
        raise BackupFailed(path, "the closed periods it names differ")
    if (got.head_seq, got.head_hash) != (expected.head_seq, expected.head_hash):
        raise BackupFailed(path, f"access-log head is entry {got.head_seq}, expected {expected.head_seq}")
    if got.counts != expected.counts:
        diff = sorted({t for t, _ in got.counts} ^ {t for t, _ in expected.counts}
                      | {t for (t, n) in got.counts if (t, n) not in expected.counts})
        raise BackupFailed(path, f"row counts differ in {', '.join(diff)}")


# --- backup -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    key_path: Path
    snapshot: Snapshot
    #: Bytes in the backup directory, and bytes this run wrote (the hot file's copy or its changed
    #: pages, and new period files).
    size: int
    written: int
    #: Why the hot file was copied whole ("" when only its changes were applied), and how many
    #: changed rows were applied.
    full_reason: str = ""
    rows: int = 0


def _copy_verified(src: Path, target: Path, sha256: str) -> None:
    """Copy ``src`` to ``target`` via ``target.tmp``: fsynced, hashed while it is copied, then renamed."""
    part = target.with_name(f"{target.name}.tmp")
    if copy_hashed(src, part, fsync_path) != sha256 or part.stat().st_size != src.stat().st_size:
        part.unlink()
        raise BackupFailed(target, "the copied period file differs from its SHA-256")
    os.rename(part, target)


def _remove_leftovers(directory: Path) -> None:
    for part in [*directory.glob("*.tmp"), *directory.glob(f"{PERIODS}/*.tmp")]:
        part.unlink()


def _check_backup_dir(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file: backup keeps a directory up to date; name a new directory or one"
                         " that 'callrec backup' made")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / HOT).exists():
        raise UsageError(f"{dest} is a directory that 'callrec backup' did not make: name a new or empty directory")


def backup(vault: Vault, actor: str, dest: Path, *, key_path: Path | None = None,
           new_key_path: Path | None = None, full_check: bool = False) -> BackupResult:
    """Bring the backup directory ``dest`` up to date with the vault (the access layer checks the
    role: ``callrec.access.backup``).

    Each closed period file is copied to ``dest/periods/`` once, hashed against the hash entered
    in the chain, and left alone by later runs. ``dest/vault.db`` is kept up to date in place: the
    rows changed since the last backup are applied in one transaction and read back against the
    vault (:mod:`_backup_copy`). The first backup, another key, a restored vault or a copy older
    than the changes kept get a full copy instead, written beside it, checked whole and renamed
    over it; ``full_check`` checks an updated copy whole too. Files of periods the vault dropped
    (retention) are deleted from the backup once the copy no longer names them. A run cut short
    leaves the previous backup whole.
    The hot copy is under the vault's own key unless ``key_path`` (an existing key file) or
    ``new_key_path`` (created here) names another; period files keep their own keys, which travel
    inside the hot copy. The ``backup`` entry is logged and checkpointed before the copy, so the
    copy contains the record of its own making.
    """
    _check_backup_dir(dest)
    if new_key_path is not None:
        try:
            create_key_file(new_key_path)
        except FileExistsError:
            raise UsageError(f"{new_key_path} already exists: --new-key never overwrites a key, choose a new path") from None
        key_path = new_key_path
    key_path = key_path or vault.config.key_path
    key = read_key_file(key_path)
    vault.log_now(actor, "backup", detail={"dest": str(dest), "key_file": str(key_path)})
    vault.checkpoint()
    try:
        (dest / PERIODS).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create {dest} ({exc.strerror}): check the directory") from None
    _remove_leftovers(dest)
    hot = dest / HOT
    held: set[str] = set()
    written = _copy_periods(vault, dest, tuple(vault.query("SELECT file, sha256, bytes FROM periods ORDER BY file")), held)
    reason, applied = "this is the first backup in the directory", None
    if hot.exists():
        _roll_back_journal(hot, key)
        try:
            with vault._lock:
                applied = apply_changes(vault.conn, hot, key, lambda periods: _copy_periods(vault, dest, periods, held),
                                        full_check)
        except NeedsFullCopy as why:
            reason = str(why)
        except sqlcipher3.DatabaseError:
            reason = "the copy could not be updated (damaged pages?)"
    if applied is not None:
        _check_applied(hot, key, key_path, applied, full_check)
        expected, written, reason = applied.snapshot, written + applied.written, ""
    else:
        expected, copied = _write_whole(vault, dest, key, key_path, held)
        written += copied + hot.stat().st_size
    written += _copy_periods(vault, dest, expected.periods, held)
    named = {file for file, _, _ in expected.periods}
    for old in (dest / PERIODS).iterdir():
        if old.name not in named:
            old.unlink()
    size = sum(p.stat().st_size for p in (hot, *(dest / PERIODS).iterdir()))
    return BackupResult(dest, key_path, expected, size, written, reason, applied.rows if applied else 0)


def _copy_periods(vault: Vault, dest: Path, periods: tuple[tuple[str, str, int], ...], held: set[str]) -> int:
    """Copy the period files the backup does not hold yet; the bytes copied. ``held`` names the
    files already found or copied in this run (each is looked at once)."""
    written = 0
    for file, sha256, size in periods:
        if file in held:
            continue
        target = dest / PERIODS / file
        if not (target.is_file() and target.stat().st_size == size):  # closed periods never change: copied once
            _copy_verified(vault.periods_dir / file, target, sha256)
            written += size
        held.add(file)
    if written:
        fsync_path(dest / PERIODS)
    return written


def _write_whole(vault: Vault, dest: Path, key: bytes, key_path: Path, held: set[str]) -> tuple[Snapshot, int]:
    """A full copy through ``vault.db.tmp``: checked whole, then renamed over the previous one once
    every period file it names is in place. Its snapshot, and the bytes of period files copied."""
    part = dest / f"{HOT}.tmp"
    _new_file(part, "backup")
    try:
        with vault._lock:
            expected = export_full(vault.conn, part, key)
        fsync_path(part)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _check_matches(part, inspect_copy(part, key, key_path), expected)
    copied = _copy_periods(vault, dest, expected.periods, held)
    os.replace(part, dest / HOT)
    Path(f"{dest / HOT}-journal").unlink(missing_ok=True)
    fsync_path(dest)
    return expected, copied


def _check_applied(path: Path, key: bytes, key_path: Path, applied: Applied, full_check: bool) -> None:
    """Read the applied rows back on a fresh connection: the head, the periods named and each
    changed row's digest (with ``full_check`` also every table's row count and every page).
    A copy that fails is marked so that the next backup writes it whole."""
    try:
        with _open_copy(path, key, key_path) as conn:
            try:
                got = take_snapshot(conn, tables=[t for t, _ in applied.snapshot.counts])
                _check_matches(path, got, applied.snapshot)
                for table, rowids in applied.keys.items():
                    if digest_rows(conn, "main", table, rowids) != applied.digests[table]:
                        raise BackupFailed(path, f"rows of table {table} read back differently")
                findings = _integrity_findings(conn) if full_check else []
                if findings:
                    raise BackupFailed(path, findings[0])
            except sqlcipher3.DatabaseError as exc:
                raise BackupFailed(path, str(exc)) from None
    except BackupFailed as failed:
        _forget_cursor(path, key)
        raise BackupUnverified(path, failed.args[1]) from None


def _forget_cursor(path: Path, key: bytes) -> None:
    """Make the next run write the copy whole (a copy too damaged to take this write fails to
    open with its key next time, which also leads to a whole copy)."""
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("UPDATE backup_state SET generation = 'unverified'")
    except sqlcipher3.DatabaseError:
        pass
    finally:
        conn.close()


def _roll_back_journal(path: Path, key: bytes) -> None:
    """A copy whose update was cut short has a hot journal beside it: opening it read-write with
    its key rolls the journal back, leaving the previous copy (a read-only reader cannot)."""
    if not Path(f"{path}-journal").exists():
        return
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        pass  # another key: the reader that follows says so
    finally:
        conn.close()


# --- daemon -------------------------------------------------------------------------------


def ensure_daemon_stopped(config: Config, command: str) -> None:
    """Refuse while the daemon answers on its socket: it holds the vault open."""
    path = config.socket_path
    if not path.exists():
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return
    raise DaemonRunning(path, command)


# --- restore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    snapshot: Snapshot
    moved_aside: Path | None
    reencrypted: bool


def _periods_dir(path: Path) -> Path:
    return path.parent / PERIODS


def _move_aside(path: Path) -> Path:
    """Rename the vault, its WAL/SHM files and its periods directory to ``<vault>.before-restore-<timestamp>``
    (the directory to ``periods.before-restore-<timestamp>``)."""
    stamp = _unused_stamp(lambda st: path.with_name(f"{path.name}.before-restore-{st}"),
                          lambda st: _periods_dir(path).with_name(f"{PERIODS}.before-restore-{st}"))
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    periods_aside = _periods_dir(path).with_name(f"{PERIODS}.before-restore-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.rename(src, Path(f"{aside}{suffix}"))
    if _periods_dir(path).exists():
        os.rename(_periods_dir(path), periods_aside)
    return aside


def _move_back(aside: Path, path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{aside}{suffix}")
        if src.exists():
            os.rename(src, Path(f"{path}{suffix}"))
    stamp = aside.name.rsplit("before-restore-", 1)[1]
    periods_aside = _periods_dir(path).with_name(f"{PERIODS}.before-restore-{stamp}")
    if periods_aside.exists():
        os.rename(periods_aside, _periods_dir(path))


def _replace_current(config: Config, actor: str, backup_path: Path) -> tuple[Path, tuple[int, str]]:
    """Log the restore in the current vault, fold its WAL in, and move it aside."""
    with Vault.open(config) as current:
        current.log_now(actor, "restore.replace", detail={"backup": str(backup_path)})
        current.checkpoint()
        replaced_head = head(current.conn)
        current.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return _move_aside(config.vault_path), replaced_head


def _rebase_witness(config: Config, conn: sqlcipher3.Connection) -> Path | None:
    """Start the witness file over for the restored chain; the old one is kept aside.

    A restore rolls the access log back to the backup's head, so checkpoints written after the
    backup no longer match. Those that do match the restored chain are carried over (a later
    truncation stays visible); the whole old file is kept as ``<witness>.before-restore-<ts>``,
    and the ``restore`` entry names the head that was replaced.
    """
    witness = config.witness_path
    if not witness.exists():
        return None
    keep = []
    for line in witness.read_text().splitlines():
        try:
            cp = json.loads(line)
            row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (int(cp["seq"]),)).fetchone()
        except (ValueError, TypeError, KeyError):
            continue
        if row is not None and row[0] == cp["hash"]:
            keep.append(line + "\n")
    aside = witness.with_name(
        f"{witness.name}.before-restore-{_unused_stamp(lambda st: witness.with_name(f'{witness.name}.before-restore-{st}'))}")
    os.rename(witness, aside)
    fd = os.open(witness, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(keep)
        f.flush()
        os.fsync(f.fileno())
    return aside


def _backup_files(backup_path: Path, key: bytes, key_path: Path) -> tuple[Path, Snapshot]:
    """The hot copy in a backup (a directory made by 'callrec backup', or a single file written by
    releases before schema 5) and its snapshot; every period file it names must hold its hash."""
    source = backup_path / HOT if backup_path.is_dir() else backup_path
    expected = inspect_copy(source, key, key_path)
    for file, sha256, _ in expected.periods:
        copy = source.parent / PERIODS / file
        if not copy.is_file():
            raise BackupFailed(copy, "a closed period file of the backup is missing")
        if file_sha256(copy) != sha256:
            raise BackupFailed(copy, "a closed period file differs from its SHA-256")
    return source, expected


def _restore_periods(source: Path, target: Path, expected: Snapshot) -> None:
    target.mkdir(mode=0o700, exist_ok=True)
    for file, sha256, _ in expected.periods:
        _copy_verified(source.parent / PERIODS / file, target / file, sha256)
    fsync_path(target)


def restore(config: Config, actor: str, backup_path: Path, backup_key_path: Path | None = None) -> RestoreResult:
    """Make the backup ``backup_path`` the configured vault, re-encrypted under the configured key.

    Refuses while the daemon runs. An existing vault (and its periods directory) is moved aside,
    never deleted; if anything fails after that, it is moved back. Without a current vault the
    actor must be admin in the backup itself (that refusal cannot be logged: there is no vault to
    log it in).
    """
    ensure_daemon_stopped(config, "callrec restore")
    if config.vault_path.exists() and backup_path.resolve() in (config.vault_path.resolve(),
                                                                  config.vault_path.parent.resolve()):
        raise UsageError(f"{backup_path} is the configured vault itself: name a backup directory")
    key = read_key_file(config.key_path)
    backup_key_path = backup_key_path or config.key_path
    backup_key = read_key_file(backup_key_path)
    source, expected = _backup_files(backup_path, backup_key, backup_key_path)
    aside, replaced_head = None, None
    if config.vault_path.exists():
        aside, replaced_head = _replace_current(config, actor, backup_path)
    else:
        with _open_copy(source, backup_key, backup_key_path) as conn:
            roles = {r[0] for r in conn.execute("SELECT role FROM user_roles WHERE name = ?", (actor,))}
        if "admin" not in roles:
            raise AccessDenied(actor, "needs the role admin in the backup to restore it")
    periods = _periods_dir(config.vault_path)
    try:
        if periods.exists():  # left without a vault: not ours to keep in place
            os.rename(periods, periods.with_name(f"{PERIODS}.failed-restore-{_stamp()}"))
        with _open_copy(source, backup_key, backup_key_path) as conn:
            _export(conn, config.vault_path, key, "restore")
        os.chmod(config.vault_path, 0o600)
        _check_matches(config.vault_path, inspect_copy(config.vault_path, key, config.key_path), expected)
        _restore_periods(source, periods, expected)
    except BaseException:
        stamp = _stamp()
        if config.vault_path.exists() and aside is not None:
            config.vault_path.rename(config.vault_path.with_name(f"{config.vault_path.name}.failed-restore-{stamp}"))
        if periods.exists() and aside is not None:
            periods.rename(periods.with_name(f"{PERIODS}.failed-restore-{stamp}"))
        if aside is not None:
            _move_back(aside, config.vault_path)
        raise
    with Vault.open(config) as restored:
        with restored.transaction() as conn:
            start_new_generation(conn)  # the copy renumbered rowids: every backup starts whole
        _mark_restored_periods(restored)
        witness_aside = _rebase_witness(config, restored.conn)
        rebase_count(restored.conn, restored.signer, config.witness_path)
        restored.log_now(actor, "restore", detail={
            "backup": str(backup_path),
            "backup_head": expected.head_seq,
            "replaced_head": replaced_head[0] if replaced_head else None,
            "replaced_hash": replaced_head[1] if replaced_head else None,
            "moved_aside": str(aside) if aside else None,
            "witness_aside": str(witness_aside) if witness_aside else None,
        })
        restored.checkpoint()
    match_state_owner(config)
    return RestoreResult(expected, aside, backup_key != key)


def _mark_restored_periods(vault: Vault) -> None:
    """The restored period files were just re-hashed: note their new mtimes as checked."""
    with vault.transaction() as conn:
        for file, in conn.execute("SELECT file FROM periods").fetchall():
            conn.execute("UPDATE periods SET mtime_ns = ?, verified_ts = ? WHERE file = ?",
                         ((vault.periods_dir / file).stat().st_mtime_ns, time.time(), file))


# --- rekey --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RekeyResult:
    old_key_kept: Path


def _new_key_path(key_path: Path) -> Path:
    return key_path.with_name(f"{key_path.name}.new")


def _keep_old_key(key_path: Path) -> Path:
    """Hard-link the current key file to ``<key>.old-<timestamp>`` unless such a copy exists."""
    current = key_path.read_bytes()
    for kept in key_path.parent.glob(f"{key_path.name}.old-*"):
        if kept.read_bytes() == current:
            return kept
    def name(stamp: str) -> Path:
        return key_path.with_name(f"{key_path.name}.old-{stamp}")

    kept = name(_unused_stamp(name))  # two rekeys within one second keep both old keys
    os.link(key_path, kept)
    return kept


def _swap_in_new_key(key_path: Path) -> Path:
    kept = _keep_old_key(key_path)
    os.replace(_new_key_path(key_path), key_path)
    fsync_path(key_path.parent)
    return kept


def _check_rekeyable(config: Config) -> Path:
    key_path = config.key_path
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and key_path.parent == Path(creds):
        raise InvalidState(f"the data key comes from the systemd credential {key_path}: run rekey outside the"
                           " service with key_file set, then re-encrypt the credential (see docs/admin.md)")
    return key_path


def finish_interrupted_rekey(config: Config) -> str | None:
    """Bring the key files in line with the vault after a rekey was cut short; what was done.

    ``<key>.new`` exists only between "new key written" and "new key in place". If the vault
    still opens with the current key, the rekey never happened and the unused new key is removed;
    if it opens with the new key, the old key is kept aside and the new one moved into place.
    """
    key_path = config.key_path
    new_path = _new_key_path(key_path)
    if not new_path.exists() or not config.vault_path.exists():
        return None
    if opens_with(config.vault_path, read_key_file(key_path)):
        new_path.unlink()
        return f"an interrupted rekey had not changed the vault; removed the unused {new_path}"
    if opens_with(config.vault_path, read_key_file(new_path)):
        kept = _swap_in_new_key(key_path)
        match_state_owner(config)
        return f"finished an interrupted rekey: {key_path} holds the new key, the old one is kept as {kept}"
    raise WrongKey(config.vault_path, f"{key_path} (nor {new_path})")


def rekey(vault: Vault, actor: str) -> RekeyResult:
    """Re-encrypt the vault under a new random key (daemon stopped; the access layer checks the role).

    Steps, each leaving a vault that opens with one of the key files: write ``<key>.new``;
    ``PRAGMA rekey`` (one transaction: all pages or none); keep the old key as
    ``<key>.old-<timestamp>``; move the new key into place; reopen to verify; log ``rekey``.
    :func:`finish_interrupted_rekey` completes a run cut short between the steps.
    """
    config = vault.config
    ensure_daemon_stopped(config, "callrec rekey")
    key_path = _check_rekeyable(config)
    new_path = _new_key_path(key_path)
    if new_path.exists():
        raise InvalidState(f"{new_path} exists: an earlier rekey was interrupted; run 'callrec rekey' again to finish it")
    old_key = read_key_file(key_path)
    create_key_file(new_path)
    new_key = read_key_file(new_path)
    with vault._lock:
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        vault.conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
    kept = _swap_in_new_key(key_path)
    if not opens_with(config.vault_path, new_key) or opens_with(config.vault_path, old_key):
        raise InvalidState(f"rekey could not be verified: the vault does not open with the new key {key_path};"
                           f" the old key is kept as {kept}")
    vault.log_now(actor, "rekey", detail={"old_key_kept": str(kept)})
    vault.checkpoint()
    match_state_owner(config)
    return RekeyResult(kept)
