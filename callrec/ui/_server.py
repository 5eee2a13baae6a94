"""The HTTP server: Werkzeug's threaded WSGI server on a socket bound to 127.0.0.1 only, which
answers only the account it runs as and keeps request lines (paths, query strings) out of the log.

Each accepted connection is checked before its request is read: :func:`peer_uid` names the
account whose socket is on the other end; another account gets a bare 403 and the connection is
closed (one journal line with its uid).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from callrec.errors import UsageError
from callrec.ui._peer import peer_uid

__all__ = ["LOOPBACK", "PortInUse", "UiServer", "bind_loopback"]

log = logging.getLogger("callrec.ui")

LOOPBACK = "127.0.0.1"
_FOREIGN = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            b"Content-Length: 60\r\n\r\nrefused: this page belongs to another account on this host.\n")


class PortInUse(UsageError):
    """port {0} on 127.0.0.1 is in use ({1}): choose another with --port N, or --port 0 for any free port"""


def bind_loopback(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (never another address)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port: give 1 to 65535, or 0 for any free port")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise PortInUse(port, exc.strerror) from None
    return sock


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log: a request line holds case and call ids."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return


class UiServer(ThreadedWSGIServer):
    """Serves ``app`` on ``sock`` (from :func:`bind_loopback`) to this process's own account."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, app: Any) -> None:
        host, port = sock.getsockname()
        super().__init__(host, port, app, handler=_QuietHandler, fd=sock.fileno())
        sock.close()  # the server listens on its own duplicate of it
        self.uid = os.getuid()

    def finish_request(self, request: Any, client_address: Any) -> None:
        owner = peer_uid(client_address, self.server_address)
        if owner != self.uid:
            log.warning("callrec ui: refused a connection from another account (uid %s)",
                        "unknown" if owner is None else owner)
            _refuse(request)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("callrec ui: a connection failed")

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Werkzeug's own messages (an error's traceback holds the request): one line, without them."""
        log.warning("callrec ui: the server reported an %s", "error" if type == "error" else "event")


def _refuse(request: socket.socket) -> None:
    request.settimeout(1.0)
    try:
        request.recv(65536)
        request.sendall(_FOREIGN)
    except OSError:
        pass
