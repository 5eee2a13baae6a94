"""Calls as records, and the reads of calls that never touch content: times, kind, status, flags,
counts. Audio and transcripts are read through ``_content.py`` (logged) or by the service."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from callrec.config import DEFAULT_LINE
from callrec.vault._store import Vault

__all__ = [
    "Call",
    "RemovedCall",
    "calls_overlapping",
    "calls_started",
    "count_calls",
    "get_call",
    "get_calls",
    "has_calls",
    "last_test_call_ts",
    "removed_calls_overlapping",
]

_COLUMNS = ("id, started_ts, ended_ts, sample_rate, channels, kind, status, flags, frames, levels, pcm_sha256,"
            " sealed_ts, transcript_status, transcript_attempts, transcript_error, line")


@dataclass(frozen=True)
class Call:
    """One call's row, without its audio or transcripts."""

    id: int
    started_ts: float
    ended_ts: float | None
    sample_rate: int
    channels: int
    #: ``"call"`` or ``"test"``.
    kind: str
    #: ``"recording"``, ``"sealed"``, ``"interrupted"`` or ``"purged"``.
    status: str
    flags: tuple[str, ...]
    frames: int
    levels: dict = field(hash=False, compare=False)
    pcm_sha256: str | None
    sealed_ts: float | None
    #: The queue's own status (``"running"`` included; ``calls list`` shows that as pending).
    transcript_status: str
    transcript_attempts: int
    transcript_error: str | None
    #: The line it was recorded on (``[[lines]] name``; ``main`` without lines).
    line: str = DEFAULT_LINE

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def end_ts(self) -> float:
        """The end, or the start for a call that has none yet."""
        return self.ended_ts if self.ended_ts is not None else self.started_ts


@dataclass(frozen=True)
class RemovedCall:
    """A purged call's span and how it went: by an approved deletion request, or by retention."""

    started_ts: float
    end_ts: float
    #: The approved deletion request, or None when the retention policy purged it.
    request_id: int | None
    decided_ts: float | None


def _call(row: tuple) -> Call:
    return Call(*row[:7], tuple(json.loads(row[7])), row[8], json.loads(row[9]), *row[10:])


def get_call(vault: Vault, call_id: int) -> Call | None:
    rows = vault.query(f"SELECT {_COLUMNS} FROM calls WHERE id = ?", (call_id,))
    return _call(rows[0]) if rows else None


def get_calls(vault: Vault, call_ids: Sequence[int]) -> list[Call]:
    """The calls of ``call_ids`` that exist, by id."""
    if not call_ids:
        return []
    marks = ",".join("?" * len(call_ids))
    return [_call(r) for r in vault.query(f"SELECT {_COLUMNS} FROM calls WHERE id IN ({marks}) ORDER BY id",
                                          tuple(call_ids))]


def calls_started(vault: Vault, start_ts: float, end_ts: float, *, kind: str | None = None,
                  purged: bool = False, line: str | None = None) -> list[Call]:
    """Calls started in ``[start_ts, end_ts)`` (on ``line``, or any), oldest first; purged ones only when asked."""
    sql = f"SELECT {_COLUMNS} FROM calls WHERE started_ts >= ? AND started_ts < ?"
    args: list = [start_ts, end_ts]
    if line is not None:
        sql += " AND line = ?"
        args.append(line)
    if kind is not None:
        sql += " AND kind = ?"
        args.append(kind)
    if not purged:
        sql += " AND status != 'purged'"
    return [_call(r) for r in vault.query(sql + " ORDER BY started_ts, id", args)]


def calls_overlapping(vault: Vault, start_ts: float, end_ts: float, *, purged: bool = True) -> list[Call]:
    """Calls whose ``[started_ts, end_ts]`` overlaps ``(start_ts, end_ts)``, oldest first."""
    sql = (f"SELECT {_COLUMNS} FROM calls WHERE started_ts < ? AND coalesce(ended_ts, started_ts) > ?"
           + ("" if purged else " AND status != 'purged'"))
    return [_call(r) for r in vault.query(sql + " ORDER BY started_ts, id", (end_ts, start_ts))]


def removed_calls_overlapping(vault: Vault, start_ts: float, end_ts: float) -> list[RemovedCall]:
    """Purged calls overlapping ``(start_ts, end_ts)``, oldest first, with the deletion that removed them."""
    rows = vault.query(
        "SELECT c.started_ts, coalesce(c.ended_ts, c.started_ts), d.id, d.decided_ts FROM calls c"
        " LEFT JOIN deletion_requests d ON d.call_id = c.id AND d.status = 'approved'"
        " WHERE c.status = 'purged' AND c.started_ts < ? AND coalesce(c.ended_ts, c.started_ts) > ? ORDER BY c.started_ts",
        (end_ts, start_ts))
    return [RemovedCall(*r) for r in rows]


def has_calls(vault: Vault) -> bool:
    """Whether any call was ever recorded."""
    return bool(vault.query("SELECT 1 FROM calls LIMIT 1"))


def count_calls(vault: Vault, since_ts: float, until_ts: float | None = None, kind: str = "call") -> int:
    """Calls of ``kind`` started in ``[since_ts, until_ts)`` (purged ones included: they were recorded)."""
    sql, args = "SELECT count(*) FROM calls WHERE kind = ? AND started_ts >= ?", [kind, since_ts]
    if until_ts is not None:
        sql += " AND started_ts < ?"
        args.append(until_ts)
    return vault.query(sql, args)[0][0]


def last_test_call_ts(vault: Vault, line: str | None = None) -> float | None:
    """Start of the newest test call (on ``line``, or any), or None when there never was one."""
    if line is None:
        return vault.query("SELECT max(started_ts) FROM calls WHERE kind = 'test'")[0][0]
    return vault.query("SELECT max(started_ts) FROM calls WHERE kind = 'test' AND line = ?", (line,))[0][0]
