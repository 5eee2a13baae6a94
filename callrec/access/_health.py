"""Health use cases for ops, maintainers and admins: run the checks now, a daily report, and the
exchange's call log (CDR) for reconciliation. No content."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import may
from callrec.errors import UsageError, did_you_mean
from callrec.health import (
    CHECK_NAMES,
    awaiting_ack,
    build_report,
    check_lines,
    import_cdr_bytes,
    live_window,
    plugin_status,
    present,
    refresh_stored_report,
    render_html,
    report_paths,
    run_checks,
)
from callrec.timefmt import format_ts, parse_day, parse_time
from callrec.vault import Vault
from callrec.vault.ops import add_ack, add_gap_note

__all__ = ["Acked", "CdrImported", "CheckResult", "GapNoted", "Report", "cdr_import", "check_result", "gap_note",
           "health_ack", "health_check", "health_report"]


@dataclass(frozen=True)
class CheckResult:
    """Monitoring-plugin status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and one line per finding."""
    code: int
    word: str
    summary: str
    lines: list[str]
    #: The checks with an outage that is over, a WARNING until someone acknowledges it (``health.ack``).
    unacknowledged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    #: The report's JSON object (the ``health report --json`` interface).
    report: dict
    #: The HTML page, when asked for.
    html: str | None
    #: Where the daemon keeps the page.
    html_path: str


@dataclass(frozen=True)
class CdrImported:
    rows: int
    hotline_calls: int
    new_calls: int
    from_at: str
    to_at: str
    #: Recorded calls that got their caller's number from this import (a count, never a number).
    numbered: int = 0


@dataclass(frozen=True)
class Acked:
    check: str
    at: str


@dataclass(frozen=True)
class GapNoted:
    id: int
    at: str


def check_result(vault: Vault, now: float) -> CheckResult:
    """The live check at ``now``: critical only for what is going on (see ``health.present``); the
    summary names each check once, then at most one line per check."""
    start, end = live_window(now)
    findings = present(vault, run_checks(vault, vault.config, start=start, end=end, live=True, now=now), now)
    code, word = plugin_status(findings)
    bad: dict[str, str] = {}
    for f in sorted((f for f in findings if f.severity != "ok"), key=lambda f: f.severity != "critical"):
        bad.setdefault(f.check, f.message)
    summary = "; ".join(f"{check}: {message}" for check, message in list(bad.items())[:3])
    return CheckResult(code, word, summary or "recording, every check passed", check_lines(findings, vault.config.zone),
                       awaiting_ack(findings))


@use_case("health.check")
def health_check(vault: Vault, actor: Actor) -> CheckResult:
    return check_result(vault, time.time())


@use_case("health.ack")
def health_ack(vault: Vault, actor: Actor, *, check: str) -> Acked:
    """The outages of ``check`` that are over have been seen: no longer a warning in the live check."""
    if check not in CHECK_NAMES:
        raise UsageError(f"no check named {check!r}{did_you_mean(check, CHECK_NAMES)}")
    now = time.time()
    add_ack(vault, actor.log_name, check, now)
    return Acked(check, format_ts(now, vault.config.zone, "seconds"))


@use_case("gap.note")
def gap_note(vault: Vault, actor: Actor, *, at_iso: str, note: str) -> GapNoted:
    """An admin's words on the past gap holding ``at_iso``, listed with it in the report."""
    zone = vault.config.zone
    at = parse_time(at_iso, zone, "--at")
    note = " ".join(note.split())
    if not note:
        raise UsageError("the note is empty: say what happened (e.g. 'power cut in the building')")
    if at > time.time():
        raise UsageError("--at is in the future: a note is for a gap that happened")
    done = add_gap_note(vault, actor.log_name, at, note, time.time())
    return GapNoted(done.id, format_ts(at, zone, "seconds"))


@use_case("health.report")
def health_report(vault: Vault, actor: Actor, *, date: str, html: bool = False) -> Report:
    """Computed from the vault now; a finished day's stored files are refreshed when they differ.
    The HTML page exists only for a finished day (it is written after midnight)."""
    config = vault.config
    day = parse_day(date, config.zone)
    now = time.time()
    report = refresh_stored_report(vault, config, day, now) or build_report(vault, config, day, now)
    path = report_paths(config, day)["html"]
    if html and report["so_far"]:
        raise UsageError(f"{day} is not over yet: its HTML page is written after midnight (use --json for so far)")
    page = None
    if not may(vault, actor, "report.who_read"):
        report = _anonymous(report)
        page = render_html(report, config.zone) if html else None
    elif html:
        page = path.read_text(encoding="utf-8")
    return Report({k: v for k, v in report.items() if not k.startswith("_")}, page, str(path))


def _counted(items: list[dict]) -> list[dict]:
    counts = Counter()
    for item in items:
        counts[item["action"]] += item["count"]
    return [{"action": action, "count": n} for action, n in sorted(counts.items())]


def _anonymous(report: dict) -> dict:
    """The report as the maintainer (the outside vendor) may see it: how many reads and refusals
    per action, never who read or was refused, nor in which case (DESIGN.md: "who investigates
    what")."""
    access = report["access_log"]
    return {**report, "access_log": {**access, "reads": _counted(access["reads"]), "refused": _counted(access["refused"])}}


@use_case("cdr.import")
def cdr_import(vault: Vault, actor: Actor, *, name: str, data: bytes) -> CdrImported:
    """``data`` is the file the caller read; ``name`` only labels it in messages."""
    done = import_cdr_bytes(vault, vault.config, data, name, actor.log_name)
    zone = vault.config.zone
    return CdrImported(done.rows, done.hotline_calls, done.new_calls, format_ts(done.from_ts, zone, "seconds"),
                       format_ts(done.to_ts, zone, "seconds"), done.numbered)
