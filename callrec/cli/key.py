"""``callrec key show``: the fingerprint of the checkpoint (signing) key, to publish."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.vault import key_fingerprint


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("key", help="the checkpoint signing key")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s.add_parser("show", help="print the signing key's fingerprint (publish it: evidence packages are checked against it)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    ctx.print(f"checkpoint signing key (Ed25519) fingerprint: {key_fingerprint(ctx.config)}")
    return 0
