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
           "latest_checkpoint", "verify_checkpoint", "verify_trusted_heads", "checkpoints_written", "rebase_count", "signed_head"]


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


def write_checkpoint(conn: sqlcipher3.Connection, signer: Ed25519PrivateKey, witness: Path) -> Checkpoint | None:
    """Append a checkpoint of the current head unless the newest one already covers it.

    Call inside a write transaction: the count in ``checkpoint_state`` moves with the witness line
    (the line is written first, so a crash leaves the witness longer than the count, never shorter).
    """
    seq, digest = head(conn)
    lines = _read(witness)
    last = next((cp for cp in reversed(lines) if cp is not None), None)
    if last is not None and last.seq == seq and last.hash == digest:
        return None
    row = conn.execute("SELECT written FROM checkpoint_state").fetchone()
    written = row[0] if row else sum(cp is not None for cp in lines)  # a vault migrated from schema 2
    unsigned = Checkpoint(seq, digest, time.time(), "")
    cp = Checkpoint(seq, digest, unsigned.ts, signer.sign(unsigned.message()).hex())
    fd = os.open(witness, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(asdict(cp)) + "\n")
        f.flush()
        os.fsync(f.fileno())
    conn.execute("INSERT INTO checkpoint_state (id, written, seq, hash) VALUES (1, ?, ?, ?)"
                 " ON CONFLICT(id) DO UPDATE SET written = excluded.written, seq = excluded.seq, hash = excluded.hash",
                 (written + 1, seq, digest))
    return cp


def rebase_count(conn: sqlcipher3.Connection, witness: Path) -> None:
    """After a restore: the rebased witness is what the restored vault must hold from now on.

    Call before the ``restore`` entry is logged, so that entry carries the new count.
    """
    kept = [cp for cp in _read(witness) if cp is not None]
    if not kept:
        conn.execute("DELETE FROM checkpoint_state")
        return
    conn.execute("INSERT INTO checkpoint_state (id, written, seq, hash) VALUES (1, ?, ?, ?)"
                 " ON CONFLICT(id) DO UPDATE SET written = excluded.written, seq = excluded.seq, hash = excluded.hash",
                 (len(kept), kept[-1].seq, kept[-1].hash))


def _read(witness: Path) -> list[Checkpoint | None]:
    """Every line of the witness file; None for a line that is not a checkpoint."""
    try:
        lines = witness.read_text().splitlines()
    except FileNotFoundError:
        return []
    out: list[Checkpoint | None] = []
    for line in lines:
        try:
            out.append(Checkpoint(**json.loads(line)))
        except (ValueError, TypeError):
            out.append(None)
    return out


def latest_checkpoint(witness: Path) -> Checkpoint | None:
    return next((cp for cp in reversed(_read(witness)) if cp is not None), None)


def _expected_count(conn: sqlcipher3.Connection) -> tuple[int, str]:
    """How many checkpoints the witness must hold, and where the vault says so."""
    in_table = checkpoints_written(conn)
    row = conn.execute("SELECT seq, checkpoints FROM access_log WHERE checkpoints IS NOT NULL"
                       " ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None and row[1] > in_table:
        return row[1], f"access log entry {row[0]}"
    return in_table, "the vault's checkpoint count"


def verify_checkpoint(conn: sqlcipher3.Connection, key_path: Path, witness: Path) -> list[str]:
    """Findings where the witness file does not match the chain in the vault.

    Every checkpoint is checked, not only the newest, so a truncation stays visible even after
    later checkpoints were written over the shortened chain; a witness with fewer checkpoints
    than the vault wrote is a finding of its own.
    """
    checkpoints = _read(witness)
    expected, source = _expected_count(conn)
    valid = sum(cp is not None for cp in checkpoints)
    findings: list[str] = []
    if not witness.exists():
        findings.append(f"checkpoint: witness file {witness} is missing ({source} says {expected} checkpoint(s) were written)")
    elif not checkpoints:
        findings.append(f"checkpoint: witness file {witness} holds no checkpoint")
    elif valid < expected:
        findings.append(f"checkpoint: witness file {witness} holds {valid} checkpoint(s) but {source} says {expected}"
                        " were written (witness truncated or replaced)")
    state = conn.execute("SELECT seq, hash FROM checkpoint_state").fetchone()
    if state is not None and state[0]:
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (state[0],)).fetchone()
        if row is None:
            findings.append(f"checkpoint: access log entry {state[0]}, the newest checkpointed, is gone (log truncated)")
        elif row[0] != state[1]:
            findings.append(f"checkpoint: access log entry {state[0]} differs from its checkpoint (log rewritten)")
    if not checkpoints:
        return findings
    from cryptography.exceptions import InvalidSignature

    public = load_signing_key(key_path).public_key()
    for number, cp in enumerate(checkpoints, 1):
        if cp is None:
            findings.append(f"checkpoint: line {number} of {witness} is not a checkpoint")
            continue
        try:
            public.verify(bytes.fromhex(cp.sig), cp.message())
        except (InvalidSignature, ValueError):
            findings.append(f"checkpoint: line {number} of {witness} has a bad signature")
            continue
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (cp.seq,)).fetchone()
        if cp.seq and row is None:
            findings.append(f"checkpoint: access log entry {cp.seq} recorded in the witness file is gone (log truncated)")
        elif cp.seq and row[0] != cp.hash:
            findings.append(f"checkpoint: access log entry {cp.seq} differs from the witness file (log rewritten)")
    return findings


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
