"""Regenerate the command reference in docs/cli.md from the argument parser itself.

The part between the ``commands`` markers is generated (usage, description, options of every
command and subcommand), so it cannot drift from the code; the rest of the page (exit codes, JSON
schemas) is written by hand. ``tests/cli/test_cli_doc.py`` fails when the page is out of date.

    python tools/make_cli_doc.py          rewrite docs/cli.md
    python tools/make_cli_doc.py --check  exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
START, END = "<!-- commands:start -->", "<!-- commands:end -->"


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


def _section(path: tuple[str, ...], parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines = [f"### `{' '.join(('callrec', *path))}`", ""]
    if parser.description:
        lines += [parser.description.strip().splitlines()[0], ""]
    lines += ["```", usage, "```", ""]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest in ("help", "config", "version"):
            continue
        names = ", ".join(action.option_strings) or action.metavar or action.dest
        if action.option_strings and action.nargs != 0:
            names += f" {action.metavar or action.dest.upper()}"
        lines.append(f"- `{names}`: {action.help or ''}".rstrip(": "))
    return "\n".join(lines).rstrip() + "\n"


def render() -> str:
    os.environ["COLUMNS"] = "100"
    from callrec.cli import build_parser

    body = "\n".join(_section(path, parser) for path, parser in _commands(build_parser()))
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{body}\n{END}{tail}"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        return 0 if DOC.read_text(encoding="utf-8") == text else 1
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
