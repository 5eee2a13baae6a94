"""The call state machine: finds calls in the feed and says where each starts and ends.

Speech presence does not rest on broadband level: a frame is *active* when, in one of four
sub-bands of the telephone band (300–3400 Hz, so mains hum and rumble are out), its power is
``activity_margin_db`` above that band's own noise floor, and the band's total is above
``min_level_dbfs``. Floors follow each band down at once and up slowly — fast enough that hiss
drifting by several dB over minutes stays floor, slow enough that speech never does. A frame
that holds mostly the 400 Hz busy tone is not speech.

Idle, the last ``pre_roll_s`` of audio is kept. A call starts when at least ``start_active_s`` of
speech falls within ``start_window_s``, with speech-like structure: part of it in a run of at
least 100 ms (a click, a short broadband burst of any level, is not), and a level that moves
like syllables (a steady noise is not) or DTMF key presses. The call begins with the kept audio, so the first
syllable is never cut. A call ends after ``end_silence_s`` without sustained speech (a click on
the line does not keep it open), or as soon as the busy tone's cadence is heard. The segmenter
never holds more than the pre-roll: call audio goes straight to the sink.

A call's continuation is judged against the call itself. Per channel, the call keeps the level
of its loudest 100 ms of speech so far; speech whose loudest 100 ms stays more than
``OWN_LEVEL_DB`` below that is not this call's (a faint other conversation bleeding in, another
line's crosstalk, is 20 dB and more below). It holds the call open for at most
``QUIET_HOLD_S`` past the call's own speech: a quiet caller answering after a hold is kept, a
crosstalk conversation after the call is not. A test call (its digits contain ``test_dtmf``)
ends ``test_tail_s`` after its last speech instead of ``end_silence_s``: it is short, and a real
call that follows is a call of its own. Right after a call, speech that quiet does not start a
new call either (crosstalk outlasting the call), until the line has been quiet for
``GATE_SILENCE_S`` or ``GATE_MAX_S`` have passed.

Per-frame features, floors, tone flags and DTMF key candidates are computed for a whole block at
once; only the state machine's transitions and the detectors' carried state are scalar.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from callrec.capture._analysis import FRAME_S, FrameAnalyzer, dbfs
from callrec.capture._tones import BusyToneDetector, DtmfDetector, NoiseFloors
from callrec.config import CaptureConfig

__all__ = ["OWN_LEVEL_DB", "QUIET_HOLD_S", "CallSink", "CallSummary", "Segmenter", "SpeechFlags"]

_CLIPPED_FRAMES = 3
_ONE_SIDED_S = 0.5
#: Noise floors rise at most this fast while idle (dB/s) ...
IDLE_RISE_DB_S = 1.0
#: ... and during a call: faster than a line's hiss drifts, slower than hold music could become
#: the floor within a couple of minutes.
CALL_RISE_DB_S = 0.2
#: Speech that counts: runs of at least this many active frames (100 ms); a click is shorter.
_SUSTAIN_FRAMES = 4
#: Speech starting a call moves like syllables: its level over the start window varies this much.
_MIN_MODULATION_DB = 3.0
#: Speech whose loudest 100 ms is more than this below the call's own loudest 100 ms so far (per
#: channel) is not this call's speech: measured on the crosstalk feeds of ``tools/score_feeds.py``
#: (docs/capture.md), another line's conversation peaks at least 14.8 dB below the call's loudest.
OWN_LEVEL_DB = 12.0
#: Speech quieter than that keeps the call open at most this long past the call's own speech.
QUIET_HOLD_S = 4.0
#: Right after a call, such quiet speech does not start the next call until the line has been
#: without speech this long, or this long after the call ended (crosstalk lasts 20-90 s).
GATE_SILENCE_S = 15.0
GATE_MAX_S = 120.0
#: Frame times are sums of floats: a silence of exactly ``end_silence_s`` must end the call
#: whichever way the feed was cut into blocks (the frames' times then differ by rounding).
_TIME_EPS_S = 1e-4

#: An alternative voice-activity detector (measured against the segmenter's own in
#: ``tools/score_feeds.py``): int16 frames (k, frame_len, channels) → speech per frame (k,).
SpeechFlags = Callable[[np.ndarray], np.ndarray]


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
    #: End of the speech that holds the call open (own speech, or quiet speech up to QUIET_HOLD_S
    #: after it).
    last_active: float
    floor_db: float
    channels: int
    active_s: np.ndarray = field(init=False)
    peak: np.ndarray = field(init=False)
    #: End of the call's own speech, and of any sustained speech.
    last_own: float = field(init=False)
    last_any: float = field(init=False)
    #: Per channel: the level of the call's loudest 100 ms of speech so far (dBFS).
    own_db: np.ndarray = field(init=False)
    clipped_frames: int = 0
    digits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.active_s = np.zeros(self.channels)
        self.peak = np.zeros(self.channels, dtype=np.int32)
        self.last_own = self.last_any = self.last_active
        self.own_db = np.full(self.channels, -np.inf)


@dataclass
class _Flags:
    """Per-frame decisions for frames i.. of a block, given the state at frame i."""

    band_floor: np.ndarray
    channel_floor: np.ndarray
    tone: np.ndarray
    speech: np.ndarray
    sustained: np.ndarray
    channel_active: np.ndarray
    keys: np.ndarray
    level_db: np.ndarray
    peak: np.ndarray
    #: Per channel: the level where the mix is speech and no DTMF key (and, split, the channel
    #: itself is active), else -inf (k, channels): digits dialled into a call say nothing about
    #: its voices' level, nor does one leg's hiss while the other speaks.
    speech_db: np.ndarray
    #: Idle: frames that may start a call (speech loud enough, or a digit, while the gate after
    #: a call is closed); None: all.
    start_ok: np.ndarray | None = None


def _last_end(flags: np.ndarray, t: np.ndarray, carry: np.ndarray) -> np.ndarray:
    """Per frame and column of ``flags`` (k, m): the end time of the last flagged frame so far
    (``carry``, per column, before the first)."""
    last = np.maximum.accumulate(np.where(flags, np.arange(len(flags))[:, None], -1), axis=0)
    return np.where(last >= 0, t[np.maximum(last, 0)] + FRAME_S, carry)


def _runs(flags: np.ndarray, carry: int) -> np.ndarray:
    """Length of the run of True each frame ends (``carry``: the run open before the first frame)."""
    idx = np.arange(len(flags))
    last_false = np.maximum.accumulate(np.where(flags, -1, idx))
    runs = idx - last_false
    return np.where(last_false < 0, runs + carry, runs)


class Segmenter:
    def __init__(self, config: CaptureConfig, sample_rate: int, channels: int, sink: CallSink) -> None:
        self.config = config
        self.rate = sample_rate
        self.channels = channels
        self.sink = sink
        #: None: the segmenter's own speech detector; else an alternative to measure.
        self.detector: SpeechFlags | None = None
        self._analyzer = FrameAnalyzer(sample_rate)
        self._len = self._analyzer.frame_len
        self._rem = np.zeros((0, channels), dtype=np.int16)
        self._next_ts = 0.0
        self._band_floors = NoiseFloors(4)
        self._channel_floors = NoiseFloors(channels)
        self._busy = BusyToneDetector()
        self._dtmf = DtmfDetector()
        self._run = 0
        #: Speech levels of the last frames before the block (for the 100 ms minimum).
        self._recent = np.full((_SUSTAIN_FRAMES - 1, channels), -np.inf)
        self._window = max(1, round(config.start_window_s / FRAME_S))
        self._need = round(config.start_active_s / FRAME_S)
        # Speech, sustained, level, DTMF, may start of the last window-1 idle frames.
        self._history = np.zeros((0, 5))
        self._preroll = max(1, round(config.pre_roll_s / FRAME_S)) * self._len
        self._tail = np.zeros((0, channels), dtype=np.int16)
        self._idle_digits: deque[tuple[float, str]] = deque(maxlen=32)
        #: After a call: the level (per channel) speech must reach to start the next one, while
        #: the gate is closed (see :meth:`_gated`).
        self._gate: np.ndarray | None = None
        self._gate_until = self._gate_last = 0.0
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
        self._history = self._history[:0]
        self._tail = self._tail[:0]

    # -- one block -----------------------------------------------------------------------------

    def _frames(self, frames: np.ndarray, base_ts: float) -> None:
        feats = self._analyzer.analyze(frames)
        band_db = dbfs(feats.bands)
        channel_db = dbfs(feats.channel_band)
        level_db = dbfs(feats.bands.sum(axis=1))
        external = self.detector(frames) if self.detector is not None else None
        i, k = 0, len(frames)
        while i < k:
            flags = self._flags(feats, band_db[i:], channel_db[i:], level_db[i:], i,
                                None if external is None else external[i:])
            ts = base_ts + i * FRAME_S
            if self._call is None:
                j = self._idle(frames[i:], flags, ts)
            else:
                j = self._in_call(frames[i:], flags, ts)
            upto = k - i if j is None else j + 1
            self._band_floors.keep(flags.band_floor[upto - 1])
            self._channel_floors.keep(flags.channel_floor[upto - 1])
            self._run = int(_runs(flags.speech[:upto], self._run)[-1])
            self._recent = (flags.speech_db[upto + 1 - _SUSTAIN_FRAMES:upto] if upto >= _SUSTAIN_FRAMES - 1
                            else np.concatenate([self._recent, flags.speech_db[:upto]])[1 - _SUSTAIN_FRAMES:])
            i += upto

    def _flags(self, feats, band_db: np.ndarray, channel_db: np.ndarray, level_db: np.ndarray, i: int,
               external: np.ndarray | None) -> _Flags:
        cfg = self.config
        rise = CALL_RISE_DB_S if self._call is not None else IDLE_RISE_DB_S
        flat = feats.flat[i:, None]
        # Digital silence says nothing about the line's noise: it must not pull the floors down.
        band_floor = self._band_floors.track(np.where(flat, np.inf, band_db), rise)
        channel_floor = self._channel_floors.track(np.where(flat, np.inf, channel_db), rise)
        loud = level_db > cfg.min_level_dbfs
        active = loud & ((band_db - band_floor).max(axis=1) >= cfg.activity_margin_db)
        tone = active & (feats.tone_share[i:, 0] >= BusyToneDetector.TONE_SHARE)
        speech = (active if external is None else external & loud) & ~tone
        sustained = speech & (_runs(speech, self._run) >= _SUSTAIN_FRAMES)
        channel_active = (channel_db > cfg.min_level_dbfs) & (channel_db - channel_floor >= cfg.activity_margin_db)
        keys = DtmfDetector.raw_keys(feats.tone_share[i:], active)
        voice = (speech & (keys < 0))[:, None] & (channel_active if self.channels > 1 else True)
        return _Flags(band_floor, channel_floor, tone, speech, sustained, channel_active, keys, level_db,
                      feats.peak[i:], np.where(voice, channel_db, -np.inf))

    # -- idle ----------------------------------------------------------------------------------

    def _idle(self, frames: np.ndarray, flags: _Flags, ts: float) -> int | None:
        """Idle frames from ``ts``: the index of the frame that starts a call, else None."""
        if self._gate is not None:
            flags = self._gated(flags, ts)
        j = self._find_start(flags)
        if j is not None:
            self._gate = None
        upto = len(frames) if j is None else j + 1
        tone = flags.tone[:upto]
        while (b := self._busy.scan(tone)) is not None:  # a tone while idle ends nothing
            tone = tone[b + 1:]
        for f, digit in self._dtmf.presses(flags.keys[:upto]):
            self._idle_digits.append((ts + f * FRAME_S, digit))
        audio = np.concatenate([self._tail, frames[:upto].reshape(-1, self.channels)])[-self._preroll:]
        if j is None:
            h = self._window - 1
            self._history = np.concatenate([self._history, self._row(flags)])[-h:] if h else self._history[:0]
            self._tail = audio
            return None
        window = np.concatenate([self._history, self._row(flags)[:j + 1]])[-self._window:]
        first = int(np.argmax(window[:, 0]))
        t_end = ts + (j + 1) * FRAME_S
        start_ts = t_end - len(audio) / self.rate
        first_active = t_end - (len(window) - first) * FRAME_S
        floor = float(dbfs(np.sum(10 ** (flags.band_floor[j] / 10))))
        self._call = _Call(start_ts, first_active, t_end, floor, self.channels)
        self._call.digits = [d for t, d in self._idle_digits if t >= start_ts]
        self._idle_digits.clear()
        self._history = self._history[:0]
        self._tail = self._tail[:0]
        self.sink.call_started(start_ts, audio)
        return j

    def _gated(self, flags: _Flags, ts: float) -> _Flags:
        """Right after a call, a start window needs a frame of speech within OWN_LEVEL_DB of that
        call's own voice (or a digit): crosstalk still going on when a call ends is not a new
        call. The gate opens after GATE_SILENCE_S without sustained speech, or GATE_MAX_S after
        the call."""
        k = len(flags.speech)
        t = ts + np.arange(k) * FRAME_S
        heard = flags.sustained.any()
        last = _last_end(flags.sustained[:, None], t, np.array([self._gate_last]))[:, 0] if heard else \
            np.full(k, self._gate_last)
        opened = np.flatnonzero((t + FRAME_S - last >= GATE_SILENCE_S) | (t >= self._gate_until))
        r = int(opened[0]) if len(opened) else k
        ok = flags.keys >= 0
        if heard:
            loud = self._loud_db(flags)
            ok |= ((loud > -np.inf) & (loud >= self._gate)).any(axis=1)
        ok[r:] = True
        if r < k:
            self._gate = None
        else:
            self._gate_last = float(last[-1])
        return replace(flags, start_ok=ok)

    @staticmethod
    def _row(flags: _Flags) -> np.ndarray:
        ok = np.ones(len(flags.speech)) if flags.start_ok is None else flags.start_ok
        return np.column_stack([flags.speech, flags.sustained, flags.level_db, flags.keys >= 0, ok])

    def _find_start(self, flags: _Flags) -> int | None:
        """First frame at which the start window holds enough speech with speech-like structure
        (or DTMF: the ops test call starts with its digits)."""
        rows = np.concatenate([self._history, self._row(flags)])
        hist, w = len(self._history), self._window
        speech, sustained = rows[:, 0], rows[:, 1]
        cs = np.concatenate([[0.0], np.cumsum(speech)])
        cu = np.concatenate([[0.0], np.cumsum(sustained)])
        ck = np.concatenate([[0.0], np.cumsum(rows[:, 4])])
        end = np.arange(hist + 1, len(rows) + 1)
        begin = np.maximum(end - w, 0)
        enough = (cs[end] - cs[begin] >= self._need) & (cu[end] - cu[begin] >= 1) & (ck[end] - ck[begin] >= 1)
        for e in np.flatnonzero(enough).tolist():
            window = rows[max(0, hist + e + 1 - w):hist + e + 1]
            levels = window[window[:, 0] > 0, 2]
            if levels.std() >= _MIN_MODULATION_DB or window[:, 3].any():
                return e
        return None

    # -- in a call -----------------------------------------------------------------------------

    def _in_call(self, frames: np.ndarray, flags: _Flags, ts: float) -> int | None:
        """Call frames from ``ts``: the index of the frame that ends the call, else None."""
        call = self._call
        n = len(frames)
        t = ts + np.arange(n) * FRAME_S
        own_db, last_own, last_any, last_active = self._speech_ends(flags, t)
        silent = np.flatnonzero(t + FRAME_S - last_active >= self._silence_s(flags) - _TIME_EPS_S)
        quiet_end = int(silent[0]) if len(silent) else None
        busy = self._busy.scan(flags.tone if quiet_end is None else flags.tone[:quiet_end + 1])
        end = busy if busy is not None else quiet_end
        upto = n if end is None else end + 1
        call.own_db = own_db[upto - 1]
        call.last_own, call.last_any = float(last_own[upto - 1]), float(last_any[upto - 1])
        call.last_active = float(last_active[upto - 1])
        call.active_s += (flags.channel_active[:upto] & flags.speech[:upto, None]).sum(axis=0) * FRAME_S
        peak = flags.peak[:upto]
        call.peak = np.maximum(call.peak, peak.max(axis=0))
        call.clipped_frames += int((peak.max(axis=1) >= 32767).sum())
        call.digits += [d for _, d in self._dtmf.presses(flags.keys[:upto])]
        self.sink.call_audio(frames[:upto].reshape(-1, self.channels))
        if end is None:
            return None
        if busy is not None:
            # The tone's first frames can pass for activity where it starts mid-frame.
            call.last_active = min(call.last_active, max(call.first_active, float(t[busy]) - self._busy.cadence_s))
        self._end(float(t[end]) + FRAME_S, "busy_tone" if busy is not None else "silence")
        return end

    def _speech_ends(self, flags: _Flags, t: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per frame: the call's loudest 100 ms so far per channel, the end of its own speech, of
        any sustained speech, and of the speech that holds it open."""
        call = self._call
        if not flags.sustained.any() and flags.keys.max() < 0:  # no speech: nothing moves
            n = len(t)
            return (np.broadcast_to(call.own_db, (n, self.channels)), np.full(n, call.last_own),
                    np.full(n, call.last_any), np.full(n, call.last_active))
        loud_db = self._loud_db(flags)
        own_db = np.maximum(call.own_db, np.maximum.accumulate(loud_db, axis=0))
        own = (loud_db > -np.inf) & (loud_db >= own_db - OWN_LEVEL_DB)
        # Digits are the call's own too (they do not set its level): a test pattern keyed late.
        own = (own[:, 0] if self.channels == 1 else own.any(axis=1)) | (flags.keys >= 0)
        ends = _last_end(np.column_stack([own, flags.sustained]), t, np.array([call.last_own, call.last_any]))
        last_own, last_any = ends[:, 0], ends[:, 1]
        return own_db, last_own, last_any, np.minimum(last_any, last_own + QUIET_HOLD_S)

    def _loud_db(self, flags: _Flags) -> np.ndarray:
        """Per frame and channel: the level of the 100 ms it ends, where all of it is speech
        (else -inf)."""
        padded = np.concatenate([self._recent, flags.speech_db])
        k = len(flags.speech_db)
        loud_db = padded[:k]
        for shift in range(1, _SUSTAIN_FRAMES):
            loud_db = np.minimum(loud_db, padded[shift:shift + k])
        return loud_db

    def _silence_s(self, flags: _Flags) -> float | np.ndarray:
        """The silence that ends the call, per frame where it changes within the block (the
        test tail from the press that completes the test digits)."""
        cfg = self.config
        digits = "".join(self._call.digits)
        if cfg.test_dtmf in digits:
            return cfg.test_tail_s
        if flags.keys.max() < 0:
            return cfg.end_silence_s
        silence = np.full(len(flags.keys), cfg.end_silence_s)
        for i, digit in self._dtmf.peek(flags.keys):
            digits += digit
            if cfg.test_dtmf in digits:
                silence[i:] = cfg.test_tail_s
                break
        return silence

    def _end(self, ts: float, reason: str) -> None:
        call, self._call = self._call, None
        self._gate, self._gate_until, self._gate_last = call.own_db - OWN_LEVEL_DB, ts + GATE_MAX_S, ts
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
