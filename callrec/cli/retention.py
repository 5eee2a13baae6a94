"""``callrec retention run [--dry-run]``: purge calls past ``[retention] keep_days`` (admin)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retention", help="purge calls older than [retention] keep_days, except those on legal hold (admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = s.add_parser("run", help="purge now (every purge is written to the access log)")
    r.add_argument("--dry-run", action="store_true", help="only list the call ids that would be purged or are held")
    r.add_argument("--json", action="store_true", help="one object: keep_days, dry_run, due, held, purged")
    p.set_defaults(func=run)


def _ids(ids: list[int]) -> str:
    return " ".join(map(str, ids)) or "-"


def run(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.call("retention.run", dry_run=args.dry_run)
    if args.json:
        print_json(ctx, done)
        return 0
    if done.keep_days == 0:
        ctx.print("retention: keep_days = 0 (keep forever): nothing is purged")
    if done.dry_run:
        ctx.print(f"would purge {len(done.due)} call(s): {_ids(done.due)}")
        ctx.print(f"on legal hold {len(done.held)} call(s): {_ids(done.held)}")
    elif done.keep_days:
        ctx.print(f"purged {done.purged} call(s) older than {done.keep_days} days; kept {len(done.held)} on legal hold")
    return 0
