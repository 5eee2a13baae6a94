"""The one JSON encoder of callrec: the socket's wire and every ``--json`` (orjson).

orjson encodes a month's listing (~6,000 calls) in about a tenth of the time of ``json.dumps``
(whose ``indent`` forces its pure-Python encoder); it writes dataclasses itself and hands
anything else it cannot write to the caller's ``default`` (the wire's binary frames). Output is
UTF-8 bytes, never ``\\u`` escapes for non-ASCII text; keys keep their order.

- A document (``--json`` of one object) is indented by two spaces.
- A listing is a JSON array with one record per line, written page by page as it is read
  (:func:`records`, :func:`array_start`, :func:`array_end`): the same bytes whether the command ran
  here or the daemon sent the pages, and no listing is ever held whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

__all__ = ["JSONDecodeError", "Fragment", "document", "dumps", "loads", "records", "ARRAY_START", "SEPARATOR",
           "ARRAY_END", "EMPTY_ARRAY"]

JSONDecodeError = orjson.JSONDecodeError
#: Bytes that are already JSON, embedded as they are (a result encoded before its reply line).
Fragment = orjson.Fragment

_COMPACT = orjson.OPT_NON_STR_KEYS
_DOCUMENT = orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE

#: A listing is ``[`` newline, records separated by comma newline, newline ``]`` newline.
ARRAY_START, SEPARATOR, ARRAY_END, EMPTY_ARRAY = b"[\n", b",\n", b"\n]\n", b"[]\n"


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON (the wire); ``default`` turns what JSON cannot hold into what it can."""
    return orjson.dumps(value, default=default, option=_COMPACT)


def document(value: Any) -> bytes:
    """One indented JSON document and a newline (``--json``)."""
    return orjson.dumps(value, option=_DOCUMENT)


def records(page: Iterable[Any]) -> bytes:
    """A page of a listing: each record on one line, separated by :data:`SEPARATOR`."""
    return SEPARATOR.join(map(orjson.dumps, page))


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
