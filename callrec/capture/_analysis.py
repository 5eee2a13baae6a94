"""Per-frame features of the line feed: level, the 400 Hz busy tone and the eight DTMF tones.

The feed is cut into 25 ms analysis frames (200 samples at 8 kHz, 400 at 16 kHz: the classic
DTMF block length, ~40 Hz resolution). For each frame we need the power at nine fixed
frequencies: that is what the Goertzel algorithm computes, one frequency at a time, sample by
sample. Evaluated over a whole block of frames at once, the same single-bin DFT is a matrix
product, which numpy does orders of magnitude faster than a Python Goertzel loop; the numbers
are identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FRAME_S", "DTMF_LOW", "DTMF_HIGH", "DTMF_KEYS", "BUSY_HZ", "Features", "FrameAnalyzer", "dbfs"]

FRAME_S = 0.025
BUSY_HZ = 400.0
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
_FREQS = (BUSY_HZ, *DTMF_LOW, *DTMF_HIGH)
_FLOOR_DB = -120.0


def dbfs(mean_square: np.ndarray) -> np.ndarray:
    """Mean square of samples scaled to ±1 → dB full scale (digital silence → -120)."""
    with np.errstate(divide="ignore"):
        return np.maximum(10.0 * np.log10(mean_square), _FLOOR_DB)


@dataclass(frozen=True)
class Features:
    """Features of k frames. ``level_db`` is (k, channels); the rest are of the channel mix."""

    level_db: np.ndarray
    mix_db: np.ndarray
    #: Largest absolute sample per frame and channel, (k, channels).
    peak: np.ndarray
    #: Share of the frame's energy at each frequency, (k, 9): 400 Hz, 4 low and 4 high DTMF tones.
    tone_share: np.ndarray


class FrameAnalyzer:
    def __init__(self, sample_rate: int) -> None:
        self.frame_len = round(sample_rate * FRAME_S)
        n = np.arange(self.frame_len)
        phase = 2.0 * np.pi * np.outer(n, _FREQS) / sample_rate
        self._basis = np.hstack([np.cos(phase), np.sin(phase)])

    def analyze(self, frames: np.ndarray) -> Features:
        """``frames``: int16 of shape (k, frame_len, channels)."""
        x = frames.astype(np.float32) / 32768.0
        level = dbfs(np.mean(x * x, axis=1))
        mix = x.mean(axis=2)
        energy = np.sum(mix * mix, axis=1)
        proj = mix @ self._basis
        k = len(_FREQS)
        power = proj[:, :k] ** 2 + proj[:, k:] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(energy[:, None] > 0, 2.0 * power / (self.frame_len * energy[:, None]), 0.0)
        return Features(level_db=level, mix_db=dbfs(energy / self.frame_len),
                        peak=np.abs(frames.astype(np.int32)).max(axis=1), tone_share=share)
