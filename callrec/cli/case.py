"""``callrec case``: open, decide, attach, read, play, export and close cases.

Audio and export files come back from the access layer as bytes; this process — the caller's own
— plays them on the caller's sound device or writes them where the caller said.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from typing import NoReturn

from callrec.access import CaseView, PlayAudio
from callrec.cli._context import Context
from callrec.cli._files import export_target, make_private_dir, write_into
from callrec.cli._output import print_json
from callrec.errors import CallrecError, UsageError
from callrec.timefmt import TIME_HELP


class PlaybackFailed(CallrecError):
    """cannot play call {0}: {1}: connect a sound device or choose one with --device NAME (the read is logged as failed)"""

    exit_code = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("case", help="cases: the only way to content (reviewers, approvers)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    o = s.add_parser("open", help="open a case (reviewer)")
    o.add_argument("--reason", required=True)
    o.add_argument("--from", dest="from_", required=True, metavar="TIME", help=f"start of the case window; {TIME_HELP}")
    o.add_argument("--to", required=True, metavar="TIME", help="end of the case window; the same forms")
    for name, text in (("approve", "approve a case (approver, not the opener): read its reason first with 'case show'"),
                       ("close", "close a case: ends the legal hold (opener or admin)")):
        s.add_parser(name, help=text).add_argument("case_id", type=int, metavar="ID")
    sh = s.add_parser("show", help="a case: reason, window, opener, decision and the calls in its window (no content)")
    sh.add_argument("case_id", type=int, metavar="ID")
    sh.add_argument("--json", action="store_true", help="one object: case, calls")
    r = s.add_parser("refuse", help="refuse a case (approver), with the reason")
    r.add_argument("case_id", type=int, metavar="ID")
    r.add_argument("--reason", required=True, help="why the case is refused (goes to the access log)")
    ls = s.add_parser("list", help="cases this account may see, with their reasons")
    ls.add_argument("--pending", action="store_true", help="only cases waiting for a decision")
    ls.add_argument("--json", action="store_true", help="a JSON array of cases")
    a = s.add_parser("attach", help="attach a call from the case window (the case's reviewer)")
    a.add_argument("case_id", type=int, metavar="ID")
    a.add_argument("call_id", type=int, metavar="CALL")
    t = s.add_parser("transcript", help="print a call's transcript (logged)")
    t.add_argument("call_id", type=int, metavar="CALL")
    t.add_argument("--case", dest="case_id", type=int, metavar="ID", help="the case to read through (default: yours)")
    pl = s.add_parser("play", help="play a call on this account's own sound device (logged)")
    pl.add_argument("call_id", type=int, metavar="CALL")
    pl.add_argument("--case", dest="case_id", type=int, metavar="ID", help="the case to read through (default: yours)")
    pl.add_argument("--from", dest="from_", metavar="MM:SS", help="start here (default: the beginning)")
    pl.add_argument("--to", metavar="MM:SS", help="stop here (default: the end)")
    pl.add_argument("--device", metavar="NAME", help="output device (default: the system's default)")
    pl.add_argument("--follow", action="store_true", help="print each transcript line as playback reaches it (logged)")
    f = s.add_parser("search", help="find a phrase in the transcripts of a case's calls (logged; the phrase is not)")
    f.add_argument("case_id", type=int, metavar="ID")
    f.add_argument("phrase")
    e = s.add_parser("export", help="export a case's calls: audio, transcripts, manifest (logged)")
    e.add_argument("case_id", type=int, metavar="ID")
    e.add_argument("--out", required=True, metavar="DIR",
                   help="a new or empty directory, written by this account (relative to the current directory)")
    e.add_argument("--format", choices=("flac", "wav"), default="flac")
    p.set_defaults(func=run)


def _print_case(ctx: Context, case: CaseView) -> None:
    decided = f"  decided by {case.decided_by} at {case.decided_at}" if case.decided_by else ""
    ctx.print(f"case {case.id}  {case.status}  opened by {case.opened_by} at {case.opened_at}"
              f"  window {case.window_from} .. {case.window_to}{decided}")
    ctx.print(f"  reason: {case.reason}")
    ctx.print(f"  attached calls: {' '.join(map(str, case.attached)) or 'none'}")


def run(ctx: Context, args: argparse.Namespace) -> int:
    _ACTIONS[args.action](ctx, args)
    return 0


def _open(ctx: Context, args: argparse.Namespace) -> None:
    case = ctx.call("case.open", reason=args.reason, from_iso=args.from_, to_iso=args.to)
    ctx.print(f"case {case.id} opened ({case.status}{': an approver must approve it' if case.status == 'pending' else ''})")


def _approve(ctx: Context, args: argparse.Namespace) -> None:
    ctx.call("case.approve", case_id=args.case_id)
    ctx.print(f"case {args.case_id} approved")


def _refuse(ctx: Context, args: argparse.Namespace) -> None:
    ctx.call("case.refuse", case_id=args.case_id, reason=args.reason)
    ctx.print(f"case {args.case_id} refused")


def _close(ctx: Context, args: argparse.Namespace) -> None:
    ctx.call("case.close", case_id=args.case_id)
    ctx.print(f"case {args.case_id} closed: its calls are no longer on legal hold")


def _list(ctx: Context, args: argparse.Namespace) -> None:
    cases = ctx.call("case.list", pending=args.pending).cases
    if args.json:
        print_json(ctx, cases)
        return
    if not cases:
        ctx.print(f"no {'pending ' if args.pending else ''}cases visible to {ctx.actor}")
    for case in cases:
        _print_case(ctx, case)


def _show(ctx: Context, args: argparse.Namespace) -> None:
    detail = ctx.call("case.show", case_id=args.case_id)
    if args.json:
        print_json(ctx, detail)
        return
    _print_case(ctx, detail.case)
    if not detail.calls:
        ctx.print(f"  no calls in the window of case {detail.case.id}")
        return
    ctx.print(f"  {'CALL':>11}  {'STARTED':<25}  {'DURATION':>8}  KIND  ATTACHED")
    for c in detail.calls:
        ctx.print(f"  call {c.id:>6}  {c.started_at}  {c.duration_s:>7.1f}s  {c.kind}  {'attached' if c.attached else '-'}")


def _attach(ctx: Context, args: argparse.Namespace) -> None:
    ctx.call("case.attach", case_id=args.case_id, call_id=args.call_id)
    ctx.print(f"call {args.call_id} attached to case {args.case_id}")


def _transcript(ctx: Context, args: argparse.Namespace) -> None:
    text = ctx.call("transcript.read", call_id=args.call_id, case_id=args.case_id).text
    if text:
        ctx.out.write(text)
    else:
        ctx.print(f"call {args.call_id} has no transcript yet")


def _search(ctx: Context, args: argparse.Namespace) -> None:
    found = ctx.call("transcript.search", case_id=args.case_id, phrase=args.phrase)
    for hit in found.hits:
        ctx.print(f"call {hit.call_id}  {hit.speaker:<6} {hit.start_s:7.1f}s  {hit.context}")
    ctx.print(f"{len(found.hits)} match(es) in case {args.case_id}")


def _export(ctx: Context, args: argparse.Namespace) -> None:
    target = export_target(args.out, ctx.config)
    package = ctx.call("export", case_id=args.case_id, format=args.format)
    make_private_dir(target)
    for f in package.files:
        write_into(target, f.name, f.data)
    ctx.print(f"exported {len(package.files)} files for case {args.case_id} to {args.out}"
              f" (check it with: callrec evidence verify {args.out} --key-fingerprint {package.key_fingerprint})")


def _clock(text: str | None, flag: str) -> float | None:
    """MM:SS (or SS, or HH:MM:SS) → seconds."""
    if text is None:
        return None
    try:
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a time: give MM:SS") from None
    if seconds < 0 or len(text.split(":")) > 3:
        raise UsageError(f"{flag} {text!r} is not a time: give MM:SS")
    return seconds


def _play(ctx: Context, args: argparse.Namespace) -> None:
    import soundfile

    start, stop = _clock(args.from_, "--from") or 0.0, _clock(args.to, "--to")
    if stop is not None and stop <= start:
        raise UsageError("--to must be after --from")
    audio: PlayAudio = ctx.call("play", call_id=args.call_id, case_id=args.case_id, follow=args.follow)
    data, rate = soundfile.read(io.BytesIO(audio.flac), dtype="int16")
    clip = data[int(start * rate): None if stop is None else int(stop * rate)]
    try:
        import sounddevice
    except OSError as exc:  # no PortAudio library on this machine
        _failed(ctx, audio, str(exc))
    try:
        ctx.print(f"playing call {audio.call_id} ({len(clip) / rate:.1f} s of {len(data) / rate:.1f} s)")
        ctx.out.flush()
        sounddevice.play(clip, rate, device=args.device)
        if args.follow:
            _follow(ctx, audio, start, len(clip) / rate)
        sounddevice.wait()
    except (sounddevice.PortAudioError, ValueError) as exc:  # no such device, cannot open it
        _failed(ctx, audio, str(exc))


def _failed(ctx: Context, audio: PlayAudio, error: str) -> NoReturn:
    """Log that the read could not be played, then stop with one line."""
    why = (error.splitlines() or ["no audio device"])[0][:160]
    ctx.call("play.failed", call_id=audio.call_id, case_id=audio.case_id, read_seq=audio.log_seq, why=why)
    raise PlaybackFailed(audio.call_id, why)


def _follow(ctx: Context, audio: PlayAudio, start: float, length: float) -> None:
    """Print each transcript line when playback reaches its start."""
    began = time.monotonic()
    for line in audio.lines:
        if line.end_s < start or line.start_s > start + length:
            continue
        wait = line.start_s - start - (time.monotonic() - began)
        if wait > 0:
            time.sleep(wait)
        ctx.print(f"[{int(line.start_s // 60):02d}:{line.start_s % 60:04.1f}] {line.speaker + ': ' if line.speaker else ''}{line.text}")
        if ctx.out is sys.stdout:
            ctx.out.flush()


#: ``callrec case ACTION``: what each action runs.
_ACTIONS = {"open": _open, "approve": _approve, "refuse": _refuse, "close": _close, "list": _list, "show": _show,
            "attach": _attach, "transcript": _transcript, "search": _search, "play": _play, "export": _export}
