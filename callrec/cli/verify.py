"""``callrec verify``: exit 0 when integrity, the access-log chain, every sealed hash and every row
the log explains hold — and, when given, the chain heads kept off the host."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.errors import IntegrityError, UsageError
from callrec.progress import activity
from callrec.vault.log import verify

_HEAD = re.compile(r"^(\d+):([0-9a-fA-F]{64})$")
#: A line of ``callrec log head`` output (or a daily report's head): ``seq=N hash=H ...``.
#: What journalctl prints between messages ("-- No entries --", "-- Boot 0f3c… --").
_JOURNAL_MARKER = re.compile(r"^-- .* --$")
_HEAD_LINE = re.compile(r"\bseq[=:\s\"]+(\d+).*?\bhash[=:\s\"]+([0-9a-fA-F]{64})")


def parse_head(text: str) -> tuple[int, str]:
    match = _HEAD.match(text.strip())
    if match is None:
        raise UsageError(f"--trusted-head {text!r}: expected SEQ:HASH (a number, a colon, 64 hex digits), as printed by 'callrec log head'")
    return int(match[1]), match[2].lower()


def read_heads(path: str) -> list[tuple[int, str]]:
    """Heads from a file: one per line as SEQ:HASH or a pasted ``callrec log head`` line; # comments.

    The journal's export of the heads (``journalctl -t callrec-head -o cat``) is such a file: its
    lines are alert-style head lines, and journalctl's own ``-- … --`` marker lines are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--trusted-heads {path}: cannot be read ({exc.strerror}): give a file of SEQ:HASH lines") from None
    heads = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line or _JOURNAL_MARKER.match(line):
            continue
        match = _HEAD.match(line) or _HEAD_LINE.search(line)
        if match is None:
            raise UsageError(f"--trusted-heads {path}: line {number} is not SEQ:HASH: fix or remove it")
        heads.append((int(match[1]), match[2].lower()))
    return heads


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check vault integrity, the access-log chain, every sealed hash and every row")
    p.add_argument("--trusted-head", action="append", default=[], metavar="SEQ:HASH",
                   help="a chain head kept off the host (from 'callrec log head' or a daily report); repeatable")
    p.add_argument("--trusted-heads", metavar="FILE", help="a file of such heads, one per line")
    p.add_argument("--full", action="store_true",
                   help="also re-hash every closed day's file and decode every call in it (default: only files whose"
                        " size or time changed since they were last hashed)")
    p.add_argument("--max-duration", metavar="SECONDS", type=_seconds,
                   help="with --full: stop re-hashing after this long; the next run goes on with the least recently checked")
    p.add_argument("--json", action="store_true", help="one object: ok, findings, trusted_heads (the exit code is the same)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    heads = [parse_head(h) for h in args.trusted_head]
    if args.trusted_heads:
        heads += read_heads(args.trusted_heads)
    if args.max_duration is not None and not args.full:
        raise UsageError("--max-duration limits 'verify --full': add --full")
    with activity("verify: checking the vault, the log and the sealed audio"):
        findings = verify(ctx.vault, heads, full=args.full, max_duration=args.max_duration,
                          progress=None if args.json else ctx.print)
    if args.json:
        print_json(ctx, {"ok": not findings, "findings": findings, "trusted_heads": len(heads)})
        return IntegrityError.exit_code if findings else 0
    for line in findings:
        ctx.print(line)
    if findings:
        return IntegrityError.exit_code
    checked = f", {len(heads)} trusted head(s)" if heads else ""
    scope = "every closed day re-hashed" if args.full else "closed days unchanged since last hashed"
    ctx.print(f"ok: integrity, access-log chain, checkpoints{checked}, sealed hashes ({scope}) and every row hold")
    return 0
