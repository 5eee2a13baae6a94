"""The caller's side of the socket: sending an action to the daemon when this account cannot read the data key.

Used by every front end (the CLI, the web page of ``callrec ui``).

The request is typed (socket protocol v1, ``docs/design/protocol.md``): the action's name and its
arguments, plus the bytes of a file this process read (a CDR export). The daemon learns the caller
from ``SO_PEERCRED`` (``callrec.identity``), never from the request; what it returns — including
audio and export files — arrives here, and this process, running as the caller, plays or writes it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from callrec.access._registry import Action, check_bounds
from callrec.access._wire import (
    MAX_REQUEST_BYTES,
    PRIORITY_ACTIONS,
    VERSION,
    ProtocolError,
    decode_result,
    dumps_line,
    recv_frame,
    recv_line,
    send_frame,
)
from callrec.config import Config
from callrec.errors import CallrecError, VaultError

__all__ = ["DaemonBusy", "DaemonUnreachable", "RemoteError", "request", "use_socket"]

#: Largest single frame this client accepts from the daemon (a long call's FLAC, an export file).
_MAX_FRAME = 2 * 1024 * 1024 * 1024
#: Seconds to wait for the daemon at each step (connect, send, each read): ``status``,
#: ``health.check`` and ``log.head`` have a worker of their own, so a longer wait means busy.
_TIMEOUT_S = 300.0
_PRIORITY_TIMEOUT_S = 10.0


class DaemonUnreachable(VaultError):
    """cannot read the data key and the callrec daemon's socket {0} does not answer ({1}): run this as the service account or start the daemon"""


class DaemonBusy(VaultError):
    """daemon busy: the callrec daemon at {0} took the connection but did not answer ({1}): try again"""


class RemoteError(CallrecError):
    """{0}"""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def use_socket(config: Config) -> bool:
    """True when this account cannot read the data key but the daemon's socket is there."""
    return not os.access(config.key_path, os.R_OK) and config.socket_path.exists()


def request(path: Path, action: Action, args: dict[str, Any]) -> Any:
    """Run ``action`` in the daemon for this account; its typed result, or its error raised here."""
    args = dict(args)
    upload = args.pop(action.upload) if action.upload else None
    check_bounds(action.name, args)  # a lone surrogate could not even be sent
    line = dumps_line({"v": VERSION, "action": action.name, "args": args})
    if len(line) > MAX_REQUEST_BYTES:
        raise RemoteError(f"{action.name}: the request is larger than {MAX_REQUEST_BYTES} bytes", 2)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_PRIORITY_TIMEOUT_S if action.name in PRIORITY_ACTIONS else _TIMEOUT_S)
        try:
            sock.connect(str(path))
        except TimeoutError:  # the listen queue is full: someone is there, and busy
            raise DaemonBusy(path, "no room to connect") from None
        except OSError as exc:
            raise DaemonUnreachable(path, exc.strerror or str(exc)) from None
        reply, frames = _exchange(sock, path, line, upload)
    return decode_result(action.result, reply["result"], frames)


def _exchange(sock: socket.socket, path: Path, line: bytes, upload: bytes | None) -> tuple[dict, list[bytes]]:
    """Send the request and read the reply on a connected socket. Once connected, the daemon is
    there: a reply it drops (EPIPE, a reset, a timeout) means busy, never "not running"."""
    try:
        with sock.makefile("rb") as rfile:
            try:
                sock.sendall(line)
                if upload is not None:
                    send_frame(sock, upload)
            except OSError:  # it may have closed us with a line saying why: read that
                pass
            reply = recv_line(rfile, 64 * 1024 * 1024)
            if "error" in reply:
                raise RemoteError(str(reply["error"]), int(reply.get("rc", 1)))
            return reply, _frames(reply.get("frames"), rfile)
    except TimeoutError:
        raise DaemonBusy(path, f"no reply within {sock.gettimeout():.0f} s") from None
    except (OSError, ProtocolError) as exc:
        raise DaemonBusy(path, getattr(exc, "strerror", None) or str(exc)) from None


def _frames(count: Any, rfile: Any) -> list[bytes]:
    if not isinstance(count, int) or count < 0:
        raise ProtocolError("reply without a frame count")
    return [recv_frame(rfile, _MAX_FRAME) for _ in range(count)]
