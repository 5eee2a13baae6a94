"""``callrec delete-request``: a person's request to delete one call, decided by a second person.

    callrec delete-request CALL --reason "…"     file a request (admin)
    callrec delete-request list [--json]        list requests (admin, approver)
    callrec delete-request approve ID           approve and delete the call's content (another admin or approver)
    callrec delete-request refuse ID [--reason] refuse (another admin or approver)
"""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.errors import UsageError

COMMAND = "delete-request"
_FORMS = "CALL --reason TEXT | list | approve ID | refuse ID"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(COMMAND, help="request, list, approve or refuse the deletion of one call (four-eyes)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="+", metavar="CALL | list | approve ID | refuse ID")
    p.add_argument("--reason", default="", help="who asked for the deletion and why (required to file a request)")
    p.add_argument("--status", choices=("pending", "approved", "refused"), help="list only requests in this state")
    p.add_argument("--json", action="store_true", help="list as JSON")
    p.set_defaults(func=run)


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{COMMAND}: {what} must be a number, not {text!r} (usage: {_FORMS})") from None


def _list(ctx: Context, args: argparse.Namespace) -> int:
    requests = ctx.call("delete.list", status=args.status).requests
    if args.json:
        print_json(ctx, requests)
        return 0
    if not requests:
        ctx.print(f"no {args.status + ' ' if args.status else ''}deletion requests in this vault")
        return 0
    ctx.print("ID\tCALL\tSTATUS\tREQUESTED\tDECIDED\tREASON")
    for r in requests:
        decided = f"{r.decided_by} {r.decided_at}" if r.decided_by else "-"
        ctx.print(f"{r.id}\tcall {r.call_id}\t{r.status}\t{r.requested_by} {r.requested_at}\t{decided}\t{r.reason}")
    return 0


def run(ctx: Context, args: argparse.Namespace) -> int:
    verb, *rest = args.what
    if verb == "list" and not rest:
        return _list(ctx, args)
    if verb in ("approve", "refuse") and len(rest) == 1:
        request_id = _number(rest[0], "ID")
        if verb == "approve":
            done = ctx.call("delete.approve", request_id=request_id)
        else:
            done = ctx.call("delete.refuse", request_id=request_id, reason=args.reason)
    elif not rest:
        done = ctx.call("delete.request", call_id=_number(verb, "CALL"), reason=args.reason)
    else:
        raise UsageError(f"{COMMAND}: usage: {_FORMS}")
    ctx.print(done.message)
    return 0
