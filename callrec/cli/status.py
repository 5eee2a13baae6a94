"""``callrec status [--json]``: is the recorder alive and how is it doing (maintainer, ops, admin).

No content: times, counts, a level, disk space. The use case is
:func:`callrec.health.collect_status`; this module only checks the role and prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from callrec.cli._context import Context
from callrec.health import collect_status
from callrec.vault._guard import require_role

STATUS_ROLES = ("maintainer", "ops", "admin")

_LABELS = {
    "daemon_running": "daemon running", "daemon_up_since": "up since", "daemon_last_heard": "last heard",
    "version": "version", "device": "device", "device_state": "device state", "last_frame": "last audio frame",
    "input_level_dbfs": "input level (dBFS)", "queue_depth": "capture queue", "calls_today": "calls today",
    "asr_backlog": "waiting for transcription", "disk_free_pct": "disk free (%)", "days_to_full": "days to full",
    "last_test_call": "last test call", "last_checkpoint": "last checkpoint",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="daemon, device, queue, disk and last test call; no content (maintainer, ops, admin)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    require_role(ctx.vault, ctx.actor, "status", *STATUS_ROLES)
    status = dataclasses.asdict(collect_status(ctx.vault, ctx.config))
    if args.json:
        ctx.print(json.dumps(status, ensure_ascii=False))
        return 0
    for key, label in _LABELS.items():
        value = status[key]
        if key == "queue_depth" and value is not None:
            value = f"{value} of {status['queue_capacity']} blocks"
        ctx.print(f"{label}: {'-' if value is None else value}")
    return 0
