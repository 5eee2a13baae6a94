"""``callrec calls list``: what was recorded, without content (ops, reviewers, approvers, admins)."""

from __future__ import annotations

import argparse
import json

from callrec.cli._context import Context
from callrec.timefmt import TIME_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calls", help="list recorded calls (no content)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="calls in a time window, oldest first")
    ls.add_argument("--from", dest="from_", metavar="TIME", help=f"start (default: today 00:00); {TIME_HELP}")
    ls.add_argument("--to", metavar="TIME", help="end (default: now); the same forms; a day alone means its end")
    ls.add_argument("--json", action="store_true", help="a JSON array (the stable interface)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    listing = ctx.call("calls.list", from_iso=args.from_, to_iso=args.to)
    calls = listing.calls
    if args.json:
        ctx.print(json.dumps(calls, ensure_ascii=False, indent=1))
        return 0
    if not calls:
        ctx.print(f"no calls in {listing.from_at} .. {listing.to_at}")
        return 0
    # The LINE column where the config names lines; a config without [[lines]] prints as before.
    width = max(4, *(len(line.name) for line in ctx.config.recorded_lines))
    lines = bool(ctx.config.lines)
    ctx.print(f"{'ID':>6}  {'LINE'.ljust(width) + '  ' if lines else ''}{'STARTED':<29}  {'DURATION':>9}  {'KIND':<4}"
              f"  {'STATUS':<11}  {'TRANSCRIPT':<10}  FLAGS")
    for c in calls:
        shown = f"{c['line'].ljust(width)}  " if lines else ""
        ctx.print(f"{c['id']:>6}  {shown}{c['started_at']}  {c['duration_s']:>8.1f}s  {c['kind']:<4}  {c['status']:<11}"
                  f"  {c['transcript_status']:<10}  {','.join(c['flags'])}")
    return 0
