"""Matching the exchange's view of the line against what was recorded.

An exchange call to the hotline matches a recorded call (test calls included) when their spans
overlap, allowing ``slack`` seconds of clock difference. Recorded calls are only judged inside the
spans that an imported exchange log covers, so a day without an import yields nothing.

A call that was recorded and later lawfully removed (an approved deletion request, or the
retention policy) leaves a tombstone row with status ``purged``: an exchange call matching one is
``removed`` — information, not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.timefmt import format_ts
from callrec.vault import Vault

__all__ = ["Reconciliation", "reconcile"]


@dataclass(frozen=True)
class Reconciliation:
    #: Exchange calls (start, end) with no recorded call: the line rang and nothing was kept.
    unrecorded: list[tuple[float, float]]
    #: Recorded calls (start, end) that the exchange does not know about.
    unexpected: list[tuple[float, float]]
    matched: int
    #: Exchange calls (start, end, why) that were recorded and later removed lawfully.
    removed: list[tuple[float, float, str]] = field(default_factory=list)


def _overlaps(a: tuple[float, float], spans: list[tuple[float, float]], slack: float) -> bool:
    return any(s - slack < a[1] and a[0] < e + slack for s, e in spans)


def _tombstones(vault: Vault, start: float, end: float, slack: float) -> list[tuple[float, float, str]]:
    rows = vault.query(
        "SELECT c.started_ts, coalesce(c.ended_ts, c.started_ts), d.id, d.decided_ts FROM calls c"
        " LEFT JOIN deletion_requests d ON d.call_id = c.id AND d.status = 'approved'"
        " WHERE c.status = 'purged' AND c.started_ts < ? AND coalesce(c.ended_ts, c.started_ts) > ? ORDER BY c.started_ts",
        (end + slack, start - slack))
    zone = vault.config.zone
    return [(s, e, f"deleted by request {req} on {format_ts(when, zone, 'seconds')[:10]}" if req is not None
             else "purged by the retention policy") for s, e, req, when in rows]


def reconcile(vault: Vault, start: float, end: float, slack: float) -> Reconciliation:
    covered = vault.query("SELECT from_ts, to_ts FROM cdr_imports WHERE from_ts < ? AND to_ts > ?", (end, start))
    if not covered:
        return Reconciliation([], [], 0)
    exchange = [(s, e) for s, e in vault.query(
        "SELECT started_ts, ended_ts FROM cdr_calls WHERE started_ts >= ? AND started_ts < ? ORDER BY started_ts",
        (start, end))]
    recorded = [(s, e if e is not None else s) for s, e in vault.query(
        "SELECT started_ts, ended_ts FROM calls WHERE status != 'purged' AND started_ts < ? AND coalesce(ended_ts, started_ts) > ?"
        " ORDER BY started_ts", (end + slack, start - slack))]
    tombstones = _tombstones(vault, start, end, slack)
    missing = [c for c in exchange if not _overlaps(c, recorded, slack)]
    removed = [(*c, next(why for s, e, why in tombstones if _overlaps(c, [(s, e)], slack)))
               for c in missing if _overlaps(c, [(s, e) for s, e, _ in tombstones], slack)]
    unrecorded = [c for c in missing if not _overlaps(c, [(s, e) for s, e, _ in tombstones], slack)]
    inside = [c for c in recorded if start <= c[0] < end and any(f <= c[0] <= t for f, t in covered)]
    unexpected = [c for c in inside if not _overlaps(c, exchange, slack)]
    return Reconciliation(unrecorded, unexpected, len(exchange) - len(missing), removed)
