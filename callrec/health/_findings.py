"""What a check says: a finding with a severity, a one-line message and maybe a time span."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from callrec.timefmt import format_ts

__all__ = ["SEVERITIES", "Finding", "worst", "plugin_status"]

SEVERITIES = ("ok", "warning", "critical")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
#: Monitoring-plugin exit codes (Nagios/Icinga/Sensu convention).
_PLUGIN = {"ok": (0, "OK"), "warning": (1, "WARNING"), "critical": (2, "CRITICAL")}


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    start_ts: float | None = None
    end_ts: float | None = None
    #: The check itself could not run (the plugin then says UNKNOWN unless something is critical).
    failed: bool = False
    #: Where the outage really began when the window cut ``start_ts`` (None: ``start_ts``).
    since_ts: float | None = None
    #: The span is over (a past gap); a finding without ``ended`` describes something going on.
    ended: bool = False
    #: The line it is about, where the config names lines (``[[lines]]``); None otherwise.
    line_name: str | None = None

    @property
    def outage_ts(self) -> float | None:
        return self.since_ts if self.since_ts is not None else self.start_ts

    @property
    def key(self) -> str:
        """Identity of one outage for alerts: the check and the outage's real start."""
        check = self.check if self.line_name is None else f"{self.check}[{self.line_name}]"
        return check if self.outage_ts is None else f"{check}@{self.outage_ts:.0f}"

    def line(self, zone: ZoneInfo) -> str:
        span = ""
        if self.start_ts is not None:
            end = format_ts(self.end_ts, zone, "seconds") if self.end_ts is not None else "now"
            span = f" [{format_ts(self.start_ts, zone, 'seconds')} .. {end}]"
        return f"{self.severity.upper()} {self.check}: {self.message}{span}"

    def to_json(self, zone: ZoneInfo) -> dict:
        out: dict = {"check": self.check, "severity": self.severity, "message": self.message}
        if self.start_ts is not None:
            out["start"] = format_ts(self.start_ts, zone, "seconds")
        if self.end_ts is not None:
            out["end"] = format_ts(self.end_ts, zone, "seconds")
        if self.line_name is not None:
            out["line"] = self.line_name
        return out


def worst(findings: Iterable[Finding]) -> str:
    return max((f.severity for f in findings), key=_RANK.__getitem__, default="ok")


def plugin_status(findings: list[Finding]) -> tuple[int, str]:
    """(exit code, word): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN when a check could not run."""
    severity = worst(findings)
    if severity != "critical" and any(f.failed for f in findings):
        return 3, "UNKNOWN"
    return _PLUGIN[severity]
