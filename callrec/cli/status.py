"""``callrec status [--json]``: is the recorder alive and how is it doing (maintainer, ops, admin).

No content: times, counts, a level, disk space. The use case is
:func:`callrec.health.collect_status`; this module only checks the role and prints.
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.errors import KeyFileUnreadable
from callrec.health import collect_status, print_status, status_from_file
from callrec.vault._guard import require_role

STATUS_ROLES = ("maintainer", "ops", "admin")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="daemon, device, queue, disk and last test call; no content (maintainer, ops, admin)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    try:
        vault = ctx.vault
    except KeyFileUnreadable:  # a monitoring account and no daemon answered: what the status file says
        print_status(status_from_file(ctx.config), args.json, ctx.out)
        return 0
    require_role(vault, ctx.actor, "status", *STATUS_ROLES)
    print_status(collect_status(vault, ctx.config), args.json, ctx.out)
    return 0
