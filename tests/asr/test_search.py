"""Finding a phrase across Vosk's word boundaries, as a reader would."""

from __future__ import annotations

from callrec.asr import find_phrase

WORDS = [{"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4, "conf": 0.9}
         for i, w in enumerate(["昨日", "から", "熱", "が", "三十八", "度", "あっ", "て", "、", "咳", "が", "止まり", "ませ", "ん"])]


def test_phrase_spanning_words_gives_its_time():
    (hit,) = find_phrase(WORDS, "熱が三十八度")
    assert (hit.start_s, hit.end_s) == (1.0, 2.9)
    assert "熱が三十八度" in hit.context


def test_spaces_punctuation_and_width_are_ignored():
    assert len(find_phrase(WORDS, "あって 咳")) == 1
    assert len(find_phrase(WORDS, "が")) == 2


def test_no_match_and_empty_phrase():
    assert find_phrase(WORDS, "頭痛") == []
    assert find_phrase(WORDS, " 、") == []


def test_context_keeps_the_spaces_of_a_spaced_language():
    words = [{"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4} for i, w in enumerate(["열이", "삼십팔", "도", "있어요"])]
    (hit,) = find_phrase(words, "삼십팔 도", language="ko")
    assert hit.context == "열이 삼십팔 도 있어요"
