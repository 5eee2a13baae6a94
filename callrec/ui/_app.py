"""The page as a Flask app: one view per role, each asking the daemon (as this account, through
its socket) for what to show; the daemon's role table decides, the page only adapts.

Every view runs the same way: :func:`ask` sends one action and returns its typed result; a
refusal or an error becomes a message on the page (its text is the daemon's one line, which holds
no content). A change is a POST carrying the page's CSRF token, answered by a redirect.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from callrec.config import Config
from callrec.ui._cases import cases
from callrec.ui._daemon import Refused, Services, me, services
from callrec.ui._i18n import LANGUAGE_COOKIE, LANGUAGES, choose_language, gettext, local_time, translations
from callrec.ui._media import MediaStore
from callrec.ui._ops import ops

__all__ = ["create_app"]

log = logging.getLogger("callrec.ui")

#: A form is a few short fields; nothing larger is read.
MAX_FORM_BYTES = 64 * 1024
#: Which page shows each role (in this order in the navigation).
ROLE_PAGES = {"reviewer": "cases.reviewer", "approver": "cases.approver", "ops": "ops.ops_page",
              "maintainer": "ops.maintainer", "admin": "ops.admin"}


def _before() -> Response | None:
    g.language = choose_language(request, services().config.ui.language)
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        abort(413)
    why = request.environ["callrec.gate"].csrf_refusal(request.method, request.form.get("csrf"))
    if why:
        log.warning("callrec ui: refused a request: %s", why)
        return Response(f"refused: {why}\n", 403, mimetype="text/plain")
    return None


def _log_response(response: Response) -> Response:
    """One line per request, naming the route, never the path (it holds ids) or the query."""
    rule = request.url_rule.rule if request.url_rule else "(no route)"
    log.info("callrec ui: %s %s %s", request.method, rule, response.status_code)
    return response


def _context() -> dict[str, Any]:
    person = me()
    pages = [(role, page) for role, page in ROLE_PAGES.items() if person is not None and role in person.roles]
    return {"me": person, "me_refusal": g.get("me_refusal"), "pages": pages, "language": g.language,
            "languages": LANGUAGES, "csrf": request.environ["callrec.gate"].csrf,
            "may": lambda action: person is not None and action in person.actions}


def _failure(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return exc
    log.warning("callrec ui: a request failed (%s)", type(exc).__name__)
    return render_template("error.html", message=gettext("Something went wrong in the page itself.")), 500


def _refused(exc: Refused) -> tuple[str, int]:
    return render_template("error.html", message=exc.args[0]), 403 if exc.code == 4 else 400


class _App(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """One line naming the exception's type: a traceback shows the path and the values in it."""
        log.warning("callrec ui: a request failed (%s)", exc_info[0].__name__ if exc_info[0] else "unknown")


def create_app(config: Config, port: int) -> Flask:
    app = _App(__name__)
    app.config.update(SECRET_KEY=secrets.token_bytes(32), SESSION_COOKIE_NAME=f"callrec_ui_flash_{port}",
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True,
                      MAX_CONTENT_LENGTH=MAX_FORM_BYTES, MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES)
    app.extensions["callrec"] = Services(config, MediaStore())
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext=lambda s: translations(g.language).gettext(s),
                                            ngettext=lambda s, p, n: translations(g.language).ngettext(s, p, n),
                                            newstyle=True)
    app.jinja_env.filters["when"] = lambda value: local_time(value, config.zone, g.language)
    app.before_request(_before)
    app.after_request(_log_response)
    app.context_processor(_context)
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(Exception, _failure)
    app.add_url_rule("/", "home", _home)
    app.add_url_rule("/language/<code>", "language", _language, methods=["POST"])
    app.add_url_rule("/player.js", "player_js", _player_js)
    app.add_url_rule("/player.css", "player_css", _player_css)
    app.register_blueprint(cases)
    app.register_blueprint(ops)
    return app


def _home() -> Any:
    person = me()
    if person is not None and len(person.roles) == 1 and person.roles[0] in ROLE_PAGES:
        return redirect(url_for(ROLE_PAGES[person.roles[0]]))
    return render_template("home.html")


def _language(code: str) -> Response:
    if code not in LANGUAGES:
        abort(404)
    response = redirect(url_for("home"), 303)
    response.set_cookie(LANGUAGE_COOKIE, code, httponly=True, samesite="Strict", max_age=365 * 86400)
    return response


def _player_js() -> Response:
    from callrec.evidence import PLAYER_SCRIPT

    return Response(PLAYER_SCRIPT, mimetype="text/javascript")


def _player_css() -> Response:
    from callrec.evidence import PLAYER_STYLE

    return Response(PLAYER_STYLE, mimetype="text/css")
