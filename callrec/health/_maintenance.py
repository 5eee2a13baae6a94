"""Planned maintenance: windows announced by the maintainer (or an admin) in which a gap is
expected. Checks report a gap inside a window as a ``maintenance`` warning instead of a critical
outage; the daily report lists the windows. Each announcement is written to the access log."""

from __future__ import annotations

from callrec.errors import UsageError
from callrec.vault import MaintenanceWindow, Vault, insert_maintenance_window, maintenance_windows

__all__ = ["MaintenanceWindow", "add_maintenance", "list_maintenance", "split_by_maintenance"]

#: Longest window one announcement may cover: a vendor visit, not a way to silence alerts.
MAX_WINDOW_S = 7 * 86400


def add_maintenance(vault: Vault, actor: str, from_ts: float, to_ts: float, reason: str) -> MaintenanceWindow:
    """Store one window and log who announced it; the caller has checked the role."""
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("--reason is empty: say why (e.g. 'exchange firmware update')")
    if to_ts <= from_ts:
        raise UsageError("--to must be after --from")
    if to_ts - from_ts > MAX_WINDOW_S:
        raise UsageError("a maintenance window may last at most 7 days: announce longer work in parts")
    return insert_maintenance_window(vault, actor, from_ts, to_ts, reason)


def list_maintenance(vault: Vault, start: float | None = None, end: float | None = None) -> list[MaintenanceWindow]:
    """Windows overlapping ``[start, end)`` (all when not given), oldest first."""
    return maintenance_windows(vault, start, end)


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
