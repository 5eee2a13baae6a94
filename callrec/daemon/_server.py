"""The access server: the daemon's Unix socket for accounts without the data key.

It speaks socket protocol v1 (``docs/design/protocol.md``): one typed request per connection,
one of the access layer's allow-listed actions (:data:`callrec.access.ACTIONS`), run for the
account the kernel names (``SO_PEERCRED``). One I/O thread reads requests without blocking, with
caps on size, idle time and connections per account and in total; only complete, well-formed
requests reach the small pool of worker threads. Nothing here opens a path a client named.

Fair to every account (issue 18): each account has its share of the read buffer and of the
workers (``_fair.FairQueue``: round-robin over accounts); the first bytes of every connection and
a reserve of connections are outside the shares, and one worker takes only ``status``,
``health.check`` and ``log.head``, so ops and the maintainer get an answer while others flood or
stall. A worker hands its reply to the I/O thread, which writes it as the client reads it: a
client that does not read holds only its own connection until ``reply_s``.
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from callrec.access import ACTIONS, Actor, validate
from callrec.access.wire import (
    FRAME_HEADER,
    MAX_REQUEST_BYTES,
    MAX_UPLOAD_BYTES,
    PRIORITY_ACTIONS,
    VERSION,
    Rows,
    dumps_line,
    encode_result,
)
from callrec.config import Config
from callrec.daemon._fair import FairQueue
from callrec.daemon._outbox import Outbox
from callrec.errors import AccessDenied, CallrecError, UsageError, VaultError
from callrec.identity import account_of_uid
from callrec.lockfile import try_lock
from callrec.vault import DatabaseError, Vault, classify, flush_refusals, refusals_pending, refuse

__all__ = ["AccessServer", "SocketInUse", "Limits"]

log = logging.getLogger(__name__)

#: Tracebacks (which may quote values) reach the journal only when asked for, as in the CLI.
_DEBUG = bool(os.environ.get("CALLREC_DEBUG"))
#: Seconds between two writes of the refusals counted in memory (``callrec.vault.flush_refusals``).
_FLUSH_EVERY_S = 15.0


class SocketInUse(VaultError):
    """another callrec daemon serves {0} (lock {1} is held): stop it first; its socket is left alone"""


@dataclass(frozen=True)
class Limits:
    #: A connection that sends nothing for this long is closed.
    idle_s: float = 5.0
    #: A whole request (line and upload) must arrive within this.
    request_s: float = 30.0
    #: A reply must be taken by the client within this (the I/O thread writes it; no worker waits).
    reply_s: float = 60.0
    per_account: int = 8
    total: int = 64
    #: Connections beyond ``total`` for an account that has none open (ops during a flood).
    reserve: int = 16
    #: Bytes buffered for all requests being read at once (uploads included).
    buffered_bytes: int = 64 * 1024 * 1024
    #: Of those, what one account may hold at once: one upload with its request line.
    account_bytes: int = MAX_UPLOAD_BYTES + MAX_REQUEST_BYTES + 8
    #: The first bytes of each connection count against neither: a small request (``status``,
    #: ``health.check``) is always read, whoever filled the buffer.
    free_bytes: int = 64 * 1024
    #: Workers for every action; one more takes only ``status``, ``health.check`` and ``log.head``.
    workers: int = 4
    #: Requests of one account worked on at once.
    account_workers: int = 2
    #: Bytes of a reply waiting for its client before the worker producing it waits too (a
    #: streamed listing; a reply already whole in memory is queued whole).
    reply_buffer: int = 1024 * 1024


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    uid: int
    opened: float
    last: float
    buf: bytearray = field(default_factory=bytearray)
    #: Bytes received so far.
    received: int = 0
    #: Of those, the bytes counted against :attr:`Limits.buffered_bytes` and the account's share.
    counted: int = 0
    request: dict | None = None
    upload_size: int | None = None
    #: The reply on its way out (set once a worker answers), and whether the I/O thread watches
    #: the socket for it.
    outbox: Outbox | None = None
    watching: bool = False


def _peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _upload_waiting(conn: _Conn) -> str | None:
    """None when the request's upload frame is complete; "" while it is still arriving; the
    problem when it cannot be taken."""
    if conn.upload_size is None:
        if len(conn.buf) < FRAME_HEADER.size:
            return ""
        (conn.upload_size,) = FRAME_HEADER.unpack(conn.buf[:FRAME_HEADER.size])
        if conn.upload_size > MAX_UPLOAD_BYTES:
            return f"uploaded file larger than {MAX_UPLOAD_BYTES} bytes: split it"
    return "" if len(conn.buf) < FRAME_HEADER.size + conn.upload_size else None


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
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._answered: deque[_Conn] = deque()
        self._queue: FairQueue[_Conn] = FairQueue(limits.account_workers)
        self._guard = threading.Lock()
        self._per_uid: dict[int, int] = {}
        self._uid_bytes: dict[int, int] = {}
        self._open = 0
        self._buffered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        #: Each worker's own vault connection.
        self._local = threading.local()
        self._flusher: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="access-server", daemon=True)
        self._thread.start()
        for number in range(self.limits.workers + 1):
            reserved = number == 0
            worker = threading.Thread(target=self._work, args=(reserved,), daemon=True,
                                      name="access-worker-ops" if reserved else f"access-worker-{number}")
            worker.start()
            self._workers.append(worker)
        self._flusher = threading.Thread(target=self._flush_loop, name="access-refusals", daemon=True)
        self._flusher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for conn in self._queue.close():
            conn.sock.close()
        for worker in self._workers:
            worker.join(30)
        if self._flusher is not None:
            self._flusher.join(30)
        self._flush_refusals(everything=True)
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _Conn):
                key.data.sock.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self._selector.close()
        Path(self.config.socket_path).unlink(missing_ok=True)
        self._lock_file.close()

    # -- refusals ------------------------------------------------------------------------------

    def _flush_refusals(self, everything: bool = False) -> None:
        """Write the refusals counted in memory whose minute is over (every one at the end)."""
        if not refusals_pending(self.config.vault_path):
            return
        try:
            with Vault.open(self.config) as vault:
                flush_refusals(vault, everything=everything)
        except (CallrecError, DatabaseError) as exc:
            log.warning("socket: refusals counted in memory not written yet (%s)", type(exc).__name__)

    def _flush_loop(self) -> None:
        while not self._stop.wait(_FLUSH_EVERY_S):
            self._flush_refusals()

    # -- the I/O thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            for key, events in self._selector.select(0.5):
                if key.fileobj is self._listener:
                    self._accept()
                elif key.fileobj is self._wake_r:
                    self._take_answers()
                else:
                    self._event(key.data, events)
            self._expire(time.monotonic())

    def _event(self, conn: _Conn, events: int) -> None:
        try:
            if conn.outbox is not None:
                self._write(conn)
            else:
                self._read(conn)
        except Exception as exc:  # noqa: BLE001 - one connection's surprise must never stop the socket
            log.error("socket: unexpected error (%s) on a connection of uid %d", type(exc).__name__,
                      conn.uid, exc_info=_DEBUG)
            if conn.sock.fileno() >= 0 and conn.sock in self._selector.get_map():
                self._drop(conn, "the daemon could not read this request")

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
                held = self._per_uid.get(uid, 0)
                # Past ``total``, only an account with nothing open gets in (from the reserve).
                busy = held >= self.limits.per_account or (
                    self._open >= self.limits.total and (held or self._open >= self.limits.total + self.limits.reserve))
                if not busy:
                    self._open += 1
                    self._per_uid[uid] = held + 1
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
            self._uncount(conn)
            left = self._per_uid[conn.uid] - 1
            if left:
                self._per_uid[conn.uid] = left
            else:
                del self._per_uid[conn.uid]

    def _uncount(self, conn: _Conn) -> None:
        """Give back the buffer a connection held (call with ``_guard`` held)."""
        if conn.counted:
            self._buffered -= conn.counted
            left = self._uid_bytes[conn.uid] - conn.counted
            if left:
                self._uid_bytes[conn.uid] = left
            else:
                del self._uid_bytes[conn.uid]
            conn.counted = 0

    def _drop(self, conn: _Conn, message: str | None, rc: int = UsageError.exit_code) -> None:
        """Close a connection that is still being read (an error line first, when one helps)."""
        self._selector.unregister(conn.sock)
        if message:
            log.info("socket: closed a connection of uid %d: %s", conn.uid, message)
            self._reject(conn.sock, message, rc)
        else:
            conn.sock.close()
        self._release(conn)

    def _count(self, conn: _Conn, size: int) -> str | None:
        """Count ``size`` more bytes of ``conn`` against its account's share and the whole buffer;
        the reason when either is full."""
        charge = max(0, conn.received + size - self.limits.free_bytes) - conn.counted
        with self._guard:
            if self._uid_bytes.get(conn.uid, 0) + charge > self.limits.account_bytes:
                return "this account has too much being read at once: send one upload at a time"
            if self._buffered + charge > self.limits.buffered_bytes:
                return "the daemon is busy reading other requests: try again"
            if charge:
                self._buffered += charge
                self._uid_bytes[conn.uid] = self._uid_bytes.get(conn.uid, 0) + charge
                conn.counted += charge
        conn.received += size
        return None

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
        full = self._count(conn, len(part))
        if full:
            self._drop(conn, full, rc=1)
            return
        conn.buf += part
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
                request = json.loads(conn.buf[:end].decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting is malformed too
                request = None
            if not isinstance(request, dict):
                return "malformed request: send one JSON object on one line (see docs/design/protocol.md)"
            conn.request = request
            del conn.buf[:end + 1]
        name = conn.request.get("action")
        action = ACTIONS.get(name) if isinstance(name, str) else None
        if action is not None and action.upload and conn.request.get("v") == VERSION:
            waiting = _upload_waiting(conn)
            if waiting is not None:
                return waiting or None
        self._selector.unregister(conn.sock)
        self._queue.put(conn.uid, conn, priority=name in PRIORITY_ACTIONS)
        return None

    def _post(self, conn: _Conn) -> None:
        """Tell the I/O thread that ``conn`` has reply bytes to write (from a worker)."""
        self._answered.append(conn)
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass  # the wake-up pipe is full: the I/O thread is already woken

    def _take_answers(self) -> None:
        """Replies the workers added to: write what the socket takes now, the rest when it is writable."""
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._answered:
            conn = self._answered.popleft()
            if conn.outbox is None or conn.outbox.closed:
                continue
            if not conn.watching:
                self._selector.register(conn.sock, selectors.EVENT_WRITE, conn)
                conn.watching = True
            self._write(conn)

    def _write(self, conn: _Conn) -> None:
        assert conn.outbox is not None
        try:
            state = conn.outbox.send(conn.sock.send)
        except OSError as exc:
            log.info("socket: reply to uid %d not delivered (%s)", conn.uid, exc.strerror or type(exc).__name__)
            state = "done"
        if state == "done":
            self._finish(conn)
        elif state == "parked":  # nothing to write until the worker adds more (it wakes us then)
            self._selector.unregister(conn.sock)
            conn.watching = False

    def _finish(self, conn: _Conn) -> None:
        if conn.watching:
            self._selector.unregister(conn.sock)
            conn.watching = False
        conn.sock.close()
        if conn.outbox is not None:
            conn.outbox.close()
        self._release(conn)

    def _expire(self, now: float) -> None:
        for key in list(self._selector.get_map().values()):
            conn = key.data
            if not isinstance(conn, _Conn):
                continue
            if conn.outbox is not None:
                if now - conn.outbox.progress > self.limits.reply_s:
                    log.info("socket: reply to uid %d not taken within %.0f s", conn.uid, self.limits.reply_s)
                    self._finish(conn)
            elif now - conn.last > self.limits.idle_s:
                self._drop(conn, f"nothing received for {self.limits.idle_s:.0f} s")
            elif now - conn.opened > self.limits.request_s:
                self._drop(conn, f"request not complete within {self.limits.request_s:.0f} s")

    # -- the workers ---------------------------------------------------------------------------

    def _work(self, reserved: bool) -> None:
        try:
            while (picked := self._queue.take(reserved)) is not None:
                uid, conn = picked
                try:
                    self._serve(conn)
                finally:
                    self._queue.done(uid)
        finally:
            self._forget_vault()

    def _serve(self, conn: _Conn) -> None:
        """Answer one request and hand the reply to the I/O thread, which writes it as the client
        reads (``_outbox``): a client that does not read holds its connection, not this worker."""
        outbox = conn.outbox = Outbox(self.limits.reply_buffer, self.limits.reply_s, lambda: self._post(conn))
        self._post(conn)
        try:
            size = conn.upload_size
            upload = bytes(conn.buf[FRAME_HEADER.size:FRAME_HEADER.size + size]) if size is not None else None
            conn.buf = bytearray()
            with self._guard:
                self._uncount(conn)
            reply, frames, streams = self._answer(conn.uid, conn.request, upload)
            sent = outbox.add(dumps_line(reply))
            for frame in frames:
                sent = sent and outbox.add(FRAME_HEADER.pack(len(frame))) and outbox.add(frame)
            if sent and streams:
                self._stream(outbox, streams)
        except Exception as exc:  # noqa: BLE001 - one bad request must never take the server down
            log.error("socket: unexpected error (%s) serving uid %d", type(exc).__name__, conn.uid, exc_info=_DEBUG)
        finally:
            outbox.finish()

    # -- streamed listings (a Rows field of a result; protocol: "Reply", streams) -----------------

    def _stream(self, outbox: Outbox, streams: list[Rows]) -> None:
        """Each listing added page by page as it is read (a frame a page, an empty frame, the
        trailer line), from this worker's vault; then that vault is settled."""
        try:
            for rows in streams:
                trailer: dict = {"v": VERSION, "rc": 0}
                pages = rows.encoded()
                while True:
                    try:
                        page = next(pages, None)
                    except Exception as exc:  # noqa: BLE001 - the client is told; details in the journal
                        rc, message = self._stream_error(exc)
                        trailer = {"v": VERSION, "rc": rc, "error": message}
                        break
                    if page is None:
                        break
                    if not (outbox.add(FRAME_HEADER.pack(len(page))) and outbox.add(page)):
                        return  # the client went away or stopped reading
                if not (outbox.add(FRAME_HEADER.pack(0)) and outbox.add(dumps_line(trailer))):
                    return
        finally:
            vault = getattr(self._local, "vault", None)
            if vault is not None:
                self._settle(vault)

    def _stream_error(self, exc: Exception) -> tuple[int, str]:
        if isinstance(exc, CallrecError):
            return exc.exit_code, str(exc)
        if isinstance(exc, DatabaseError):
            self._forget_vault()
            err = classify(self.config.vault_path, exc)  # busy is busy, not damage
            return err.exit_code, str(err)
        log.error("socket: internal error (%s) in a listing", type(exc).__name__, exc_info=_DEBUG)
        return CallrecError.exit_code, "internal error in the daemon: please report it; the daemon's journal has details"

    def _vault(self) -> Vault:
        """This worker's connection, kept between requests (opening one costs more than a refusal);
        opened again when the key file or the vault file was replaced (rekey, restore)."""
        ident = tuple((st.st_dev, st.st_ino, st.st_mtime_ns) for st in
                      (os.stat(self.config.key_path), os.stat(self.config.vault_path)))
        vault = getattr(self._local, "vault", None)
        if vault is not None and self._local.ident == ident:
            return vault
        self._forget_vault()
        self._local.vault, self._local.ident = Vault.open(self.config), ident
        return self._local.vault

    def _forget_vault(self) -> None:
        vault = getattr(self._local, "vault", None)
        self._local.vault = None
        if vault is not None:
            vault.close()

    def _settle(self, vault: Vault) -> None:
        """After a request: its checkpoint when it logged; a connection left inside a
        transaction is not used again."""
        try:
            if vault.appended:
                vault.checkpoint()
        finally:
            vault.appended = False
            if vault.in_transaction:
                self._forget_vault()

    def _answer(self, uid: int, request: dict, upload: bytes | None) -> tuple[dict, list[bytes], list[Rows]]:
        actor = Actor.person(account_of_uid(uid))
        name = request.get("action")
        vault = None
        streams: list[Rows] = []
        try:
            vault = self._vault()
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
        except CallrecError as exc:
            reply, frames, rc = {"v": VERSION, "rc": exc.exit_code, "error": str(exc)}, [], exc.exit_code
        except DatabaseError as exc:
            self._forget_vault()
            err = classify(self.config.vault_path, exc)  # busy is busy, not damage
            reply, frames, rc = {"v": VERSION, "rc": err.exit_code, "error": str(err)}, [], err.exit_code
        except Exception as exc:  # noqa: BLE001 - a bug is one line for the caller; details in the journal only
            self._forget_vault()
            log.error("socket: internal error (%s) in action %s", type(exc).__name__, name if name in ACTIONS else "?",
                      exc_info=_DEBUG)
            rc = CallrecError.exit_code
            reply, frames = {"v": VERSION, "rc": rc, "error": f"internal error in the daemon ({type(exc).__name__}):"
                                                              " please report it; the daemon's journal has details"}, []
        finally:
            if vault is not None:
                self._settle(vault)
        shown = name if isinstance(name, str) and name in ACTIONS else "?"
        log.info("socket request: account=%s action=%s rc=%d%s", actor.log_name, shown, rc,
                 " (refused)" if rc == AccessDenied.exit_code else "")
        return reply, frames, streams
