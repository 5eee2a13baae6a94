"""Machine-readable output shared by every command's ``--json``: one JSON document on stdout.

Typed results of the access layer are frozen dataclasses; they are printed field by field, so a
command's JSON schema is its result type (documented in docs/cli.md, fields only ever added).
The encoder is :mod:`callrec.jsoncodec` (orjson), the same as the daemon's socket: a listing that
came through the socket is written as the bytes that came.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from callrec import jsoncodec
from callrec.cli._context import Context

__all__ = ["print_json", "print_records"]


def print_json(ctx: Context, value: Any) -> None:
    """``value`` (a dataclass, a list of them, or plain JSON data) as one indented JSON document."""
    ctx.write(jsoncodec.document(value))


def print_records(ctx: Context, pages: Iterable[bytes]) -> None:
    """A listing as a JSON array, one record a line, each page written as it comes (pages of
    :func:`callrec.jsoncodec.records`): the first line appears at once, and none is held whole."""
    before = jsoncodec.ARRAY_START
    for page in pages:
        ctx.write(before + page)
        before = jsoncodec.SEPARATOR
    ctx.write(jsoncodec.EMPTY_ARRAY if before is jsoncodec.ARRAY_START else jsoncodec.ARRAY_END)
