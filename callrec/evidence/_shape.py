"""Strict reading of untrusted JSON: exact types, no duplicate keys, no NaN, bounded nesting.

A package comes from outside; every value the verifier uses is taken through these checks, and
anything else is :class:`Malformed` with a one-line reason naming the member — never a
``KeyError``, ``TypeError`` or ``RecursionError`` later on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Malformed", "load_json", "member", "optional", "integer", "number", "text", "hex_digest", "obj",
           "array", "HEX64", "HEX128", "safe_name"]

HEX64 = re.compile(r"[0-9a-f]{64}")
HEX128 = re.compile(r"[0-9a-f]{128}")
#: A package name: relative POSIX path segments of ordinary characters, no "." or ".." segment.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_MAX_DEPTH = 32


class Malformed(ValueError):
    """One line: which member is not of its documented shape."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise Malformed(f"member {key[:40]!r} appears twice")
        seen[key] = value
    return seen


def _constant(name: str) -> Any:
    raise Malformed(f"{name} is not a JSON number")


def _depth(value: Any, level: int = 0) -> int:
    if level > _MAX_DEPTH:
        raise Malformed(f"nested deeper than {_MAX_DEPTH} levels")
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(v, level + 1) for v in children), default=level)


def load_json(data: bytes) -> Any:
    """Parse UTF-8 JSON strictly; :class:`Malformed` for anything a second parser might read otherwise."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_constant)
    except Malformed:
        raise
    except RecursionError:
        raise Malformed(f"nested deeper than {_MAX_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise Malformed("not UTF-8") from None
    except ValueError as exc:  # JSONDecodeError, and integers past the digit limit
        raise Malformed(f"not valid JSON ({str(exc).split(':')[0][:60]})") from None
    try:
        _depth(value)
    except RecursionError:
        raise Malformed(f"nested deeper than {_MAX_DEPTH} levels") from None
    return value


def obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise Malformed(f"{where} is not a JSON object")
    return value


def array(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise Malformed(f"{where} is not a JSON array")
    return value


def integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise Malformed(f"{where} is not a whole number from 0 to 2^63")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > 1e15:
        raise Malformed(f"{where} is not a finite number")
    return float(value)


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise Malformed(f"{where} is not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed(f"{where} holds a lone surrogate (not encodable as UTF-8)") from None
    return value


def hex_digest(value: Any, where: str, pattern: re.Pattern = HEX64) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Malformed(f"{where} is not lowercase hex of the documented length")
    return value


def safe_name(value: Any, where: str) -> str:
    """A relative POSIX name inside the package (never absolute, never through '..')."""
    name = text(value, where)
    if len(name) > 1024 or not all(_SEGMENT.fullmatch(part) for part in name.split("/")):
        raise Malformed(f"{where} is not a plain relative file name inside the package")
    return name


def member(container: dict, key: str, check: Callable[[Any, str], Any], where: str) -> Any:
    """``container[key]`` through ``check``; a missing member is :class:`Malformed`."""
    if key not in container:
        raise Malformed(f"{where}: member {key!r} is missing")
    return check(container[key], f"{where}.{key}")


def optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """``check`` that lets JSON ``null`` through as ``None``."""
    return lambda value, where: None if value is None else check(value, where)
