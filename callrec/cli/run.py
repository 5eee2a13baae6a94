"""``callrec run``: the daemon (``callrec.daemon``). Captures the line into the vault, transcribes
sealed calls, runs the health checks and serves the access socket."""

from __future__ import annotations

import argparse
import logging

from callrec.cli._context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the capture daemon: record the line into the vault (run by systemd)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from callrec.daemon import run_daemon

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_daemon(ctx.config)
