"""Signed checkpoints of the access-log head, kept outside the vault.

A checkpoint is one JSON line ``{"seq", "hash", "ts", "sig"}`` appended to the witness file;
``sig`` is an Ed25519 signature (key file beside the vault key, never inside the vault) over
``"seq:hash:ts"``. If someone with the data key truncates or rewrites the log, the newest
checkpoint no longer matches the chain and ``callrec verify`` says so.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec.errors import KeyFileInvalid, KeyFileMissing
from callrec.vault._accesslog import head

__all__ = ["Checkpoint", "create_signing_key", "write_checkpoint", "latest_checkpoint", "verify_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: float
    sig: str

    def message(self) -> bytes:
        return f"{self.seq}:{self.hash}:{self.ts!r}".encode()


def create_signing_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileMissing(path) from None
    except ValueError:
        raise KeyFileInvalid(path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileInvalid(path)
    return key


def write_checkpoint(conn: sqlcipher3.Connection, key_path: Path, witness: Path) -> Checkpoint | None:
    """Append a checkpoint of the current head unless the newest one already covers it."""
    seq, digest = head(conn)
    last = latest_checkpoint(witness)
    if last is not None and last.seq == seq and last.hash == digest:
        return None
    unsigned = Checkpoint(seq, digest, time.time(), "")
    sig = _load_key(key_path).sign(unsigned.message()).hex()
    cp = Checkpoint(seq, digest, unsigned.ts, sig)
    fd = os.open(witness, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(cp.__dict__) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return cp


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


def verify_checkpoint(conn: sqlcipher3.Connection, key_path: Path, witness: Path) -> list[str]:
    """Findings where any checkpoint in the witness file does not match the chain in the vault.

    Every checkpoint is checked, not only the newest, so a truncation stays visible even after
    later checkpoints were written over the shortened chain.
    """
    checkpoints = _read(witness)
    if not checkpoints:
        return [f"checkpoint: witness file {witness} holds no checkpoint"]
    public = _load_key(key_path).public_key()
    findings: list[str] = []
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
