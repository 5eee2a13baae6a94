"""``callrec retranscribe CALL|--all``: transcribe calls again; each run adds a version, none is
overwritten. The daemon's worker picks the calls up; ``--now`` transcribes them in this process."""

from __future__ import annotations

import argparse

from callrec.asr import TranscriptionWorker, requeue
from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.vault._guard import require_role


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retranscribe", help="transcribe calls again as a new version (admin)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("call", nargs="?", type=int, metavar="CALL", help="call id")
    which.add_argument("--all", action="store_true", help="every sealed call")
    p.add_argument("--now", action="store_true", help="transcribe here and wait instead of leaving it to the daemon")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    vault = ctx.vault
    require_role(vault, ctx.actor, "retranscribe", "admin", call_id=args.call)
    ids = requeue(vault, ctx.actor, None if args.all else [args.call])
    if not args.all and not ids:
        raise UsageError(f"call {args.call} is not sealed, does not exist, or is already queued: see 'callrec calls list'")
    ctx.print(f"queued {len(ids)} call(s) for transcription")
    if args.now:
        worker = TranscriptionWorker(ctx.config)
        try:
            worker.drain()
        finally:
            worker.stop()
        done = vault.query(
            f"SELECT transcript_status, count(*) FROM calls WHERE id IN ({','.join('?' * len(ids))})"
            " GROUP BY transcript_status", ids,
        ) if ids else []
        ctx.print(", ".join(f"{n} {status}" for status, n in done) or "nothing to do")
    return 0
