"""The hash-chained access log.

Two entry formats share one chain. Format 1 (vaults written before schema 3): the hash is SHA-256
over a canonical JSON array of the fields and the previous hash. Format 2 (every entry after the
boundary kept in ``log_format``): the entry's *body* — a canonical JSON object of its fields, a
random nonce and the number of checkpoints written so far — is hashed on its own, and the link is
``SHA-256("callrec-log-v2:" + prev_hash + ":" + body_sha256)``. So a chain can be re-computed from
body digests alone, which lets a case package prove its own entries without showing anyone
else's (``docs/design/evidence.md``); the nonce keeps a digest from being guessed back.

Each format-2 entry also carries an Ed25519 signature by the checkpoint key over its seq and hash:
someone holding only the data key can drop the triggers and append an entry with a correct hash,
but not a valid signature. Whoever holds the signing key can rewrite everything; the signed heads
kept off the host (witness file, daily reports, ``callrec log head``) catch that.

Triggers refuse UPDATE and DELETE. Entries hold ids, actions, reasons and hashes — never audio or
transcript text.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlcipher3

if TYPE_CHECKING:  # cryptography loads when a signature is checked, not for a listing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["GENESIS", "LogEntry", "append", "entries", "head", "verify_chain", "entry_hash", "body_json",
           "body_sha256", "link_hash", "entry_message", "legacy_upto"]

GENESIS = "0" * 64
_COLUMNS = "seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash, hash, nonce, checkpoints, sig"


@dataclass(frozen=True)
class LogEntry:
    seq: int
    ts: float
    actor: str
    action: str
    outcome: str
    call_id: int | None
    case_id: int | None
    reason: str
    detail: dict
    prev_hash: str
    hash: str
    #: Format 2 only (None for format-1 entries).
    nonce: str | None = None
    checkpoints: int | None = None
    sig: str | None = None

    def body(self) -> str:
        """The canonical body of a format-2 entry (what its body digest covers)."""
        return body_json(self.seq, self.ts, self.actor, self.action, self.outcome, self.call_id, self.case_id,
                         self.reason, self.detail, self.checkpoints or 0, self.nonce or "")


def entry_hash(seq: int, ts: float, actor: str, action: str, outcome: str, call_id: int | None,
               case_id: int | None, reason: str, detail: str, prev_hash: str) -> str:
    """Format 1: SHA-256 over the canonical JSON array of the fields and the previous hash."""
    canonical = json.dumps(
        [seq, repr(ts), actor, action, outcome, call_id, case_id, reason, detail, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def body_json(seq: int, ts: float, actor: str, action: str, outcome: str, call_id: int | None,
              case_id: int | None, reason: str, detail: dict, checkpoints: int, nonce: str) -> str:
    """Format 2: the canonical body (sorted keys, no spaces, UTF-8 when encoded)."""
    return json.dumps(
        {"seq": seq, "ts": ts, "actor": actor, "action": action, "outcome": outcome, "call_id": call_id,
         "case_id": case_id, "reason": reason, "detail": detail, "checkpoints": checkpoints, "nonce": nonce},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, body_digest: str) -> str:
    """Format 2: the entry hash from the previous hash and the body's digest."""
    return hashlib.sha256(f"callrec-log-v2:{prev_hash}:{body_digest}".encode("ascii")).hexdigest()


def entry_message(seq: int, digest: str) -> bytes:
    """What an entry's signature covers."""
    return f"callrec-log-v2-entry:{seq}:{digest}".encode("ascii")


def head(conn: sqlcipher3.Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry, or (0, GENESIS)."""
    row = conn.execute("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def legacy_upto(conn: sqlcipher3.Connection) -> int:
    """The last seq written in format 1 (0 for a vault created with format 2, and when the row is
    gone: then every entry must be a signed format-2 entry, and a format-1 one fails its hash)."""
    row = conn.execute("SELECT legacy_upto FROM log_format").fetchone()
    return row[0] if row else 0


def append(conn: sqlcipher3.Connection, actor: str, action: str, *, signer: Ed25519PrivateKey,
           checkpoints: int = 0, outcome: str = "ok", call_id: int | None = None, case_id: int | None = None,
           reason: str = "", detail: dict[str, Any] | None = None, ts: float | None = None) -> int:
    """Append one signed format-2 entry; the caller owns the transaction (BEGIN IMMEDIATE) so that
    the entry and the action it records commit together. Returns the entry's seq."""
    seq, prev = head(conn)
    seq += 1
    ts = time.time() if ts is None else ts
    detail = json.loads(json.dumps(detail or {}))  # the stored form (tuples become lists)
    nonce = secrets.token_hex(16)
    body = body_json(seq, ts, actor, action, outcome, call_id, case_id, reason, detail, checkpoints, nonce)
    digest = link_hash(prev, body_sha256(body))
    sig = signer.sign(entry_message(seq, digest)).hex()
    detail_json = json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    conn.execute(
        f"INSERT INTO access_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (seq, ts, actor, action, outcome, call_id, case_id, reason, detail_json, prev, digest, nonce, checkpoints, sig),
    )
    return seq


def _row_to_entry(row: tuple) -> LogEntry:
    return LogEntry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]), row[9],
                    row[10], row[11], row[12], row[13])


def entries(conn: sqlcipher3.Connection, since_ts: float | None = None, until_ts: float | None = None,
            action: str | None = None) -> list[LogEntry]:
    sql = f"SELECT {_COLUMNS} FROM access_log WHERE 1=1"
    args: list[Any] = []
    if since_ts is not None:
        sql += " AND ts >= ?"
        args.append(since_ts)
    if until_ts is not None:
        sql += " AND ts < ?"
        args.append(until_ts)
    if action is not None:
        sql += " AND action = ?"
        args.append(action)
    return [_row_to_entry(r) for r in conn.execute(sql + " ORDER BY seq", args)]


def _expected_hash(row: tuple, boundary: int) -> str:
    seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev = row[:10]
    if seq <= boundary:
        return entry_hash(seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev)
    body = body_json(seq, ts, actor, action, outcome, call_id, case_id, reason, json.loads(detail),
                     row[12] if row[12] is not None else 0, row[11] or "")
    return link_hash(prev, body_sha256(body))


def _signed(public: Ed25519PublicKey, seq: int, digest: str, sig: str | None) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(bytes.fromhex(sig or ""), entry_message(seq, digest))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_chain(conn: sqlcipher3.Connection, public: Ed25519PublicKey | None = None,
                 since: tuple[int, str] | None = None, signed_after: int = 0) -> list[str]:
    """Findings (one line each) where the chain does not hold; empty when it does.

    With ``public`` (the checkpoint key), the signature of every format-2 entry after
    ``signed_after`` is checked too (an earlier run checked those before). With ``since`` (seq,
    hash) of an entry verified earlier, only the entries after it are checked, after checking
    that it still has that hash.
    """
    findings: list[str] = []
    boundary = legacy_upto(conn)
    expected_seq, prev = 1, GENESIS
    if since is not None:
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (since[0],)).fetchone()
        if row is None or row[0] != since[1]:
            return [f"access log: entry {since[0]} changed or vanished since it was last verified"]
        expected_seq, prev = since[0] + 1, since[1]
    for row in conn.execute(f"SELECT {_COLUMNS} FROM access_log WHERE seq >= ? ORDER BY seq", (expected_seq,)):
        seq = row[0]
        if seq != expected_seq:
            findings.append(f"access log: entries {expected_seq}..{seq - 1} are missing")
        if row[9] != prev:
            findings.append(f"access log: entry {seq} does not link to the entry before it")
        if _expected_hash(row, boundary) != row[10]:
            findings.append(f"access log: entry {seq} was altered (hash mismatch)")
        elif seq > max(boundary, signed_after) and public is not None and not _signed(public, seq, row[10], row[13]):
            findings.append(f"access log: entry {seq} is not signed by the checkpoint key (forged: appended without the signing key)")
        expected_seq, prev = seq + 1, row[10]
    return findings
