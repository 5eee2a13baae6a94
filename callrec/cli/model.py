"""``callrec model``: install Vosk models carried in by the operator, list and remove them.

Nothing is downloaded: ``import`` copies a model folder or unpacks a model .zip into the models
folder under the state directory, checks its layout and hash, and records it in the access log.
It names a path, so it runs only in this process, where the data key is readable (the service
account or root), never through the socket.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from callrec.access import Model, model_import
from callrec.cli._context import Context
from callrec.cli._output import print_json
from callrec.progress import activity


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="install and list Vosk models (nothing is downloaded)")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = s.add_parser("import", help="copy a model folder or unpack a model .zip into the state directory (admin)")
    i.add_argument("source", metavar="PATH.zip|DIR")
    i.add_argument("--sha256", metavar="HEX", help="expected SHA-256: of the .zip as sha256sum prints it, or the model hash of a folder")
    i.add_argument("--name", help="name to install under (default: from the file or folder name)")
    i.add_argument("--language", metavar="CODE", help="the model's language, e.g. ja (default: from the name, e.g. vosk-model-small-ja-0.22)")
    i.add_argument("--activate", action="store_true", help="make it the model new transcriptions use")
    i.add_argument("--force", action="store_true", help="activate even if its language is not [asr] language or memory looks short")
    a = s.add_parser("activate", help="make an installed model the one new transcriptions use (admin)")
    a.add_argument("name")
    a.add_argument("--force", action="store_true", help="even if its language is not [asr] language or memory looks short")
    r = s.add_parser("remove", help="delete an installed model that is not the active one (admin)")
    r.add_argument("name")
    li = s.add_parser("list", help="installed models; * marks the active one")
    li.add_argument("--json", action="store_true", help="one object: models_path, active, models")
    p.set_defaults(func=run)


def _line(m: Model) -> str:
    if m.damaged:
        return f"  {m.name}\tDAMAGED: {m.damaged}"
    return (f"{'*' if m.active else ' '} {m.name}\t{m.sha256}\t{m.size_bytes / 1e6:.0f} MB\t{m.sample_rate} Hz"
            f"\t{m.language or 'unknown'}\timported {m.imported_at}")


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "list":
        listing = ctx.call("model.list")
        if args.json:
            print_json(ctx, listing)
            return 0
        if not listing.models:
            ctx.print(f"no model installed in {listing.models_path}: see 'callrec model import --help'")
            return 0
        ctx.print("  NAME\tMODEL HASH\tSIZE\tRATE\tLANGUAGE\tIMPORTED")
        for m in listing.models:
            ctx.print(_line(m))
        return 0
    if args.action == "activate":
        active = ctx.call("model.activate", name=args.name, force=args.force).active
    elif args.action == "remove":
        listing = ctx.call("model.remove", name=args.name)
        ctx.print(f"removed model {args.name}")
        active = listing.active
    else:
        with activity(f"model import: hashing, unpacking and checking {Path(args.source).name}"):
            info = model_import(ctx.vault, ctx.person, source=args.source, sha256=args.sha256, name=args.name,
                                language=args.language, activate=args.activate, force=args.force)
        ctx.print(f"imported model {info.name} ({info.language}, {info.sample_rate} Hz, model hash {info.sha256})"
                  f" into {ctx.config.models_path / info.name}")
        if not args.sha256:
            ctx.print(f"SHA-256 of {args.source}: {info.source_sha256} (kept in the model's manifest;"
                      " compare it with the one the model was published with)")
        active = next((m.name for m in ctx.call("model.list").models if m.active), None)
    ctx.print(f"active model: {active or 'none'}")
    return 0
