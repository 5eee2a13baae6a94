"""The checks: small units, each with a name, the severity it reports and a one-line message.

A check looks at the vault (never at content) for one window of time. *Live* checks describe the
state right now (is capture alive, is the disk filling) and run in ``callrec health check`` and
in the daemon; *window* checks describe what happened in a span (gaps, missing test call,
unrecorded exchange calls) and also make up the findings of the daily report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from callrec.asr import active_model, language_problem
from callrec.config import DEFAULT_LINE, Config
from callrec.errors import AsrError
from callrec.health._findings import Finding
from callrec.health._maintenance import MaintenanceWindow, list_maintenance, split_by_maintenance
from callrec.health._reconcile import reconcile
from callrec.health._status import days_until_full
from callrec.vault import Vault
from callrec.vault.calls import Call, calls_started, count_calls, last_test_call_ts, oldest_waiting_ts
from callrec.vault.log import damaged_pages, quick_check, verify_chain_since_last, verify_host_heads
from callrec.vault.ops import (
    Gap,
    capture_running,
    gaps_in,
    job_troubles,
    last_ok_run_ts,
    last_retention_ts,
    last_sign_of_life_ts,
    newest_session,
    open_gap_starts,
    tap_findings,
)

__all__ = ["Check", "CHECKS", "CheckContext", "Issue", "live_window", "run_checks", "SCHEDULER_JOB"]

#: The scheduler job whose silence is itself a finding.
SCHEDULER_JOB = "checks"


def live_window(now: float) -> tuple[float, float]:
    """What a live run looks back on: the last 24 hours."""
    return now - 86400, now


@dataclass(frozen=True)
class CheckContext:
    vault: Vault
    config: Config
    now: float
    #: The window looked at: the report's day, or the last 24 hours for a live run.
    start: float
    end: float
    live: bool
    #: Run the slow variants too (full cipher integrity check).
    thorough: bool = False
    #: The line a per-line check looks at (the ledger, calls, test calls of that line).
    line: str = DEFAULT_LINE


@dataclass(frozen=True)
class Issue:
    message: str
    start_ts: float | None = None
    end_ts: float | None = None
    severity: str | None = None
    since_ts: float | None = None
    ended: bool = False


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    func: Callable[[CheckContext], Iterable[Issue]]
    #: "live": state now; "window": a span; "both".
    scope: str
    #: Runs once per line (the line's ledger and calls) rather than once for the recorder.
    per_line: bool = False


CHECKS: list[Check] = []


def check(name: str, severity: str, scope: str, *, per_line: bool = False) -> Callable:
    def register(func: Callable[[CheckContext], Iterable[Issue]]) -> Callable:
        CHECKS.append(Check(name, severity, func, scope, per_line))
        return func
    return register


def _run_one(c: Check, ctx: CheckContext, label: str | None) -> list[Finding]:
    """One check's findings; a check that raises is a ``failed`` finding. ``label``: the line's
    name, put before the message and on the finding where the config names lines."""
    prefix = f"line {label}: " if label else ""
    try:
        issues = list(c.func(ctx))
    except Exception as exc:  # a broken check must show up, not vanish
        return [Finding(c.name, "warning", f"{prefix}check could not run ({type(exc).__name__})", failed=True,
                        line_name=label)]
    return [Finding(c.name, i.severity or c.severity, prefix + i.message, i.start_ts, i.end_ts, since_ts=i.since_ts,
                    ended=i.ended, line_name=label) for i in issues]


def run_checks(vault: Vault, config: Config, *, start: float, end: float, live: bool, now: float | None = None,
               thorough: bool = False, names: Iterable[str] | None = None,
               lines: Iterable[str] | None = None) -> list[Finding]:
    """Every applicable check: the recorder's once, a line's once per line in ``lines`` (default:
    every line recorded; an empty list runs only the recorder's). A check that raises becomes a
    ``failed`` finding, never silence."""
    ctx = CheckContext(vault, config, time.time() if now is None else now, start, end, live, thorough,
                       config.recorded_lines[0].name)
    wanted = set(names) if names is not None else None
    line_names = [line.name for line in config.recorded_lines] if lines is None else list(lines)
    contexts = [(dataclasses.replace(ctx, line=name), name if config.lines else None) for name in line_names]
    findings: list[Finding] = []
    for c in CHECKS:  # in their order, each line's after the other for a line's check
        if (wanted is not None and c.name not in wanted) or (c.scope == "live" and not live):
            continue
        for line_ctx, label in contexts if c.per_line else [(ctx, None)]:
            findings += _run_one(c, line_ctx, label)
    return findings


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _ledger_end(ctx: CheckContext) -> float:
    """Live windows stop one heartbeat interval short of now (the last seconds are not late yet) and
    at the newest session's last sign of life: the time since then is capture_alive's finding."""
    if not ctx.live:
        return ctx.end
    last = last_sign_of_life_ts(ctx.vault, ctx.line)
    end = min(ctx.end, ctx.now - ctx.config.health.heartbeat_max_age_s)
    return min(end, last) if last is not None else end


def _gaps(ctx: CheckContext, causes: tuple[str, ...]) -> Iterator:
    end = _ledger_end(ctx)
    if end <= ctx.start:
        return iter(())
    return (g for g in gaps_in(ctx.vault, ctx.start, end, ctx.now, line=ctx.line) if g.cause in causes)


def _windows(ctx: CheckContext) -> list[MaintenanceWindow]:
    return list_maintenance(ctx.vault, ctx.start - 86400, max(ctx.end, ctx.now) + 1)


def _maintenance_now(ctx: CheckContext) -> MaintenanceWindow | None:
    return next((w for w in _windows(ctx) if w.from_ts <= ctx.now < w.to_ts), None) if ctx.live else None


def _outside_maintenance(ctx: CheckContext, causes: tuple[str, ...]) -> Iterator[tuple[Gap, float, float]]:
    """Each gap of ``causes``, cut into the pieces that no maintenance window explains."""
    windows = _windows(ctx)
    for g in _gaps(ctx, causes):
        for s, e in split_by_maintenance(g.start_ts, g.end_ts, windows)[0]:
            yield g, s, e


def _gap_issue(g: Gap, s: float, e: float, message: str) -> Issue:
    """One finding per outage: keyed by where the gap really began, ended once it has an end."""
    return Issue(message, s, e, since_ts=g.since if s == g.start_ts else None, ended=not g.ongoing or e < g.end_ts)


@check("capture_alive", "critical", "live", per_line=True)
def capture_alive(ctx: CheckContext) -> Iterator[Issue]:
    # The daemon's newest session; a replay's session only when no daemon ever ran.
    session = newest_session(ctx.vault, ctx.line)
    planned = _maintenance_now(ctx)
    severity = "warning" if planned else None
    during = f" during planned maintenance ({planned.reason})" if planned else ""
    if session is None:
        yield Issue("capture has never run" + during, severity=severity)
        return
    beat, ended, cause = session.heartbeat_ts, session.ended_ts, session.end_cause
    if ended is not None:
        yield Issue(f"capture stopped ({cause or 'stopped'}){during}", start_ts=ended, severity=severity)
    elif ctx.now - beat > ctx.config.health.heartbeat_max_age_s:
        yield Issue(f"no capture heartbeat for {_minutes(ctx.now - beat)}{during}", start_ts=beat, severity=severity)


@check("device_present", "critical", "live", per_line=True)
def device_present(ctx: CheckContext) -> Iterator[Issue]:
    planned = _maintenance_now(ctx)
    for start in open_gap_starts(ctx.vault, "device_lost", ctx.line):
        if planned:
            yield Issue(f"the sound device is gone during planned maintenance ({planned.reason})", start_ts=start,
                        severity="warning")
        else:
            yield Issue("the sound device is gone", start_ts=start)


_OUTAGE_WORDS = {"service_stopped": "service stopped", "crash": "service crashed", "device_lost": "sound device lost",
                 "flatline": "constant input (line unplugged or dead)", "overflow": "capture queue full",
                 "tap_silent": "no packets on the mirrored interface"}


@check("service_gaps", "critical", "window", per_line=True)
def service_gaps(ctx: CheckContext) -> Iterator[Issue]:
    words = {k: _OUTAGE_WORDS[k] for k in ("service_stopped", "crash", "device_lost")}
    for g, s, e in _outside_maintenance(ctx, tuple(words)):
        yield _gap_issue(g, s, e, f"not recording for {_minutes(e - s)}: {words[g.cause]}")


@check("flatline", "critical", "window", per_line=True)
def flatline(ctx: CheckContext) -> Iterator[Issue]:
    for g, s, e in _outside_maintenance(ctx, ("flatline",)):
        yield _gap_issue(g, s, e, f"constant input for {_minutes(e - s)} (line unplugged or dead)")


@check("queue_overflow", "warning", "window", per_line=True)
def queue_overflow(ctx: CheckContext) -> Iterator[Issue]:
    for g, s, e in _outside_maintenance(ctx, ("overflow",)):
        yield _gap_issue(g, s, e, f"{_minutes(e - s)} of audio lost to a full capture queue")


@check("maintenance", "warning", "window", per_line=True)
def maintenance(ctx: CheckContext) -> Iterator[Issue]:
    """Gaps inside an announced maintenance window: expected, so a warning, with the reason."""
    windows = _windows(ctx)
    for g in _gaps(ctx, tuple(_OUTAGE_WORDS)):
        for s, e, w in split_by_maintenance(g.start_ts, g.end_ts, windows)[1]:
            yield _gap_issue(g, s, e, f"not recording for {_minutes(e - s)} during planned maintenance"
                                      f" ({w.reason}): {_OUTAGE_WORDS[g.cause]}")


def _calls(ctx: CheckContext) -> list[Call]:
    """The window's calls (purged ones left out)."""
    return calls_started(ctx.vault, ctx.start, ctx.end)


def _line_calls(ctx: CheckContext) -> list[Call]:
    """The window's calls of the check's line (purged ones left out)."""
    return calls_started(ctx.vault, ctx.start, ctx.end, line=ctx.line)


@check("clipping", "warning", "window", per_line=True)
def clipping(ctx: CheckContext) -> Iterator[Issue]:
    clipped = [c for c in _line_calls(ctx) if "clipped" in c.flags]
    if clipped:
        yield Issue(f"{len(clipped)} call(s) clipped: the input level is too high")


@check("asr", "warning", "both")
def asr(ctx: CheckContext) -> Iterator[Issue]:
    if not ctx.config.asr.enabled:
        return
    failed = sum(c.transcript_status == "failed" for c in _calls(ctx))
    if failed:
        yield Issue(f"{failed} transcription(s) failed")
    if ctx.live:
        oldest = oldest_waiting_ts(ctx.vault)
        if oldest is not None and ctx.now - oldest > ctx.config.health.asr_backlog_max_age_h * 3600:
            yield Issue(f"transcription backlog: the oldest waiting call is {_minutes(ctx.now - oldest)} old")


@check("model_installed", "warning", "live")
def model_installed(ctx: CheckContext) -> Iterator[Issue]:
    if not ctx.config.asr.enabled:
        return
    try:
        model = active_model(ctx.config)
    except AsrError as exc:
        yield Issue(str(exc), severity="critical")
        return
    if model is None:
        yield Issue("no speech model installed: calls are recorded but not transcribed (run 'callrec model import')")
    elif problem := language_problem(ctx.config, model):
        yield Issue(problem)


@check("disk", "warning", "live")
def disk(ctx: CheckContext) -> Iterator[Issue]:
    usage = shutil.disk_usage(ctx.config.vault_path.parent)
    free_pct = 100.0 * usage.free / usage.total
    if free_pct < ctx.config.health.disk_min_free_pct:
        yield Issue(f"only {free_pct:.1f}% disk free", severity="critical")
    days = days_until_full(ctx.vault, ctx.config, ctx.now)
    if days is not None and days < ctx.config.health.disk_min_days:
        yield Issue(f"disk full in about {days:.0f} days at the last week's rate",
                    severity="critical" if days < 7 else None)


@check("vault_integrity", "critical", "live")
def vault_integrity(ctx: CheckContext) -> Iterator[Issue]:
    rows = quick_check(ctx.vault)
    if rows != ["ok"]:
        yield Issue(f"vault quick_check reports {len(rows)} problem(s): run 'callrec verify'")
    if ctx.thorough:
        bad = damaged_pages(ctx.vault)
        if bad:
            yield Issue(f"vault cipher_integrity_check reports {bad} damaged page(s): restore from a backup")


@check("access_log", "critical", "live")
def access_log(ctx: CheckContext) -> Iterator[Issue]:
    """The chain from where it was last verified (every entry's hash and link, signatures of the
    new ones) and the witness file, as ``callrec verify`` checks them: a missing witness is a
    finding, not a reason to skip the comparison. The nightly (thorough) run also checks the
    signed heads in the status file and the journal, which catch a cut of the log's tail."""
    problems = verify_chain_since_last(ctx.vault)
    with ctx.vault.snapshot() as view:
        problems += view.verify_checkpoint(ctx.config.checkpoint_key_path, ctx.config.witness_path)
    if ctx.thorough:
        problems += verify_host_heads(ctx.vault)
    for line in problems:
        yield Issue(line)


@check("test_call", "warning", "both", per_line=True)
def test_call(ctx: CheckContext) -> Iterator[Issue]:
    if ctx.live:
        last = last_test_call_ts(ctx.vault, ctx.line)
        limit = ctx.config.health.test_call_max_age_h * 3600
        if last is None:
            yield Issue("no test call has ever been recorded")
        elif ctx.now - last > limit:
            yield Issue(f"the last test call is {_minutes(ctx.now - last)} old", start_ts=last)
    elif not any(c.kind == "test" for c in _line_calls(ctx)):
        yield Issue("no test call was recorded on this day")


def _service_hours(ctx: CheckContext) -> Iterator[tuple[float, float]]:
    """Start and end of every whole local service hour inside the window and before now."""
    zone, health = ctx.config.zone, ctx.config.health
    open_s, _, close_s = health.service_hours.partition("-")
    opens, closes = dt.time.fromisoformat(open_s), dt.time.fromisoformat(close_s)
    day = dt.datetime.fromtimestamp(ctx.start, zone).date()
    last = dt.datetime.fromtimestamp(ctx.end, zone).date()
    while day <= last:
        if day.weekday() in health.service_days:
            hour = dt.datetime.combine(day, opens, zone)
            close = dt.datetime.combine(day, closes, zone)
            while hour + dt.timedelta(hours=1) <= close:
                s, e = hour.timestamp(), (hour + dt.timedelta(hours=1)).timestamp()
                if s >= ctx.start and e <= min(ctx.end, ctx.now):
                    yield s, e
                hour += dt.timedelta(hours=1)
        day += dt.timedelta(days=1)


@check("expected_activity", "warning", "window")
def expected_activity(ctx: CheckContext) -> Iterator[Issue]:
    weeks = ctx.config.health.baseline_weeks
    zone = ctx.config.zone
    for s, e in _service_hours(ctx):
        if count_calls(ctx.vault, s, e):
            continue
        local = dt.datetime.fromtimestamp(s, zone)
        usual = 0
        for w in range(1, weeks + 1):
            ws = (local - dt.timedelta(weeks=w)).timestamp()
            usual += count_calls(ctx.vault, ws, ws + (e - s))
        if usual / weeks >= ctx.config.health.expected_calls_per_hour:
            yield Issue(f"no calls in a service hour that usually has {usual / weeks:.1f}", s, e)


@check("retention", "warning", "live")
def retention(ctx: CheckContext) -> Iterator[Issue]:
    if ctx.config.retention.keep_days <= 0:
        return
    last = last_retention_ts(ctx.vault)
    if last is None:
        yield Issue("retention has never run")
    elif ctx.now - last > ctx.config.health.retention_max_age_h * 3600:
        yield Issue(f"retention last ran {_minutes(ctx.now - last)} ago", start_ts=last)


@check("exchange_log", "critical", "window")
def exchange_log(ctx: CheckContext) -> Iterator[Issue]:
    end = _ledger_end(ctx)
    result = reconcile(ctx.vault, ctx.start, end, ctx.config.health.cdr.match_slack_s)
    for s, e in result.unrecorded:
        yield Issue(f"not recorded: the exchange logged a {_minutes(e - s)} call with no recording", s, e, ended=True)
    for s, e in result.unexpected:
        yield Issue("a recorded call has no entry in the exchange log", s, e, severity="warning", ended=True)
    for s, e, why in result.removed:
        yield Issue(f"recorded, then {why}", s, e, severity="ok", ended=True)


@check("scheduler", "warning", "both")
def scheduler(ctx: CheckContext) -> Iterator[Issue]:
    for t in job_troubles(ctx.vault, ctx.start, ctx.end):
        yield Issue(f"scheduled job {t.job} {'was missed' if t.outcome == 'missed' else 'failed'} {t.count} time(s)",
                    start_ts=t.first_ts)
    if not ctx.live:
        return
    session_open = capture_running(ctx.vault)
    last = last_ok_run_ts(ctx.vault, SCHEDULER_JOB)
    late = 5 * ctx.config.health.check_interval_s
    if session_open and last is not None and ctx.now - last > late:
        yield Issue(f"the daemon's scheduled checks have not run for {_minutes(ctx.now - last)}",
                    start_ts=last, severity="critical")


_TAP_WORDS = {"tap_silent": "no packets on the mirrored interface (mirror port or cable?)",
              "device_lost": "the tap's interface is gone", "overflow": "the kernel dropped packets"}


@check("tap", "critical", "window", per_line=True)
def tap(ctx: CheckContext) -> Iterator[Issue]:
    """What a line's tap saw but cannot record (e.g. SIP over TCP/TLS or SRTP for the number),
    and its silent mirror: never a silent miss."""
    for row in tap_findings(ctx.vault, ctx.line, ctx.start, ctx.end):
        yield Issue(f"{row.check}: {row.message}", start_ts=row.ts, severity=row.severity, ended=True)
    for g, s, e in _outside_maintenance(ctx, ("tap_silent",)):
        yield _gap_issue(g, s, e, f"not recording for {_minutes(e - s)}: {_TAP_WORDS['tap_silent']}")
