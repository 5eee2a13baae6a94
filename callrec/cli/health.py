"""``callrec health``: run every check now (monitoring-plugin exit codes) or show a daily report."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from callrec.cli._context import Context
from callrec.errors import CallrecError, KeyFileUnreadable, UsageError
from callrec.health import (
    build_report,
    daemon_down_check,
    live_window,
    plugin_status,
    refresh_stored_report,
    report_paths,
    run_checks,
)
from callrec.vault._guard import require_role

HEALTH_ROLES = ("ops", "maintainer", "admin")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="recording health: checks and daily reports (ops, maintainer, admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s.add_parser("check", help="run every check now; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    r = s.add_parser("report", help="the report for one local day (written to the reports directory)")
    r.add_argument("--date", required=True, help="YYYY-MM-DD, a local day")
    out = r.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the JSON object")
    out.add_argument("--html", action="store_true", help="print the path of the HTML page")
    # Kept for old scripts: every report is now computed from the vault when asked.
    r.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check(ctx)
    return _report(ctx, args)


def _check(ctx: Context) -> int:
    """Plugin convention: any error that stops the checks is UNKNOWN (3), with one line."""
    try:
        try:
            vault = ctx.vault
        except KeyFileUnreadable:  # a monitoring account, and no daemon answered for it
            return daemon_down_check(ctx.config, ctx.out)
        require_role(vault, ctx.actor, "health.check", *HEALTH_ROLES)
        now = time.time()
        start, end = live_window(now)
        findings = run_checks(vault, ctx.config, start=start, end=end, live=True, now=now)
    except CallrecError as exc:
        ctx.print(f"CALLREC UNKNOWN - {exc}")
        return 3
    code, word = plugin_status(findings)
    bad = [f for f in findings if f.severity != "ok"]
    first = "; ".join(f"{f.check}: {f.message}" for f in bad[:3]) or "recording, every check passed"
    ctx.print(f"CALLREC {word} - {first}")
    for f in bad:
        ctx.print(f.line(ctx.config.zone))
    return code


def _report(ctx: Context, args: argparse.Namespace) -> int:
    """Computed from the vault now; a finished day's stored files are refreshed when they differ."""
    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        raise UsageError(f"--date {args.date!r} is not a date: give YYYY-MM-DD") from None
    vault = ctx.vault
    require_role(vault, ctx.actor, "health.report", *HEALTH_ROLES)
    now = time.time()
    report = refresh_stored_report(vault, ctx.config, day, now) or build_report(vault, ctx.config, day, now)
    if args.json:
        ctx.print(json.dumps({k: v for k, v in report.items() if not k.startswith("_")}, indent=2, ensure_ascii=False))
    elif args.html:
        paths = report_paths(ctx.config, day)
        if report["so_far"]:
            raise UsageError(f"{day} is not over yet: its HTML page is written after midnight (use --json for so far)")
        ctx.print(paths["html"])
    else:
        ctx.print(report["summary"])
        for f in report["findings"]:
            span = f" [{f['start']} .. {f.get('end', 'now')}]" if "start" in f else ""
            ctx.print(f"{f['severity'].upper()} {f['check']}: {f['message']}{span}")
    return 0
