"""The ``callrec`` command line: one module per command, found by name in this package.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` (``run(ctx, args) -> int``). Commands are thin adapters over the access layer
(``callrec.access``): they turn arguments into an action (``ctx.call``), which runs in this process
when this account can read the data key and otherwise in the daemon, sent as a typed request over
its socket, where the caller's identity comes from the kernel. Files are read and written here, by
the caller. Commands that create or replace state (``init``, ``run``, ``replay``, ``serve``,
``demo``, ``rekey``, ``restore``, ``backup``) have no action and always run here.
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
from callrec.cli._parser import EXAMPLES, Parser, finish_parser
from callrec.errors import CallrecError, from_os_error
from callrec.identity import current_account
from callrec.vault import DatabaseError, classify

__all__ = ["main", "build_parser", "execute"]


def _command_modules() -> list:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="callrec", description="Record, transcribe and keep the calls of one telephone line.",
                    epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"callrec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    return finish_parser(parser)


def execute(ctx: Context, argv: Sequence[str]) -> int:
    """Parse and run one command in this process; errors become one line on ``ctx.err``."""
    try:
        args = build_parser().parse_args(argv)
        args.json = getattr(args, "json", False)
        if getattr(args, "config", None) and ctx.config_flag is None:
            ctx.config_flag = args.config
        return int(args.func(ctx, args) or 0)
    except CallrecError as exc:
        print(f"callrec: error: {exc}", file=ctx.err)
        return exc.exit_code
    except DatabaseError as exc:
        err = classify(ctx.config.vault_path, exc)
        print(f"callrec: error: {err}", file=ctx.err)
        return err.exit_code
    except BrokenPipeError:  # the reader went away (``| head``): main() ends quietly
        raise
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
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(build_parser())
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx = Context(config_flag=None, actor=current_account())
    try:
        return execute(ctx, argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # ``callrec log show | head``: the reader has what it wanted; no error line
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
