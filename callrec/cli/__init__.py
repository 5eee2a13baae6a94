"""The ``callrec`` command line: one module per command, found by name in this package.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` (``run(ctx, args) -> int``). Commands are thin adapters over the access layer
(``callrec.access``): they turn arguments into an action (``ctx.call``), which runs in this process
when this account can read the data key and otherwise in the daemon, sent as a typed request over
its socket, where the caller's identity comes from the kernel. Files are read and written here, by
the caller. Commands that create or replace state (``init``, ``run``, ``replay``, ``serve``,
``demo``, ``rekey``, ``restore``, ``backup``) have no action and always run here.

Only the command asked for is imported and built (``callrec calls list`` never loads the capture
pipeline); ``--help`` without a command, a name that is no command, and shell completion build all.
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

__all__ = ["main", "build_parser", "execute"]


def _command_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _asked(argv: Sequence[str]) -> list[str] | None:
    """The command modules the parser needs for ``argv``: the one of the command it names, none for
    ``--version`` alone, or None (all: help, completion, a mistyped name)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif word in ("-h", "--help"):
            return None
        elif not word.startswith("-"):
            name = word.replace("-", "_")
            return [name] if name in _command_names() else None
    return [] if "--version" in argv else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, only as much of it as parsing ``argv`` needs."""
    parser = Parser(prog="callrec", description="Record, transcribe and keep the calls of one telephone line.",
                    epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"callrec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    names = _asked(argv) if argv is not None else None
    for name in _command_names() if names is None else names:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return finish_parser(parser)


def _error_line(ctx: Context, exc: Exception) -> tuple[str, int]:
    """One line and an exit code for what stopped a command (the vault's errors classified)."""
    if isinstance(exc, OSError):  # a full disk, a read-only or forbidden path: one line naming it
        exc = from_os_error(exc)
    elif not isinstance(exc, CallrecError):
        from callrec.vault import DatabaseError, classify

        if isinstance(exc, DatabaseError):
            exc = classify(ctx.config.vault_path, exc)
    if isinstance(exc, CallrecError):
        return f"error: {exc}", exc.exit_code
    if os.environ.get("CALLREC_DEBUG"):
        traceback.print_exc(file=ctx.err)
    return (f"internal error ({type(exc).__name__}): please report it; set CALLREC_DEBUG=1 for details",
            CallrecError.exit_code)


def execute(ctx: Context, argv: Sequence[str]) -> int:
    """Parse and run one command in this process; errors become one line on ``ctx.err``."""
    try:
        args = build_parser(argv).parse_args(argv)
        args.json = getattr(args, "json", False)
        if getattr(args, "config", None) and ctx.config_flag is None:
            ctx.config_flag = args.config
        return int(args.func(ctx, args) or 0)
    except BrokenPipeError:  # the reader went away (``| head``): main() ends quietly
        raise
    except Exception as exc:  # noqa: BLE001 - a bug is still one line for the user; details only on request
        line, code = _error_line(ctx, exc)
        print(f"callrec: {line}", file=ctx.err)
        return code
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
