"""The call state machine: finds calls in the feed and says where each starts and ends.

Idle, a ring buffer holds the last ``pre_roll_s`` of audio. A call starts when at least
``start_active_s`` of activity (level above the adaptive noise floor by ``activity_margin_db``,
not the busy tone) falls within ``start_window_s``; the call begins with the ring buffer, so the
first syllable is never cut, and a click (a frame or two) never starts one. A call ends after
``end_silence_s`` without activity, or as soon as the busy tone's cadence is heard. Hold music is
activity, so it never ends a call. The segmenter never holds more than the pre-roll: call audio
goes straight to the sink.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from callrec.capture._analysis import FRAME_S, FrameAnalyzer
from callrec.capture._tones import BusyToneDetector, DtmfDetector, NoiseFloor
from callrec.config import CaptureConfig

__all__ = ["CallSink", "CallSummary", "Segmenter"]

_CLIPPED_FRAMES = 3
_ONE_SIDED_S = 0.5


@dataclass(frozen=True)
class CallSummary:
    """What the vault records about a call besides its audio (no content)."""

    kind: str
    flags: list[str]
    levels: dict


class CallSink(Protocol):
    def call_started(self, ts: float, frames: np.ndarray) -> None: ...
    def call_audio(self, frames: np.ndarray) -> None: ...
    def call_ended(self, ts: float, summary: CallSummary) -> None: ...


@dataclass
class _Call:
    start_ts: float
    first_active: float
    last_active: float
    floor_db: float
    channels: int
    active_s: np.ndarray = field(init=False)
    peak: np.ndarray = field(init=False)
    clipped_frames: int = 0
    digits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.active_s = np.zeros(self.channels)
        self.peak = np.zeros(self.channels, dtype=np.int32)


class Segmenter:
    def __init__(self, config: CaptureConfig, sample_rate: int, channels: int, sink: CallSink) -> None:
        self.config = config
        self.rate = sample_rate
        self.channels = channels
        self.sink = sink
        self._analyzer = FrameAnalyzer(sample_rate)
        self._len = self._analyzer.frame_len
        self._rem = np.zeros((0, channels), dtype=np.int16)
        self._next_ts = 0.0
        self._floor = NoiseFloor()
        self._channel_floors = [NoiseFloor() for _ in range(channels)]
        self._busy = BusyToneDetector()
        self._dtmf = DtmfDetector()
        self._window: deque[bool] = deque(maxlen=max(1, round(config.start_window_s / FRAME_S)))
        preroll = max(1, round(config.pre_roll_s / FRAME_S))
        self._preroll: deque[np.ndarray] = deque(maxlen=preroll)
        self._preroll_ts: deque[float] = deque(maxlen=preroll)
        self._idle_digits: deque[tuple[float, str]] = deque(maxlen=32)
        self._call: _Call | None = None

    @property
    def in_call(self) -> bool:
        return self._call is not None

    def process(self, block: np.ndarray, ts: float) -> None:
        """Feed int16 frames (n, channels) whose first sample was captured at ``ts``."""
        self._next_ts = ts - len(self._rem) / self.rate
        data = np.concatenate([self._rem, block]) if len(self._rem) else block
        k = len(data) // self._len
        frames = data[:k * self._len].reshape(k, self._len, self.channels)
        self._rem = data[k * self._len:].copy()
        if k:
            self._frames(frames, self._next_ts)
        self._next_ts += k * self._len / self.rate

    def finish(self, reason: str = "stopped") -> None:
        """End the call in progress (service stop, device lost, end of a replayed feed)."""
        if self._call is not None:
            if len(self._rem):
                self.sink.call_audio(self._rem)
            self._end(self._next_ts + len(self._rem) / self.rate, reason)
        self._rem = self._rem[:0]
        self._window.clear()
        self._preroll.clear()
        self._preroll_ts.clear()

    def _frames(self, frames: np.ndarray, base_ts: float) -> None:
        cfg = self.config
        feats = self._analyzer.analyze(frames)
        call_from = 0 if self._call is not None else None
        for i in range(len(frames)):
            t = base_ts + i * FRAME_S
            in_call = self._call is not None
            level = float(feats.mix_db[i])
            floor = self._floor.update(level, in_call)
            active = level > cfg.min_level_dbfs and level > floor + cfg.activity_margin_db
            tone = active and feats.tone_share[i, 0] >= BusyToneDetector.TONE_SHARE
            busy = self._busy.update(tone)
            digit = self._dtmf.update(feats.tone_share[i], active)
            speech = active and not tone
            channel_active = [
                ch_level > cfg.min_level_dbfs and ch_level > f.update(ch_level, in_call) + cfg.activity_margin_db
                for ch_level, f in zip(feats.level_db[i].tolist(), self._channel_floors, strict=True)
            ]
            if not in_call:
                if digit:
                    self._idle_digits.append((t, digit))
                if self._idle(frames[i], t, speech, floor):
                    call_from = i + 1
                continue
            call = self._call
            if digit:
                call.digits.append(digit)
            if speech:
                call.last_active = t + FRAME_S
                call.active_s += np.array(channel_active) * FRAME_S
            call.peak = np.maximum(call.peak, feats.peak[i])
            call.clipped_frames += int(feats.peak[i].max() >= 32767)
            if busy:
                # The tone's first frames can pass for activity where it starts mid-frame.
                call.last_active = min(call.last_active, max(call.first_active, t - self._busy.cadence_s))
            if busy or t + FRAME_S - call.last_active >= cfg.end_silence_s:
                self.sink.call_audio(frames[call_from:i + 1].reshape(-1, self.channels))
                self._end(t + FRAME_S, "busy_tone" if busy else "silence")
                call_from = None
        if call_from is not None and call_from < len(frames):
            self.sink.call_audio(frames[call_from:].reshape(-1, self.channels))

    def _idle(self, frame: np.ndarray, t: float, speech: bool, floor: float) -> bool:
        """One idle frame; True when it starts a call."""
        self._window.append(speech)
        self._preroll.append(frame.copy())
        self._preroll_ts.append(t)
        if sum(self._window) * FRAME_S < self.config.start_active_s:
            return False
        start_ts = self._preroll_ts[0]
        first = next(i for i, s in enumerate(self._window) if s)
        first_active = t - (len(self._window) - 1 - first) * FRAME_S
        self._call = _Call(start_ts, first_active, t + FRAME_S, floor, self.channels)
        self._call.digits = [d for ts, d in self._idle_digits if ts >= start_ts]
        self._idle_digits.clear()
        self.sink.call_started(start_ts, np.concatenate(list(self._preroll)))
        self._window.clear()
        self._preroll.clear()
        self._preroll_ts.clear()
        return True

    def _end(self, ts: float, reason: str) -> None:
        call, self._call = self._call, None
        speech_s = call.last_active - call.first_active
        flags = []
        if speech_s < self.config.short_call_s:
            flags.append("short")
        if self.channels == 2 and call.active_s.min() < _ONE_SIDED_S:
            flags.append("one_sided")
        if call.clipped_frames >= _CLIPPED_FRAMES:
            flags.append("clipped")
        levels = {
            "speech_s": round(speech_s, 2),
            "active_s": [round(float(a), 2) for a in call.active_s],
            "peak_dbfs": [round(20 * np.log10(max(int(p), 1) / 32768), 1) for p in call.peak],
            "noise_floor_dbfs": round(call.floor_db, 1),
            "end": reason,
        }
        kind = "test" if self.config.test_dtmf in "".join(call.digits) else "call"
        self.sink.call_ended(ts, CallSummary(kind=kind, flags=flags, levels=levels))
