"""``callrec verify``: exit 0 when integrity, the access-log chain and every sealed hash hold."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.errors import IntegrityError
from callrec.vault._verify import verify


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check vault integrity, the access-log chain and every sealed hash")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    findings = verify(ctx.vault)
    for line in findings:
        ctx.print(line)
    if findings:
        return IntegrityError.exit_code
    ctx.print("ok: integrity, access-log chain, checkpoint and all sealed hashes hold")
    return 0
