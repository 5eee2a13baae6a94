"""Seeded bad-line feeds (hum, drifting hiss, G.711, quiet callers, long silences, clicks, busy
tone, the DTMF test call, a flatline) through the real replay pipeline and vault, scored against
their ground truth."""

from __future__ import annotations

import pytest

from callrec.testing.badline import day_feed
from callrec.testing.scoring import Found, score
from tests.capture.conftest import T0, gaps, replay


def _replay_scored(make_config, tmp_path, feed, name):
    config = make_config(name=name)
    rows = replay(config, feed, tmp_path, f"{name}.wav")
    found = [Found(r.start, r.end, r.kind) for r in rows]
    flat = [(g.start_ts - T0, g.end_ts - T0) for g in gaps(config, feed.truth.duration_s) if g.cause == "flatline"]
    return rows, score(feed.truth, found, flat)


@pytest.mark.parametrize(("mains_hz", "law"), [(50, "ulaw"), (60, "alaw"), (60, "ulaw"), (50, "alaw")])
def test_a_bad_line_gives_each_call_once_and_nothing_else(make_config, ja, tmp_path, mains_hz, law):
    real = false = 0
    for seed in (mains_hz + 1, mains_hz + 2):
        feed = day_feed(ja, seed=seed, calls=6, mains_hz=mains_hz, law=law)
        rows, result = _replay_scored(make_config, tmp_path, feed, f"s{seed}")
        assert result.speech_outside_s == 0, f"seed {seed}: speech outside every call"
        assert result.merges == 0 and result.splits == 0, f"seed {seed}: {result}"
        assert result.found == result.calls, f"seed {seed}: {result}"
        assert result.test_call_ok, f"seed {seed}: the DTMF test call was not recognised"
        assert result.flatlines_found == result.flatlines == 1, f"seed {seed}: flatline not reported"
        # The busy tone (down to -25 dBFS, through hum and companding) still ends its call at once.
        for call in feed.truth.calls:
            if call.busy_s is not None:
                row = next(r for r in rows if r.start <= call.start_s < r.end)
                assert row.levels["end"] == "busy_tone" and row.end <= call.busy_s + 2.5, (seed, call, row)
        real += result.calls
        false += result.false_calls
    assert false * 20 <= real, f"{false} false calls for {real} real ones"


def test_a_click_of_any_level_never_starts_a_call_on_a_bad_line(make_config, ja, tmp_path):
    feed = day_feed(ja, seed=7, calls=2, clicks_per_min=60)
    assert len(feed.truth.clicks) > 60
    rows, result = _replay_scored(make_config, tmp_path, feed, "clicks")
    assert result.false_calls == 0 and result.merges == 0, result
    assert len(rows) == 2


def test_the_same_calls_on_a_clean_line(make_config, ja, tmp_path):
    feed = day_feed(ja, seed=5, calls=6, bad=False)
    _, result = _replay_scored(make_config, tmp_path, feed, "clean")
    assert (result.found, result.false_calls, result.merges, result.splits) == (6, 0, 0, 0)
    assert result.speech_outside_s == 0 and result.test_call_ok
