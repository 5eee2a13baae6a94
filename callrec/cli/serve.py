"""``callrec serve``: only the access socket, without capture (the daemon runs it too)."""

from __future__ import annotations

import argparse
import signal
import threading

from callrec.cli._context import Context
from callrec.vault import Vault


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the access socket for accounts without the data key")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from callrec.daemon import AccessServer

    Vault.open(ctx.config).close()
    server = AccessServer(ctx.config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    ctx.print(f"serving {ctx.config.socket_path}")
    ctx.out.flush()
    # A timed wait: a SIGTERM the kernel hands to another thread (after SIGSTOP/SIGCONT, say) only
    # runs its Python handler once the main thread wakes.
    while not stop.wait(1.0):
        pass
    server.stop()
    return 0
