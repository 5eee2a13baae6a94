"""Synthetic feeds through the real pipeline and vault: where calls start and end, and what they are."""

from __future__ import annotations

import numpy as np
import pytest

from callrec.testing.synth import FeedBuilder
from tests.capture.conftest import T0, gaps, inside, replay


def test_every_second_of_speech_lands_inside_a_recorded_call(make_config, ja, tmp_path):
    config = make_config()
    feed = FeedBuilder(seed=1).hiss(6)
    feed.speech(ja[0]).hiss(0.6).speech(ja[1]).hiss(8).speech(ja[2]).hiss(1).busy_tone(4).hiss(7)
    feed.speech(ja[1]).hiss(3).speech(ja[2]).hiss(1).busy_tone(3).hiss(20)
    feed.speech(ja[2]).hiss(45)
    rows = replay(config, feed, tmp_path)
    assert len(rows) == 3
    for span in feed.spans("speech"):
        assert inside(span, rows), f"speech at {span} is not inside a recorded call"
    assert all(r.status == "sealed" for r in rows)
    # The pre-roll: the call starts before the first syllable, never after it.
    assert rows[0].start < feed.spans("speech")[0][0] - 0.5


def test_back_to_back_calls_separated_by_a_busy_tone_are_two_calls(make_config, ja, tmp_path):
    config = make_config()
    feed = FeedBuilder().hiss(3).speech(ja[0]).speech(ja[1]).hiss(1).busy_tone(5)
    feed.hiss(2).speech(ja[2]).speech(ja[0]).hiss(1).busy_tone(3).hiss(2)
    rows = replay(config, feed, tmp_path)
    assert [r.levels["end"] for r in rows] == ["busy_tone", "busy_tone"]
    first_busy, second_busy = feed.spans("busy")
    # Ended within two seconds of the tone starting, and the rest of the tone is not a call.
    assert first_busy[0] < rows[0].end <= first_busy[0] + 2.0
    assert second_busy[0] < rows[1].end <= second_busy[0] + 2.0


@pytest.mark.parametrize("hold", ["pause_10s", "silent_hold_30s", "hold_music_30s"])
def test_a_pause_or_a_hold_stays_one_call(make_config, ja, tmp_path, hold):
    config = make_config()
    feed = FeedBuilder().hiss(3).speech(ja[0])
    if hold == "pause_10s":
        feed.hiss(10)
    elif hold == "silent_hold_30s":
        feed.hiss(30)
    else:
        feed.hold_music(30)
    feed.speech(ja[1]).hiss(45)
    rows = replay(config, feed, tmp_path)
    assert len(rows) == 1
    assert all(inside(span, rows) for span in feed.spans("speech"))
    assert rows[0].levels["end"] == "silence"


def test_a_click_on_the_idle_line_is_not_a_call(make_config, tmp_path):
    config = make_config()
    feed = FeedBuilder().hiss(5).click().hiss(5).click().hiss(3).flat(2).click().hiss(5)
    assert replay(config, feed, tmp_path) == []


@pytest.mark.parametrize("level_dbfs", [-40, -20, -6])
def test_a_steady_noise_is_not_a_call(make_config, ja, tmp_path, level_dbfs):
    config = make_config()
    feed = FeedBuilder().hiss(5).noise(5, level_dbfs).hiss(3).speech(ja[0]).hiss(45)
    rows = replay(config, feed, tmp_path)
    assert len(rows) == 1
    assert rows[0].start > feed.spans("noise")[0][1]
    assert inside(feed.spans("speech")[0], rows)


def test_the_test_call_is_recorded_as_kind_test(make_config, ja, tmp_path):
    config = make_config()
    feed = FeedBuilder().hiss(3).dtmf("*0*0#").hiss(0.5).speech(ja[0]).hiss(1).busy_tone(3).hiss(3)
    feed.speech(ja[1]).dtmf("*0*1#").hiss(1).busy_tone(3).hiss(2)
    rows = replay(config, feed, tmp_path)
    assert [r.kind for r in rows] == ["test", "call"]
    assert inside(feed.spans("dtmf")[0], rows[:1])


def test_a_custom_test_sequence_from_the_config(make_config, ja, tmp_path):
    config = make_config('[capture]\ntest_dtmf = "#9#"\n')
    feed = FeedBuilder().hiss(3).dtmf("*0*0#").hiss(1).busy_tone(3).hiss(3).dtmf("#9#").speech(ja[0]).hiss(1)
    feed.busy_tone(3).hiss(2)
    assert [r.kind for r in replay(config, feed, tmp_path)] == ["call", "test"]


def test_a_flatline_becomes_a_gap_with_cause_flatline(make_config, ja, tmp_path):
    config = make_config('[capture]\nflatline_s = 20\n')
    feed = FeedBuilder().hiss(5).flat(35).hiss(5).flat(10, value=1200).hiss(5)
    replay(config, feed, tmp_path)
    found = [g for g in gaps(config, feed.now_s) if g.cause == "flatline"]
    assert len(found) == 1, found
    start, end = feed.spans("flat")[0]
    assert abs(found[0].start_ts - (T0 + start)) < 0.2
    assert abs(found[0].end_ts - (T0 + end)) < 0.2
    assert not [g for g in gaps(config, feed.now_s) if g.cause != "flatline"]


def test_a_stuck_constant_longer_than_flatline_s_is_a_gap_too(make_config, tmp_path):
    config = make_config('[capture]\nflatline_s = 5\n')
    feed = FeedBuilder().hiss(3).flat(8, value=-400).hiss(3)
    replay(config, feed, tmp_path)
    assert [g.cause for g in gaps(config, feed.now_s)] == ["flatline"]


def test_a_three_second_wrong_number_is_kept_and_flagged_short(make_config, ja, tmp_path):
    config = make_config()
    feed = FeedBuilder().hiss(3).speech(ja[2]).hiss(45)
    rows = replay(config, feed, tmp_path)
    assert len(rows) == 1 and rows[0].flags == ["short"]
    long_feed = FeedBuilder().hiss(3).speech(ja[0]).speech(ja[1]).speech(ja[2]).hiss(45)
    assert "short" not in replay(make_config(name="long"), long_feed, tmp_path, "long.wav")[0].flags


def test_two_channel_calls_are_flagged_one_sided_only_when_one_side_is_silent(make_config, ja, tmp_path):
    config = make_config('[capture]\nchannels = 2\n')
    feed = FeedBuilder(channels=2).hiss(3).speech(ja[0], channel=0).speech(ja[1], channel=1)
    feed.speech(ja[2], channel=0).hiss(1).busy_tone(3, channel=1).hiss(3)
    feed.speech(ja[0], channel=0).hiss(0.5).speech(ja[1], channel=0).hiss(45)
    rows = replay(config, feed, tmp_path)
    assert len(rows) == 2
    assert "one_sided" not in rows[0].flags
    assert "one_sided" in rows[1].flags
    assert all(inside(span, rows) for span in feed.spans("speech"))


def test_16_khz_feed(make_config, tmp_path):
    from callrec.testing.synth import load_speech
    from tests.capture.conftest import AUDIO

    config = make_config()
    speech = load_speech(AUDIO / "ja_1_16k.flac", 16000)
    feed = FeedBuilder(rate=16000).hiss(3).speech(speech).hiss(1).dtmf("*0*0#").hiss(1).busy_tone(3).hiss(2)
    rows = replay(config, feed, tmp_path)
    assert [(r.kind, r.levels["end"]) for r in rows] == [("test", "busy_tone")]
    assert inside(feed.spans("speech")[0], rows)


def test_sealed_audio_is_exactly_the_feed_between_start_and_end(make_config, ja, tmp_path):
    from callrec.vault import Vault
    from callrec.vault.archive import sealed_flac
    from callrec.vault.calls import decode_flac

    config = make_config()
    feed = FeedBuilder().hiss(3).speech(ja[0]).hiss(1).busy_tone(3).hiss(2)
    rows = replay(config, feed, tmp_path)
    with Vault.open(config) as vault:
        flac = sealed_flac(vault, rows[0].id)
    audio = np.concatenate(list(decode_flac(flac)))
    source = feed.build()
    offset = round(rows[0].start * 8000)
    assert np.array_equal(audio, source[offset:offset + len(audio)])
