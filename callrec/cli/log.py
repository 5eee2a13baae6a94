"""``callrec log``: the access log, for approvers and admins.

    callrec log show [--from ISO] [--to ISO] [--actor NAME] [--call ID] [--case ID] [--json]

Who did what to which call or case, when, and with which result; never content, reasons or details.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from callrec.cli._context import Context
from callrec.timefmt import TIME_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("log", help="the access log: who read or changed what (approvers, admins)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = s.add_parser("show", help="access-log entries, oldest first (no content)")
    show.add_argument("--from", dest="from_", metavar="TIME", help=f"entries at or after this time; {TIME_HELP}")
    show.add_argument("--to", metavar="TIME", help="entries before this time; the same forms")
    show.add_argument("--actor", metavar="NAME", help="only this person's entries")
    show.add_argument("--call", type=int, metavar="ID", help="only entries about this call")
    show.add_argument("--case", type=int, metavar="ID", help="only entries about this case")
    show.add_argument("--json", action="store_true", help="a JSON array of seq, time, actor, action, result, call, case")
    show.set_defaults(func=_show)


def _show(ctx: Context, args: argparse.Namespace) -> int:
    rows = ctx.call("log.show", from_iso=args.from_, to_iso=args.to, by=args.actor, call_id=args.call,
                    case_id=args.case).entries
    if args.json:
        ctx.print(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        about = " ".join(f"{k} {v}" for k, v in (("call", r.call), ("case", r.case)) if v is not None)
        ctx.print(f"{r.seq:>7}  {r.time}  {r.actor:<16} {r.action:<18} {r.result:<8} {about}")
    return 0
