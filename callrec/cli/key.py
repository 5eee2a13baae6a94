"""``callrec key show``: the fingerprint of the checkpoint (signing) key, to publish.

The service account and root read the key where it is kept; every other account with a role asks
the daemon (``key.show``), since the key file is root-only in production."""

from __future__ import annotations

import argparse
import os

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.vault.log import key_fingerprint


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("key", help="the checkpoint signing key")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = s.add_parser("show", help="print the signing key's fingerprint (publish it: evidence packages are checked against it)")
    show.add_argument("--json", action="store_true", help="one object: algorithm, fingerprint")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    path = ctx.config.checkpoint_key_path
    if os.access(path, os.R_OK):
        fingerprint = key_fingerprint(ctx.config)
    else:
        fingerprint = ctx.call("key.show").fingerprint
    if args.json:
        print_json(ctx, {"algorithm": "Ed25519", "fingerprint": fingerprint})
        return 0
    ctx.print(f"checkpoint signing key (Ed25519) fingerprint: {fingerprint}")
    return 0
