"""Seeded test feeds of a day on the line, clean or through a bad analogue tap, with ground truth.

A feed is a schedule of calls (staff answers, turns alternate with the caller, some calls hold
a 25–35 s silence, some end with the busy tone, one is the DTMF test call), idle stretches with
clicks, and a flatline (pulled cable). :func:`day_feed` renders the same schedule either clean
(faint white hiss, 5 ms clicks) or as a bad line: mains hum with harmonics at about -40 dBFS, hiss
at about -45 dBFS drifting ±6 dB over minutes, callers up to 18 dB quieter than staff, 40 ms
clicks of any level while idle, then G.711 µ-law or A-law companding. The clean rendering has
no clicks (a click on a clean line is covered by the capture tests). :class:`Truth` says where
every call, speech turn and flatline lies; :mod:`callrec.testing.scoring` compares it with what
the segmenter found.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from callrec.testing.synth import busy_tone, dtmf_tones

__all__ = ["LAWS", "Truth", "TrueCall", "Feed", "day_feed", "compand"]

LAWS = ("none", "ulaw", "alaw")
TEST_DTMF = "*0*0#"
_FLATLINE_S = 70.0


@dataclass(frozen=True)
class TrueCall:
    #: From the first speech (or DTMF) to the end of the last speech, seconds from the feed start.
    start_s: float
    end_s: float
    kind: str
    speech: list[tuple[float, float]]
    #: Where the busy tone starts, when the caller hung up with one (else None: silence ends it).
    busy_s: float | None = None


@dataclass(frozen=True)
class Truth:
    duration_s: float
    rate: int
    calls: list[TrueCall]
    flatlines: list[tuple[float, float]]
    clicks: list[float]
    profile: dict = field(default_factory=dict)

    def write(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, path: Path) -> Truth:
        raw = json.loads(Path(path).read_text())
        raw["calls"] = [TrueCall(**{**c, "speech": [tuple(s) for s in c["speech"]]}) for c in raw["calls"]]
        raw["flatlines"] = [tuple(s) for s in raw["flatlines"]]
        return cls(**raw)


@dataclass(frozen=True)
class Feed:
    audio: np.ndarray  # int16 (n, 1)
    truth: Truth

    def write(self, wav: Path) -> Path:
        """The feed as a 16-bit WAV and its truth beside it (``NAME.truth.json``)."""
        soundfile.write(str(wav), self.audio, self.truth.rate, subtype="PCM_16")
        self.truth.write(Path(wav).with_suffix(".truth.json"))
        return Path(wav)


def _db(db: float) -> float:
    return 10 ** (db / 20)


def compand(x: np.ndarray, law: str) -> np.ndarray:
    """G.711 µ-law or A-law round trip: compress, quantise to 8 bits, expand (what the trunk does)."""
    if law == "none":
        return x
    a = np.minimum(np.abs(x), 1.0)
    if law == "ulaw":
        y = np.log1p(255.0 * a) / np.log(256.0)
        q = np.round(y * 127.0) / 127.0
        out = np.expm1(q * np.log(256.0)) / 255.0
    elif law == "alaw":
        big = 87.6
        norm = 1.0 + np.log(big)
        y = np.where(a < 1 / big, big * a / norm, (1.0 + np.log(np.maximum(big * a, 1.0))) / norm)
        q = np.round(y * 127.0) / 127.0
        out = np.where(q < 1 / norm, q * norm / big, np.exp(q * norm - 1.0) / big)
    else:
        raise ValueError(f"law must be one of {LAWS}")
    return (np.sign(x) * out).astype(np.float32)


class _Schedule:
    """The clean content of a feed (speech, tones, DTMF) on a silent line, with its truth."""

    def __init__(self, rate: int, rng: np.random.Generator, quiet_caller_db: float) -> None:
        self.rate = rate
        self.rng = rng
        self.quiet_caller_db = quiet_caller_db
        self.parts: list[np.ndarray] = []
        self.n = 0
        self.calls: list[TrueCall] = []
        self.flatlines: list[tuple[float, float]] = []
        self.idle: list[tuple[float, float]] = []

    @property
    def now(self) -> float:
        return self.n / self.rate

    def add(self, x: np.ndarray) -> tuple[float, float]:
        start = self.now
        self.parts.append(x.astype(np.float32))
        self.n += len(x)
        return start, self.now

    def silence(self, seconds: float) -> tuple[float, float]:
        return self.add(np.zeros(round(seconds * self.rate), np.float32))

    def idle_gap(self, seconds: float) -> None:
        self.idle.append(self.silence(seconds))

    def busy(self, seconds: float, level_db: float) -> float:
        return self.add(busy_tone(seconds, self.rate, level_db))[0]

    def dtmf(self, digits: str, level_db: float) -> tuple[float, float]:
        return self.add(dtmf_tones(digits, self.rate, level_db))

    def call(self, speech: list[np.ndarray], turns: int, kind: str, hold: bool, busy: bool) -> None:
        rng = self.rng
        spans: list[tuple[float, float]] = []
        start = None
        if kind == "test":
            start = self.dtmf(TEST_DTMF, rng.uniform(-22, -8))[0]
            self.silence(rng.uniform(0.3, 1.0))
        staff_db = rng.uniform(-3, 1)
        caller_db = staff_db - rng.uniform(0, self.quiet_caller_db)
        hold_after = rng.integers(1, turns) if hold and turns > 1 else -1
        for turn in range(turns):
            gain = staff_db if turn % 2 == 0 else caller_db
            spans.append(self.add(speech[rng.integers(len(speech))] * _db(gain)))
            if turn == hold_after:
                self.silence(rng.uniform(25, 35))
            elif turn < turns - 1:
                self.silence(rng.uniform(0.2, 1.5))
        start = spans[0][0] if start is None else start
        end = spans[-1][1]
        busy_s = None
        if busy:
            self.silence(rng.uniform(0.3, 1.0))
            busy_s = self.busy(rng.uniform(3, 6), rng.uniform(-25, -10))
        self.calls.append(TrueCall(start, end, kind, spans, busy_s))

    def flatline(self) -> None:
        self.flatlines.append(self.silence(_FLATLINE_S))


def _schedule(speech: list[np.ndarray], rate: int, calls: int, seed: int, quiet_caller_db: float) -> _Schedule:
    rng = np.random.default_rng(seed)
    s = _Schedule(rate, rng, quiet_caller_db)
    test_at = int(rng.integers(calls))
    flat_at = int(rng.integers(1, max(2, calls)))
    s.idle_gap(rng.uniform(8, 20))
    ended_by_busy = True
    for i in range(calls):
        if i == flat_at:
            s.idle_gap(10)
            s.flatline()
            s.idle_gap(rng.uniform(10, 20))
        if i:
            # Without a busy tone, calls are apart by more than the end_silence_s (40 s) default.
            s.idle_gap(rng.uniform(3, 20) if ended_by_busy else rng.uniform(50, 100))
        kind = "test" if i == test_at else "call"
        ended_by_busy = kind == "test" or rng.random() < 0.5
        turns = int(rng.integers(1, 3)) if kind == "test" else int(rng.integers(3, 9))
        s.call(speech, turns, kind, hold=kind == "call" and rng.random() < 0.3, busy=ended_by_busy)
    s.idle_gap(60)
    return s


def _drift_db(n: int, rate: int, rng: np.random.Generator, swing_db: float) -> np.ndarray:
    """A slow level wander within ±swing_db: two sinusoids of minutes' period."""
    t = np.arange(n, dtype=np.float64) / rate
    p1, p2 = rng.uniform(120, 400), rng.uniform(40, 120)
    wander = 0.7 * np.sin(2 * np.pi * t / p1 + rng.uniform(0, 6.3)) + 0.3 * np.sin(2 * np.pi * t / p2 + rng.uniform(0, 6.3))
    return (swing_db * wander).astype(np.float32)


def _hum(n: int, rate: int, mains_hz: float, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """Mains hum: the fundamental and decaying (odd-heavy) harmonics, ``level_db`` in total."""
    t = np.arange(n, dtype=np.float64) / rate
    f0 = mains_hz * (1 + rng.uniform(-0.001, 0.001))
    rel_db = {1: 0.0, 2: -14.0, 3: -6.0, 4: -20.0, 5: -10.0, 7: -14.0, 9: -18.0, 11: -22.0}
    amps = {k: _db(d) for k, d in rel_db.items()}
    norm = np.sqrt(sum(a * a for a in amps.values()) / 2)
    hum = sum(a * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) for k, a in amps.items())
    return (hum / norm * _db(level_db)).astype(np.float32)


def _click(rate: int, rng: np.random.Generator) -> np.ndarray:
    """40 ms: a decaying noise burst or a ringing relay, at any level up to full scale."""
    n = round(0.040 * rate)
    t = np.arange(n) / rate
    env = np.exp(-t / rng.uniform(0.005, 0.02))
    if rng.random() < 0.5:
        body = rng.standard_normal(n)
    else:
        body = np.sin(2 * np.pi * rng.uniform(300, 2500) * t) * 1.4
    return (body * env * _db(rng.uniform(-35, 0))).astype(np.float32)


def day_feed(speech: list[np.ndarray], *, seed: int, calls: int = 18, bad: bool = True, mains_hz: int = 50,
             law: str = "ulaw", rate: int = 8000, hum_dbfs: float = -40.0, hiss_dbfs: float = -45.0,
             drift_db: float = 6.0, quiet_caller_db: float = 18.0, clicks_per_min: float = 6.0) -> Feed:
    """A day's feed of ``calls`` calls (mono); ``bad=False`` renders the same schedule clean."""
    s = _schedule(speech, rate, calls, seed, quiet_caller_db if bad else 6.0)
    rng = np.random.default_rng(seed + 1_000_003)
    x = np.concatenate(s.parts)
    n = len(x)
    if bad:
        hiss_gain = 10 ** ((hiss_dbfs + _drift_db(n, rate, rng, drift_db)) / 20)
        x += rng.standard_normal(n).astype(np.float32) * hiss_gain
        x += _hum(n, rate, mains_hz, hum_dbfs, rng)
    else:
        x += rng.standard_normal(n).astype(np.float32) * _db(-58.0)
    clicks = []
    for start, end in s.idle if bad else ():
        t = start + 2.0
        while True:
            t += rng.exponential(60.0 / clicks_per_min)
            if t > end - 2.0:
                break
            pulse = _click(rate, rng)
            i = round(t * rate)
            x[i:i + len(pulse)] += pulse[: n - i]
            clicks.append(round(t, 3))
    x = compand(x, law if bad else "none")
    for start, end in s.flatlines:
        x[round(start * rate):round(end * rate)] = 0.0
    audio = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)[:, None]
    profile = {"bad": bad, "seed": seed, "mains_hz": mains_hz if bad else None, "law": law if bad else "none"}
    return Feed(audio, Truth(n / rate, rate, s.calls, s.flatlines, clicks, profile))
