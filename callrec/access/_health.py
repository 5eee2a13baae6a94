"""Health use cases for ops, maintainers and admins: run the checks now, a daily report, and the
exchange's call log (CDR) for reconciliation. No content."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import may
from callrec.errors import UsageError
from callrec.health import (
    build_report,
    import_cdr_bytes,
    live_window,
    plugin_status,
    refresh_stored_report,
    render_html,
    report_paths,
    run_checks,
)
from callrec.timefmt import format_ts, parse_day
from callrec.vault import Vault

__all__ = ["CdrImported", "CheckResult", "Report", "cdr_import", "health_check", "health_report"]


@dataclass(frozen=True)
class CheckResult:
    """Monitoring-plugin status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and one line per finding."""
    code: int
    word: str
    summary: str
    lines: list[str]


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


@use_case("health.check")
def health_check(vault: Vault, actor: Actor) -> CheckResult:
    now = time.time()
    start, end = live_window(now)
    findings = run_checks(vault, vault.config, start=start, end=end, live=True, now=now)
    code, word = plugin_status(findings)
    bad = [f for f in findings if f.severity != "ok"]
    summary = "; ".join(f"{f.check}: {f.message}" for f in bad[:3]) or "recording, every check passed"
    return CheckResult(code, word, summary, [f.line(vault.config.zone) for f in bad])


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
                       format_ts(done.to_ts, zone, "seconds"))
