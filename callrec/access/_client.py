"""The caller's side of the socket: sending an action to the daemon when this account cannot read the data key.

Used by every front end (the CLI, the web page of ``callrec ui``).

The request is typed (socket protocol v1, ``docs/design/protocol.md``): the action's name and its
arguments, plus the bytes of a file this process read (a CDR export). The daemon learns the caller
from ``SO_PEERCRED`` (``callrec.identity``), never from the request; what it returns — including
audio and export files — arrives here, and this process, running as the caller, plays or writes it.
A listing arrives page by page (a ``Rows`` stream) while the command writes it: the connection
stays open until its last page is read.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from callrec.access._registry import Action, check_bounds
from callrec.access.wire import (
    MAX_REQUEST_BYTES,
    PRIORITY_ACTIONS,
    VERSION,
    ProtocolError,
    Rows,
    decode_result,
    dumps_line,
    received_rows,
    recv_frame,
    recv_line,
    send_frame,
)
from callrec.config import Config
from callrec.errors import CallrecError, VaultError

__all__ = ["DaemonBusy", "DaemonUnreachable", "ReplyBroken", "RemoteError", "request", "use_socket"]

#: Largest single frame this client accepts from the daemon (a long call's FLAC, an export file).
_MAX_FRAME = 2 * 1024 * 1024 * 1024
#: Largest reply line (a result without its frames and streams).
_MAX_LINE = 64 * 1024 * 1024
#: Seconds to wait for the daemon at each step (connect, send, each read): ``status``,
#: ``health.check`` and ``log.head`` have a worker of their own, so a longer wait means busy.
_TIMEOUT_S = 300.0
_PRIORITY_TIMEOUT_S = 10.0


class DaemonUnreachable(VaultError):
    """cannot read the data key and the callrec daemon's socket {0} does not answer ({1}): start the daemon (systemctl start callrec), or run this as root, which reads the key"""


class DaemonBusy(VaultError):
    """daemon busy: the callrec daemon at {0} took the connection but did not answer ({1}): try again"""


class ReplyBroken(DaemonBusy):
    """the callrec daemon's reply to {0} could not be read ({1}): try again; if it persists, see the daemon's journal (journalctl -u callrec)"""

    # Busy, not dead: once connected the daemon is there, so ``health check`` says UNKNOWN, never
    # "not running"; ``status`` falls back to the status file as for a daemon that does not answer.


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
    with ExitStack() as stack:
        sock = stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        sock.settimeout(_PRIORITY_TIMEOUT_S if action.name in PRIORITY_ACTIONS else _TIMEOUT_S)
        try:
            sock.connect(str(path))
        except TimeoutError:  # the listen queue is full: someone is there, and busy
            raise DaemonBusy(path, "no room to connect") from None
        except OSError as exc:
            raise DaemonUnreachable(path, exc.strerror or str(exc)) from None
        try:
            sock.sendall(line)
            if upload is not None:
                send_frame(sock, upload)
        except OSError:  # EPIPE or a reset: it may have closed us with a line saying why, read that
            pass
        try:
            rfile = stack.enter_context(sock.makefile("rb"))
            reply = recv_line(rfile, _MAX_LINE)
            if "error" in reply:
                raise RemoteError(str(reply["error"]), int(reply.get("rc", 1)))
            frames = _frames(reply.get("frames"), rfile)
            count = _count(reply, "streams")
            closing = stack.pop_all() if count else None  # the listing's last page closes the connection
            streams = [_stream(rfile, action.name, closing if i == count - 1 else None) for i in range(count)]
            return decode_result(action.result, reply["result"], frames, streams)
        except TimeoutError:
            raise DaemonBusy(path, f"no reply to {action.name} within {sock.gettimeout():.0f} s") from None
        except (OSError, ProtocolError) as exc:
            raise ReplyBroken(action.name, getattr(exc, "strerror", None) or str(exc)) from None


def _count(reply: dict, key: str) -> int:
    count = reply.get(key, 0)
    if not isinstance(count, int) or count < 0:
        raise ProtocolError(f"reply without a valid {key} count")
    return count


def _frames(count: Any, rfile: Any) -> list[bytes]:
    if not isinstance(count, int) or count < 0:
        raise ProtocolError("reply without a frame count")
    return [recv_frame(rfile, _MAX_FRAME) for _ in range(count)]


def _trailer(line: dict) -> None:
    if "error" in line:
        raise RemoteError(str(line["error"]), int(line.get("rc", 1)))


def _stream(rfile: BinaryIO, name: str, closing: ExitStack | None) -> Rows:
    """A listing read page by page as the command writes it (never held whole)."""

    def pages() -> Iterator[bytes]:
        try:
            yield from received_rows(rfile, _trailer).encoded()
        except (OSError, ProtocolError) as exc:
            raise ReplyBroken(name, getattr(exc, "strerror", None) or str(exc)) from None
        finally:
            if closing is not None:
                closing.close()

    return Rows(encoded=pages())
