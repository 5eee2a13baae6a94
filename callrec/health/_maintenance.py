"""Planned maintenance: windows announced by the maintainer (or an admin) in which a gap is
expected. Checks report a gap inside a window as a ``maintenance`` warning instead of a critical
outage; the daily report lists the windows. Each announcement is written to the access log."""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.errors import UsageError
from callrec.vault import Vault

__all__ = ["MaintenanceWindow", "add_maintenance", "list_maintenance", "split_by_maintenance"]

#: Longest window one announcement may cover: a vendor visit, not a way to silence alerts.
MAX_WINDOW_S = 7 * 86400


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    from_ts: float
    to_ts: float
    reason: str
    actor: str
    created_ts: float


def add_maintenance(vault: Vault, actor: str, from_ts: float, to_ts: float, reason: str) -> MaintenanceWindow:
    """Store one window and log who announced it; the caller has checked the role."""
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("--reason is empty: say why (e.g. 'exchange firmware update')")
    if to_ts <= from_ts:
        raise UsageError("--to must be after --from")
    if to_ts - from_ts > MAX_WINDOW_S:
        raise UsageError("a maintenance window may last at most 7 days: announce longer work in parts")
    now = time.time()
    with vault.transaction() as conn:
        window_id = conn.execute(
            "INSERT INTO maintenance_windows (from_ts, to_ts, reason, actor, created_ts) VALUES (?,?,?,?,?)",
            (from_ts, to_ts, reason, actor, now)).lastrowid
        vault.log(actor, "maintenance.add", reason=reason,
                  detail={"window": window_id, "from_ts": from_ts, "to_ts": to_ts})
    return MaintenanceWindow(window_id, from_ts, to_ts, reason, actor, now)


def list_maintenance(vault: Vault, start: float | None = None, end: float | None = None) -> list[MaintenanceWindow]:
    """Windows overlapping ``[start, end)`` (all when not given), oldest first."""
    rows = vault.query(
        "SELECT id, from_ts, to_ts, reason, actor, created_ts FROM maintenance_windows"
        " WHERE to_ts > ? AND from_ts < ? ORDER BY from_ts, id",
        (float("-inf") if start is None else start, float("inf") if end is None else end))
    return [MaintenanceWindow(*row) for row in rows]


def split_by_maintenance(start: float, end: float, windows: list[MaintenanceWindow]
                         ) -> tuple[list[tuple[float, float]], list[tuple[float, float, MaintenanceWindow]]]:
    """The parts of ``[start, end]`` outside every window, and the parts inside one (with it)."""
    inside: list[tuple[float, float, MaintenanceWindow]] = []
    for w in sorted(windows, key=lambda w: w.from_ts):
        s, e = max(start, w.from_ts), min(end, w.to_ts)
        if e <= s:
            continue
        if inside and s <= inside[-1][1]:
            inside[-1] = (inside[-1][0], max(inside[-1][1], e), inside[-1][2])
        else:
            inside.append((s, e, w))
    outside, cursor = [], start
    for s, e, _ in sorted(inside, key=lambda p: p[0]):
        if s > cursor:
            outside.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        outside.append((cursor, end))
    return outside, inside
