"""The ``callrec`` command line: one module per command, found by name in this package.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` (``run(ctx, args) -> int``). A module may set ``LOCAL_ONLY = True`` when it must
run in this process (``init``, ``run``, ``replay``, ``serve``); every other command runs here
when this account can read the data key, and otherwise is forwarded to the daemon's socket, where
the caller's identity comes from the kernel.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from callrec import __version__
from callrec.cli._context import Context
from callrec.cli._remote import forward, must_forward
from callrec.errors import CallrecError, UsageError, from_os_error
from callrec.identity import current_account
from callrec.vault._db import DatabaseError, classify

__all__ = ["main", "build_parser", "execute"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors are one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _command_modules() -> list:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="callrec", description="Record, transcribe and keep the calls of one telephone line.")
    parser.add_argument("--version", action="version", version=f"callrec {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $CALLREC_CONFIG, else /etc/callrec/callrec.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    return parser


def execute(ctx: Context, argv: Sequence[str]) -> int:
    """Parse and run one command in this process; errors become one line on ``ctx.err``."""
    try:
        args = build_parser().parse_args(argv)
        if args.config and ctx.config_flag is None:
            ctx.config_flag = args.config
        return int(args.func(ctx, args) or 0)
    except CallrecError as exc:
        print(f"callrec: error: {exc}", file=ctx.err)
        return exc.exit_code
    except DatabaseError as exc:
        err = classify(ctx.config.vault_path, exc)
        print(f"callrec: error: {err}", file=ctx.err)
        return err.exit_code
    except OSError as exc:  # a full disk, a read-only or forbidden path: one line naming it
        err = from_os_error(exc)
        print(f"callrec: error: {err}", file=ctx.err)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug is still one line for the user; details only on request
        if os.environ.get("CALLREC_DEBUG"):
            traceback.print_exc(file=ctx.err)
        print(f"callrec: internal error ({type(exc).__name__}): please report it; set CALLREC_DEBUG=1 for details",
              file=ctx.err)
        return CallrecError.exit_code
    finally:
        try:
            ctx.close()
        except CallrecError as exc:
            print(f"callrec: error: {exc}", file=ctx.err)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if must_forward(argv):
        return forward(argv)
    ctx = Context(config_flag=None, actor=current_account())
    try:
        return execute(ctx, argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
