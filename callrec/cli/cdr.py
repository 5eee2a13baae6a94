"""``callrec cdr import FILE.csv``: load the exchange's call log for reconciliation.

The file is read here, by the caller, and its bytes sent; the daemon never opens a path a caller
names. Files larger than the socket's upload cap are refused before anything is sent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.access.wire import MAX_UPLOAD_BYTES
from callrec.cli._context import Context
from callrec.health import CdrFileError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cdr", help="the exchange's call log (ops, maintainer, admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = s.add_parser("import", help="import a CSV export; columns are mapped in [health.cdr]")
    i.add_argument("file", type=Path)
    p.set_defaults(func=run)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_UPLOAD_BYTES + 1)
    except OSError as exc:
        raise CdrFileError(path, f"cannot be read ({exc.strerror})") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise CdrFileError(path, f"is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB: split it by date")
    return data


def run(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.call("cdr.import", name=str(args.file), data=_read(args.file))
    ctx.print(f"imported {done.hotline_calls} call(s) to the hotline ({done.new_calls} new) of {done.rows} row(s),"
              f" {done.from_at} .. {done.to_at}")
    return 0
