"""``callrec replay FEED``: the daemon's capture pipeline over a recorded feed (WAV or FLAC), or
``callrec replay CAPTURE.pcap --line NAME``: a SIP line's packet capture through the line's own
source and writer (the same path as the live tap, on the packets' clock).

A replay ends with one line and a non-zero status when its reader or writer fails or when it is
stopped (SIGTERM, Ctrl-C); what was read until then is sealed and kept. A feed whose span already
holds calls or capture coverage is refused unless ``--force`` (written to the access log), so the
same feed replayed twice is not recorded twice. A replay that was killed (kill -9, a power cut) is
simply run again with the same arguments: its session never ended, so the re-run carries on from
what it left (``replay.resume`` in the access log) — the calls it sealed are found again and not
recorded twice, the call it left recording is completed. Afterwards the stored reports of the days
it touched are rewritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from callrec.asr import TranscriptionWorker, queue_summary
from callrec.capture import FileSource, Pipeline, ReplayResume, open_line_pipeline, open_line_source
from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.config import DEFAULT_LINE, LineConfig
from callrec.errors import CaptureError, UsageError
from callrec.health import refresh_stored_days
from callrec.progress import progress
from callrec.signals import on_stop_signals
from callrec.timefmt import format_ts, parse_iso
from callrec.vault import Vault
from callrec.vault.calls import calls_overlapping, calls_started, get_calls
from callrec.vault.ops import close_session, sessions_overlapping, unfinished_replay


class ReplayOverlaps(CaptureError):
    """the vault already holds {0} between {1} and {2}, the span of {3}: replaying it would record that time twice; check --start, or add --force if this is other audio (the override is written to the access log)"""


class ReplayFeedMissing(CaptureError):
    """feed {0} not found: give the path of a recorded WAV or FLAC file (relative to the current directory)"""


class ReplayStopped(CaptureError):
    """replay of {0} was stopped ({1}) after {2:.1f} of {3:.1f} s: what was read is sealed and kept; to ingest the rest, replay the feed from {2:.1f} s on with --start {4}"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run the capture pipeline over a recorded feed (WAV/FLAC, 8 or 16 kHz PCM)"
                                      " or a SIP line's packet capture (pcap)")
    p.add_argument("feed", type=Path, help="the recorded line feed, or a packet capture of a SIP line's mirror")
    p.add_argument("--start", metavar="ISO",
                   help="when the feed's first sample was captured, e.g. 2026-08-03T08:30:00+09:00"
                        " (a WAV/FLAC feed needs it; a packet capture carries its own times)")
    p.add_argument("--line", metavar="NAME",
                   help="the line the feed belongs to ([[lines]] name; default: the line of [capture])")
    p.add_argument("--no-asr", action="store_true", help="leave the sealed calls for the daemon to transcribe")
    p.add_argument("--force", action="store_true",
                   help="replay even though the span already holds calls or coverage (logged)")
    # Diagnostic: pace the feed at real time (tests that kill a replay mid-call, benchmarks).
    p.add_argument("--json", action="store_true", help="print {feed, seconds, calls (their ids), test_calls} at the end")
    p.add_argument("--realtime", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _check_overlap(ctx: Context, vault: Vault, feed: Path, span: tuple[float, float], force: bool, line: str) -> None:
    """A feed whose span the line already holds calls or coverage for is refused unless ``force``
    (then logged): the same feed replayed twice would record its calls twice."""
    start, end = span
    calls = sum(c.line == line for c in calls_overlapping(vault, start, end))
    sessions = sessions_overlapping(vault, start, end, line)
    if not calls and not sessions:
        return
    zone = ctx.config.zone
    if not force:
        what = f"{calls} call(s)" if calls else "recorded coverage"
        raise ReplayOverlaps(what, format_ts(start, zone, "seconds"), format_ts(end, zone, "seconds"), feed.name)
    vault.log_now(ctx.actor, "replay.force", detail={"feed": feed.name, "from_ts": start, "to_ts": end,
                                                     "calls_already": calls, "sessions_already": sessions})


def _resume(ctx: Context, vault: Vault, source: FileSource) -> ReplayResume | None:
    """What a killed replay of this feed from the same start left, when there was one: its session
    is closed as crashed and the re-run carries on from its calls."""
    killed = unfinished_replay(vault, source.name, source.start_ts)
    if killed is None:
        return None
    start, end = source.start_ts, source.start_ts + source.duration_s
    calls = calls_started(vault, start - 1.0, end + 1.0, purged=True)
    resume = ReplayResume(tuple(c.started_ts for c in calls if c.status != "recording"),
                          {c.started_ts: c.id for c in calls if c.status == "recording"})
    close_session(vault, killed.id, killed.heartbeat_ts, "crash")
    vault.log_now(ctx.actor, "replay.resume", detail={"feed": source.path.name, "from_ts": start, "to_ts": end,
                                                      "calls_sealed": len(resume.sealed_starts),
                                                      "calls_unfinished": len(resume.unfinished)})
    return resume


def _ids(sealed: list[int]) -> str:
    """Which calls the replay sealed: a range when their ids are contiguous, else each id."""
    if not sealed:
        return ""
    if len(sealed) == 1:
        return f"; call {sealed[0]}"
    lo, hi = min(sealed), max(sealed)
    return f"; calls {lo}..{hi}" if hi - lo + 1 == len(set(sealed)) else f"; calls {', '.join(map(str, sorted(sealed)))}"


def _line(ctx: Context, name: str | None) -> LineConfig:
    lines = ctx.config.recorded_lines
    if name is None:
        return ctx.config.line(DEFAULT_LINE) or lines[0]
    line = ctx.config.line(name)
    if line is None:
        raise UsageError(f"--line {name}: no such line in {ctx.config.source}; the lines are"
                         f" {', '.join(x.name for x in lines)}")
    return line


def _replay_capture(ctx: Context, args: argparse.Namespace, line: LineConfig) -> int:
    """A SIP line's packet capture through the line's source in file mode and its writer."""
    config = ctx.config
    with Vault.open(config) as vault:
        source = open_line_source(line, replay=args.feed)
        if source.span is not None:
            _check_overlap(ctx, vault, args.feed, source.span, args.force, line.name)
        pipeline = open_line_pipeline(config, vault, line, source, guest_ok=True)
        pipeline.start()
        ctx.print(f"replaying {args.feed.name} into line {line.name}")
        ctx.out.flush()
        while not pipeline.join(0.5):
            pass
        vault.checkpoint()
        tests = sum(c.kind == "test" for c in get_calls(vault, pipeline.sealed))
        waiting = queue_summary(vault).counts["pending"]
    ctx.print(f"replayed {args.feed.name}: {len(pipeline.sealed)} call(s) sealed, {tests} of them test call(s)")
    _transcribe(config, args, waiting)
    return 0


def _transcribe(config, args: argparse.Namespace, waiting: int) -> None:
    if config.asr.enabled and not args.no_asr:
        worker = TranscriptionWorker(config)
        try:
            with progress(desc="transcribing", total=waiting, unit="call") as bar:
                worker.drain(on_call=bar.update)
        finally:
            worker.stop()


def run(ctx: Context, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    line = _line(ctx, args.line)
    if line.source != "sound":
        return _replay_capture(ctx, args, line)
    return _replay_feed(ctx, args, line)


def _replay_feed(ctx: Context, args: argparse.Namespace, line: LineConfig) -> int:
    """A WAV or FLAC feed through the segmenter's pipeline, into a sound line."""
    config = ctx.config
    if args.start is None:
        raise UsageError("replay of a WAV or FLAC feed needs --start ISO: when its first sample was captured")
    start_ts = parse_iso(args.start, config.zone, "--start")
    if not args.feed.is_file():
        raise ReplayFeedMissing(args.feed)
    source = FileSource(args.feed, start_ts, realtime=args.realtime)
    with Vault.open(config) as vault:
        resume = _resume(ctx, vault, source)
        if resume is None:
            _check_overlap(ctx, vault, source.path, (source.start_ts, source.start_ts + source.duration_s), args.force,
                           line.name)
        pipeline = Pipeline(dataclasses.replace(config, capture=line.capture), vault, source, guest_ok=True,
                            resume=resume, line=line.name)

        stopped_by = on_stop_signals(pipeline.stop)
        pipeline.start()
        while not pipeline.started.wait(0.2):
            if pipeline.join(0):  # the writer ended before it started: join() raised its error
                break
        if pipeline.started.is_set() and not getattr(args, "json", False):
            ctx.print(f"replaying {args.feed.name}: {source.duration_s:.1f} s of audio")
            ctx.out.flush()
        with progress(desc=f"replay {args.feed.name}", total=round(source.duration_s, 1), unit="s") as bar:
            while not pipeline.join(0.5):
                bar.n = round(pipeline.frames_in / source.sample_rate, 1)
                bar.refresh()
        vault.checkpoint()
        done_s = pipeline.frames_in / source.sample_rate
        refresh_stored_days(vault, config, start_ts, start_ts + done_s)
        if stopped_by:
            raise ReplayStopped(args.feed.name, stopped_by[0], done_s, source.duration_s,
                                format_ts(start_ts + done_s, config.zone, "seconds"))
        tests = sum(c.kind == "test" for c in get_calls(vault, pipeline.sealed))
        waiting = queue_summary(vault).counts["pending"]
    carried = f" (carrying on a killed replay: {pipeline.skipped} call(s) it had sealed were kept)" if resume else ""
    if args.json:
        print_json(ctx, {"feed": args.feed.name, "seconds": round(done_s, 3), "calls": list(pipeline.sealed),
                         "test_calls": tests, "carried_on": bool(resume), "kept": pipeline.skipped})
    else:
        ctx.print(f"replayed {done_s:.1f} s of {args.feed.name}: "
                  f"{len(pipeline.sealed)} call(s) sealed, {tests} of them test call(s){carried}{_ids(pipeline.sealed)}")
    _transcribe(config, args, waiting)
    return 0
