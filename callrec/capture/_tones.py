"""Detectors that run on per-frame features: noise floor, busy-tone cadence, DTMF digits."""

from __future__ import annotations

import numpy as np

from callrec.capture._analysis import DTMF_KEYS, FRAME_S

__all__ = ["NoiseFloor", "BusyToneDetector", "DtmfDetector"]


class NoiseFloor:
    """Adaptive floor in dBFS: follows the level down at once, up slowly.

    Rising slowly means speech never becomes the floor, and rising even slower during a call
    means hold music cannot become the floor before any plausible hold is over.
    """

    IDLE_RISE_DB_S = 1.0
    CALL_RISE_DB_S = 0.02

    def __init__(self) -> None:
        self.db: float | None = None

    def update(self, level_db: float, in_call: bool) -> float:
        if self.db is None or level_db < self.db:
            self.db = level_db
        else:
            rise = (self.CALL_RISE_DB_S if in_call else self.IDLE_RISE_DB_S) * FRAME_S
            self.db += min(level_db - self.db, rise)
        return self.db


class BusyToneDetector:
    """Japanese busy tone: 400 Hz, 0.5 s on / 0.5 s off. Detected after on-off-on."""

    TONE_SHARE = 0.6
    ON_OFF_S = (0.35, 0.65)

    def __init__(self) -> None:
        self._state = False
        self._run = 0
        self._runs: list[tuple[bool, int]] = []
        #: Length of the on-off-on cadence just recognised (it ends at the frame that reported it).
        self.cadence_s = 0.0

    def update(self, tone: bool) -> bool:
        """Feed one frame (is it 400 Hz tone?); True on the frame that completes the cadence."""
        if tone == self._state:
            self._run += 1
            return False
        self._runs = (self._runs + [(self._state, self._run)])[-3:]
        self._state, self._run = tone, 1
        return self._cadence()

    def _cadence(self) -> bool:
        if len(self._runs) < 3 or [s for s, _ in self._runs] != [True, False, True]:
            return False
        low, high = self.ON_OFF_S
        if not all(low <= n * FRAME_S <= high for _, n in self._runs):
            return False
        self.cadence_s = sum(n for _, n in self._runs) * FRAME_S
        return True


class DtmfDetector:
    """One digit per key press: a low and a high DTMF tone holding most of the frame's energy
    for at least two consecutive frames (50 ms)."""

    MIN_SHARE = 0.1
    MIN_PAIR_SHARE = 0.75
    MIN_FRAMES = 2

    def __init__(self) -> None:
        self._raw: str | None = None
        self._count = 0

    @classmethod
    def raw_digit(cls, share: np.ndarray) -> str | None:
        """``share``: the 9 tone shares of one frame (400 Hz, 4 low, 4 high)."""
        low, high = share[1:5], share[5:9]
        i, j = int(np.argmax(low)), int(np.argmax(high))
        if low[i] < cls.MIN_SHARE or high[j] < cls.MIN_SHARE or low[i] + high[j] < cls.MIN_PAIR_SHARE:
            return None
        return DTMF_KEYS[i][j]

    def update(self, share: np.ndarray, loud: bool) -> str | None:
        """Feed one frame; returns a digit once per key press."""
        raw = self.raw_digit(share) if loud else None
        if raw != self._raw:
            self._raw, self._count = raw, 0
        self._count += 1
        return raw if raw is not None and self._count == self.MIN_FRAMES else None
