"""The page's gate: the token, its cookie, the Host and Origin of each request, the CSRF token of
each state-changing request, and the headers that keep the page to itself.

The model is Jupyter's: the server prints (and opens) a URL holding a random token; the first
request with it gets a cookie (HttpOnly, SameSite=Strict) and is sent on to the same page
without it. Every other request needs the cookie. A Host other than this server's loopback
address is refused (DNS rebinding), so is an Origin other than the page's own or a cross-site
fetch; a POST needs the CSRF token the page's forms carry (:meth:`Gate.csrf_refusal`, checked by
the app once it has read the form). Refusals are 403 with one line; the
log says why, never which path or what was sent.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

__all__ = ["CSP", "Gate"]

log = logging.getLogger("callrec.ui")

#: Nothing from the network: scripts, styles, images and audio only from this server.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self';"
       " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'none'")

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Gate:
    """WSGI middleware in front of the page's app, for a server on 127.0.0.1:``port``."""

    app: Callable[..., Iterable[bytes]]
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def cookie(self) -> str:
        """Cookies are shared by every port of a host: the name says which server this one is for."""
        return f"callrec_ui_{self.port}"

    @property
    def hosts(self) -> tuple[str, ...]:
        return (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?{urlencode({'token': self.token})}"

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        why = self._refusal(request)
        if why:
            log.warning("callrec ui: refused a request: %s", why)
            response = Response(f"refused: {why}\n", 403, mimetype="text/plain")
        elif "token" in request.args:
            response = self._welcome(request)
        else:
            environ["callrec.gate"] = self
            return self._secured(self.app, environ, start_response)
        return self._secured(response, environ, start_response)

    def _refusal(self, request: Request) -> str | None:
        if request.host not in self.hosts:
            return "the Host header is not this page's own address"
        origin = request.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.hosts}:
            return "the request comes from another site (Origin)"
        if "token" in request.args:  # the token is the credential, wherever the link was (the token file)
            return None if _same(request.args.get("token"), self.token) else "wrong token in the URL"
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "the request comes from another site (Sec-Fetch-Site)"
        if not _same(request.cookies.get(self.cookie), self.session):
            return "no valid token: open the URL that 'callrec ui' printed"
        return None

    def csrf_refusal(self, method: str, sent: str | None) -> str | None:
        """Why a request that changes something is refused (no or a wrong CSRF token), else None.
        Checked by the app, which reads the form (this gate never reads a request's body)."""
        if method in _UNSAFE_METHODS and not _same(sent, self.csrf):
            return "a change without the page's CSRF token"
        return None

    def _welcome(self, request: Request) -> Response:
        """The token was right: the cookie, and the same page without the token in its URL.

        The way on is a page that refreshes to it rather than a redirect: a redirect would keep
        the navigation cross-site when it began in the token file (``file://``), and a
        SameSite=Strict cookie is not sent on such a navigation."""
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        target = html.escape(request.path + (f"?{urlencode(rest)}" if rest else ""), quote=True)
        response = Response(f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh"'
                            f' content="0;url={target}"><title>callrec</title></head><body>'
                            f'<p><a href="{target}">callrec</a></p></body></html>\n', 200, mimetype="text/html")
        response.set_cookie(self.cookie, self.session, httponly=True, samesite="Strict", path="/")
        return response

    @staticmethod
    def _secured(app: Callable[..., Iterable[bytes]], environ: dict,
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            named = {k.lower() for k, _ in headers}
            headers = [*headers, *((k, v) for k, v in SECURITY_HEADERS.items() if k.lower() not in named)]
            return start_response(status, headers, exc_info)

        return app(environ, start)
