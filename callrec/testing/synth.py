"""Synthetic line feeds: hiss, speech placed on a channel, the busy tone, DTMF, hold music,
steady noise, clicks and a flat (unplugged) line. The demo feed, the capture tests and the benchmark are built
with it, and an operator can use it to produce a known feed for ``callrec replay``.

:class:`FeedBuilder` appends segments in order and remembers where each one lies, so a test can
ask whether every second of speech landed inside a recorded call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from callrec.capture import BUSY_HZ, DTMF_HIGH, DTMF_KEYS, DTMF_LOW

__all__ = ["FeedBuilder", "Segment", "busy_tone", "dtmf_tones", "load_speech"]


@dataclass(frozen=True)
class Segment:
    kind: str
    start_s: float
    end_s: float


def load_speech(path: Path, rate: int) -> np.ndarray:
    """A mono speech recording as float samples (±1) at ``rate``."""
    data, file_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    return mono if file_rate == rate else soxr.resample(mono, file_rate, rate).astype(np.float32)


def busy_tone(seconds: float, rate: int, level_dbfs: float) -> np.ndarray:
    """The Japanese busy tone: 400 Hz, 0.5 s on and 0.5 s off."""
    t = np.arange(round(seconds * rate)) / rate
    return np.sin(2 * np.pi * BUSY_HZ * t) * _dbfs(level_dbfs) * ((t % 1.0) < 0.5)


def dtmf_tones(digits: str, rate: int, level_dbfs: float, on_s: float = 0.1, off_s: float = 0.1) -> np.ndarray:
    """DTMF digits as a phone sends them: each key's two tones for ``on_s``, then ``off_s`` silence."""
    n_on, n_off = round(on_s * rate), round(off_s * rate)
    t = np.arange(n_on) / rate
    pieces = []
    for digit in digits:
        row = next(i for i, keys in enumerate(DTMF_KEYS) if digit in keys)
        col = DTMF_KEYS[row].index(digit)
        pair = np.sin(2 * np.pi * DTMF_LOW[row] * t) + np.sin(2 * np.pi * DTMF_HIGH[col] * t)
        pieces += [pair * _dbfs(level_dbfs) / 2, np.zeros(n_off)]
    return np.concatenate(pieces)


def _dbfs(db: float) -> float:
    return 10 ** (db / 20)


class FeedBuilder:
    def __init__(self, rate: int = 8000, channels: int = 1, hiss_dbfs: float = -58.0, seed: int = 0) -> None:
        self.rate = rate
        self.channels = channels
        self.hiss_dbfs = hiss_dbfs
        self.segments: list[Segment] = []
        self._parts: list[np.ndarray] = []
        self._frames = 0
        self._rng = np.random.default_rng(seed)

    @property
    def now_s(self) -> float:
        return self._frames / self.rate

    def _hiss(self, n: int) -> np.ndarray:
        return self._rng.standard_normal((n, self.channels)).astype(np.float32) * _dbfs(self.hiss_dbfs)

    def _add(self, kind: str, signal: np.ndarray) -> FeedBuilder:
        start = self.now_s
        self._parts.append(signal)
        self._frames += len(signal)
        self.segments.append(Segment(kind, start, self.now_s))
        return self

    def _on(self, mono: np.ndarray, channel: int | None) -> np.ndarray:
        out = self._hiss(len(mono))
        for c in range(self.channels):
            if channel is None or c == channel:
                out[:, c] += mono
        return out

    def hiss(self, seconds: float) -> FeedBuilder:
        return self._add("hiss", self._hiss(round(seconds * self.rate)))

    def speech(self, samples: np.ndarray, channel: int | None = None) -> FeedBuilder:
        """Speech on one channel (``None``: all channels, i.e. a mixed feed)."""
        return self._add("speech", self._on(samples, channel))

    def busy_tone(self, seconds: float, channel: int | None = None, level_dbfs: float = -12.0) -> FeedBuilder:
        """Japanese busy tone: 400 Hz, 0.5 s on / 0.5 s off."""
        tone = busy_tone(seconds, self.rate, level_dbfs)
        return self._add("busy", self._on(tone.astype(np.float32), channel))

    def dtmf(self, digits: str, on_s: float = 0.1, off_s: float = 0.1, channel: int | None = None,
             level_dbfs: float = -10.0) -> FeedBuilder:
        tones = dtmf_tones(digits, self.rate, level_dbfs, on_s, off_s)
        return self._add("dtmf", self._on(tones.astype(np.float32), channel))

    def hold_music(self, seconds: float, channel: int | None = None, level_dbfs: float = -20.0) -> FeedBuilder:
        """Chords changing every half second, with decaying notes (no single steady tone)."""
        n = round(seconds * self.rate)
        t = np.arange(n) / self.rate
        chords = ((523.3, 659.3, 784.0), (587.3, 740.0, 880.0), (493.9, 622.3, 740.0), (554.4, 698.5, 830.6))
        out = np.zeros(n, dtype=np.float32)
        step = round(0.5 * self.rate)
        for i, start in enumerate(range(0, n, step)):
            seg = t[start:start + step] - t[start]
            env = np.exp(-seg * 2.0)
            out[start:start + step] = sum(np.sin(2 * np.pi * f * seg) for f in chords[i % len(chords)]) * env / 3
        return self._add("music", self._on(out * _dbfs(level_dbfs) * 1.4, channel))

    def noise(self, seconds: float, level_dbfs: float = -20.0) -> FeedBuilder:
        """A steady broadband noise on the line (a fan by the handset, a line fault): not speech."""
        return self._add("noise", self._on(self._hiss(round(seconds * self.rate))[:, 0] * _dbfs(level_dbfs - self.hiss_dbfs), None))

    def click(self, level_dbfs: float = -3.0) -> FeedBuilder:
        """A 5 ms click (a handset knocked, a relay on the idle line)."""
        n = round(0.005 * self.rate)
        pulse = np.hanning(n).astype(np.float32) * _dbfs(level_dbfs)
        return self._add("click", self._on(pulse, None))

    def flat(self, seconds: float, value: int = 0) -> FeedBuilder:
        """A pulled cable: digital zeros (or a stuck constant)."""
        return self._add("flat", np.full((round(seconds * self.rate), self.channels), value / 32768, np.float32))

    def build(self) -> np.ndarray:
        """The feed as int16 frames (n, channels)."""
        data = np.concatenate(self._parts) if self._parts else np.zeros((0, self.channels), np.float32)
        return np.clip(np.round(data * 32768), -32768, 32767).astype(np.int16)

    def write(self, path: Path, format: str | None = None) -> Path:
        soundfile.write(str(path), self.build(), self.rate, subtype="PCM_16", format=format)
        return Path(path)

    def spans(self, kind: str) -> list[tuple[float, float]]:
        return [(s.start_s, s.end_s) for s in self.segments if s.kind == kind]
