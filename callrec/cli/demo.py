"""``callrec demo``: the whole pipeline on the bundled sample feed, in ``./var/demo``.

It runs the same commands an operator would — init, replay, calls list, health report, verify — against
a config that holds only ``state_dir``, prints each command first, and is safe to run again (the
feed is replayed only into an empty vault).
"""

from __future__ import annotations

import argparse
from importlib.resources import as_file, files
from pathlib import Path

from callrec.cli._context import Context
from callrec.vault.calls import has_calls

#: The bundled feed starts at this local time (the example in DESIGN.md).
DEMO_START = "2026-08-03T08:30:00+09:00"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="replay the bundled sample feed into ./var/demo and show calls and health")
    p.add_argument("--dir", type=Path, default=Path("var/demo"), help="state directory of the demo (default ./var/demo)")
    p.set_defaults(func=run)


def _step(ctx: Context, config_file: Path, *argv: str) -> int:
    from callrec.cli import execute

    ctx.print(f"\n$ callrec --config {config_file} {' '.join(argv)}")
    ctx.out.flush()
    return execute(Context(config_flag=str(config_file), actor=ctx.actor, out=ctx.out, err=ctx.err), list(argv))


def run(ctx: Context, args: argparse.Namespace) -> int:
    state = args.dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    config_file = state / "callrec.toml"
    if not config_file.exists():
        config_file.write_text(f'state_dir = "{state}"\n')
    rc = _step(ctx, config_file, "init")
    if rc:
        return rc
    demo_ctx = Context(config_flag=str(config_file), actor=ctx.actor)
    empty = not has_calls(demo_ctx.vault)
    demo_ctx.close()
    day = DEMO_START[:10]
    with as_file(files("callrec") / "demo" / "feed.flac") as feed:
        steps = [("replay", str(feed), "--start", DEMO_START)] if empty else []
        steps += [("calls", "list", "--from", f"{day}T00:00:00+09:00", "--to", f"{day}T23:59:59+09:00"),
                  ("health", "report", "--date", day), ("verify",)]
        for argv in steps:
            rc = _step(ctx, config_file, *argv)
            if rc:
                return rc
    return 0
