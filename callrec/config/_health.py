"""The ``[health]`` section: scheduled checks, the daily report, alerts, metrics and the
exchange call log (``[health.cdr]``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from callrec.config._fields import check

__all__ = ["HealthConfig", "CdrConfig"]


def _hhmm(value: str) -> bool:
    hh, _, mm = value.partition(":")
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


def _iso_or_empty(value: str) -> bool:
    try:
        return not value or bool(dt.datetime.fromisoformat(value))
    except ValueError:
        return False


def _hours(value: str) -> bool:
    start, sep, end = value.partition("-")
    return sep == "-" and _hhmm(start) and _hhmm(end) and start < end


@dataclass(frozen=True)
class CdrConfig:
    """Where the fields are in the exchange's call log export (a CSV file with a header row)."""

    #: The hotline's number as the exchange writes it; only rows for this number are imported.
    hotline_number: str = ""
    #: Column holding the number that was called (the hotline for incoming calls).
    called_column: str = "called"
    #: Column holding the caller's number; "" = not read. When set, a recorded call that a row
    #: matches keeps the caller's number in the vault (for cases scoped by number), nowhere else.
    caller_column: str = ""
    #: Country code under which national numbers (``03…``) of the call log are read.
    country_code: str = field(default="81", metadata=check(lambda v: v.isdigit() and 1 <= len(v) <= 3,
                                                            'must be 1 to 3 digits, e.g. "81"'))
    #: Column holding the time the call was answered or started.
    start_column: str = "start"
    #: Column holding the end time; "" when the export gives a duration instead.
    end_column: str = ""
    #: Column holding the duration in seconds (used when end_column is "").
    duration_column: str = "duration"
    #: strptime format of the time columns; "" = ISO 8601. Times without an offset are local.
    time_format: str = ""
    encoding: str = "utf-8"
    delimiter: str = field(default=",", metadata=check(lambda v: len(v) == 1, "must be one character"))
    #: Slack (seconds) allowed between the exchange's and the recorder's clocks when matching.
    match_slack_s: float = field(default=10.0, metadata=check(lambda v: 0 <= v <= 600, "must be between 0 and 600 seconds"))

    def problem(self) -> str | None:
        if not self.end_column and not self.duration_column:
            return "set end_column or duration_column"
        return None


@dataclass(frozen=True)
class HealthConfig:
    #: Local time at which the report for the previous day is written.
    report_time: str = field(default="06:00", metadata=check(_hhmm, 'must be "HH:MM"'))
    #: Local time of the nightly full cipher integrity check of the vault.
    integrity_time: str = field(default="03:30", metadata=check(_hhmm, 'must be "HH:MM"'))
    #: Seconds between two runs of the quick checks inside the daemon.
    check_interval_s: int = field(default=60, metadata=check(lambda v: 10 <= v <= 3600, "must be between 10 and 3600 seconds"))
    #: Command run with a critical finding's one-line summary on stdin ("" = journal only): once
    #: when an outage is raised, once when it is resolved, and again every renotify_hours while it lasts.
    alert_command: str = ""
    #: Hours between reminders of an outage that is still going on.
    renotify_hours: float = field(default=24.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: Seconds an alert command may run before it is killed (it runs in a worker of its own).
    alert_timeout_s: float = field(default=60.0, metadata=check(lambda v: 0 < v <= 3600, "must be between 0 and 3600 seconds"))
    #: When the recorder was put in service (ISO 8601; "" = when 'callrec init' made the vault).
    #: Time before it is "not in service", not a gap.
    in_service_since: str = field(default="", metadata=check(_iso_or_empty, "must be an ISO 8601 time such as 2026-08-01T09:00:00+09:00"))
    #: Log each scheduled job run at INFO (APScheduler's own lines); off keeps the journal quiet.
    log_job_runs: bool = False
    #: Prometheus textfile-collector file ("" = callrec.prom under state_dir).
    metrics_file: Path | None = None
    #: Gaps of the same cause that touch or lie less than this many seconds apart are one outage:
    #: one gap row (written so by the capture writer), one finding, one alert.
    gap_merge_s: float = field(default=5.0, metadata=check(lambda v: 0 <= v <= 600, "must be between 0 and 600 seconds"))
    #: Hours an outage that is over stays a WARNING in 'health check' (until 'callrec health ack
    #: CHECK'); only what is going on now is CRITICAL. The daily report keeps it critical for its day.
    recovered_window_h: float = field(default=24.0, metadata=check(lambda v: 0 <= v <= 24 * 31, "must be between 0 and 744 hours"))
    #: Heartbeat older than this (seconds) means capture is not alive.
    heartbeat_max_age_s: float = field(default=30.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: A test call is expected at least this often (hours).
    test_call_max_age_h: float = field(default=26.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: A call still waiting for its transcript after this many hours is a backlog warning.
    asr_backlog_max_age_h: float = field(default=6.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: Free space (percent of the vault's file system) below which disk is critical.
    disk_min_free_pct: float = field(default=5.0, metadata=check(lambda v: 0 <= v < 100, "must be between 0 and 100"))
    #: Days until the disk is full (at the last week's rate) below which disk is a warning.
    disk_min_days: float = field(default=30.0, metadata=check(lambda v: v >= 0, "must not be negative"))
    #: Local service hours of the hotline, "HH:MM-HH:MM", on the weekdays below.
    service_hours: str = field(default="08:30-17:15", metadata=check(_hours, 'must be "HH:MM-HH:MM"'))
    #: Weekdays of service, 0 = Monday.
    service_days: list[int] = field(default=(0, 1, 2, 3, 4), metadata=check(lambda v: all(0 <= d <= 6 for d in v), "must be weekdays 0 (Monday) to 6"))
    #: An hour of service with no call is a warning when the same weekday and hour had at least
    #: this many calls on average over the previous weeks.
    expected_calls_per_hour: float = field(default=3.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: How many previous weeks form the expected-activity baseline.
    baseline_weeks: int = field(default=4, metadata=check(lambda v: 1 <= v <= 52, "must be between 1 and 52"))
    #: Retention must have run within this many hours (when retention.keep_days > 0).
    retention_max_age_h: float = field(default=48.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: The nightly scrub re-hashes the least recently checked closed-day files, about 1/scrub_days
    #: of the archive a night, so that all of it is re-checked every scrub_days.
    scrub_days: int = field(default=30, metadata=check(lambda v: 1 <= v <= 366, "must be between 1 and 366"))
    cdr: CdrConfig = CdrConfig()
