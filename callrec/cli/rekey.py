"""``callrec rekey``: re-encrypt the vault under a new random data key (admin; daemon stopped);
with ``--periods`` also give every closed day file a fresh key of its own."""

from __future__ import annotations

import argparse

from callrec.access import rekey, rekey_periods
from callrec.cli._context import Context
from callrec.progress import activity
from callrec.vault.archive import finish_interrupted_rekey, resuming_period_rekey


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rekey", help="re-encrypt the vault under a new data key; finishes an interrupted rekey (admin)")
    p.add_argument("--periods", action="store_true",
                   help="also rewrite every closed day file under a fresh key (reads and writes the whole archive;"
                        " a run cut short continues where it stopped when run again)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    finished = finish_interrupted_rekey(ctx.config)
    if finished:
        ctx.vault.log_now(ctx.actor, "rekey.finish", detail={"what": finished})
        ctx.print(finished)
        if not args.periods:
            return 0
    elif not (args.periods and resuming_period_rekey(ctx.vault)):
        with activity("rekey: re-encrypting the vault"):
            result = rekey(ctx.vault, ctx.person)
        ctx.print(f"the vault is encrypted under a new key in {ctx.config.key_path}")
        ctx.print(f"the old key is kept as {result.old_key_kept}: back up the vault now ('callrec backup'),"
                  " then destroy the old key (shred -u)")
    if args.periods:
        with activity("rekey: rewriting the closed day files under fresh keys"):
            done = rekey_periods(ctx.vault, ctx.person)
        ctx.print(f"{done.files} closed day files rewritten under fresh keys ({done.bytes / 1e6:.1f} MB); the next"
                  " 'callrec backup' copies them again and drops the old ones")
    return 0
