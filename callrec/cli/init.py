"""``callrec init``: create the state directory, keys and vault; make the caller admin."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.vault import Vault, add_user, key_fingerprint, roles_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create state directory, data key, signing key and vault (never overwrites)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    vault, made = Vault.initialise(ctx.config)
    ctx._vault = vault
    if "admin" not in roles_of(vault, ctx.actor):
        add_user(vault, ctx.actor, ctx.actor, ["admin"])
        made.append(f"admin role for {ctx.actor}")
    for item in made:
        ctx.print(f"created {item}")
    if not made:
        ctx.print("nothing to do: everything exists")
    ctx.print(f"checkpoint signing key (Ed25519) fingerprint: {key_fingerprint(ctx.config)} (publish it)")
    return 0
