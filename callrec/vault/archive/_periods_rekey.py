"""Fresh keys for the closed day files after the data key was rotated (``callrec rekey --periods``).

Each day file has its own random key, kept in the hot file's ``periods`` row, so ``rekey`` of the
hot file alone leaves every day file under a key that an old copy of the hot file (with the old
data key) still reveals. Re-keying a day file writes its rows into a new file under a new random
key — through ``*.tmp``, fsynced, renamed: the same writer as closing a day — with a new name
(``<period>.k<timestamp>.db``), so a backup directory, which copies a day file by name once,
copies it again and drops the old one. In one hot-file transaction the ``periods`` row is pointed
at the new file and a signed ``period.rekey`` entry carries its SHA-256 (verify treats it like
``period.close``); the old file is deleted after that commit.

Which files are due: those whose newest registration (``period.close``/``period.amend``/
``period.rekey``) is older than the newest rotation of the data key (``rekey`` or
``rekey.finish``). A run cut short (kill -9) leaves each day file readable with the key its row
names — the new file is unregistered until the commit that names it, the old one is deleted only
after it — and the next run carries on with the files still due.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from callrec.vault._db import classify
from callrec.vault._store import Vault
from callrec.vault.archive._backup import ensure_daemon_stopped
from callrec.vault.archive._periods import _unlink_later, _write_file, file_sha256, open_period

__all__ = ["PeriodRekeyResult", "periods_due_for_rekey", "rekey_periods", "resuming_period_rekey"]

_ROTATIONS = ("rekey", "rekey.finish")
_REGISTRATIONS = ("period.close", "period.amend", "period.rekey")


@dataclass(frozen=True)
class PeriodRekeyResult:
    #: Day files given a fresh key by this run, and the bytes rewritten.
    files: int
    bytes: int


def _newest(vault: Vault, actions: tuple[str, ...]) -> int:
    marks = ",".join("?" * len(actions))
    return vault.query(f"SELECT coalesce(max(seq), 0) FROM access_log WHERE action IN ({marks})", actions)[0][0]


def periods_due_for_rekey(vault: Vault) -> list[str]:
    """Periods whose key was entered before the newest rotation of the data key, oldest first."""
    rotated = _newest(vault, _ROTATIONS)
    marks = ",".join("?" * len(_REGISTRATIONS))
    return [r[0] for r in vault.query(
        f"SELECT p.name FROM periods p LEFT JOIN (SELECT json_extract(detail, '$.period') AS name, max(seq) AS seq"
        f" FROM access_log WHERE action IN ({marks}) GROUP BY 1) r ON r.name = p.name"
        " WHERE coalesce(r.seq, 0) < ? ORDER BY p.name", (*_REGISTRATIONS, rotated))]


def resuming_period_rekey(vault: Vault) -> bool:
    """A ``rekey --periods`` run was cut short: files are still due and some were already re-keyed
    after the newest rotation (so the data key need not be rotated again)."""
    return _newest(vault, ("period.rekey",)) > _newest(vault, _ROTATIONS) and bool(periods_due_for_rekey(vault))


def _new_file_name(vault: Vault, name: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    file, n = f"{name}.k{stamp}.db", 1
    while (vault.periods_dir / file).exists() or (vault.periods_dir / f"{file}.tmp").exists():
        n += 1
        file = f"{name}.k{stamp}-{n}.db"
    return file


def _rekey_one(vault: Vault, actor: str, name: str) -> int:
    """Rewrite period ``name`` under a fresh key; the bytes of the new file (0 if the period
    changed meanwhile: it is left as it is)."""
    rows = vault.query("SELECT from_ts, to_ts, file, key FROM periods WHERE name = ?", (name,))
    if not rows:
        return 0
    from_ts, to_ts, old_file, old_key = rows[0]
    file = _new_file_name(vault, name)
    old = open_period(vault.periods_dir / old_file, bytes(old_key))
    try:
        audio = old.execute("SELECT call_id, seq, data FROM sealed_audio ORDER BY call_id, seq")
        key, _ = _write_file(vault.periods_dir, file, name, (from_ts, to_ts), audio)
    except sqlcipher3.DatabaseError as exc:  # a damaged old file, or a full disk for the new one
        raise classify(vault.periods_dir / old_file, exc) from None
    finally:
        old.close()
    path: Path = vault.periods_dir / file
    digest, st, now = file_sha256(path), path.stat(), time.time()
    with vault.transaction() as conn:
        if conn.execute("SELECT file FROM periods WHERE name = ?", (name,)).fetchone() != (old_file,):
            path.unlink()  # amended or dropped meanwhile (by a command that does not need the daemon stopped)
            return 0
        conn.execute("UPDATE periods SET file = ?, key = ?, sha256 = ?, bytes = ?, verified_ts = ?, mtime_ns = ?"
                     " WHERE name = ?", (file, key, digest, st.st_size, now, st.st_mtime_ns, name))
        vault.log(actor, "period.rekey", detail={"period": name, "file": file, "sha256": digest, "bytes": st.st_size,
                                                 "replaces": old_file})
        _unlink_later(vault, vault.periods_dir / old_file)
    return st.st_size


def rekey_periods(vault: Vault, actor: str) -> PeriodRekeyResult:
    """Give every day file due (:func:`periods_due_for_rekey`) a fresh key, one file per
    transaction, after the data key was rotated (daemon stopped; the access layer checks the role)."""
    ensure_daemon_stopped(vault.config, "callrec rekey --periods")
    conn = vault.conn
    before = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")  # the old keys' bytes are zeroed, not left in free pages
    files = written = 0
    try:
        for name in periods_due_for_rekey(vault):
            size = _rekey_one(vault, actor, name)
            files, written = files + bool(size), written + size
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(before)}")
    if files:
        vault.checkpoint()
    return PeriodRekeyResult(files, written)
