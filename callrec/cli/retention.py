"""``callrec retention run [--dry-run]``: purge calls past ``[retention] keep_days`` (admin)."""

from __future__ import annotations

import argparse
import time

from callrec.cli._context import Context
from callrec.vault._guard import require_role
from callrec.vault._retention import plan_retention, run_retention


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retention", help="purge calls older than [retention] keep_days, except those on legal hold (admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = s.add_parser("run", help="purge now (every purge is written to the access log)")
    r.add_argument("--dry-run", action="store_true", help="only list the call ids that would be purged or are held")
    p.set_defaults(func=run)


def _ids(ids: tuple[int, ...]) -> str:
    return " ".join(map(str, ids)) or "-"


def run(ctx: Context, args: argparse.Namespace) -> int:
    vault = ctx.vault
    keep_days = ctx.config.retention.keep_days
    now = time.time()
    if keep_days == 0:
        ctx.print("retention: keep_days = 0 (keep forever): nothing is purged")
    if args.dry_run:
        require_role(vault, ctx.actor, "retention.plan", "admin")
        plan = plan_retention(vault, now, keep_days)
        ctx.print(f"would purge {len(plan.due)} call(s): {_ids(plan.due)}")
        ctx.print(f"on legal hold {len(plan.held)} call(s): {_ids(plan.held)}")
        return 0
    purged, held = run_retention(vault, now, keep_days, actor=ctx.actor)
    if keep_days:
        ctx.print(f"purged {purged} call(s) older than {keep_days} days; kept {held} on legal hold")
    return 0
