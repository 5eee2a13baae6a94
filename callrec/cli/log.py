"""``callrec log``: the access log.

    callrec log show [--from TIME] [--to TIME] [--actor NAME] [--call ID] [--case ID] [--json]
    callrec log head [--json]

``show`` (approvers, admins): who did what to which call or case, when, and with which result;
never content, reasons or details. ``head`` (anyone with a role): the signed chain head, to keep
off the host for ``callrec verify --trusted-head``.
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.timefmt import TIME_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("log", help="the access log: who read or changed what, and its signed head")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = s.add_parser("show", help="access-log entries, oldest first (approvers, admins; no content)")
    show.add_argument("--from", dest="from_", metavar="TIME", help=f"entries at or after this time; {TIME_HELP}")
    show.add_argument("--to", metavar="TIME", help="entries before this time; the same forms")
    show.add_argument("--actor", metavar="NAME", help="only this person's entries")
    show.add_argument("--call", type=int, metavar="ID", help="only entries about this call")
    show.add_argument("--case", type=int, metavar="ID", help="only entries about this case")
    show.add_argument("--json", action="store_true", help="a JSON array of seq, time, actor, action, result, call, case")
    show.set_defaults(func=_show)
    head = s.add_parser("head", help="the signed chain head (seq, hash, signature): keep it elsewhere for "
                                     "'verify --trusted-head'")
    head.add_argument("--json", action="store_true", help="one object: seq, hash, time, sig, key_fingerprint")
    head.set_defaults(func=_head)


def _show(ctx: Context, args: argparse.Namespace) -> int:
    rows = ctx.call("log.show", from_iso=args.from_, to_iso=args.to, by=args.actor, call_id=args.call,
                    case_id=args.case).entries
    if args.json:
        print_json(ctx, rows)
        return 0
    if not rows:
        ctx.print("no access-log entries match")
        return 0
    ctx.print(f"{'SEQ':>7}  {'TIME':<29}  {'ACTOR':<16} {'ACTION':<18} {'RESULT':<8} ABOUT")
    for r in rows:
        about = " ".join(f"{k} {v}" for k, v in (("call", r.call), ("case", r.case)) if v is not None)
        ctx.print(f"{r.seq:>7}  {r.time:<29}  {r.actor:<16} {r.action:<18} {r.result:<8} {about}")
    return 0


def _head(ctx: Context, args: argparse.Namespace) -> int:
    head = ctx.call("log.head")
    if args.json:
        print_json(ctx, head)
    else:
        ctx.print(f"seq={head.seq} hash={head.hash} ts={head.time or '-'} sig={head.sig} key={head.key_fingerprint}")
    return 0
