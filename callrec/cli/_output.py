"""Machine-readable output shared by every command's ``--json``: one JSON document on stdout.

Typed results of the access layer are frozen dataclasses; they are printed field by field, so a
command's JSON schema is its result type (documented in docs/cli.md, fields only ever added).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from callrec.cli._context import Context

__all__ = ["print_json"]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def print_json(ctx: Context, value: Any) -> None:
    """``value`` (a dataclass, a list of them, or plain JSON data) as one indented JSON document."""
    ctx.print(json.dumps(_plain(value), ensure_ascii=False, indent=1))
