"""Planned maintenance windows as the vault stores them; the rules (how long, what a window
explains, who may end or cancel one) are the health layer's. A window is never deleted: one ended
early keeps its announced end, one cancelled stays listed (and explains no gap)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.vault._store import Vault

__all__ = ["MaintenanceWindow", "cancel_maintenance_window", "end_maintenance_window", "insert_maintenance_window",
           "maintenance_window", "maintenance_windows"]

_COLUMNS = "id, from_ts, to_ts, reason, actor, created_ts, announced_to_ts, ended_by, cancelled_ts, cancelled_by"


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    from_ts: float
    to_ts: float
    reason: str
    actor: str
    created_ts: float
    #: The end as announced, when ``maintenance end`` ended the window early (``to_ts`` is then).
    announced_to_ts: float | None = None
    ended_by: str | None = None
    #: ``maintenance cancel``: the window explains no gap.
    cancelled_ts: float | None = None
    cancelled_by: str | None = None

    @property
    def state(self) -> str:
        return "cancelled" if self.cancelled_ts is not None else "ended early" if self.ended_by else "announced"


def insert_maintenance_window(vault: Vault, actor: str, from_ts: float, to_ts: float, reason: str) -> MaintenanceWindow:
    """Store one window and log who announced it, in one transaction."""
    now = time.time()
    with vault.transaction() as conn:
        window_id = conn.execute(
            "INSERT INTO maintenance_windows (from_ts, to_ts, reason, actor, created_ts) VALUES (?,?,?,?,?)",
            (from_ts, to_ts, reason, actor, now)).lastrowid
        vault.log(actor, "maintenance.add", reason=reason,
                  detail={"window": window_id, "from_ts": from_ts, "to_ts": to_ts})
    return MaintenanceWindow(window_id, from_ts, to_ts, reason, actor, now)


def _one(vault: Vault, window_id: int) -> MaintenanceWindow | None:
    rows = vault.conn.execute(f"SELECT {_COLUMNS} FROM maintenance_windows WHERE id = ?", (window_id,)).fetchall()
    return MaintenanceWindow(*rows[0]) if rows else None


def end_maintenance_window(vault: Vault, actor: str, window_id: int, now: float) -> MaintenanceWindow | None:
    """End a running window at ``now`` (logged); None when there is no such window. The caller has
    checked that it is running."""
    with vault.transaction() as conn:
        conn.execute("UPDATE maintenance_windows SET announced_to_ts = to_ts, to_ts = ?, ended_by = ?"
                     " WHERE id = ? AND cancelled_ts IS NULL", (now, actor, window_id))
        vault.log(actor, "maintenance.end", detail={"window": window_id, "to_ts": now})
        return _one(vault, window_id)


def cancel_maintenance_window(vault: Vault, actor: str, window_id: int, now: float) -> MaintenanceWindow | None:
    """Cancel a window that has not started (logged). The caller has checked that it has not."""
    with vault.transaction() as conn:
        conn.execute("UPDATE maintenance_windows SET cancelled_ts = ?, cancelled_by = ? WHERE id = ?",
                     (now, actor, window_id))
        vault.log(actor, "maintenance.cancel", detail={"window": window_id})
        return _one(vault, window_id)


def maintenance_windows(vault: Vault, start: float | None = None, end: float | None = None, *,
                        cancelled: bool = False) -> list[MaintenanceWindow]:
    """Windows overlapping ``[start, end)`` (all when not given), oldest first; cancelled ones only
    when asked (they explain no gap, but the report lists them)."""
    rows = vault.query(
        f"SELECT {_COLUMNS} FROM maintenance_windows"
        " WHERE to_ts > ? AND from_ts < ? AND (? OR cancelled_ts IS NULL) ORDER BY from_ts, id",
        (float("-inf") if start is None else start, float("inf") if end is None else end, cancelled))
    return [MaintenanceWindow(*row) for row in rows]


def maintenance_window(vault: Vault, window_id: int) -> MaintenanceWindow | None:
    return _one(vault, window_id)
