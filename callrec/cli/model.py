"""``callrec model``: install Vosk models carried in by the operator, list and remove them.

Nothing is downloaded: ``import`` copies a model folder or unpacks a model .zip into the models
folder under the state directory, checks its layout and hash, and records it in the access log.
"""

from __future__ import annotations

import argparse

from callrec.asr import activate_model, active_model, import_model, installed_names, model_info, remove_model
from callrec.cli._context import Context
from callrec.errors import CallrecError
from callrec.timefmt import format_ts
from callrec.vault._guard import require_role


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
    s.add_parser("list", help="installed models; * marks the active one")
    p.set_defaults(func=run)


def _list(ctx: Context) -> int:
    names = installed_names(ctx.config)
    if not names:
        ctx.print(f"no model installed in {ctx.config.models_path}: see 'callrec model import --help'")
        return 0
    for name in names:
        try:
            info = model_info(ctx.config, name)
        except CallrecError as exc:
            ctx.print(f"  {name}\tDAMAGED: {exc}")
            continue
        imported = format_ts(info.imported_ts, ctx.config.zone, "seconds")
        mark = "*" if info.active else " "
        ctx.print(f"{mark} {info.name}\t{info.sha256}\t{info.size_bytes / 1e6:.0f} MB\t{info.sample_rate} Hz"
                  f"\t{info.language or 'unknown'}\timported {imported}")
    return 0


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(ctx)
    require_role(ctx.vault, ctx.actor, f"model.{args.action}", "admin")
    if args.action == "activate":
        info = activate_model(ctx.config, args.name, force=args.force)
    elif args.action == "remove":
        info = remove_model(ctx.config, args.name)
        ctx.print(f"removed model {info.name}")
    else:
        # The real hash of a mismatching file is shown only when this process read the file itself.
        info = import_model(ctx.config, args.source, expected_sha256=args.sha256, name=args.name,
                            language=args.language, activate=args.activate, force=args.force,
                            reveal_hash=not ctx.remote)
        ctx.print(f"imported model {info.name} ({info.language}, {info.sample_rate} Hz, model hash {info.sha256})"
                  f" into {info.path}")
        if not args.sha256:
            ctx.print(f"SHA-256 of {args.source}: {info.source_sha256} (kept in the model's manifest;"
                      " compare it with the one the model was published with)")
    with ctx.vault.transaction():
        ctx.vault.log(ctx.actor, f"model.{args.action}",
                      detail={"model": info.name, "sha256": info.sha256, "language": info.language})
    current = active_model(ctx.config)
    ctx.print(f"active model: {current.name if current else 'none'}")
    return 0
