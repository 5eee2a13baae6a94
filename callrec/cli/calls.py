"""``callrec calls list``: what was recorded, without content (ops, reviewers, approvers, admins)."""

from __future__ import annotations

import argparse
import json

from callrec.asr import quality_by_call
from callrec.cli._context import Context
from callrec.timefmt import parse_iso
from callrec.vault._calls import list_calls
from callrec.vault._guard import require_role


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calls", help="list recorded calls (no content)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="calls in a time window, oldest first")
    ls.add_argument("--from", dest="from_", required=True, metavar="ISO")
    ls.add_argument("--to", required=True, metavar="ISO")
    ls.add_argument("--json", action="store_true", help="a JSON array (the stable interface)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    zone = ctx.config.zone
    start, end = parse_iso(args.from_, zone, "--from"), parse_iso(args.to, zone, "--to")
    require_role(ctx.vault, ctx.actor, "calls.list", "ops", "reviewer", "approver", "admin")
    calls = list_calls(ctx.vault, start, end, zone)
    quality = quality_by_call(ctx.vault, [c["id"] for c in calls], ctx.config.asr.uncertain_below)
    for c in calls:
        c.update(quality[c["id"]].to_json() if c["id"] in quality else {"uncertain_share": None, "words_per_minute": None})
    if args.json:
        ctx.print(json.dumps(calls, ensure_ascii=False, indent=1))
        return 0
    for c in calls:
        ctx.print(f"{c['id']:>6}  {c['started_at']}  {c['duration_s']:>8.1f}s  {c['kind']:<4}  {c['status']:<11}"
                  f"  {c['transcript_status']:<8}  {','.join(c['flags'])}")
    return 0
