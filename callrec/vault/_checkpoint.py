"""Signed checkpoints of the access-log head, kept outside the vault.

A checkpoint is one JSON line ``{"seq", "hash", "ts", "sig"}`` appended to the witness file;
``sig`` is an Ed25519 signature over ``"seq:hash:ts"`` by the checkpoint key. The key is never
inside the vault: the daemon gets it as the systemd credential ``checkpoint-key`` (a root-only or
TPM-sealed file, ``docs/design/vault.md`` "Key custody"), so reading the vault does not give it.

The vault counts the checkpoints it wrote (``checkpoint_state``) and every access-log entry
carries that count, so a witness file that is deleted, replaced or cut short is a finding, not a
fresh start. The same signed head goes into each daily report and alert and is printed by
``callrec log head``, so that copies kept off the host catch a rewrite by someone who holds
every key (``callrec verify --trusted-head``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlcipher3

from callrec.errors import KeyFileInvalid, KeyFileMissing, KeyFileUnreadable
from callrec.vault._accesslog import head

if TYPE_CHECKING:  # cryptography loads when a key is made, read or checked, not for a listing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["Checkpoint", "create_signing_key", "load_signing_key", "fingerprint", "write_checkpoint",
           "latest_checkpoint", "verify_checkpoint", "verify_trusted_heads", "checkpoints_written", "rebase_count",
           "signed_head", "signed_by", "parse_checkpoint", "state_message", "last_written"]


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: float
    sig: str

    def message(self) -> bytes:
        return f"{self.seq}:{self.hash}:{self.ts!r}".encode()


def create_signing_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileMissing(path) from None
    except PermissionError:
        raise KeyFileUnreadable(path) from None
    except ValueError:
        raise KeyFileInvalid(path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileInvalid(path)
    return key


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 over the 32 raw bytes of the public key, as 64 hex digits (what gets published)."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def checkpoints_written(conn: sqlcipher3.Connection) -> int:
    row = conn.execute("SELECT written FROM checkpoint_state").fetchone()
    return row[0] if row else 0


def state_message(written: int, seq: int, digest: str) -> bytes:
    """What the signature of the vault's checkpoint count covers (``checkpoint_state.sig``)."""
    return f"callrec-checkpoint-state:{written}:{seq}:{digest}".encode("ascii")


def _store_state(conn: sqlcipher3.Connection, signer: Ed25519PrivateKey, written: int, seq: int, digest: str) -> None:
    conn.execute("INSERT INTO checkpoint_state (id, written, seq, hash, sig) VALUES (1, ?, ?, ?, ?)"
                 " ON CONFLICT(id) DO UPDATE SET written = excluded.written, seq = excluded.seq,"
                 " hash = excluded.hash, sig = excluded.sig",
                 (written, seq, digest, signer.sign(state_message(written, seq, digest)).hex()))


#: The newest checkpoint this process wrote, per witness file (the status file and the journal
#: carry it; nothing re-reads the witness for it).
_LAST: dict[Path, Checkpoint] = {}


def write_checkpoint(conn: sqlcipher3.Connection, signer: Ed25519PrivateKey, witness: Path) -> Checkpoint | None:
    """Append a checkpoint of the current head unless the newest one already covers it.

    Call inside a write transaction: the signed count in ``checkpoint_state`` moves with the
    witness line (the line is written first, so a crash leaves the witness longer than the count,
    never shorter). Whether the head moved is read from ``checkpoint_state``, not from the witness:
    under the write lock the only file I/O is the append and its fsync.
    """
    seq, digest = head(conn)
    row = conn.execute("SELECT written, seq, hash FROM checkpoint_state").fetchone()
    if row is not None and row[1] == seq and row[2] == digest:
        return None
    written = row[0] if row else sum(cp is not None for cp in _read(witness))  # a vault migrated from schema 2
    unsigned = Checkpoint(seq, digest, time.time(), "")
    cp = Checkpoint(seq, digest, unsigned.ts, signer.sign(unsigned.message()).hex())
    fd = os.open(witness, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(asdict(cp)) + "\n")
        f.flush()
        os.fsync(f.fileno())
    _store_state(conn, signer, written + 1, seq, digest)
    _LAST[witness] = cp
    return cp


def rebase_count(conn: sqlcipher3.Connection, signer: Ed25519PrivateKey, witness: Path) -> None:
    """After a restore: the rebased witness is what the restored vault must hold from now on.

    Call before the ``restore`` entry is logged, so that entry carries the new count.
    """
    kept = [cp for cp in _read(witness) if cp is not None]
    _LAST.pop(witness, None)
    if not kept:
        conn.execute("DELETE FROM checkpoint_state")
        return
    _store_state(conn, signer, len(kept), kept[-1].seq, kept[-1].hash)


def parse_checkpoint(line: str) -> Checkpoint | None:
    """One witness line as a checkpoint; None for anything that is not exactly one."""
    try:
        data = json.loads(line)
        cp = Checkpoint(**data)
    except (ValueError, TypeError, RecursionError):
        return None
    ok = (type(cp.seq) is int and cp.seq >= 0 and isinstance(cp.hash, str) and isinstance(cp.sig, str)
          and type(cp.ts) in (int, float))
    return cp if ok else None


def _read(witness: Path) -> list[Checkpoint | None]:
    """Every line of the witness file; None for a line that is not a checkpoint."""
    try:
        lines = witness.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [parse_checkpoint(line) for line in lines]


#: How much of the witness's end is read for its newest line (a line is ~250 bytes).
_TAIL_BYTES = 8192


def last_written(witness: Path) -> Checkpoint | None:
    """The newest checkpoint this process wrote to ``witness`` (None before its first)."""
    return _LAST.get(witness)


def latest_checkpoint(witness: Path) -> Checkpoint | None:
    """The newest checkpoint in the witness file, read from its last lines (never the whole file)."""
    try:
        with open(witness, "rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - _TAIL_BYTES, 0))
            tail = f.read(_TAIL_BYTES).decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return None
    return next((cp for cp in map(parse_checkpoint, reversed(tail)) if cp is not None), None)


def _signed_state(conn: sqlcipher3.Connection, public: Ed25519PublicKey) -> tuple[tuple | None, list[str]]:
    """The vault's checkpoint count (written, seq, hash) when its signature holds. A count without
    a signature (written before schema 11) is not used, as if it had been deleted: the signed
    entries' ``checkpoints`` still say how many there must be. A wrong signature is a finding."""
    from cryptography.exceptions import InvalidSignature

    row = conn.execute("SELECT written, seq, hash, sig FROM checkpoint_state").fetchone()
    if row is None or row[3] is None:  # none, or one written before schema 11: as if deleted
        return None, []
    try:
        public.verify(bytes.fromhex(row[3] or ""), state_message(row[0], row[1], row[2]))
    except (InvalidSignature, ValueError):
        return None, ["checkpoint: the vault's checkpoint count is not signed by the checkpoint key"
                      " (edited with the data key alone)"]
    return row[:3], []


def _expected_count(conn: sqlcipher3.Connection, state: tuple | None) -> tuple[int, str]:
    """How many checkpoints the witness must hold, and where the vault says so."""
    in_table = state[0] if state else 0
    row = conn.execute("SELECT seq, checkpoints FROM access_log WHERE checkpoints IS NOT NULL"
                       " ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None and row[1] > in_table:
        return row[1], f"access log entry {row[0]}"
    return in_table, "the vault's checkpoint count"


def _state_findings(conn: sqlcipher3.Connection, state: tuple | None) -> list[str]:
    if state is None or not state[1]:
        return []
    row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (state[1],)).fetchone()
    if row is None:
        return [f"checkpoint: access log entry {state[1]}, the newest checkpointed, is gone (log truncated)"]
    if row[0] != state[2]:
        return [f"checkpoint: access log entry {state[1]} differs from its checkpoint (log rewritten)"]
    return []


def verify_checkpoint(conn: sqlcipher3.Connection, key_path: Path, witness: Path) -> list[str]:
    """Findings where the witness file does not match the chain in the vault.

    Every checkpoint is checked, not only the newest, so a truncation stays visible even after
    later checkpoints were written over the shortened chain; a witness with fewer checkpoints
    than the vault wrote is a finding of its own. The vault's count counts only when its
    signature by the checkpoint key holds.
    """
    public = load_signing_key(key_path).public_key()
    checkpoints = _read(witness)
    state, findings = _signed_state(conn, public)
    expected, source = _expected_count(conn, state)
    valid = sum(cp is not None for cp in checkpoints)
    if not witness.exists():
        findings.append(f"checkpoint: witness file {witness} is missing ({source} says {expected} checkpoint(s) were written)")
    elif not checkpoints:
        findings.append(f"checkpoint: witness file {witness} holds no checkpoint")
    elif valid < expected:
        findings.append(f"checkpoint: witness file {witness} holds {valid} checkpoint(s) but {source} says {expected}"
                        " were written (witness truncated or replaced)")
    findings += _state_findings(conn, state)
    for number, cp in enumerate(checkpoints, 1):
        if cp is None:
            findings.append(f"checkpoint: line {number} of {witness} is not a checkpoint")
            continue
        if not signed_by(public, cp):
            findings.append(f"checkpoint: line {number} of {witness} has a bad signature")
            continue
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (cp.seq,)).fetchone()
        if cp.seq and row is None:
            findings.append(f"checkpoint: access log entry {cp.seq} recorded in the witness file is gone (log truncated)")
        elif cp.seq and row[0] != cp.hash:
            findings.append(f"checkpoint: access log entry {cp.seq} differs from the witness file (log rewritten)")
    return findings


def signed_by(public: Ed25519PublicKey, cp: Checkpoint) -> bool:
    """True when ``cp`` carries a valid signature by the checkpoint key."""
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(bytes.fromhex(cp.sig), cp.message())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_trusted_heads(conn: sqlcipher3.Connection, heads: list[tuple[int, str]]) -> list[str]:
    """Findings where the chain does not contain a head kept outside the host."""
    findings = []
    for seq, digest in heads:
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            findings.append(f"trusted head {seq}: access log entry {seq} is gone (log truncated)")
        elif row[0] != digest.lower():
            findings.append(f"trusted head {seq}: access log entry {seq} differs from the head kept outside (log rewritten)")
    return findings


def signed_head(conn: sqlcipher3.Connection, witness: Path, public: Ed25519PublicKey) -> dict:
    """The newest signed checkpoint as a dict for reports, alerts and ``callrec log head``."""
    cp = latest_checkpoint(witness)
    out = {"seq": 0, "hash": head(conn)[1], "ts": None, "sig": None} if cp is None else asdict(cp)
    return {**out, "key_fingerprint": fingerprint(public)}
