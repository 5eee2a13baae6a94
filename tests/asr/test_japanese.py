"""Japanese display text and character error rate, on words shaped like Vosk's Japanese output."""

from __future__ import annotations

import pytest

from callrec.asr import cer, display_text, normalise_for_cer

# What vosk-model-small-ja prints for 「もしもし、保健所の感染症相談窓口です。」: spaces between words.
VOSK_JA_TEXT = "もしもし 保健 所 の 感染 症 相談 窓口 です"
VOSK_JA_WORDS = [
    {"word": w, "start": 0.3 * i, "end": 0.3 * i + 0.25, "conf": 0.9} for i, w in enumerate(VOSK_JA_TEXT.split())
]


def test_words_join_without_spaces():
    assert display_text(VOSK_JA_WORDS) == "もしもし保健所の感染症相談窓口です"
    assert display_text(VOSK_JA_TEXT.split()) == "もしもし保健所の感染症相談窓口です"


@pytest.mark.parametrize(
    ("words", "text"),
    [
        (["熱", "が", "38", "度"], "熱が38度"),
        (["PCR", "検査", "は"], "PCR検査は"),
        (["COVID", "19", "の", "件"], "COVID 19の件"),
        (["ＰＣＲ", "１２３"], "ＰＣＲ １２３"),
        (["[unk]", "です", "<UNK>"], "です"),
        ([], ""),
    ],
)
def test_latin_and_digit_runs_keep_a_space(words, text):
    assert display_text(words) == text


def test_normalise_folds_width_and_drops_spaces_and_punctuation():
    assert normalise_for_cer("もしもし、保健所の　窓口です。") == "もしもし保健所の窓口です"
    assert normalise_for_cer("ＰＣＲ検査は１２３！") == "PCR検査は123"
    assert normalise_for_cer(" 「はい」？ ") == "はい"


def test_cer_of_the_same_text_in_vosk_form_is_zero():
    ref = "もしもし、保健所の感染症相談窓口です。"
    assert cer(ref, VOSK_JA_TEXT) == 0.0
    assert cer(ref, display_text(VOSK_JA_WORDS)) == 0.0


def test_cer_counts_substitutions_insertions_and_deletions():
    ref = "昨日から熱が三十八度あって"  # 13 characters
    assert cer(ref, "昨日から熱が三十七度あって") == pytest.approx(1 / 13)
    assert cer(ref, "昨日から熱が三十八度あってね") == pytest.approx(1 / 13)
    assert cer(ref, "昨日熱が三十八度あって") == pytest.approx(2 / 13)
    assert cer(ref, "") == 1.0
    assert cer("", "") == 0.0
    assert cer("", "あ") == 1.0
