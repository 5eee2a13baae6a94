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
from callrec.vault.calls import calls_overlapping, removed_calls_overlapping
from callrec.vault.ops import cdr_calls_started, cdr_spans_overlapping

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
    zone = vault.config.zone
    return [(c.started_ts, c.end_ts, f"deleted by request {c.request_id} on {format_ts(c.decided_ts, zone, 'seconds')[:10]}"
             if c.request_id is not None else "purged by the retention policy")
            for c in removed_calls_overlapping(vault, start - slack, end + slack)]


def reconcile(vault: Vault, start: float, end: float, slack: float) -> Reconciliation:
    covered = cdr_spans_overlapping(vault, start, end)
    if not covered:
        return Reconciliation([], [], 0)
    exchange = cdr_calls_started(vault, start, end)
    recorded = [(c.started_ts, c.end_ts) for c in calls_overlapping(vault, start - slack, end + slack, purged=False)]
    tombstones = _tombstones(vault, start, end, slack)
    missing = [c for c in exchange if not _overlaps(c, recorded, slack)]
    removed = [(*c, next(why for s, e, why in tombstones if _overlaps(c, [(s, e)], slack)))
               for c in missing if _overlaps(c, [(s, e) for s, e, _ in tombstones], slack)]
    unrecorded = [c for c in missing if not _overlaps(c, [(s, e) for s, e, _ in tombstones], slack)]
    inside = [c for c in recorded if start <= c[0] < end and any(f <= c[0] <= t for f, t in covered)]
    unexpected = [c for c in inside if not _overlaps(c, exchange, slack)]
    return Reconciliation(unrecorded, unexpected, len(exchange) - len(missing), removed)
