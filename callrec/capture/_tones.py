"""Detectors on per-frame features, each run over a whole block: noise floors, busy-tone cadence,
DTMF digits. Only the scalar recursions (a floor's last value, the tone's last runs, the key
pressed last) are carried from block to block."""

from __future__ import annotations

import numpy as np

from callrec.capture._analysis import DTMF_KEYS, FRAME_S

__all__ = ["NoiseFloors", "BusyToneDetector", "DtmfDetector"]


class NoiseFloors:
    """Adaptive floors in dB, one per column (sub-band or channel): each follows its level down at
    once and up at most ``rise_db_s``.

    Rising slowly means speech never becomes the floor; rising faster than a line's hiss drifts
    (a few dB over minutes) means drift never looks like speech. Digital silence (a flatline)
    tells nothing about the line's noise and leaves a floor rising, so that it meets the line
    again at once when the signal returns.
    """

    def __init__(self, columns: int) -> None:
        self.db = np.full(columns, np.inf)

    def track(self, level_db: np.ndarray, rise_db_s: float) -> np.ndarray:
        """Floors for k frames of levels (k, columns), carrying on from the last frame tracked.

        floor[t] = min(floor[-1] + r(t+1), min over s ≤ t of level[s] + r(t-s)): a cumulative
        minimum of ``level - r·s`` shifted back, for the whole block in one pass.
        """
        k = len(level_db)
        rise = rise_db_s * FRAME_S
        ramp = rise * np.arange(k)[:, None]
        seeded = np.vstack([self.db[None, :] + rise, level_db - ramp])
        floors = np.minimum.accumulate(seeded, axis=0)[1:] + ramp
        return floors

    def keep(self, floor_db: np.ndarray) -> None:
        """The floor at the last frame accepted (state carried to the next frame)."""
        self.db = np.where(np.isfinite(floor_db), floor_db, self.db)


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

    def scan(self, tone: np.ndarray) -> int | None:
        """Feed frames (is each 400 Hz tone?) up to the one that completes the cadence: its index,
        with the frames after it not consumed; None when no frame does (all consumed)."""
        flips = np.flatnonzero(tone != np.concatenate([[self._state], tone[:-1]]))
        done = 0
        for i in flips.tolist():
            self._runs = (self._runs + [(self._state, self._run + i - done)])[-3:]
            self._state, self._run, done = bool(tone[i]), 1, i + 1
            if self._cadence():
                return i
        self._run += len(tone) - done
        return None

    def _cadence(self) -> bool:
        if len(self._runs) < 3 or [s for s, _ in self._runs] != [True, False, True]:
            return False
        low, high = self.ON_OFF_S
        if not all(low <= n * FRAME_S <= high for _, n in self._runs):
            return False
        self.cadence_s = sum(n for _, n in self._runs) * FRAME_S
        return True


_KEYS = np.array([key for row in DTMF_KEYS for key in row])


class DtmfDetector:
    """One digit per key press: a low and a high DTMF tone holding most of the frame's band
    power for at least two consecutive frames (50 ms)."""

    MIN_SHARE = 0.1
    MIN_PAIR_SHARE = 0.75
    MIN_FRAMES = 2

    def __init__(self) -> None:
        self._raw = -1
        self._count = 0

    @classmethod
    def raw_keys(cls, share: np.ndarray, loud: np.ndarray) -> np.ndarray:
        """Key index (0–15) per frame, -1 where none. ``share``: (k, 9) tone shares."""
        low, high = share[:, 1:5], share[:, 5:9]
        i, j = low.argmax(axis=1), high.argmax(axis=1)
        lo, hi = low[np.arange(len(share)), i], high[np.arange(len(share)), j]
        ok = loud & (lo >= cls.MIN_SHARE) & (hi >= cls.MIN_SHARE) & (lo + hi >= cls.MIN_PAIR_SHARE)
        return np.where(ok, i * 4 + j, -1)

    def peek(self, keys: np.ndarray) -> list[tuple[int, str]]:
        """The presses :meth:`presses` would report, leaving the detector as it was."""
        state = self._raw, self._count
        try:
            return self.presses(keys)
        finally:
            self._raw, self._count = state

    def presses(self, keys: np.ndarray) -> list[tuple[int, str]]:
        """Feed k frames of raw keys; (frame index, digit) once per key press."""
        prev = np.concatenate([[self._raw], keys[:-1]])
        starts = np.flatnonzero(keys != prev)
        # Length of the run each frame belongs to so far, carrying the run open at the block start.
        run_start = np.zeros(len(keys), dtype=np.int64)
        run_start[starts] = starts
        run_start = np.maximum.accumulate(run_start)
        count = np.arange(len(keys)) - run_start + 1
        if len(starts) == 0 or starts[0] > 0:
            count[: starts[0] if len(starts) else len(keys)] += self._count
        hits = np.flatnonzero((keys >= 0) & (count == self.MIN_FRAMES))
        if len(keys):
            self._raw, self._count = int(keys[-1]), int(count[-1])
        return [(i, str(_KEYS[keys[i]])) for i in hits.tolist()]
