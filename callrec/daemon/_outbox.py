"""A reply on its way out: byte chunks a worker adds and the server's I/O thread writes.

The worker adds the reply line, the frames and each streamed listing's pages as it produces them
and goes on to its next request; the I/O thread writes whatever the socket takes whenever it is
writable. At most ``limit`` bytes wait unsent: past that the worker waits for the client to read
(a listing is never held whole), up to ``wait_s``, after which the reply is abandoned — so a
client that does not read holds a worker only while its listing has more than ``limit`` bytes
left to produce, and never longer than ``wait_s``. Small replies (a refusal, a status, a
short listing) never make the worker wait at all.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, limit: int, wait_s: float, wake: Callable[[], None]) -> None:
        self._cond = threading.Condition()
        self._chunks: deque[memoryview] = deque()
        self._size = 0
        self._limit = limit
        self._wait_s = wait_s
        self._wake = wake
        #: The worker added its last chunk.
        self.done = False
        #: The connection is gone (written, failed or timed out): adding is pointless.
        self.closed = False
        #: The I/O thread stopped watching the socket until more is added.
        self.parked = False
        #: When the client last took bytes (or the reply began).
        self.progress = time.monotonic()

    def add(self, data: bytes) -> bool:
        """Queue ``data`` (never copied); False once the reply is abandoned."""
        if not data:
            return not self.closed
        with self._cond:
            deadline = time.monotonic() + self._wait_s
            while self._size >= self._limit and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.closed = True
                    break
                self._cond.wait(left)
            if self.closed:
                return False
            self._chunks.append(memoryview(data))
            self._size += len(data)
            unpark, self.parked = self.parked, False
        if unpark:
            self._wake()
        return True

    def finish(self) -> None:
        with self._cond:
            self.done = True
            unpark, self.parked = self.parked, False
        if unpark:
            self._wake()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def send(self, send: Callable[[memoryview], int]) -> str:
        """Write what ``send`` takes (the I/O thread). "more": wait until writable; "parked":
        nothing to write until the worker adds; "done": all written. ``send`` may raise OSError."""
        with self._cond:
            while self._chunks:
                chunk = self._chunks[0]
                try:
                    sent = send(chunk)
                except (BlockingIOError, InterruptedError):
                    return "more"
                self._size -= sent
                self.progress = time.monotonic()
                self._cond.notify_all()
                if sent < len(chunk):
                    self._chunks[0] = chunk[sent:]
                    return "more"
                self._chunks.popleft()
            if self.done:
                return "done"
            self.parked = True
            return "parked"
