"""What sources hand to the writer: blocks of audio and line events, through a bounded queue.

The audio callback only ever calls :meth:`FeedQueue.offer`, which never blocks: when the queue is
full the block is dropped and the span is remembered, then reported as a :class:`Dropped` event
as soon as there is room again, so the writer records an ``overflow`` gap (DESIGN.md invariant 2).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Block", "Dropped", "Lost", "Restored", "End", "Event", "FeedQueue"]


@dataclass(frozen=True)
class Block:
    """int16 frames (n, channels); ``ts`` is the capture time of the first frame (UNIX seconds)."""

    ts: float
    frames: np.ndarray
    rate: int
    #: ``time.monotonic()`` when the frames reached this process (frame-to-commit latency).
    received: float = field(default_factory=time.monotonic)

    @property
    def end_ts(self) -> float:
        return self.ts + len(self.frames) / self.rate


@dataclass(frozen=True)
class Dropped:
    """Frames lost between ``start_ts`` and ``end_ts`` (queue full or driver overrun)."""

    start_ts: float
    end_ts: float


@dataclass(frozen=True)
class Lost:
    """The input device stopped delivering audio at ``ts``."""

    ts: float
    detail: str


@dataclass(frozen=True)
class Restored:
    ts: float


@dataclass(frozen=True)
class End:
    """The source has nothing more (end of a replayed file)."""


Event = Block | Dropped | Lost | Restored | End


class FeedQueue:
    def __init__(self, max_items: int) -> None:
        self._queue: queue.Queue[Event] = queue.Queue(max_items)
        self._lock = threading.Lock()
        self._dropped: tuple[float, float] | None = None

    def offer(self, block: Block) -> None:
        """Enqueue without ever blocking; a block that does not fit becomes part of a drop span."""
        with self._lock:
            if self._dropped is not None:
                try:
                    self._queue.put_nowait(Dropped(*self._dropped))
                except queue.Full:
                    self._dropped = (self._dropped[0], block.end_ts)
                    return
                self._dropped = None
            try:
                self._queue.put_nowait(block)
            except queue.Full:
                self._dropped = (block.ts, block.end_ts)

    def mark_dropped(self, start_ts: float, end_ts: float) -> None:
        """Frames lost before they reached us (driver overrun); reported with the next offer."""
        with self._lock:
            start = start_ts if self._dropped is None else min(self._dropped[0], start_ts)
            self._dropped = (start, max(end_ts, self._dropped[1] if self._dropped else end_ts))

    def put(self, event: Event, stop: threading.Event | None = None) -> bool:
        """Enqueue, waiting for room (replayed files and line events, never the audio callback).
        Gives up (False) once ``stop`` is set: a writer that died must not leave its reader stuck."""
        while True:
            try:
                self._queue.put(event, timeout=0.2)
                return True
            except queue.Full:
                if stop is not None and stop.is_set():
                    return False

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def capacity(self) -> int:
        return self._queue.maxsize

    def get(self, timeout: float) -> Event | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None
