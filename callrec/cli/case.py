"""``callrec case``: open, decide, attach, read, play, export and close cases."""

from __future__ import annotations

import argparse

from callrec.cli._context import Context
from callrec.timefmt import format_ts, parse_iso
from callrec.vault import _cases, _content
from callrec.vault._calls import list_calls
from callrec.vault._guard import refuse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("case", help="cases: the only way to content (reviewers, approvers)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    o = s.add_parser("open", help="open a case (reviewer)")
    o.add_argument("--reason", required=True)
    o.add_argument("--from", dest="from_", required=True, metavar="ISO")
    o.add_argument("--to", required=True, metavar="ISO")
    for name, text in (("approve", "approve a case (approver, not the opener)"), ("refuse", "refuse a case (approver)"),
                       ("close", "close a case: ends the legal hold (opener or admin)"),
                       ("show", "a case and its attached calls (no content)")):
        s.add_parser(name, help=text).add_argument("case_id", type=int, metavar="ID")
    s.add_parser("list", help="cases this account may see")
    a = s.add_parser("attach", help="attach a call from the case window (the case's reviewer)")
    a.add_argument("case_id", type=int, metavar="ID")
    a.add_argument("call_id", type=int, metavar="CALL")
    for name, text in (("transcript", "print a call's transcript (logged)"), ("play", "play a call on the sound device (logged)")):
        c = s.add_parser(name, help=text)
        c.add_argument("call_id", type=int, metavar="CALL")
        c.add_argument("--case", dest="case_id", type=int, metavar="ID", help="the case to read through (default: yours)")
    f = s.add_parser("search", help="find a phrase in the transcripts of a case's calls (logged; the phrase is not)")
    f.add_argument("case_id", type=int, metavar="ID")
    f.add_argument("phrase")
    e = s.add_parser("export", help="export a case's calls: audio, transcripts, manifest (logged)")
    e.add_argument("case_id", type=int, metavar="ID")
    e.add_argument("--out", required=True, metavar="DIR", help="a new or empty directory")
    e.add_argument("--format", choices=("flac", "wav"), default="flac")
    p.set_defaults(func=run)


def _print_case(ctx: Context, case: _cases.Case) -> None:
    zone = ctx.config.zone
    ctx.print(f"case {case.id}  {case.status}  opened by {case.opened_by} at {format_ts(case.opened_ts, zone)}"
              f"  window {format_ts(case.window_from_ts, zone)} .. {format_ts(case.window_to_ts, zone)}"
              + (f"  decided by {case.decided_by}" if case.decided_by else ""))


def run(ctx: Context, args: argparse.Namespace) -> int:
    vault, zone = ctx.vault, ctx.config.zone
    if args.action == "open":
        case_id = _cases.open_case(vault, ctx.actor, args.reason, parse_iso(args.from_, zone, "--from"),
                                   parse_iso(args.to, zone, "--to"))
        status = _cases.get_case(vault, case_id).status
        ctx.print(f"case {case_id} opened ({status}{': an approver must approve it' if status == 'pending' else ''})")
    elif args.action in ("approve", "refuse"):
        _cases.decide_case(vault, ctx.actor, args.case_id, approve=args.action == "approve")
        ctx.print(f"case {args.case_id} {'approved' if args.action == 'approve' else 'refused'}")
    elif args.action == "close":
        _cases.close_case(vault, ctx.actor, args.case_id)
        ctx.print(f"case {args.case_id} closed: its calls are no longer on legal hold")
    elif args.action == "list":
        for case in _cases.list_cases(vault, ctx.actor):
            _print_case(ctx, case)
    elif args.action == "show":
        _show(ctx, args.case_id)
    elif args.action == "attach":
        _cases.attach_call(vault, ctx.actor, args.case_id, args.call_id)
        ctx.print(f"call {args.call_id} attached to case {args.case_id}")
    elif args.action == "transcript":
        _transcript(ctx, args.call_id, args.case_id)
    elif args.action == "search":
        _search(ctx, args.case_id, args.phrase)
    elif args.action == "play":
        _play(ctx, args.call_id, args.case_id)
    elif args.action == "export":
        from callrec.cli._export import export_case

        manifest = export_case(ctx, args.case_id, args.out, args.format)
        ctx.print(f"exported {len(manifest['files'])} files for case {args.case_id} to {args.out}")
    return 0


def _show(ctx: Context, case_id: int) -> None:
    vault = ctx.vault
    cases = {c.id: c for c in _cases.list_cases(vault, ctx.actor)}
    if case_id not in cases:
        refuse(vault, ctx.actor, "case.show", f"case {case_id} is not visible to this account", case_id=case_id)
    case = cases[case_id]
    _print_case(ctx, case)
    attached = set(_cases.case_call_ids(vault, case_id))
    for call in list_calls(vault, case.window_from_ts, case.window_to_ts, ctx.config.zone):
        mark = "attached" if call["id"] in attached else "-"
        ctx.print(f"  call {call['id']:>6}  {call['started_at']}  {call['duration_s']:>7.1f}s  {call['kind']}  {mark}")


def _transcript(ctx: Context, call_id: int, case_id: int | None) -> None:
    from callrec.asr import to_text

    transcripts, _seq, _hash = _content.read_transcripts(ctx.vault, ctx.actor, call_id, case_id)
    if not transcripts:
        ctx.print(f"call {call_id} has no transcript yet")
        return
    ctx.out.write(to_text(transcripts, _content.call_meta(ctx.vault, call_id), ctx.config))


def _search(ctx: Context, case_id: int, phrase: str) -> None:
    from callrec.asr import find_phrase

    roles = ctx.config.capture.channel_roles
    found = 0
    for call_id, transcripts in _content.read_case_transcripts(ctx.vault, ctx.actor, case_id).items():
        for transcript in transcripts:
            speaker = roles[transcript.channel] if len(transcripts) > 1 else "mixed"
            for hit in find_phrase(transcript.words, phrase):
                found += 1
                ctx.print(f"call {call_id}  {speaker:<6} {hit.start_s:7.1f}s  {hit.context}")
    ctx.print(f"{found} match(es) in case {case_id}")


def _play(ctx: Context, call_id: int, case_id: int | None) -> None:
    import io

    import sounddevice
    import soundfile

    audio = _content.read_audio(ctx.vault, ctx.actor, call_id, case_id, "play")
    data, rate = soundfile.read(io.BytesIO(audio.flac), dtype="int16")
    ctx.print(f"playing call {call_id} ({len(data) / rate:.1f} s)")
    sounddevice.play(data, rate, blocking=True)
