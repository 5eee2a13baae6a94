"""Use cases as actions: each is one function ``f(vault, actor, **typed args) -> typed result``.

:func:`use_case` registers a function under its action name, checks the role table before it
runs, and derives the action's argument schema from the function's signature. The schema is what
the socket validates a request against (:func:`validate`); the registry is the socket's whole
allow-list (:data:`ACTIONS`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from callrec.access._actor import Actor
from callrec.access._table import ACTION_ROLES, authorize
from callrec.errors import UsageError
from callrec.vault import Vault

__all__ = ["ACTIONS", "Action", "MAX_LIST_ITEMS", "MAX_TEXT_CHARS", "action", "check_bounds", "perform", "use_case",
           "validate"]

#: Longest string argument accepted (a reason, a phrase, a name).
MAX_TEXT_CHARS = 4096
#: Longest list argument accepted.
MAX_LIST_ITEMS = 64


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[..., Any]
    #: argument name → (declared type, required)
    params: Mapping[str, tuple[Any, bool]]
    #: the ``bytes`` argument carried as a binary frame after the request, if any
    upload: str | None
    #: the type of the result (a frozen dataclass)
    result: Any


#: The module of this package holding each action's use case, by the first word of the action's
#: name: a command imports the one use case it runs (``action``), the daemon all of them (``ACTIONS``).
#: tests/access/test_table.py checks it against where every use case is registered.
HOMES = {
    "calls": "_calls", "case": "_cases", "cdr": "_health", "delete": "_admin", "export": "_export",
    "health": "_health", "key": "_log", "log": "_log", "maintenance": "_ops", "model": "_models", "play": "_content",
    "retention": "_admin", "retranscribe": "_admin", "status": "_ops", "transcript": "_content", "users": "_admin",
    "whoami": "_whoami",
}

_REGISTERED: dict[str, Action] = {}


def _home(name: str) -> str:
    return f"{__package__}.{HOMES.get(name.split('.', 1)[0], '_registry')}"


class _Actions(Mapping[str, Action]):
    """Every action on the socket (its whole allow-list), each use case module imported on first use."""

    loaded = False

    def _all(self) -> dict[str, Action]:
        if not self.loaded:
            for home in sorted(set(HOMES.values())):
                importlib.import_module(f"{__package__}.{home}")
            self.loaded = True
        return _REGISTERED

    def __getitem__(self, name: str) -> Action:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


ACTIONS: Mapping[str, Action] = _Actions()


def action(name: str) -> Action:
    """The action ``name``, importing only the module holding its use case (KeyError if none)."""
    if name not in _REGISTERED:
        importlib.import_module(_home(name))
    return _REGISTERED[name]


def _params(fn: Callable[..., Any]) -> dict[str, tuple[Any, bool]]:
    hints = typing.get_type_hints(fn)
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in ("vault", "actor"):
            continue
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"{fn.__name__}: argument {name} must be keyword-only")
        out[name] = (hints[name], p.default is inspect.Parameter.empty)
    return out


def _bad_value(value: Any) -> str | None:
    """Why a value cannot be stored or sent as it is (``None`` when it can)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate, not text: give valid UTF-8 text"
    elif isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    elif isinstance(value, list | tuple):
        return next((why for why in map(_bad_value, value) if why), None)
    return None


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer past the largest float
        return False


def check_bounds(action: str, args: Mapping[str, Any]) -> None:
    """Every argument of a request, from the CLI or the socket, is text that can be stored (no
    lone surrogate, which a command-line argument of invalid UTF-8 or a JSON escape can carry) and
    a finite number; else :class:`UsageError` naming the argument."""
    for name, value in args.items():
        why = _bad_value(value)
        if why:
            raise UsageError(f"{action}: argument {name!r} {why}")


def use_case(name: str, *, socket: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as action ``name`` (a row of the role table), checked before it runs.

    ``socket=False`` keeps an action off the socket (it names a path only the caller may open).
    """
    if name not in ACTION_ROLES:
        raise KeyError(f"action {name} has no row in the role table")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def checked(vault: Vault, actor: Actor, **kwargs: Any) -> Any:
            check_bounds(name, kwargs)
            authorize(vault, actor, name, call_id=kwargs.get("call_id"), case_id=kwargs.get("case_id"))
            return fn(vault, actor, **kwargs)

        if socket:
            params = _params(fn)
            uploads = [n for n, (tp, _) in params.items() if tp is bytes]
            _REGISTERED[name] = Action(name, checked, params, uploads[0] if uploads else None,
                                   typing.get_type_hints(fn)["return"])
        return checked

    return wrap


def _check(value: Any, tp: Any, where: str) -> Any:
    origin, targs = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in targs:
            return None
        return _check(value, next(t for t in targs if t is not type(None)), where)
    if origin is list:
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            raise UsageError(f"{where} must be a list of at most {MAX_LIST_ITEMS} items")
        return [_check(v, targs[0], where) for v in value]
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value)
        value = float(value) if ok else value
    elif tp is str:
        ok = isinstance(value, str) and len(value) <= MAX_TEXT_CHARS and "\x00" not in value and not _bad_value(value)
    else:
        ok = False
    if not ok:
        raise UsageError(f"{where} must be {getattr(tp, '__name__', tp)}")
    return value


def validate(action: Action, args: Any, upload: bytes | None = None) -> dict[str, Any]:
    """The typed keyword arguments of a socket request, or :class:`UsageError` (exit code 2)."""
    if not isinstance(args, dict):
        raise UsageError(f"request for {action.name}: 'args' must be an object")
    unknown = sorted(set(args) - set(action.params) | ({action.upload} & set(args)))
    if unknown:
        raise UsageError(f"request for {action.name}: unknown argument {unknown[0][:40]!r}")
    out: dict[str, Any] = {}
    for name, (tp, required) in action.params.items():
        if name == action.upload:
            if upload is None:
                raise UsageError(f"request for {action.name}: the file must follow the request as a frame")
            out[name] = upload
        elif name in args:
            out[name] = _check(args[name], tp, f"request for {action.name}: argument {name!r}")
        elif required:
            raise UsageError(f"request for {action.name}: argument {name!r} is missing")
    return out


def perform(vault: Vault, actor: Actor, name: str, args: Mapping[str, Any]) -> Any:
    """Run action ``name`` for ``actor`` with already typed arguments (the local CLI's path)."""
    return action(name).run(vault, actor, **args)
