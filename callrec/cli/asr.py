"""``callrec asr eval DIR``: measure a model on your own recordings (CER, WER, real-time factor).

Runs in the caller's own process on the caller's own files and never opens the vault, so it is
never forwarded to the daemon. The model folder must be readable by the caller (run it as the
service account or root).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.asr import active_model, evaluate, model_info
from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.errors import UsageError

LOCAL_ONLY = True


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("asr", help="speech recognition tools")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = s.add_parser("eval", help="error rates and speed of a model on audio files with reference texts (x.wav + x.txt)")
    e.add_argument("directory", metavar="DIR")
    e.add_argument("--model", metavar="NAME", help="an installed model (default: the active one)")
    e.add_argument("--language", metavar="CODE", help="language of the references (default: the model's)")
    e.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run)


def _fmt(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.3f}"


def run(ctx: Context, args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a folder: give a folder of x.wav + x.txt pairs")
    info = model_info(ctx.config, args.model) if args.model else active_model(ctx.config)
    if info is None:
        raise UsageError("no model is active: give --model NAME (see 'callrec model list')")
    result = evaluate(directory, info, args.language or info.language or ctx.config.asr.language)
    if args.json:
        print_json(ctx, result.to_json())
        return 0
    ctx.print(f"model {result.model} ({result.model_sha256[:12]}), language {result.language}")
    ctx.print(f"{'file':<32} {'seconds':>8} {'CER':>6} {'WER':>6} {'RTF':>6}")
    for f in [*result.files, result.total]:
        ctx.print(f"{f.name:<32} {f.duration_s:>8.1f} {_fmt(f.cer):>6} {_fmt(f.wer):>6} {_fmt(f.rtf):>6}")
    return 0
