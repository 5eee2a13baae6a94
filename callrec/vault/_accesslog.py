"""The hash-chained access log.

Each entry's hash is SHA-256 over a canonical JSON encoding of its fields and the previous
entry's hash, so rewriting or removing any entry breaks every later link. Triggers refuse UPDATE
and DELETE; someone with the key who drops them is caught by :func:`verify_chain` and by the
signed checkpoints outside the vault (``_checkpoint.py``).

Entries hold ids, actions, reasons and hashes — never audio or transcript text.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlcipher3

__all__ = ["GENESIS", "LogEntry", "append", "entries", "head", "verify_chain", "entry_hash"]

GENESIS = "0" * 64


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


def entry_hash(seq: int, ts: float, actor: str, action: str, outcome: str, call_id: int | None,
               case_id: int | None, reason: str, detail: str, prev_hash: str) -> str:
    canonical = json.dumps(
        [seq, repr(ts), actor, action, outcome, call_id, case_id, reason, detail, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def head(conn: sqlcipher3.Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry, or (0, GENESIS)."""
    row = conn.execute("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def append(conn: sqlcipher3.Connection, actor: str, action: str, *, outcome: str = "ok",
           call_id: int | None = None, case_id: int | None = None, reason: str = "",
           detail: dict[str, Any] | None = None, ts: float | None = None) -> int:
    """Append one entry; the caller owns the transaction (BEGIN IMMEDIATE) so that the entry and
    the action it records commit together. Returns the entry's seq."""
    seq, prev = head(conn)
    seq += 1
    ts = time.time() if ts is None else ts
    detail_json = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = entry_hash(seq, ts, actor, action, outcome, call_id, case_id, reason, detail_json, prev)
    conn.execute(
        "INSERT INTO access_log (seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash, hash)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (seq, ts, actor, action, outcome, call_id, case_id, reason, detail_json, prev, digest),
    )
    return seq


def _row_to_entry(row: tuple) -> LogEntry:
    return LogEntry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]), row[9], row[10])


def entries(conn: sqlcipher3.Connection, since_ts: float | None = None, until_ts: float | None = None,
            action: str | None = None) -> list[LogEntry]:
    sql = "SELECT seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash, hash FROM access_log WHERE 1=1"
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


def verify_chain(conn: sqlcipher3.Connection) -> list[str]:
    """Findings (one line each) where the chain does not hold; empty when it does."""
    findings: list[str] = []
    expected_seq, prev = 1, GENESIS
    for row in conn.execute(
        "SELECT seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash, hash FROM access_log ORDER BY seq"
    ):
        seq = row[0]
        if seq != expected_seq:
            findings.append(f"access log: entries {expected_seq}..{seq - 1} are missing")
        if row[9] != prev:
            findings.append(f"access log: entry {seq} does not link to the entry before it")
        if entry_hash(*row[:9], row[9]) != row[10]:
            findings.append(f"access log: entry {seq} was altered (hash mismatch)")
        expected_seq, prev = seq + 1, row[10]
    return findings
