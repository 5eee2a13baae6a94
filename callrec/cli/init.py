"""``callrec init``: create the state directory, keys and vault; make the caller (or ``--admin
NAME``, e.g. the service account the docs then use with ``sudo -u``) admin."""

from __future__ import annotations

import argparse
import pwd

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.vault import Vault
from callrec.vault.log import key_fingerprint
from callrec.vault.people import add_user, roles_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create state directory, data key, signing key and vault (never overwrites)")
    p.add_argument("--admin", metavar="NAME",
                   help="the OS account that becomes admin (default: the account running init)")
    p.set_defaults(func=run)


def _require_account(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise UsageError(f"--admin {name}: no such OS account: create it first (e.g. useradd --system {name})"
                         ) from None


def run(ctx: Context, args: argparse.Namespace) -> int:
    admin = args.admin or ctx.actor
    if args.admin:
        _require_account(args.admin)
    vault, made = Vault.initialise(ctx.config)
    ctx._vault = vault
    if "admin" not in roles_of(vault, admin):
        add_user(vault, ctx.actor, admin, ["admin"])
        made.append(f"admin role for {admin}")
    for item in made:
        ctx.print(f"created {item}")
    if not made:
        ctx.print("nothing to do: everything exists")
    ctx.print(f"checkpoint signing key (Ed25519) fingerprint: {key_fingerprint(ctx.config)} (publish it)")
    return 0
