"""``callrec users``: add and remove people, grant and revoke roles (admin only)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.vault import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="people and roles (admin)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = s.add_parser("add", help="add a person (an existing OS account) with one or more roles")
    a.add_argument("name")
    a.add_argument("--role", action="append", required=True, choices=ROLES, help="may be given several times")
    a.add_argument("--allow-unknown", action="store_true",
                   help="accept a name that is not an OS account on this host yet (a planned account)")
    r = s.add_parser("revoke", help="take a role away")
    r.add_argument("name")
    r.add_argument("--role", required=True, choices=ROLES)
    rm = s.add_parser("remove", help="take every role away and remove the person (logged; never the last admin)")
    rm.add_argument("name")
    li = s.add_parser("list", help="people and their roles")
    li.add_argument("--json", action="store_true", help="a JSON array of name, roles")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "add":
        ctx.print(ctx.call("users.add", name=args.name, roles=args.role, allow_unknown=args.allow_unknown).message)
    elif args.action == "revoke":
        ctx.print(ctx.call("users.revoke", name=args.name, role=args.role).message)
    elif args.action == "remove":
        ctx.print(ctx.call("users.remove", name=args.name).message)
    else:
        users = ctx.call("users.list").users
        if args.json:
            print_json(ctx, users)
        elif not users:
            ctx.print("no users in this vault: add one with 'callrec users add NAME --role ROLE'")
        else:
            width = max(len("NAME"), *(len(u.name) for u in users))
            ctx.print(f"{'NAME':<{width}}  ROLES")
            for user in users:
                ctx.print(f"{user.name:<{width}}  {','.join(user.roles) or '-'}")
    return 0
