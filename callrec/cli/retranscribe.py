"""``callrec retranscribe CALL|--all``: transcribe calls again; each run adds a version, none is
overwritten. The daemon's worker picks the calls up; ``--now`` transcribes them in this process
(where the data key is readable)."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.progress import progress


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
        _transcribe_now(ctx)
    return 0


def _transcribe_now(ctx: Context) -> None:
    """Transcribe every pending call here — those just queued and any already waiting — and say
    what became of them."""
    from callrec.asr import TranscriptionWorker, queue_summary

    before = queue_summary(ctx.vault).counts
    worker = TranscriptionWorker(ctx.config)
    try:
        with progress(desc="transcribing", total=before["pending"], unit="call") as bar:
            worker.drain(on_call=bar.update)
    finally:
        worker.stop()
    after = queue_summary(ctx.vault).counts
    outcomes = [f"{after[s] - before[s]} {s}" for s in ("done", "failed", "no_model") if after[s] > before[s]]
    taken = before["pending"] - after["pending"]
    ctx.print(f"transcribed {taken} call(s): {', '.join(outcomes)}" if outcomes else "nothing to do")
