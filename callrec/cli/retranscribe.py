"""``callrec retranscribe CALL|--all``: transcribe calls again; each run adds a version, none is
overwritten. The daemon's worker picks the calls up; ``--now`` transcribes them in this process
(where the data key is readable)."""

from __future__ import annotations

import argparse
from collections import Counter

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.vault import get_calls


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retranscribe", help="transcribe calls again as a new version (admin)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("call", nargs="?", type=int, metavar="CALL", help="call id")
    which.add_argument("--all", action="store_true", help="every sealed call")
    p.add_argument("--now", action="store_true", help="transcribe here and wait instead of leaving it to the daemon")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    ids = ctx.call("retranscribe", call_id=args.call, all=args.all).call_ids
    ctx.print(f"queued {len(ids)} call(s) for transcription")
    if args.now:
        if ctx.remote:
            raise UsageError("--now needs the data key: the daemon transcribes the queued calls itself")
        _transcribe_now(ctx, ids)
    return 0


def _transcribe_now(ctx: Context, ids: list[int]) -> None:
    from callrec.asr import TranscriptionWorker

    worker = TranscriptionWorker(ctx.config)
    try:
        worker.drain()
    finally:
        worker.stop()
    done = Counter(c.transcript_status for c in get_calls(ctx.vault, ids))
    ctx.print(", ".join(f"{n} {status}" for status, n in sorted(done.items())) or "nothing to do")
