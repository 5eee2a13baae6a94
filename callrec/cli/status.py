"""``callrec status [--json]``: is the recorder alive and how is it doing (maintainer, ops, admin).

No content: times, counts, a level, disk space. The use case is ``status`` in the access layer;
when no daemon answers an account without the data key, what the world-readable status file
still tells is printed instead.
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._remote import DaemonBusy, DaemonUnreachable
from callrec.errors import KeyFileUnreadable
from callrec.health import print_status, status_from_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="daemon, device, queue, disk and last test call; no content (maintainer, ops, admin)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    try:
        status = ctx.call("status")
    except (KeyFileUnreadable, DaemonUnreachable, DaemonBusy):  # a monitoring account and no daemon answered
        status = status_from_file(ctx.config)
    print_status(status, args.json, ctx.out)
    return 0
