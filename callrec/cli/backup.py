"""``callrec backup DEST``: keep a backup directory of the vault up to date (admin)."""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.access import backup
from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.progress import activity


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="bring a backup directory up to date: the rows changed since the last backup"
                                      " and each closed day's audio file once are copied and verified (admin)")
    p.add_argument("dest", metavar="DEST", type=Path,
                   help="backup directory: new or empty, or one made by an earlier 'callrec backup' (rsync it off the host)")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--key-file", metavar="KEY", type=Path, help="encrypt the copy under this existing key file")
    keys.add_argument("--new-key", metavar="KEY", type=Path, help="create a new key file here and encrypt the copy under it")
    p.add_argument("--full-check", action="store_true",
                   help="also check the updated copy whole (every page and every table's row count), not only what changed")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.remote and not all(p is None or p.is_absolute() for p in (args.dest, args.key_file, args.new_key)):
        raise UsageError("backup through the daemon needs absolute paths for DEST and key files")
    with activity("backup: copying and checking the vault"):
        result = backup(ctx.vault, ctx.person, dest=args.dest, key_path=args.key_file, new_key_path=args.new_key,
                        full_check=args.full_check)
    how = f"copied whole ({result.full_reason})" if result.full_reason else f"{result.rows} changed row(s) applied"
    ctx.print(f"backup {result.path}: {how}; {result.size} bytes ({result.written} written now),"
              f" {len(result.snapshot.periods)} closed day file(s), access log up to entry {result.snapshot.head_seq}; verified")
    ctx.print(f"encrypted under key file {result.key_path}: keep that key with the copy's custody, not beside it")
    return 0
