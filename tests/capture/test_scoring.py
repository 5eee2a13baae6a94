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


def test_overrun_test_calls_holding_real_speech_and_far_merges_are_counted():
    clean = score(TRUTH, [Found(9.0, 55.0, "call"), Found(59.0, 82.5, "test"), Found(99.0, 170.0, "call")], [])
    assert (clean.overrun_s, clean.test_holding, clean.far_merges) == (40.0, 0, 0)
    found = [
        Found(9.0, 84.0, "call"),     # the first call and the test call 20 s later: a merge, not far
        Found(99.0, 235.0, "call"),   # kept open 105 s past the third call's end
    ]
    result = score(TRUTH, found, [])
    assert (result.overrun_s, result.test_holding, result.far_merges, result.merges) == (105.0, 0, 0, 1)
    # The test call holding the third call, 20 s after it: a test call holding real speech.
    result = score(TRUTH, [Found(9.0, 55.0, "call"), Found(59.0, 140.0, "test")], [])
    assert (result.test_holding, result.far_merges) == (1, 0)
    # One recording of all three calls, each 20 s after the one before: far merges only where
    # 20 s is more than end_silence_s.
    assert score(TRUTH, [Found(9.0, 135.0, "call")], [], end_silence_s=15.0).far_merges == 2
    assert score(TRUTH, [Found(9.0, 135.0, "call")], [], end_silence_s=40.0).far_merges == 0
