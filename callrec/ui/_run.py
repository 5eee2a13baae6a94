"""Starting and stopping the page: bind 127.0.0.1, write the token file, open the browser, serve
until the process is stopped, remove the token file."""

from __future__ import annotations

import html
import logging
import os
import signal
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import TextIO

from callrec.config import Config
from callrec.ui._app import create_app
from callrec.ui._guard import Gate
from callrec.ui._server import UiServer, bind_loopback

__all__ = ["run_ui", "write_token_file"]

log = logging.getLogger("callrec.ui")


def write_token_file(url: str) -> Path:
    """A page that sends the browser to ``url`` (the token URL), readable by this account only
    (0600 in a 0700 directory): the browser opens this file, so the token never appears in a
    process's command line, where other accounts could read it."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    directory = Path(tempfile.mkdtemp(prefix="callrec-ui-", dir=base if base and os.access(base, os.W_OK) else None))
    path = directory / "open.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    target = html.escape(url, quote=True)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
                f'<meta http-equiv="refresh" content="0;url={target}"><title>callrec</title></head>'
                f'<body><p><a href="{target}">callrec</a></p></body></html>\n')
    return path


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_ui(config: Config, port: int, open_browser: bool, out: TextIO) -> int:
    """Serve the page until SIGINT or SIGTERM; returns the exit code."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    sock = bind_loopback(port)
    port = sock.getsockname()[1]
    gate = Gate(create_app(config, port), port)
    server = UiServer(sock, gate)
    token_file = write_token_file(gate.url)
    signal.signal(signal.SIGTERM, _stop)
    try:
        print(f"callrec ui: serving http://127.0.0.1:{port}/ to this account only; open this URL (it holds the"
              f" page's token):\n    {gate.url}\nor the file {token_file}", file=out, flush=True)
        if open_browser:
            webbrowser.open(token_file.as_uri())
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        _remove(token_file)
        log.info("callrec ui: stopped")
    return 0
