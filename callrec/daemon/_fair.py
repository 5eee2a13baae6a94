"""Fair hand-out of complete requests to the access server's workers.

Requests wait per account; workers take them round-robin over accounts, and an account has at
most ``share`` requests being worked on at once, so a flooding account queues behind itself, not
in front of others. Requests for ``status``, ``health.check`` and ``log.head`` (what ops and the
maintainer need to tell that recording works) wait in a queue of their own, also round-robin per
account: one worker takes only those, and the other workers take them first.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

__all__ = ["FairQueue"]

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self, share: int) -> None:
        self._cond = threading.Condition()
        self._waiting: dict[bool, dict[int, deque[T]]] = {True: {}, False: {}}
        self._turn: dict[bool, deque[int]] = {True: deque(), False: deque()}
        self._running: dict[int, int] = {}
        self._share = share
        self._closed = False

    def put(self, uid: int, item: T, priority: bool) -> None:
        with self._cond:
            queue = self._waiting[priority].get(uid)
            if queue is None:
                queue = self._waiting[priority][uid] = deque()
                self._turn[priority].append(uid)
            queue.append(item)
            self._cond.notify_all()

    def _pick(self, priority: bool) -> tuple[int, T] | None:
        turn = self._turn[priority]
        for _ in range(len(turn)):
            uid = turn[0]
            turn.rotate(-1)
            if not priority and self._running.get(uid, 0) >= self._share:
                continue
            queue = self._waiting[priority][uid]
            item = queue.popleft()
            if not queue:
                del self._waiting[priority][uid]
                turn.remove(uid)
            return uid, item
        return None

    def take(self, reserved: bool) -> tuple[int, T] | None:
        """The next request for a worker (``reserved``: priority requests only); None once closed."""
        with self._cond:
            while not self._closed:
                picked = self._pick(True) or (None if reserved else self._pick(False))
                if picked is not None:
                    self._running[picked[0]] = self._running.get(picked[0], 0) + 1
                    return picked
                self._cond.wait()
            return None

    def done(self, uid: int) -> None:
        with self._cond:
            left = self._running[uid] - 1
            if left:
                self._running[uid] = left
            else:
                del self._running[uid]
            self._cond.notify_all()

    def close(self) -> list[T]:
        """Wake every worker to stop; the requests still waiting (to be closed by the caller)."""
        with self._cond:
            self._closed = True
            left = [item for queues in self._waiting.values() for q in queues.values() for item in q]
            for queues in self._waiting.values():
                queues.clear()
            self._cond.notify_all()
            return left
