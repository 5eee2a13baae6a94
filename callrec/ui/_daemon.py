"""What the page asks of the daemon: one action at a time, as this account, through its socket.

:func:`ask` sends one action and returns its typed result; a refusal or an error becomes
:class:`Refused`, whose text is the daemon's one line (it holds no content). :func:`done` runs a
change and says how it went on the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect
from werkzeug.wrappers import Response

from callrec.access import ACTIONS, Me
from callrec.access import request as send
from callrec.config import Config
from callrec.errors import CallrecError
from callrec.ui._media import MediaStore

__all__ = ["Refused", "Services", "ask", "done", "me", "services"]


@dataclass(frozen=True)
class Services:
    config: Config
    media: MediaStore


class Refused(Exception):
    """An action the daemon did not run: its one-line message and exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def services() -> Services:
    from flask import current_app

    return current_app.extensions["callrec"]


def ask(action: str, **args: Any) -> Any:
    """Run ``action`` in the daemon as this account; :class:`Refused` carries its refusal or error."""
    try:
        return send(services().config.socket_path, ACTIONS[action], args)
    except CallrecError as exc:
        raise Refused(str(exc), exc.exit_code) from None


def me() -> Me | None:
    """Who this account is to callrec (asked once per request); None when the daemon refused."""
    if "me" not in g:
        try:
            g.me = ask("whoami")
            g.me_refusal = None
        except Refused as exc:
            g.me, g.me_refusal = None, str(exc)
    return g.me


def done(target: str, action: str, success: str, **args: Any) -> Response:
    """Run a change, say how it went on the next page (the URL ``target``), and go there."""
    try:
        ask(action, **args)
        flash(success, "ok")
    except Refused as exc:
        flash(exc.args[0], "refused")
    return redirect(target, 303)
