"""The access server: the daemon's Unix socket through which people without the data key run
commands. Each request runs the same command code as the local CLI, with the actor taken from
the kernel (``SO_PEERCRED``)."""

from __future__ import annotations

import io
import logging
import os
import socketserver
import sys
import threading
from pathlib import Path

from callrec.config import Config
from callrec.identity import peer_account

__all__ = ["AccessServer"]

log = logging.getLogger(__name__)


class _Handler(socketserver.BaseRequestHandler):
    server: AccessServer

    def handle(self) -> None:
        from callrec.cli import execute
        from callrec.cli._context import Context
        from callrec.cli._remote import LOCAL_ONLY_COMMANDS, read_message, split_argv, write_message

        actor = peer_account(self.request)
        try:
            argv = [str(a) for a in read_message(self.request)["argv"]]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            write_message(self.request, {"rc": 2, "stdout": "", "stderr": "callrec: error: malformed request\n"})
            return
        _, command = split_argv(argv)
        out, err = io.StringIO(), io.StringIO()
        if command in LOCAL_ONLY_COMMANDS:
            rc = 2
            err.write(f"callrec: error: '{command}' cannot be run through the daemon's socket\n")
        else:
            ctx = Context(config_flag=str(self.server.config.source), actor=actor, out=out, err=err, remote=True)
            rc = execute(ctx, argv)
        log.info("socket request: account=%s command=%s rc=%d", actor, command, rc)
        write_message(self.request, {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()})


class AccessServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, config: Config) -> None:
        self.config = config
        path: Path = config.socket_path
        if path.exists():
            path.unlink()
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o666)
        self._thread: threading.Thread | None = None

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or sends junk is one journal line, not a traceback."""
        log.warning("socket client dropped: %s", type(sys.exc_info()[1]).__name__)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="access-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        Path(self.config.socket_path).unlink(missing_ok=True)
