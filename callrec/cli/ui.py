"""``callrec ui``: the web page for reviewers, approvers, ops, maintainers and admins (``docs/ui.md``).

Only the command is registered here; the page (:mod:`callrec.ui`, Flask and Babel) is imported
when the command runs.
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="a web page for your role, served by your own process on 127.0.0.1 (docs/ui.md)")
    p.add_argument("--port", type=int, default=0, metavar="N", help="the port on 127.0.0.1 (default: any free port)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; do not open a browser")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from callrec.ui import run_ui

    return run_ui(ctx.config, args.port, not args.no_browser, ctx.out)
