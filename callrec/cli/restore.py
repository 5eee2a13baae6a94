"""``callrec restore BACKUP``: make a backup the vault again (admin; daemon stopped)."""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.access import restore
from callrec.cli._context import Context
from callrec.progress import activity


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("restore", help="replace the vault by a backup; the current vault is moved aside, never deleted (admin)")
    p.add_argument("backup", metavar="BACKUP", type=Path, help="a directory kept by 'callrec backup' (or a single file written by a release before schema 5)")
    p.add_argument("--key-file", metavar="KEY", type=Path,
                   help="the key the backup was written under, when not the configured one (it is re-encrypted to the configured key)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    with activity("restore: checking and installing the backup"):
        result = restore(ctx.config, ctx.person, args.backup, args.key_file)
    if result.moved_aside:
        ctx.print(f"the previous vault was moved aside to {result.moved_aside}")
    if result.reencrypted:
        ctx.print(f"re-encrypted from {args.key_file} to the configured key {ctx.config.key_path}")
    ctx.print(f"restored {args.backup} to {ctx.config.vault_path}: access log up to entry {result.snapshot.head_seq}; verified")
    return 0
