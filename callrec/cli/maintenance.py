"""``callrec maintenance``: announce planned maintenance ahead (maintainer, admin), end it early,
cancel it, and list it.

    callrec maintenance add --from TIME --to TIME --reason TEXT [--json]
    callrec maintenance end ID        the work is done early: the running window ends now
    callrec maintenance cancel ID     the work will not happen: a window that has not started
    callrec maintenance list [--json]

A window is announced ahead: one that starts in the past is refused for every role (a past gap
stays an outage; an admin may add a note with 'callrec gap note'). Gaps inside a window are
maintenance warnings instead of critical outages, and the daily report lists the windows with who
announced, ended or cancelled them. Each of these is written to the access log.
"""

from __future__ import annotations

import argparse
import dataclasses

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.timefmt import TIME_HELP, format_ts
from callrec.vault.ops import MaintenanceWindow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("maintenance", help="announce, end, cancel or list planned maintenance (maintainer, admin)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = s.add_parser("add", help="announce a window ahead in which the line may not be recorded")
    a.add_argument("--from", dest="from_", required=True, metavar="TIME", help=f"start, now or later; {TIME_HELP}")
    a.add_argument("--to", required=True, metavar="TIME", help="end; the same forms (e.g. +2h)")
    a.add_argument("--reason", required=True, help="what is done (e.g. 'exchange firmware update')")
    a.add_argument("--json", action="store_true", help="print the window as a JSON object")
    for name, text in (("end", "end a running window now (the work is done)"),
                       ("cancel", "cancel a window that has not started")):
        e = s.add_parser(name, help=text)
        e.add_argument("window_id", type=int, metavar="ID", help="the window's id (see 'maintenance list')")
        e.add_argument("--json", action="store_true", help="print the window as a JSON object")
    li = s.add_parser("list", help="every announced window, ended early or cancelled ones included")
    li.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=run)


def window_json(w: MaintenanceWindow, zone) -> dict:
    """One window for ``--json`` (the same object in ``add``, ``end``, ``cancel`` and ``list``)."""
    return {**dataclasses.asdict(w), "from": format_ts(w.from_ts, zone, "seconds"),
            "to": format_ts(w.to_ts, zone, "seconds"), "by": w.actor, "state": w.state}


def _line(w: MaintenanceWindow, zone) -> str:
    span = f"{format_ts(w.from_ts, zone, 'seconds')} .. {format_ts(w.to_ts, zone, 'seconds')}"
    state = {"cancelled": f" (cancelled by {w.cancelled_by})", "ended early": f" (ended early by {w.ended_by})"}
    return f"{w.id}: {span}  by {w.actor}: {w.reason}{state.get(w.state, '')}"


def run(ctx: Context, args: argparse.Namespace) -> int:
    zone = ctx.config.zone
    as_json = getattr(args, "json", False)
    if args.action == "list":
        return _list(ctx, as_json)
    if args.action == "add":
        window = ctx.call("maintenance.add", from_iso=args.from_, to_iso=args.to, reason=args.reason)
        said = "announced: gaps inside it are warnings, not outages"
    else:
        window = ctx.call(f"maintenance.{args.action}", window_id=args.window_id)
        said = "ended now" if args.action == "end" else "cancelled (still listed in the report)"
    if as_json:
        print_json(ctx, window_json(window, zone))
    else:
        ctx.print(f"maintenance window {window.id} {said}: {format_ts(window.from_ts, zone, 'seconds')} .. "
                  f"{format_ts(window.to_ts, zone, 'seconds')}")
    return 0


def _list(ctx: Context, as_json: bool) -> int:
    zone = ctx.config.zone
    windows = ctx.call("maintenance.list").windows
    if as_json:
        print_json(ctx, [window_json(w, zone) for w in windows])
        return 0
    if not windows:
        ctx.print("no maintenance windows announced")
        return 0
    ctx.print("ID: FROM .. TO  BY: REASON")
    for w in windows:
        ctx.print(_line(w, zone))
    return 0
