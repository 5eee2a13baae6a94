"""``callrec gap note``: an admin's words on a past gap (what happened), shown with it in the daily
report. A note never changes the gap's severity; it is written to the access log.

    callrec gap note --at TIME --text TEXT [--json]
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.timefmt import TIME_HELP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gap", help="notes on past gaps (admin)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    n = s.add_parser("note", help="say what happened in the gap holding --at (never changes its severity)")
    n.add_argument("--at", required=True, metavar="TIME", help=f"a moment inside the gap; {TIME_HELP}")
    n.add_argument("--text", required=True, help="what happened (no caller details: the report shows it)")
    n.add_argument("--json", action="store_true", help="print {id, at}")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.call("gap.note", at_iso=args.at, note=args.text)
    if getattr(args, "json", False):
        print_json(ctx, done)
    else:
        ctx.print(f"note {done.id} added to the gap at {done.at}")
    return 0
