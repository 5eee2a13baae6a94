"""Audio the daemon returned for a play, held in this process's memory (never written to disk)
until the browser has fetched it, under a random key, for a while."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Playback", "MediaStore"]

#: How long a played call's audio stays available to its page.
KEEP_S = 30 * 60
#: At most this many calls' audio are held at once (the oldest goes first).
KEEP_CALLS = 8


@dataclass(frozen=True)
class Playback:
    call_id: int
    case_id: int
    flac: bytes
    pcm_sha256: str
    lines: list[dict]
    taken: float = field(default_factory=time.monotonic)


class MediaStore:
    def __init__(self) -> None:
        self._items: dict[str, Playback] = {}
        self._lock = threading.Lock()

    def put(self, playback: Playback) -> str:
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            self._items[key] = playback
            while len(self._items) > KEEP_CALLS:
                self._items.pop(next(iter(self._items)))
        return key

    def get(self, key: str) -> Playback | None:
        with self._lock:
            self._expire()
            return self._items.get(key)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self._items.items() if now - p.taken > KEEP_S]:
            del self._items[key]
