"""The ``[health]`` section: scheduled checks, the daily report and alerts."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["HealthConfig"]


def _hhmm(value: str) -> bool:
    hh, _, mm = value.partition(":")
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


@dataclass(frozen=True)
class HealthConfig:
    #: Local time at which the report for the previous day is written.
    report_time: str = field(default="06:00", metadata=check(_hhmm, 'must be "HH:MM"'))
    #: Command run with a critical finding's one-line summary on stdin ("" = journal only).
    alert_command: str = ""
    #: Heartbeat older than this (seconds) means capture is not alive.
    heartbeat_max_age_s: float = field(default=30.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: A test call is expected at least this often (hours).
    test_call_max_age_h: float = field(default=26.0, metadata=check(lambda v: v > 0, "must be positive"))
