"""``callrec users``: add people, grant and revoke roles (admin only)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.vault import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="people and roles (admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = s.add_parser("add", help="add a person (an OS account) with one or more roles")
    a.add_argument("name")
    a.add_argument("--role", action="append", required=True, choices=ROLES, help="may be given several times")
    r = s.add_parser("revoke", help="take a role away")
    r.add_argument("name")
    r.add_argument("--role", required=True, choices=ROLES)
    s.add_parser("list", help="list people and roles")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "add":
        ctx.call("users.add", name=args.name, roles=args.role)
    elif args.action == "revoke":
        ctx.call("users.revoke", name=args.name, role=args.role)
    else:
        for user in ctx.call("users.list").users:
            ctx.print(f"{user.name}\t{','.join(user.roles)}")
    return 0
