"""The access server: the daemon's Unix socket for accounts without the data key.

It speaks socket protocol v1 (``docs/design/protocol.md``): one typed request per connection,
one of the access layer's allow-listed actions (:data:`callrec.access.ACTIONS`), run for the
account the kernel names (``SO_PEERCRED``). One I/O thread reads requests without blocking, with
caps on size, idle time and connections per account and in total; only complete, well-formed
requests reach the small pool of worker threads. Nothing here opens a path a client named.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from callrec import jsoncodec
from callrec.access import ACTIONS, Actor, validate
from callrec.access.wire import (
    FRAME_HEADER,
    MAX_REQUEST_BYTES,
    MAX_UPLOAD_BYTES,
    VERSION,
    Rows,
    dumps_line,
    encode_result,
    send_frame,
    send_rows,
)
from callrec.config import Config
from callrec.errors import AccessDenied, CallrecError, UsageError, VaultError
from callrec.identity import account_of_uid
from callrec.lockfile import try_lock
from callrec.vault import DatabaseError, Vault, classify, refuse

__all__ = ["AccessServer", "SocketInUse", "Limits"]

log = logging.getLogger(__name__)

#: Tracebacks (which may quote values) reach the journal only when asked for, as in the CLI.
_DEBUG = bool(os.environ.get("CALLREC_DEBUG"))


class SocketInUse(VaultError):
    """another callrec daemon serves {0} (lock {1} is held): stop it first; its socket is left alone"""


@dataclass(frozen=True)
class Limits:
    #: A connection that sends nothing for this long is closed.
    idle_s: float = 5.0
    #: A whole request (line and upload) must arrive within this.
    request_s: float = 30.0
    #: A reply must be taken by the client within this.
    reply_s: float = 60.0
    per_account: int = 8
    total: int = 64
    #: Bytes buffered for all requests being read at once (uploads included).
    buffered_bytes: int = 64 * 1024 * 1024
    workers: int = 4


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    uid: int
    opened: float
    last: float
    buf: bytearray = field(default_factory=bytearray)
    #: Bytes received so far, as counted against :attr:`Limits.buffered_bytes`.
    counted: int = 0
    request: dict | None = None
    upload_size: int | None = None


def _peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class AccessServer:
    def __init__(self, config: Config, limits: Limits = Limits()) -> None:
        """Take the socket's lock before touching the socket: a second daemon fails here and
        leaves the running daemon's socket alone."""
        self.config = config
        self.limits = limits
        path: Path = config.socket_path
        lock_path = path.with_name(path.name + ".lock")
        self._lock_file = try_lock(lock_path)  # held for the server's lifetime; 0600, no symlink
        if self._lock_file is None:
            raise SocketInUse(path, lock_path)
        path.unlink(missing_ok=True)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        os.chmod(path, 0o666)
        self._listener.listen(128)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._pool = ThreadPoolExecutor(limits.workers, thread_name_prefix="access-worker")
        self._guard = threading.Lock()
        self._per_uid: dict[int, int] = {}
        self._open = 0
        self._buffered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="access-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                key.data.sock.close()
        self._listener.close()
        self._selector.close()
        Path(self.config.socket_path).unlink(missing_ok=True)
        self._lock_file.close()

    # -- the I/O thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.5):
                if key.fileobj is self._listener:
                    self._accept()
                    continue
                try:
                    self._read(key.data)
                except Exception as exc:  # noqa: BLE001 - one connection's surprise must never stop the socket
                    log.error("socket: unexpected error (%s) reading a request of uid %d", type(exc).__name__,
                              key.data.uid, exc_info=_DEBUG)
                    if key.fileobj in self._selector.get_map():
                        self._drop(key.data, "the daemon could not read this request")
            self._expire(time.monotonic())

    def _accept(self) -> None:
        for _ in range(256):
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: back off, never die
                log.warning("socket: cannot accept a connection (%s)", exc.strerror)
                time.sleep(0.05)
                return
            uid = _peer_uid(sock)
            with self._guard:
                busy = self._open >= self.limits.total or self._per_uid.get(uid, 0) >= self.limits.per_account
                if not busy:
                    self._open += 1
                    self._per_uid[uid] = self._per_uid.get(uid, 0) + 1
            if busy:
                self._reject(sock, "the daemon has too many connections open (from this account or in total): try again",
                             rc=1)
                continue
            sock.setblocking(False)
            now = time.monotonic()
            self._selector.register(sock, selectors.EVENT_READ, _Conn(sock, uid, now, now))

    def _reject(self, sock: socket.socket, message: str, rc: int = UsageError.exit_code) -> None:
        """One error line (never blocking: a full socket just loses it), then close. ``rc`` 2 for
        a bad request, 1 for a daemon too busy to take it."""
        try:
            sock.send(dumps_line({"v": VERSION, "rc": rc, "error": message}), socket.MSG_DONTWAIT)
        except OSError:
            pass
        sock.close()

    def _release(self, conn: _Conn) -> None:
        with self._guard:
            self._open -= 1
            self._buffered -= conn.counted
            conn.counted = 0
            left = self._per_uid[conn.uid] - 1
            if left:
                self._per_uid[conn.uid] = left
            else:
                del self._per_uid[conn.uid]

    def _drop(self, conn: _Conn, message: str | None, rc: int = UsageError.exit_code) -> None:
        """Close a connection that is still being read (an error line first, when one helps)."""
        self._selector.unregister(conn.sock)
        if message:
            log.info("socket: closed a connection of uid %d: %s", conn.uid, message)
            self._reject(conn.sock, message, rc)
        else:
            conn.sock.close()
        self._release(conn)

    def _read(self, conn: _Conn) -> None:
        try:
            part = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            part = b""
        if not part:
            self._drop(conn, None)
            return
        with self._guard:
            over = self._buffered + len(part) > self.limits.buffered_bytes
            if not over:
                self._buffered += len(part)
        if over:
            self._drop(conn, "the daemon is busy reading other requests: try again", rc=1)
            return
        conn.buf += part
        conn.counted += len(part)
        conn.last = time.monotonic()
        problem = self._parse(conn)
        if problem:
            self._drop(conn, problem)

    def _parse(self, conn: _Conn) -> str | None:
        """Advance the request state; hand a complete request to a worker. A problem → its line."""
        if conn.request is None:
            end = conn.buf.find(b"\n")
            if end < 0:
                return f"request larger than {MAX_REQUEST_BYTES} bytes" if len(conn.buf) > MAX_REQUEST_BYTES else None
            if end > MAX_REQUEST_BYTES:
                return f"request larger than {MAX_REQUEST_BYTES} bytes"
            try:
                request = jsoncodec.loads(conn.buf[:end])
            except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting is malformed too
                request = None
            if not isinstance(request, dict):
                return "malformed request: send one JSON object on one line (see docs/design/protocol.md)"
            conn.request = request
            del conn.buf[:end + 1]
        action = ACTIONS.get(conn.request.get("action")) if isinstance(conn.request.get("action"), str) else None
        if action is not None and action.upload and conn.request.get("v") == VERSION:
            if conn.upload_size is None:
                if len(conn.buf) < FRAME_HEADER.size:
                    return None
                (conn.upload_size,) = FRAME_HEADER.unpack(conn.buf[:FRAME_HEADER.size])
                if conn.upload_size > MAX_UPLOAD_BYTES:
                    return f"uploaded file larger than {MAX_UPLOAD_BYTES} bytes: split it"
            if len(conn.buf) < FRAME_HEADER.size + conn.upload_size:
                return None
        self._selector.unregister(conn.sock)
        self._pool.submit(self._serve, conn)
        return None

    def _expire(self, now: float) -> None:
        for key in list(self._selector.get_map().values()):
            conn = key.data
            if conn is None:
                continue
            if now - conn.last > self.limits.idle_s:
                self._drop(conn, f"nothing received for {self.limits.idle_s:.0f} s")
            elif now - conn.opened > self.limits.request_s:
                self._drop(conn, f"request not complete within {self.limits.request_s:.0f} s")

    # -- the workers ---------------------------------------------------------------------------

    def _serve(self, conn: _Conn) -> None:
        try:
            size = conn.upload_size
            upload = bytes(conn.buf[FRAME_HEADER.size:FRAME_HEADER.size + size]) if size is not None else None
            conn.buf = bytearray()
            reply, frames, streams = self._answer(conn.uid, conn.request, upload)
            conn.sock.setblocking(True)
            conn.sock.settimeout(self.limits.reply_s)
            conn.sock.sendall(dumps_line(reply))
            for frame in frames:
                send_frame(conn.sock, frame)
            self._stream(conn, streams)
        except OSError as exc:
            log.info("socket: reply to uid %d not delivered (%s)", conn.uid, exc.strerror or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one bad request must never take the server down
            log.error("socket: unexpected error (%s) serving uid %d", type(exc).__name__, conn.uid, exc_info=_DEBUG)
        finally:
            conn.sock.close()
            self._release(conn)

    def _answer(self, uid: int, request: dict, upload: bytes | None) -> tuple[dict, list[bytes], _Streams]:
        actor = Actor.person(account_of_uid(uid))
        name = request.get("action")
        vault = None
        streams = _Streams()
        try:
            vault = Vault.open(self.config)
            action = ACTIONS.get(name) if isinstance(name, str) else None
            if action is None:
                shown = name[:40].encode("utf-8", "backslashreplace").decode() if isinstance(name, str) else type(name).__name__
                refuse(vault, actor.log_name, "socket", "no such action on the socket", detail={"action": shown})
            if request.get("v") != VERSION:
                raise UsageError(f"unsupported protocol version {str(request.get('v'))[:20]!r}: this daemon speaks v{VERSION}")
            args = validate(action, request.get("args", {}), upload)
            frames: list[bytes] = []
            result = encode_result(action.run(vault, actor, **args), frames, streams)
            reply, rc = {"v": VERSION, "rc": 0, "result": result, "frames": len(frames)}, 0
            if streams:
                reply["streams"] = len(streams)
                streams.vault, vault = vault, None  # open until the listing is sent (_stream)
        except CallrecError as exc:
            reply, frames, rc = {"v": VERSION, "rc": exc.exit_code, "error": str(exc)}, [], exc.exit_code
        except DatabaseError as exc:
            err = classify(self.config.vault_path, exc)  # busy is busy, not damage
            reply, frames, rc = {"v": VERSION, "rc": err.exit_code, "error": str(err)}, [], err.exit_code
        except Exception as exc:  # noqa: BLE001 - a bug is one line for the caller; details in the journal only
            log.error("socket: internal error (%s) in action %s", type(exc).__name__, name if name in ACTIONS else "?",
                      exc_info=_DEBUG)
            rc = CallrecError.exit_code
            reply, frames = {"v": VERSION, "rc": rc, "error": f"internal error in the daemon ({type(exc).__name__}):"
                                                              " please report it; the daemon's journal has details"}, []
        finally:
            if vault is not None:
                _close(vault)
        shown = name if isinstance(name, str) and name in ACTIONS else "?"
        log.info("socket request: account=%s action=%s rc=%d%s", actor.log_name, shown, rc,
                 " (refused)" if rc == AccessDenied.exit_code else "")
        return reply, frames, streams

    # -- streamed listings (a Rows field of a result; protocol: "Reply", streams) -----------------

    def _stream(self, conn: _Conn, streams: _Streams) -> None:
        """Each listing sent as it is read, then the vault it reads from closed."""
        try:
            for rows in streams:
                send_rows(conn.sock, rows, self._stream_error)
        finally:
            if streams.vault is not None:
                _close(streams.vault)

    def _stream_error(self, exc: Exception) -> tuple[int, str]:
        if isinstance(exc, CallrecError):
            return exc.exit_code, str(exc)
        if isinstance(exc, DatabaseError):
            err = classify(self.config.vault_path, exc)  # busy is busy, not damage
            return err.exit_code, str(err)
        log.error("socket: internal error (%s) in a listing", type(exc).__name__, exc_info=_DEBUG)
        return CallrecError.exit_code, "internal error in the daemon: please report it; the daemon's journal has details"


class _Streams(list[Rows]):
    """The listings of one reply, and the vault they read from while they are sent."""

    vault: Vault | None = None


def _close(vault: Vault) -> None:
    try:
        if vault.appended:
            vault.checkpoint()
    finally:
        vault.close()
