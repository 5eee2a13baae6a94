"""The segmenter's decisions do not depend on how the feed is cut into blocks, and do not move
when its code is made faster: every call's start, end, kind, flags and levels on seeded feeds
(clean and bad-line days, the capture benchmark's traffic, two channels) are the ones written to
``tests/fixtures/capture/boundaries.json`` by the segmenter as it was before (regenerate only on
purpose, with ``python -m tests.capture.test_boundaries``), for live-sized blocks, replay-sized
blocks and odd-sized ones."""

from __future__ import annotations

import json
import sys
from functools import cache

import numpy as np
import pytest

from callrec.capture import Segmenter
from callrec.config import CaptureConfig
from callrec.testing.badline import day_feed
from callrec.testing.synth import FeedBuilder, load_speech
from tests.conftest import FIXTURES

EXPECTED = FIXTURES / "capture" / "boundaries.json"
RATE = 8000


class _Decisions:
    """A sink that keeps every decision the segmenter hands out, and how much audio it sent."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self._start = 0.0
        self._frames = 0

    def call_started(self, ts: float, frames: np.ndarray) -> None:
        self._start, self._frames = ts, len(frames)

    def call_audio(self, frames: np.ndarray) -> None:
        self._frames += len(frames)

    def call_ended(self, ts: float, summary) -> None:
        self.calls.append({"start_s": round(self._start, 6), "end_s": round(ts, 6), "frames": self._frames,
                           "kind": summary.kind, "flags": summary.flags, "levels": summary.levels})


@cache
def _feeds() -> dict[str, np.ndarray]:
    audio = FIXTURES / "audio"
    ja = [load_speech(audio / f"ja_{i}.flac", RATE) for i in (1, 2, 3)]
    traffic = FeedBuilder(seed=3).hiss(5).speech(ja[0]).hiss(0.5).speech(ja[1]).hiss(10).speech(ja[2])
    traffic.hiss(1).busy_tone(3).hiss(8).dtmf("*0*0#").speech(ja[0]).hiss(1).busy_tone(3).hiss(10)
    unit = traffic.build().reshape(-1, 1)
    mono = {
        "traffic": np.concatenate([unit] * 3),
        "bad_ulaw_50hz": day_feed(ja, seed=1, calls=8).audio,
        "bad_alaw_60hz": day_feed(ja, seed=2, calls=8, mains_hz=60, law="alaw").audio,
        "clean": day_feed(ja, seed=3, calls=8, bad=False, law="none").audio,
    }
    feeds = {name: np.asarray(a, dtype=np.int16).reshape(len(a), -1) for name, a in mono.items()}
    one_sided = np.zeros_like(feeds["traffic"])
    feeds["stereo"] = np.hstack([feeds["traffic"], one_sided[:, :1] + (feeds["traffic"][::-1] // 4)])
    return feeds


def decisions(name: str, block_s: float) -> list[dict]:
    audio = _feeds()[name]
    sink = _Decisions()
    segmenter = Segmenter(CaptureConfig(), RATE, audio.shape[1], sink)
    n = round(block_s * RATE)
    for i in range(0, len(audio), n):
        segmenter.process(audio[i:i + n], i / RATE)
    segmenter.finish("end_of_feed")
    return json.loads(json.dumps(sink.calls))


@pytest.mark.parametrize("block_s", [0.1, 1.0, 2.3, 10.0])
@pytest.mark.parametrize("name", ["traffic", "bad_ulaw_50hz", "bad_alaw_60hz", "clean", "stereo"])
def test_calls_found_are_the_recorded_ones_for_any_block_size(name, block_s):
    expected = json.loads(EXPECTED.read_text())[name]
    assert len(expected) >= 3
    found = decisions(name, block_s)
    # Where calls start and end, their audio, kind and flags: exactly the same.
    assert [_boundaries(c) for c in found] == [_boundaries(c) for c in expected]
    # Levels are sums of float times rounded to 10 ms: a .005 may round either way.
    for got, want in zip(found, expected, strict=True):
        for key in ("speech_s", "active_s", "peak_dbfs", "noise_floor_dbfs"):
            assert np.allclose(got["levels"][key], want["levels"][key], rtol=0, atol=0.0101), (key, got)


def _boundaries(call: dict) -> tuple:
    return call["start_s"], call["end_s"], call["frames"], call["kind"], call["flags"], call["levels"]["end"]


if __name__ == "__main__":
    EXPECTED.parent.mkdir(exist_ok=True)
    EXPECTED.write_text(json.dumps({name: decisions(name, 1.0) for name in _feeds()}, indent=1) + "\n")
    sys.exit(0)
