"""Crosstalk (another line's faint conversation bleeding in) and test calls, through the real
replay pipeline and vault: a call is held open by its own speech only, and a test call is short."""

from __future__ import annotations

import numpy as np
import pytest

from callrec.capture import QUIET_HOLD_S
from callrec.testing.badline import day_feed
from callrec.testing.scoring import Found, score
from callrec.testing.synth import FeedBuilder
from tests.capture.conftest import T0, gaps, inside, replay

END_SILENCE_S = 40.0
TEST_TAIL_S = 5.0


def _db(db: float) -> float:
    return 10 ** (db / 20)


@pytest.mark.parametrize(("mains_hz", "law"), [(50, "alaw"), (60, "ulaw"), (50, "ulaw"), (60, "alaw")])
def test_crosstalk_days_keep_no_call_open_and_no_test_call_holds_a_real_one(make_config, ja, tmp_path, mains_hz,
                                                                            law):
    real = false = 0
    for seed in (mains_hz + 11, mains_hz + 12):
        feed = day_feed(ja, seed=seed, calls=6, mains_hz=mains_hz, law=law, crosstalk=True)
        assert feed.truth.crosstalk and not any(c.busy_s for c in feed.truth.calls if c.kind == "test")
        config = make_config(name=f"s{seed}")
        rows = replay(config, feed, tmp_path, f"s{seed}.wav")
        flat = [(g.start_ts - T0, g.end_ts - T0) for g in gaps(config, feed.truth.duration_s) if g.cause == "flatline"]
        result = score(feed.truth, [Found(r.start, r.end, r.kind) for r in rows], flat, END_SILENCE_S)
        assert result.test_holding == 0 and result.test_call_ok, f"seed {seed}: {result}"
        assert result.far_merges == 0 and result.merges == 0, f"seed {seed}: {result}"
        assert result.overrun_s <= END_SILENCE_S + 5, f"seed {seed}: {result}"
        assert result.speech_outside_s == 0 and result.splits == 0, f"seed {seed}: {result}"
        assert result.found == result.calls, f"seed {seed}: {result}"
        real += result.calls
        false += result.false_calls
    # Crosstalk that is loud for a while can still pass for a call starting (a known limit).
    assert false * 6 <= real, f"{false} false calls for {real} real ones"


def _call(feed: FeedBuilder, ja, caller_db: float, channels: int) -> None:
    """Staff, a caller ``caller_db`` quieter, staff again (on their own channels when split)."""
    staff, caller = (1, 0) if channels == 2 else (None, None)
    feed.speech(ja[0], staff).hiss(0.6).speech(ja[1] * _db(caller_db), caller).hiss(0.8).speech(ja[2], staff)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("hiss_dbfs", [-45.0, -58.0])
def test_crosstalk_right_after_a_call_does_not_hold_it_open(make_config, ja, tmp_path, channels, hiss_dbfs):
    """Each call (its caller 0, 12 or 18 dB below the staff) is followed at once by 60 s of a
    conversation 20, 24 or 28 dB below the call's voice (below each leg's talker when split),
    then 30 s of line noise: each call ends end_silence_s (plus at most QUIET_HOLD_S) after its
    own last word, and the crosstalk starts nothing."""
    feed = FeedBuilder(channels=channels, hiss_dbfs=hiss_dbfs, seed=channels).hiss(5)
    for caller_db, talk_db in ((0, -20), (-12, -24), (-18, -28), (-12, -20)):
        _call(feed, ja, caller_db, channels)
        feed.hiss(0.5).crosstalk(60, ja, (caller_db + talk_db, talk_db) if channels == 2 else talk_db).hiss(30)
    rows = replay(make_config(f"[capture]\nchannels = {channels}\n"), feed, tmp_path)
    speech = feed.spans("speech")
    assert len(rows) == 4, [(r.start, r.end) for r in rows]
    assert all(inside(span, rows) for span in speech)
    for row, last_word in zip(rows, speech[2::3], strict=True):
        assert row.levels["end"] == "silence"
        assert row.end - last_word[1] <= END_SILENCE_S + QUIET_HOLD_S + 0.5, (row, last_word)


@pytest.mark.parametrize(("hold_s", "caller_db"), [(25, -12), (33, -18), (34, -6)])
def test_a_quiet_caller_after_a_long_hold_stays_in_the_call(make_config, ja, tmp_path, hold_s, caller_db):
    feed = FeedBuilder(hiss_dbfs=-45, seed=hold_s).hiss(4).speech(ja[0]).hiss(hold_s)
    feed.speech(ja[1] * _db(caller_db)).hiss(1.2).speech(ja[2]).hiss(45)
    rows = replay(make_config(), feed, tmp_path)
    assert len(rows) == 1 and all(inside(span, rows) for span in feed.spans("speech"))


@pytest.mark.parametrize(("gap_s", "after"), [(8, "hiss"), (20, "crosstalk"), (35, "crosstalk")])
def test_a_test_call_ends_after_its_pattern_and_the_next_call_is_a_call(make_config, ja, tmp_path, gap_s, after):
    """The test call (digits, a word, a quiet answer) hung up without a busy tone, then silence or
    crosstalk, then a real call well within end_silence_s."""
    feed = FeedBuilder(hiss_dbfs=-45, seed=gap_s).hiss(3).dtmf("*0*0#", level_dbfs=-8).hiss(0.5).speech(ja[0])
    feed.hiss(0.9).speech(ja[2] * _db(-15))
    test_end = feed.now_s
    if after == "crosstalk":
        feed.hiss(1).crosstalk(gap_s - 3, ja, -24).hiss(2)
    else:
        feed.hiss(gap_s)
    feed.speech(ja[1]).hiss(0.5).speech(ja[0] * _db(-10)).hiss(1).busy_tone(3).hiss(5)
    rows = replay(make_config(), feed, tmp_path)
    assert [r.kind for r in rows] == ["test", "call"], [(r.start, r.end, r.kind) for r in rows]
    assert rows[0].end <= test_end + TEST_TAIL_S + QUIET_HOLD_S + 0.5
    assert all(inside(span, rows[:1]) for span in feed.spans("speech")[:2])
    assert all(inside(span, rows[1:]) for span in feed.spans("speech")[2:])
    assert rows[1].levels["end"] == "busy_tone"


def test_a_test_tail_is_configurable(make_config, ja, tmp_path):
    feed = FeedBuilder(seed=9).hiss(3).dtmf("*0*0#").hiss(0.5).speech(ja[0]).hiss(12).speech(ja[1]).hiss(20)
    rows = replay(make_config("[capture]\ntest_tail_s = 15\n"), feed, tmp_path)
    assert [r.kind for r in rows] == ["test"] and all(inside(s, rows) for s in feed.spans("speech"))
    assert rows[0].end == pytest.approx(feed.spans("speech")[1][1] + 15, abs=0.6)


def test_crosstalk_is_in_the_truth_and_only_in_idle_stretches(ja):
    for seed in (1, 2):
        truth = day_feed(ja, seed=seed, calls=8, crosstalk=True).truth
        assert len(truth.crosstalk) >= 4
        lengths = np.array([b - a for a, b in truth.crosstalk])
        assert lengths.max() <= 90 and np.median(lengths) >= 20
        spans = [(c.start_s, c.busy_s + 3 if c.busy_s else c.end_s) for c in truth.calls] + list(truth.flatlines)
        assert not any(a < e and s < b for a, b in truth.crosstalk for s, e in spans)
        assert any(any(0 < a - c.end_s < 3.5 for c in truth.calls) for a, _ in truth.crosstalk)
