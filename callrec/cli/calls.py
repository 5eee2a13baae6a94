"""``callrec calls list``: what was recorded, without content (ops, reviewers, approvers, admins)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_records
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
    if args.json:
        print_records(ctx, listing.calls.encoded())
        return 0
    # The LINE column where the config names lines; a config without [[lines]] prints as before.
    width = max(4, *(len(line.name) for line in ctx.config.recorded_lines))
    lines = bool(ctx.config.lines)
    shown = False
    for c in listing.calls:
        if not shown:
            ctx.print(f"{'ID':>6}  {'LINE'.ljust(width) + '  ' if lines else ''}{'STARTED':<29}  {'DURATION':>9}"
                      f"  {'KIND':<4}  {'STATUS':<11}  {'TRANSCRIPT':<10}  FLAGS")
            shown = True
        line = f"{c['line'].ljust(width)}  " if lines else ""
        ctx.print(f"{c['id']:>6}  {line}{c['started_at']}  {c['duration_s']:>8.1f}s  {c['kind']:<4}  {c['status']:<11}"
                  f"  {c['transcript_status']:<10}  {','.join(c['flags'])}")
    if not shown:
        ctx.print(f"no calls in {listing.from_at} .. {listing.to_at}")
    return 0
