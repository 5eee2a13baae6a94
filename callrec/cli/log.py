"""``callrec log``: the access log. ``log head`` prints the signed chain head to keep off the host."""

from __future__ import annotations

import argparse
import json

from callrec.cli._context import Context
from callrec.timefmt import format_ts
from callrec.vault import ROLES, signed_head
from callrec.vault._guard import require_role


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("log", help="the access log")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    h = s.add_parser("head", help="the signed chain head (seq, hash, signature): keep it elsewhere for 'verify --trusted-head'")
    h.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    require_role(ctx.vault, ctx.actor, "log.head", *ROLES)  # any callrec user; a stranger's try is logged
    ctx.vault.checkpoint()
    head = signed_head(ctx.vault)
    if args.json:
        ctx.print(json.dumps(head))
    else:
        when = format_ts(head["ts"], ctx.config.zone, "seconds") if head["ts"] is not None else "-"
        ctx.print(f"seq={head['seq']} hash={head['hash']} ts={when} sig={head['sig']} key={head['key_fingerprint']}")
    return 0
