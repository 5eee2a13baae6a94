"""``callrec health``: run every check now (monitoring-plugin exit codes) or show a daily report."""

from __future__ import annotations

import argparse

from callrec.access import CheckResult
from callrec.cli._context import Context
from callrec.cli._files import write_private_file
from callrec.cli._output import print_json
from callrec.cli._remote import DaemonUnreachable
from callrec.errors import CallrecError, KeyFileUnreadable, UsageError
from callrec.health import daemon_down_finding, plugin_status
from callrec.timefmt import DAY_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="recording health: checks and daily reports (ops, maintainer, admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = s.add_parser("check", help="run every check now; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    c.add_argument("--json", action="store_true", help="one object: code, status, summary, lines (same exit code)")
    r = s.add_parser("report", help="the report for one local day, computed from the vault now")
    r.add_argument("--date", default="yesterday", help=f"{DAY_HELP} (default: yesterday, the last complete day)")
    out = r.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the JSON object")
    out.add_argument("--html", action="store_true", help="the HTML page: written to --out FILE, else its path is printed")
    r.add_argument("--out", metavar="FILE", help="with --html: write the page to FILE (a new file, as this account)")
    # Kept for old scripts: every report is now computed from the vault when asked.
    r.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "check":
        result = _check(ctx)
        if args.json:
            print_json(ctx, {"code": result.code, "status": result.word, "summary": result.summary,
                             "lines": result.lines})
        else:
            ctx.print(f"CALLREC {result.word} - {result.summary}")
            for line in result.lines:
                ctx.print(line)
        return result.code
    return _report(ctx, args)


def _check(ctx: Context) -> CheckResult:
    """Plugin convention: a daemon that does not answer is CRITICAL (2); any error that stops the
    checks otherwise is UNKNOWN (3), with one line."""
    try:
        try:
            return ctx.call("health.check")
        except (KeyFileUnreadable, DaemonUnreachable):  # a monitoring account, and no daemon answered for it
            finding = daemon_down_finding(ctx.config)
            code, word = plugin_status([finding])
            return CheckResult(code, word, f"{finding.check}: {finding.message}", [])
    except CallrecError as exc:
        return CheckResult(3, "UNKNOWN", str(exc), [])


def _report(ctx: Context, args: argparse.Namespace) -> int:
    if args.out and not args.html:
        raise UsageError("--out goes with --html: the JSON and the summary are printed")
    done = ctx.call("health.report", date=args.date, html=bool(args.html))
    if args.json:
        print_json(ctx, done.report)
    elif args.html and args.out:
        path = write_private_file(args.out, done.html.encode("utf-8"), ctx.config)
        ctx.print(f"wrote {path}")
    elif args.html:
        ctx.print(done.html_path)
    else:
        ctx.print(done.report["summary"])
        for f in done.report["findings"]:
            span = f" [{f['start']} .. {f.get('end', 'now')}]" if "start" in f else ""
            ctx.print(f"{f['severity'].upper()} {f['check']}: {f['message']}{span}")
    return 0
