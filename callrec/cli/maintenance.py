"""``callrec maintenance``: announce planned maintenance (maintainer, admin) and list it.

    callrec maintenance add --from ISO --to ISO --reason TEXT
    callrec maintenance list [--json]

Gaps inside an announced window are ``maintenance`` warnings instead of critical outages, and
the daily report lists the windows. Each announcement is written to the access log.
"""

from __future__ import annotations

import argparse
import dataclasses

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.timefmt import TIME_HELP, format_ts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("maintenance", help="announce or list planned maintenance (maintainer, admin)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = s.add_parser("add", help="announce a window in which the line may not be recorded")
    a.add_argument("--from", dest="from_", required=True, metavar="TIME", help=f"start; {TIME_HELP}")
    a.add_argument("--to", required=True, metavar="TIME", help="end; the same forms")
    a.add_argument("--reason", required=True, help="what is done (e.g. 'exchange firmware update')")
    li = s.add_parser("list", help="every announced window")
    li.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    zone = ctx.config.zone
    if args.action == "add":
        window = ctx.call("maintenance.add", from_iso=args.from_, to_iso=args.to, reason=args.reason)
        ctx.print(f"maintenance window {window.id} announced: {format_ts(window.from_ts, zone, 'seconds')} .. "
                  f"{format_ts(window.to_ts, zone, 'seconds')}: gaps inside it are warnings, not outages")
        return 0
    windows = ctx.call("maintenance.list").windows
    if args.json:
        print_json(ctx, [{**dataclasses.asdict(w), "from": format_ts(w.from_ts, zone, "seconds"),
                          "to": format_ts(w.to_ts, zone, "seconds")} for w in windows])
        return 0
    if not windows:
        ctx.print("no maintenance windows announced")
        return 0
    ctx.print("ID: FROM .. TO  BY: REASON")
    for w in windows:
        ctx.print(f"{w.id}: {format_ts(w.from_ts, zone, 'seconds')} .. {format_ts(w.to_ts, zone, 'seconds')}"
                  f"  by {w.actor}: {w.reason}")
    return 0
