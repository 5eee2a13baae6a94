"""``callrec rekey``: re-encrypt the vault under a new random data key (admin; daemon stopped)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.progress import activity
from callrec.vault import finish_interrupted_rekey, rekey


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rekey", help="re-encrypt the vault under a new data key; finishes an interrupted rekey (admin)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    finished = finish_interrupted_rekey(ctx.config)
    if finished:
        ctx.vault.log_now(ctx.actor, "rekey.finish", detail={"what": finished})
        ctx.print(finished)
        return 0
    with activity("rekey: re-encrypting the vault"):
        result = rekey(ctx.vault, ctx.actor)
    ctx.print(f"the vault is encrypted under a new key in {ctx.config.key_path}")
    ctx.print(f"the old key is kept as {result.old_key_kept}: back up the vault now ('callrec backup'),"
              " then destroy the old key (shred -u)")
    return 0
