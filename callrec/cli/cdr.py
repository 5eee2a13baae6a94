"""``callrec cdr import FILE.csv``: load the exchange's call log for reconciliation."""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.cli._context import Context
from callrec.health import import_cdr
from callrec.timefmt import format_ts
from callrec.vault._guard import require_role


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cdr", help="the exchange's call log (ops, maintainer, admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = s.add_parser("import", help="import a CSV export; columns are mapped in [health.cdr]")
    i.add_argument("file", type=Path)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    vault = ctx.vault
    require_role(vault, ctx.actor, "cdr.import", "ops", "maintainer", "admin")
    done = import_cdr(vault, ctx.config, args.file, ctx.actor)
    zone = ctx.config.zone
    ctx.print(f"imported {done.hotline_calls} call(s) to the hotline ({done.new_calls} new) of {done.rows} row(s),"
              f" {format_ts(done.from_ts, zone, 'seconds')} .. {format_ts(done.to_ts, zone, 'seconds')}")
    return 0
