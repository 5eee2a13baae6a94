"""Export formats: plain text with speaker labels and times, JSON with words, WebVTT."""

from __future__ import annotations

import json

from callrec.asr import to_json, to_text, to_webvtt
from callrec.vault._transcripts import Transcript, transcript_sha256
from tests.asr.conftest import make_config


def _words(*items):
    return [{"word": w, "start": s, "end": e, "conf": 0.9} for w, s, e in items]


def _transcript(channel, words):
    text = "".join(w["word"] for w in words)
    digest = transcript_sha256(7, 1, channel, "vosk 0.3.45", "ja", "ab" * 32, words, text)
    return Transcript(7, 1, channel, 0.0, "vosk 0.3.45", "ja", "ab" * 32, words, text, digest)


CALLER = _transcript(0, _words(("もしもし", 0.5, 1.0), ("熱", 1.1, 1.3), ("が", 1.3, 1.4), ("あり", 4.0, 4.3), ("ます", 4.3, 4.6)))
STAFF = _transcript(1, _words(("はい", 2.0, 2.4), ("保健所", 2.4, 3.0), ("です", 3.0, 3.2)))
CALL = {"id": 7, "started_ts": 1785717000.0, "channels": 2}


def test_text_has_speaker_labels_times_and_order(tmp_path):
    config = make_config(tmp_path, extra='[capture]\nchannels = 2\nchannel_roles = ["citizen", "officer"]\n')
    text = to_text([CALLER, STAFF], CALL, config)
    body = text.splitlines()[3:]
    assert body == [
        "[00:00:00.500] citizen: もしもし熱が",
        "[00:00:02.000] officer: はい保健所です",
        "[00:00:04.000] citizen: あります",
    ]
    assert text.splitlines()[0] == "call 7 started 2026-08-03T09:30:00+09:00"


def test_mono_text_has_no_speaker_labels():
    text = to_text([CALLER], {"id": 7, "started_ts": 1785717000.0, "channels": 1})
    assert "[00:00:00.500] もしもし熱が" in text.splitlines()


def test_json_keeps_words_and_versions():
    doc = json.loads(to_json([CALLER, STAFF], CALL))
    assert doc["call_id"] == 7
    assert [c["speaker"] for c in doc["channels"]] == ["caller", "staff"]
    assert doc["channels"][1]["words"] == STAFF.words
    assert doc["channels"][0]["sha256"] == CALLER.sha256
    assert doc["channels"][0]["model_name"] == "ja"


def test_webvtt_cues():
    vtt = to_webvtt([CALLER, STAFF], CALL)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:01.400\n<v caller>もしもし熱が\n")
    assert "3\n00:00:04.000 --> 00:00:04.600\n<v caller>あります\n" in vtt
