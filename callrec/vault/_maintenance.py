"""Planned maintenance windows as the vault stores them; the rules (how long, what a window
explains) are the health layer's."""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.vault._store import Vault

__all__ = ["MaintenanceWindow", "insert_maintenance_window", "maintenance_windows"]


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    from_ts: float
    to_ts: float
    reason: str
    actor: str
    created_ts: float


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


def maintenance_windows(vault: Vault, start: float | None = None, end: float | None = None) -> list[MaintenanceWindow]:
    """Windows overlapping ``[start, end)`` (all when not given), oldest first."""
    rows = vault.query(
        "SELECT id, from_ts, to_ts, reason, actor, created_ts FROM maintenance_windows"
        " WHERE to_ts > ? AND from_ts < ? ORDER BY from_ts, id",
        (float("-inf") if start is None else start, float("inf") if end is None else end))
    return [MaintenanceWindow(*row) for row in rows]
