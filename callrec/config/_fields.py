"""Typed, validated config sections.

Each section is a frozen dataclass; the loader checks every key of the TOML table against the
dataclass fields, so an unknown key or a wrong type is a one-line error naming the key and the
file. A field's ``metadata["check"]`` may hold a callable that returns an error text for an
impossible value (or None).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callrec.errors import ConfigBadValue, ConfigUnknownKey, ConfigWrongType

__all__ = ["build_section", "check"]

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", Path: "a path string"}


def check(predicate: Callable[[Any], bool], message: str) -> dict:
    """Field metadata: ``message`` is the error when ``predicate(value)`` is false."""
    return {"check": lambda value: None if predicate(value) else message}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return f"a list of {_describe(inner).removeprefix('a ').removeprefix('an ')}s"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None))
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _number(value: Any) -> tuple[bool, Any]:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return ok, float(value) if ok else None


#: TOML value -> (whether it is of the type, the value as that type), for each plain type.
_PLAIN: dict[Any, Any] = {
    bool: lambda v: (isinstance(v, bool), v),
    int: lambda v: (isinstance(v, int) and not isinstance(v, bool), v),
    float: _number,
    str: lambda v: (isinstance(v, str), v),
    Path: lambda v: (isinstance(v, str) and v != "", Path(v) if isinstance(v, str) else None),
}


def _coerce(tp: Any, value: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for alt in typing.get_args(tp):
            ok, out = (False, None) if alt is type(None) else _coerce(alt, value)
            if ok:
                return True, out
        return False, None
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            return False, None
        items = [_coerce(inner, v) for v in value]
        return (all(ok for ok, _ in items), tuple(v for _, v in items))
    if tp not in _PLAIN:
        raise TypeError(f"unsupported config type {tp!r}")
    return _PLAIN[tp](value)


def build_section(cls: type, table: dict, file: Path, prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from TOML ``table``; nested dataclass fields are sub-tables."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if key not in fields:
            raise ConfigUnknownKey(file, name)
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigWrongType(file, name, "a table", type(value).__name__)
            values[key] = build_section(tp, value, file, prefix=f"{name}.")
            continue
        ok, coerced = _coerce(tp, value)
        if not ok:
            raise ConfigWrongType(file, name, _describe(tp), type(value).__name__)
        problem = fields[key].metadata.get("check", lambda v: None)(coerced)
        if problem:
            raise ConfigBadValue(file, name, problem)
        values[key] = coerced
    section = cls(**values)
    problem = section.problem() if hasattr(section, "problem") else None
    if problem:
        raise ConfigBadValue(file, prefix.rstrip(".") or "(top level)", problem)
    return section
