"""What ``health check`` and the metrics say: the present, one line per check.

Only what is going on now is CRITICAL (an ongoing outage, a dead daemon, a failed integrity
check). An outage that is over stays a WARNING naming its span for ``[health]
recovered_window_h``, or until an ops person acknowledges it (``callrec health ack CHECK``); then
it is no longer a finding of the live check. The daily report and the alerts see the findings as
the checks made them (a past outage is critical for its day).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from callrec.health._checks import CHECKS
from callrec.health._findings import SEVERITIES, Finding
from callrec.vault import Vault
from callrec.vault.ops import acked_since

__all__ = ["CHECK_NAMES", "awaiting_ack", "check_lines", "present"]

CHECK_NAMES = tuple(c.name for c in CHECKS)


def _over(f: Finding) -> float | None:
    """When a critical finding's outage ended (None: it is going on)."""
    if f.severity != "critical" or not f.ended:
        return None
    return f.end_ts if f.end_ts is not None else f.start_ts


def present(vault: Vault, findings: Iterable[Finding], now: float) -> list[Finding]:
    """The findings as the live check reports them (see the module docstring)."""
    window = vault.config.health.recovered_window_h * 3600
    acks: dict[str, float | None] = {}
    out = []
    for f in findings:
        ended = _over(f)
        if ended is None:
            out.append(f)
            continue
        if f.check not in acks:
            acks[f.check] = acked_since(vault, f.check)
        acked = acks[f.check]
        if now - ended > window or (acked is not None and acked >= ended):
            continue
        out.append(dataclasses.replace(
            f, severity="warning", message=f"{f.message}{_over_hint(f.check)}"))
    return out


def _over_hint(check: str) -> str:
    return f", over (seen: 'callrec health ack {check}')"


def awaiting_ack(findings: Iterable[Finding]) -> list[str]:
    """The checks of :func:`present`'s findings with an outage that is over and not yet
    acknowledged (a WARNING until ``health ack``), each once, in order."""
    return list(dict.fromkeys(f.check for f in findings
                              if f.severity == "warning" and f.message.endswith(_over_hint(f.check))))


def check_lines(findings: Iterable[Finding], zone: ZoneInfo) -> list[str]:
    """At most one line per check: its worst finding, and how many more there are."""
    by_check: dict[str, list[Finding]] = {}
    for f in findings:
        if f.severity != "ok":
            by_check.setdefault(f.check, []).append(f)
    lines = []
    for mine in by_check.values():
        worst = max(mine, key=lambda f: SEVERITIES.index(f.severity))
        more = f" (+{len(mine) - 1} more)" if len(mine) > 1 else ""
        lines.append(worst.line(zone) + more)
    return lines
