"""Transcript lines and export formats: per-language joining, speaker lines in time order, pauses,
uncertain words in text, JSON and WebVTT."""

from __future__ import annotations

import json

from callrec.asr import to_json, to_text, to_webvtt, transcript_lines
from callrec.vault.calls import Transcript, transcript_sha256
from tests.asr.conftest import make_config


def _words(*items):
    """Word dicts from (word, start, end[, conf]); confidence 0.9 unless given."""
    return [{"word": w, "start": s, "end": e, "conf": rest[0] if rest else 0.9} for w, s, e, *rest in items]


def _transcript(channel, words):
    text = "".join(w["word"] for w in words)
    digest = transcript_sha256(7, 1, channel, "vosk 0.3.45", "ja", "ab" * 32, words, text)
    return Transcript(7, 1, channel, 0.0, "vosk 0.3.45", "ja", "ab" * 32, words, text, digest)


CALLER = _transcript(0, _words(("もしもし", 0.5, 1.0), ("熱", 1.1, 1.3), ("が", 1.3, 1.4), ("あり", 4.0, 4.3), ("ます", 4.3, 4.6)))
STAFF = _transcript(1, _words(("はい", 2.0, 2.4), ("保健所", 2.4, 3.0), ("です", 3.0, 3.2)))
CALL = {"id": 7, "started_ts": 1785717000.0, "channels": 2, "duration_s": 6.0}


def _body(text: str) -> list[str]:
    return text.split("\n\n", 1)[1].splitlines()


def test_stereo_lines_interleave_speakers_by_time_and_a_pause_splits_a_line(tmp_path):
    config = make_config(tmp_path, language="ja",
                         extra='[capture]\nchannels = 2\nchannel_roles = ["citizen", "officer"]\n')
    text = to_text([CALLER, STAFF], CALL, config)
    assert _body(text) == [
        "[00:00:00.500] citizen: もしもし熱が",
        "[00:00:02.000] officer: はい保健所です",
        "[00:00:04.000] citizen: あります",
    ]
    assert text.splitlines()[0] == "call 7 started 2026-08-03T09:30:00+09:00"


def test_a_speaker_change_without_a_pause_starts_a_new_line():
    caller = _transcript(0, _words(("熱", 0.0, 0.4), ("が", 0.4, 0.5), ("あって", 0.9, 1.2)))
    staff = _transcript(1, _words(("はい", 0.55, 0.8)))
    lines = transcript_lines([caller, staff])
    assert [(line.speaker, [w.text for w in line.words]) for line in lines] == [
        ("caller", ["熱", "が"]), ("staff", ["はい"]), ("caller", ["あって"])]


def test_pause_threshold_is_configurable(tmp_path):
    config = make_config(tmp_path, language="ja", asr="pause_s = 3.0")
    text = to_text([CALLER], {"id": 7, "started_ts": 1785717000.0}, config)
    assert _body(text) == ["[00:00:00.500] もしもし熱があります"]


def test_mono_text_has_no_speaker_labels(tmp_path):
    text = to_text([CALLER], {"id": 7, "started_ts": 1785717000.0, "channels": 1}, make_config(tmp_path, language="ja"))
    assert "[00:00:00.500] もしもし熱が" in text.splitlines()


def test_japanese_joins_words_without_spaces_and_korean_keeps_them(tmp_path):
    ja = to_text([CALLER], {"id": 7}, make_config(tmp_path / "ja", language="ja"))
    assert _body(ja) == ["[00:00:00.500] もしもし熱が", "[00:00:04.000] あります"]
    korean = _transcript(0, _words(("병원에", 0.2, 0.7), ("가야", 0.8, 1.1), ("합니다", 1.1, 1.6)))
    ko = to_text([korean], {"id": 7}, make_config(tmp_path / "ko", language="ko"))
    assert _body(ko) == ["[00:00:00.200] 병원에 가야 합니다"]


def test_uncertain_words_are_marked_in_text_and_carry_confidence_in_json(tmp_path):
    words = _words(("熱", 0.0, 0.3, 0.95), ("が", 0.3, 0.4, 0.41), ("あり", 0.4, 0.6, 0.99), ("ます", 0.6, 0.8, 0.2))
    t = _transcript(0, words)
    config = make_config(tmp_path, language="ja")
    assert _body(to_text([t], {"id": 7}, config)) == ["[00:00:00.000] 熱〔が〕あり〔ます〕"]
    marked = make_config(tmp_path / "m", language="ja", asr='uncertain_below = 0.3\nuncertain_marks = ["(?", ")"]')
    assert _body(to_text([t], {"id": 7}, marked)) == ["[00:00:00.000] 熱があり(?ます)"]
    doc = json.loads(to_json([t], {"id": 7, "duration_s": 60.0}, config))
    (line,) = doc["lines"]
    assert line["text"] == "熱があります"
    assert [(w["word"], w["conf"], w["uncertain"]) for w in line["words"]] == [
        ("熱", 0.95, False), ("が", 0.41, True), ("あり", 0.99, False), ("ます", 0.2, True)]
    assert doc["channels"][0]["words"] == words
    assert doc["quality"] == {"uncertain_share": 0.5, "words_per_minute": 4.0}


def test_json_keeps_words_and_versions(tmp_path):
    doc = json.loads(to_json([CALLER, STAFF], CALL, make_config(tmp_path, language="ja")))
    assert doc["call_id"] == 7 and doc["language"] == "ja"
    assert [c["speaker"] for c in doc["channels"]] == ["caller", "staff"]
    assert doc["channels"][1]["words"] == STAFF.words
    assert doc["channels"][0]["sha256"] == CALLER.sha256
    assert doc["channels"][0]["model_name"] == "ja"
    assert [(line["speaker"], line["start"]) for line in doc["lines"]] == [("caller", 0.5), ("staff", 2.0), ("caller", 4.0)]


def test_webvtt_cues_keep_the_lines_and_mark_uncertain_words(tmp_path):
    config = make_config(tmp_path, language="ja")
    vtt = to_webvtt([CALLER, STAFF], CALL, config)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:01.400\n<v caller>もしもし熱が\n")
    assert "3\n00:00:04.000 --> 00:00:04.600\n<v caller>あります\n" in vtt
    unsure = _transcript(0, _words(("a<b", 0.0, 0.3, 0.1), ("ok", 0.3, 0.5, 0.9)))
    assert "<c.uncertain>a&lt;b</c> ok" in to_webvtt([unsure], {"id": 7}, make_config(tmp_path / "en", language="en"))
