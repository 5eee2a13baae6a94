"""The scorer counts what an operator would: false calls, splits, merges, speech left outside."""

from __future__ import annotations

import pytest

from callrec.testing.badline import TrueCall, Truth, day_feed
from callrec.testing.scoring import Found, score

TRUTH = Truth(duration_s=300.0, rate=8000, flatlines=[(200.0, 270.0)], clicks=[], calls=[
    TrueCall(10.0, 40.0, "call", [(10.0, 20.0), (25.0, 40.0)]),
    TrueCall(60.0, 80.0, "test", [(62.0, 80.0)], busy_s=81.0),
    TrueCall(100.0, 130.0, "call", [(100.0, 130.0)]),
])


def test_exact_recordings_score_clean():
    found = [Found(9.0, 55.0, "call"), Found(59.0, 82.5, "test"), Found(99.0, 170.0, "call")]
    result = score(TRUTH, found, [(200.0, 270.0)])
    assert (result.found, result.false_calls, result.splits, result.merges) == (3, 0, 0, 0)
    assert result.speech_outside_s == 0 and result.test_call_ok and result.flatlines_found == 1
    assert result.start_err_s == pytest.approx(-1.0)
    assert result.end_err_s == pytest.approx(15.0)


def test_a_merge_a_split_a_false_call_and_lost_speech_are_each_counted():
    found = [
        Found(9.0, 82.0, "call"),     # the first call and the test call in one recording
        Found(99.0, 112.0, "call"),   # the third call in two pieces, 3 s of its speech outside
        Found(115.0, 150.0, "call"),
        Found(180.0, 190.0, "call"),  # nothing there
    ]
    result = score(TRUTH, found, [])
    assert (result.found, result.false_calls, result.splits, result.merges) == (3, 1, 1, 1)
    assert result.speech_outside_s == pytest.approx(3.0)
    assert not result.test_call_ok and result.flatlines_found == 0


def test_truth_written_beside_the_feed_reads_back(ja, tmp_path):
    feed = day_feed(ja, seed=3, calls=3)
    wav = feed.write(tmp_path / "day.wav")
    assert Truth.read(wav.with_suffix(".truth.json")) == feed.truth
    assert sum(c.kind == "test" for c in feed.truth.calls) == 1 and len(feed.truth.flatlines) == 1
