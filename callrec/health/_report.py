"""The daily report: what the line did on one local day, with no content in it.

The JSON object is the contract in DESIGN.md ("Interfaces"); ``access_log``, ``chain_head``,
``in_service_since``, ``so_far``, ``measured`` and ``maintenance`` are additive keys. The report
also carries the head of the access-log chain, so each report is an external checkpoint, and
writing one appends a signed checkpoint to the witness file.

A report is computed from the vault whenever it is asked for, and covers only time that has passed
since the recorder went into service: today's report is "so far", a future day is an error. The
stored files in the reports directory are for days that are over; they are written by the daily
job and rewritten whenever that day's data changes (:func:`refresh_stored_report`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter
from datetime import tzinfo
from pathlib import Path

from callrec.asr import window_quality
from callrec.config import Config
from callrec.errors import HealthError
from callrec.health._checks import CHECKS, run_checks
from callrec.health._findings import Finding
from callrec.health._html import render_html
from callrec.health._maintenance import MaintenanceWindow, list_maintenance
from callrec.timefmt import day_bounds, format_ts
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.calls import CONTENT_ACTIONS, calls_started
from callrec.vault.log import archive_summary, signed_head
from callrec.vault.ops import Gap, coverage, gap_notes, in_service_since, measured_span
from callrec.vault.people import numbers_of_calls

__all__ = ["build_report", "day_window", "summary_line", "write_report", "report_paths", "refresh_stored_report",
           "refresh_stored_days",
           "ReportDayInFuture", "ReportDayBeforeService"]


class ReportDayInFuture(HealthError):
    """{0} has not begun yet: a report covers a day that has started (today's covers the time so far)"""


class ReportDayBeforeService(HealthError):
    """{0} is before the recorder was put in service ({1}): there is nothing to report for it"""


def day_window(day: dt.date, config: Config) -> tuple[float, float]:
    """Local midnight to local midnight (23 or 25 hours on a DST change)."""
    return day_bounds(day, config.zone)


def _calls(vault: Vault, start: float, end: float, line: str | None = None) -> tuple[dict, list[dict]]:
    started = calls_started(vault, start, end, line=line)
    rows = [(c.started_ts, c.end_ts, c.kind, c.transcript_status) for c in started]
    real = [r for r in rows if r[2] == "call"]
    status = Counter(r[3] for r in real)
    numbers = numbers_of_calls(vault, [c.id for c in started if c.kind == "call"])
    counts = {
        "recorded": len(real),
        "test_calls": len(rows) - len(real),
        "total_duration_s": round(sum(e - s for s, e, _, _ in real), 1),
        "transcribed": status["done"],
        "pending": status["pending"] + status["running"],
        "failed": status["failed"],
        "no_model": status["no_model"],
        # A data-quality figure: calls whose remote number is known (never which, never the number).
        "with_number": sum(1 for n in numbers.values() if n.remote),
    }
    return counts, [{"start": s, "end": e, "kind": k} for s, e, k, _ in rows]


def _access_summary(vault: Vault, start: float, end: float) -> dict:
    """Counts of content reads by actor and case, and of refused attempts; never reasons."""
    with vault.snapshot() as view:
        log = view.entries(start, end)
    reads = Counter((e.actor, e.case_id, e.action) for e in log
                    if e.outcome == "ok" and e.actor != SERVICE_ACTOR and e.action in CONTENT_ACTIONS)
    refused = Counter((e.actor, e.action) for e in log if e.outcome == "refused")
    return {
        "entries": len(log),
        "content_reads": sum(reads.values()),
        "reads": [{"actor": a, "case_id": c, "action": act, "count": n} for (a, c, act), n in sorted(reads.items(), key=str)],
        "refused": [{"actor": a, "action": act, "count": n} for (a, act), n in sorted(refused.items())],
    }


def _gaps_json(vault: Vault, gaps: list[tuple[str, Gap]], zone: tzinfo, named: bool) -> list[dict]:
    """Each gap (one per outage; with ``named``, its line) with the admins' notes on it (``gap
    note``; never a severity)."""
    notes = gap_notes(vault, min(g.start_ts for _, g in gaps), max(g.end_ts for _, g in gaps) + 0.001) if gaps else []
    out = []
    for name, g in gaps:
        item = _gap_json(g, zone, name if named else None)
        mine = [{"note": n.note, "by": n.actor} for n in notes if g.start_ts <= n.at_ts <= g.end_ts]
        if mine:
            item["notes"] = mine
        out.append(item)
    return out


def _window_json(w: MaintenanceWindow, zone) -> dict:
    """A maintenance window as the report lists it: who announced it and when, and whether it was
    ended early or cancelled (and by whom)."""
    item = {"start": format_ts(w.from_ts, zone, "seconds"), "end": format_ts(w.to_ts, zone, "seconds"),
            "reason": w.reason, "by": w.actor, "announced_at": format_ts(w.created_ts, zone, "seconds"),
            "state": w.state}
    if w.ended_by:
        item["ended_by"] = w.ended_by
    if w.cancelled_by:
        item["cancelled_by"] = w.cancelled_by
    return item


def build_report(vault: Vault, config: Config, day: dt.date, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    zone = config.zone
    start, end = day_window(day, config)
    if start > now:
        raise ReportDayInFuture(day.isoformat())
    since = in_service_since(vault)
    if end <= since:
        raise ReportDayBeforeService(day.isoformat(), format_ts(since, zone, "seconds"))
    lo, hi = measured_span(vault, start, end, now)
    per_line = {line.name: coverage(vault, start, end, now, line=line.name) for line in config.recorded_lines}
    ratio = min(r for r, _ in per_line.values())
    gaps = sorted(((name, g) for name, (_, line_gaps) in per_line.items() for g in line_gaps), key=lambda x: x[1].start_ts)
    findings = run_checks(vault, config, start=lo, end=hi, live=False, now=now)
    findings += [f for f in run_checks(vault, config, start=start, end=end, live=True, now=now, names=["access_log"])]
    calls, timeline = _calls(vault, start, end)
    vault.checkpoint()
    with vault.snapshot() as view:
        seq, digest = view.head()
    report = {
        "date": day.isoformat(),
        "window": {"start": format_ts(start, zone, "seconds"), "end": format_ts(end, zone, "seconds")},
        "so_far": end > now,
        "measured": {"start": format_ts(lo, zone, "seconds"), "end": format_ts(hi, zone, "seconds")},
        "in_service_since": format_ts(since, zone, "seconds"),
        "coverage_ratio": round(ratio, 6),
        "gaps": _gaps_json(vault, gaps, zone, bool(config.lines)),
        "findings": [f.to_json(zone) for f in findings],
        "lines": [_line_section(vault, config, line.name, per_line[line.name], findings, (start, end))
                  for line in config.recorded_lines],
        "maintenance": [_window_json(w, zone) for w in list_maintenance(vault, start, end, cancelled=True)],
        "calls": calls,
        "transcript_quality": window_quality(vault, start, end, config.asr.uncertain_below),
        "access_log": _access_summary(vault, start, end),
        "chain_head": {"seq": seq, "hash": digest},
        "signed_head": signed_head(vault),
        "archive": archive_summary(vault, zone),
        "generated_at": format_ts(now, zone, "seconds"),
    }
    report["summary"] = summary_line(report)
    report["_timeline"] = {"start": start, "end": end, "since": lo, "calls": timeline,
                           "gaps": [{"start": g.start_ts, "end": g.end_ts, "cause": g.cause} for _, g in gaps]}
    return report


def _gap_json(g: Gap, zone: tzinfo, line: str | None) -> dict:
    out = {"start": format_ts(g.start_ts, zone, "seconds"), "end": format_ts(g.end_ts, zone, "seconds"), "cause": g.cause}
    if line is not None:
        out["line"] = line
    return out


def _line_section(vault: Vault, config: Config, name: str, covered: tuple[float, list[Gap]], findings: list[Finding],
                  window: tuple[float, float]) -> dict:
    """One line's part of the day: its coverage, gaps, findings and calls (no number: the line's name)."""
    per_line = {c.name for c in CHECKS if c.per_line}
    mine = [f for f in findings if f.line_name == name or (not config.lines and f.check in per_line)]
    ratio, gaps = covered
    source = config.line(name).source
    return {"name": name, "source": source, "coverage_ratio": round(ratio, 6),
            "gaps": [_gap_json(g, config.zone, None) for g in gaps], "findings": [f.to_json(config.zone) for f in mine],
            "calls": _calls(vault, *window, line=name)[0]}


#: Keys that change with every build (not with the day's data).
_VOLATILE = ("generated_at", "chain_head", "summary", "archive")


def refresh_stored_report(vault: Vault, config: Config, day: dt.date, now: float | None = None) -> dict | None:
    """Build the day's report and store it when the day is over and the stored copy is missing or
    tells another story (a replay or a deletion changed the day). Returns the report, or None for
    a day that is not over yet or was before the start of service (nothing stored)."""
    now = time.time() if now is None else now
    if day_window(day, config)[1] > now:
        return None
    try:
        report = build_report(vault, config, day, now)
    except ReportDayBeforeService:
        return None
    path = report_paths(config, day)["json"]
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    fresh = {k: v for k, v in report.items() if not k.startswith("_") and k not in _VOLATILE}
    if stored is None or {k: v for k, v in stored.items() if k not in _VOLATILE} != fresh:
        write_report(report, config)
    return report


def refresh_stored_days(vault: Vault, config: Config, start_ts: float, end_ts: float) -> list[dt.date]:
    """After a change to ``[start_ts, end_ts]`` (a replay, a deletion): rewrite the stored reports
    of the days it touched that already have one. Returns the days rewritten or confirmed."""
    zone = config.zone
    day = dt.datetime.fromtimestamp(start_ts, zone).date()
    last = dt.datetime.fromtimestamp(end_ts, zone).date()
    done = []
    while day <= last:
        if report_paths(config, day)["json"].exists() and refresh_stored_report(vault, config, day) is not None:
            done.append(day)
        day += dt.timedelta(days=1)
    return done


def summary_line(report: dict) -> str:
    severities = Counter(f["severity"] for f in report["findings"])
    c = report["calls"]
    day = f"{report['date']} (so far, until {report['measured']['end'][11:16]})" if report.get("so_far") else report["date"]
    return (f"{day}: {report['coverage_ratio']:.1%} recorded, {len(report['gaps'])} gap(s), "
            f"{c['recorded']} call(s) and {c['test_calls']} test call(s), "
            f"{severities['critical']} critical, {severities['warning']} warning")


def report_paths(config: Config, day: dt.date) -> dict[str, Path]:
    base = config.reports_path / day.isoformat()
    return {"json": base.with_suffix(".json"), "html": base.with_suffix(".html"), "txt": base.with_suffix(".txt")}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_report(report: dict, config: Config) -> dict[str, Path]:
    """JSON, HTML and the one-line summary into the reports directory; returns the paths."""
    paths = report_paths(config, dt.date.fromisoformat(report["date"]))
    config.reports_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    _write_atomic(paths["json"], json.dumps(public, indent=2, ensure_ascii=False) + "\n")
    _write_atomic(paths["html"], render_html(report, config.zone))
    _write_atomic(paths["txt"], report["summary"] + "\n")
    return paths
