"""Planned maintenance: windows announced ahead by the maintainer (or an admin) in which a gap is
expected. Checks report a gap inside a window as a ``maintenance`` warning instead of a critical
outage; the daily report lists the windows and who announced, ended or cancelled them. A window
can only be announced ahead (DESIGN.md invariant 3): one that starts in the past is refused for
every role, so a past outage can never be turned into a warning after the fact. Each
announcement, early end and cancellation is written to the access log."""

from __future__ import annotations

import time

from callrec.errors import NotFound, UsageError
from callrec.vault import Vault
from callrec.vault.ops import (
    MaintenanceWindow,
    cancel_maintenance_window,
    end_maintenance_window,
    insert_maintenance_window,
    maintenance_window,
    maintenance_windows,
)

__all__ = ["MaintenanceInPast", "MaintenanceWindow", "add_maintenance", "cancel_maintenance", "end_maintenance",
           "list_maintenance", "split_by_maintenance"]

#: Longest window one announcement may cover: a vendor visit, not a way to silence alerts.
MAX_WINDOW_S = 7 * 86400
#: "--from now" typed a moment ago is still now.
_NOW_SLACK_S = 60.0


class MaintenanceInPast(UsageError):
    """maintenance is announced ahead: --from {0} is in the past (a past gap stays an outage; an admin may add a note with 'callrec gap note')"""


class MaintenanceNotFound(NotFound):
    """maintenance window {0} not found: see 'callrec maintenance list'"""


def add_maintenance(vault: Vault, actor: str, from_ts: float, to_ts: float, reason: str, *,
                    now: float | None = None, from_text: str = "") -> MaintenanceWindow:
    """Store one window and log who announced it; the caller has checked the role."""
    now = time.time() if now is None else now
    reason = " ".join(reason.split())
    if not reason:
        raise UsageError("--reason is empty: say why (e.g. 'exchange firmware update')")
    if from_ts < now - _NOW_SLACK_S:
        raise MaintenanceInPast(from_text or f"{from_ts:.0f}")
    if to_ts <= from_ts:
        raise UsageError("--to must be after --from")
    if to_ts - from_ts > MAX_WINDOW_S:
        raise UsageError("a maintenance window may last at most 7 days: announce longer work in parts")
    return insert_maintenance_window(vault, actor, max(from_ts, min(now, from_ts + _NOW_SLACK_S)), to_ts, reason)


def _window(vault: Vault, window_id: int) -> MaintenanceWindow:
    window = maintenance_window(vault, window_id)
    if window is None or window.cancelled_ts is not None:
        raise MaintenanceNotFound(window_id)
    return window


def end_maintenance(vault: Vault, actor: str, window_id: int, now: float | None = None) -> MaintenanceWindow:
    """End a running window now (the work is done early); logged."""
    now = time.time() if now is None else now
    window = _window(vault, window_id)
    if window.from_ts > now:
        raise UsageError(f"maintenance window {window_id} has not started: cancel it with"
                         f" 'callrec maintenance cancel {window_id}'")
    if window.to_ts <= now:
        raise UsageError(f"maintenance window {window_id} is already over")
    return end_maintenance_window(vault, actor, window_id, now)


def cancel_maintenance(vault: Vault, actor: str, window_id: int, now: float | None = None) -> MaintenanceWindow:
    """Cancel a window that has not started; logged, and still listed in the report."""
    now = time.time() if now is None else now
    window = _window(vault, window_id)
    if window.from_ts <= now:
        raise UsageError(f"maintenance window {window_id} has started: end it with"
                         f" 'callrec maintenance end {window_id}' (a started window cannot be undone)")
    return cancel_maintenance_window(vault, actor, window_id, now)


def list_maintenance(vault: Vault, start: float | None = None, end: float | None = None, *,
                     cancelled: bool = False) -> list[MaintenanceWindow]:
    """Windows overlapping ``[start, end)`` (all when not given), oldest first; cancelled ones only
    when asked (the report and ``maintenance list`` show them; checks never count them)."""
    return maintenance_windows(vault, start, end, cancelled=cancelled)


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
