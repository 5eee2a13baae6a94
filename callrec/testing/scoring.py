"""Compare the calls a segmenter found with a feed's ground truth (:mod:`callrec.testing.badline`).

Per feed: calls found, false calls (found calls that hold no true call), splits (one true call
recorded as several), merges (one recording holding several true calls), seconds of true speech
outside every recorded call, and the median error of start and end. A true call's start is its
first speech (or DTMF), its end the end of its last speech; a recording's start is earlier by the
pre-roll and its end later by the busy tone's cadence or the end-of-call silence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callrec.capture import CallSummary
from callrec.testing.badline import Truth

__all__ = ["Found", "CallLog", "Score", "score", "TABLE_HEADER"]


@dataclass(frozen=True)
class Found:
    start_s: float
    end_s: float
    kind: str
    end: str = ""


class CallLog:
    """A :class:`~callrec.capture.CallSink` that only remembers where calls start and end."""

    def __init__(self, t0: float = 0.0) -> None:
        self.t0 = t0
        self.calls: list[Found] = []
        self._start: float | None = None

    def call_started(self, ts: float, frames: np.ndarray) -> None:
        self._start = ts

    def call_audio(self, frames: np.ndarray) -> None:
        pass

    def call_ended(self, ts: float, summary: CallSummary) -> None:
        self.calls.append(Found(self._start - self.t0, ts - self.t0, summary.kind, summary.levels["end"]))


@dataclass(frozen=True)
class Score:
    calls: int
    found: int
    false_calls: int
    splits: int
    merges: int
    speech_outside_s: float
    start_err_s: float
    end_err_s: float
    test_call_ok: bool
    flatlines: int
    flatlines_found: int

    def row(self, name: str) -> str:
        return (f"{name:<28} {self.found:>3}/{self.calls:<3} {self.false_calls:>5} {self.splits:>6} {self.merges:>6}"
                f" {self.speech_outside_s:>8.1f} {self.start_err_s:>+7.2f} {self.end_err_s:>+7.2f}"
                f" {'yes' if self.test_call_ok else 'NO':>5} {self.flatlines_found:>3}/{self.flatlines}")


TABLE_HEADER = (f"{'feed':<28} {'found':>7} {'false':>5} {'splits':>6} {'merges':>6} {'out(s)':>8}"
                f" {'start':>7} {'end':>7} {'test':>5} {'flat':>5}")


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _outside(span: tuple[float, float], found: list[Found]) -> float:
    """Seconds of ``span`` covered by no found call."""
    covered = 0.0
    for f in found:
        covered += max(0.0, min(span[1], f.end_s) - max(span[0], f.start_s))
    return max(0.0, (span[1] - span[0]) - covered)


def score(truth: Truth, found: list[Found], flatlines_found: list[tuple[float, float]] = ()) -> Score:
    """``found``: the recorded calls, seconds from the feed start; ``flatlines_found``: flatline gaps."""
    spans = [(c.start_s, c.end_s) for c in truth.calls]
    per_true = [[f for f in found if _overlaps(span, (f.start_s, f.end_s))] for span in spans]
    per_found = [sum(_overlaps(span, (f.start_s, f.end_s)) for span in spans) for f in found]
    starts = [hits[0].start_s - c.start_s for c, hits in zip(truth.calls, per_true, strict=True) if hits]
    ends = [hits[-1].end_s - c.end_s for c, hits in zip(truth.calls, per_true, strict=True) if hits]
    tests = [hits for c, hits in zip(truth.calls, per_true, strict=True) if c.kind == "test"]
    test_ok = all(len(h) == 1 and h[0].kind == "test" for h in tests) and (
        sum(f.kind == "test" for f in found) == len(tests))
    return Score(
        calls=len(spans),
        found=sum(bool(h) for h in per_true),
        false_calls=sum(n == 0 for n in per_found),
        splits=sum(max(0, len(h) - 1) for h in per_true),
        merges=sum(max(0, n - 1) for n in per_found),
        speech_outside_s=round(sum(_outside(s, found) for c in truth.calls for s in c.speech), 2),
        start_err_s=float(np.median(starts)) if starts else float("nan"),
        end_err_s=float(np.median(ends)) if ends else float("nan"),
        test_call_ok=test_ok,
        flatlines=len(truth.flatlines),
        flatlines_found=sum(any(_overlaps(t, g) for g in flatlines_found) for t in truth.flatlines),
    )
