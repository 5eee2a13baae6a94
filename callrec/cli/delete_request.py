"""``callrec delete-request``: a person's request to delete one call, decided by a second person.

    callrec delete-request CALL --reason "…"     file a request (admin)
    callrec delete-request list [--json]        list requests (admin, approver)
    callrec delete-request approve ID           approve and delete the call's content (another admin or approver)
    callrec delete-request refuse ID [--reason] refuse (another admin or approver)
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.health import refresh_stored_days
from callrec.timefmt import format_ts
from callrec.vault._deletion import approve_deletion, list_deletion_requests, refuse_deletion, request_deletion

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
    requests = list_deletion_requests(ctx.vault, ctx.actor, args.status)

    def when(ts: float | None) -> str | None:
        return format_ts(ts, ctx.config.zone, "seconds")

    if args.json:
        rows = [{**dataclasses.asdict(r), "requested_at": when(r.requested_ts), "decided_at": when(r.decided_ts)}
                for r in requests]
        ctx.print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in requests:
        decided = f"{r.decided_by} {when(r.decided_ts)}" if r.decided_by else "-"
        ctx.print(f"{r.id}\tcall {r.call_id}\t{r.status}\t{r.requested_by} {when(r.requested_ts)}\t{decided}\t{r.reason}")
    return 0


def _refresh_report(ctx: Context, request_id: int) -> None:
    """The day of the deleted call tells a new story: its stored report is rewritten."""
    (row,) = ctx.vault.query("SELECT c.started_ts, coalesce(c.ended_ts, c.started_ts) FROM deletion_requests d"
                             " JOIN calls c ON c.id = d.call_id WHERE d.id = ?", (request_id,))
    refresh_stored_days(ctx.vault, ctx.config, *row)


def run(ctx: Context, args: argparse.Namespace) -> int:
    verb, *rest = args.what
    if verb == "list" and not rest:
        return _list(ctx, args)
    if verb in ("approve", "refuse") and len(rest) == 1:
        request_id = _number(rest[0], "ID")
        if verb == "approve":
            approve_deletion(ctx.vault, ctx.actor, request_id)
            _refresh_report(ctx, request_id)
            ctx.print(f"deletion request {request_id} approved: the call's audio and transcripts are deleted")
        else:
            refuse_deletion(ctx.vault, ctx.actor, request_id, args.reason)
            ctx.print(f"deletion request {request_id} refused")
        return 0
    if not rest:
        call_id = _number(verb, "CALL")
        request_id = request_deletion(ctx.vault, ctx.actor, call_id, args.reason)
        ctx.print(f"deletion request {request_id} filed for call {call_id}: a second person must approve it"
                  f" ('callrec {COMMAND} approve {request_id}')")
        return 0
    raise UsageError(f"{COMMAND}: usage: {_FORMS}")
