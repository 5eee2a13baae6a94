"""``callrec replay FEED``: the daemon's capture pipeline over a recorded feed (WAV or FLAC)."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from callrec.asr import TranscriptionWorker
from callrec.capture import FileSource, Pipeline
from callrec.cli._context import Context
from callrec.timefmt import parse_iso
from callrec.vault import Vault


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run the capture pipeline over a recorded feed (WAV/FLAC, 8 or 16 kHz PCM)")
    p.add_argument("feed", type=Path, help="the recorded line feed")
    p.add_argument("--start", required=True, metavar="ISO",
                   help="when the feed's first sample was captured, e.g. 2026-08-03T08:30:00+09:00")
    p.add_argument("--no-asr", action="store_true", help="leave the sealed calls for the daemon to transcribe")
    # Diagnostic: pace the feed at real time (tests that kill a replay mid-call, benchmarks).
    p.add_argument("--realtime", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    config = ctx.config
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    start_ts = parse_iso(args.start, config.zone, "--start")
    source = FileSource(args.feed, start_ts, realtime=args.realtime)
    with Vault.open(config) as vault:
        pipeline = Pipeline(config, vault, source, guest_ok=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: pipeline.stop())
        pipeline.start()
        pipeline.started.wait()
        ctx.print(f"replaying {args.feed.name}: {source.duration_s:.1f} s of audio")
        ctx.out.flush()
        while not pipeline.join(0.5):
            pass
        vault.checkpoint()
        tests = vault.query(
            f"SELECT count(*) FROM calls WHERE kind = 'test' AND id IN ({','.join('?' * len(pipeline.sealed))})",
            pipeline.sealed)[0][0] if pipeline.sealed else 0
    ctx.print(f"replayed {pipeline.frames_in / source.sample_rate:.1f} s of {args.feed.name}: "
              f"{len(pipeline.sealed)} call(s) sealed, {tests} test call(s)")
    if config.asr.enabled and not args.no_asr:
        worker = TranscriptionWorker(config)
        try:
            worker.drain()
        finally:
            worker.stop()
    return 0
