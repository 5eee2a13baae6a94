"""Japanese text: display text from Vosk's words, and character error rate.

Vosk's Japanese models put a space between words (``今日 は いい 天気``). The words and their
times are what we store; people read the words joined without spaces, except that runs of Latin
letters or digits keep a space between them (``ABC 123``). Accuracy is measured as character
error rate on text normalised the same way everywhere (:func:`normalise_for_cer`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence

__all__ = ["display_text", "is_unknown", "normalise_for_cer", "cer", "edit_distance"]

#: Tokens Vosk emits for what it could not recognise; kept in the words, left out of the text.
_UNKNOWN = {"[unk]", "<unk>"}
_LATIN_OR_DIGIT = re.compile(r"[0-9A-Za-z\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]")


def _word_of(item: str | Mapping) -> str:
    return item if isinstance(item, str) else str(item["word"])


def is_unknown(word: str) -> bool:
    """Vosk's token for speech it could not recognise."""
    return word.strip().lower() in _UNKNOWN


def display_text(words: Iterable[str | Mapping]) -> str:
    """Join Vosk words (strings or ``{"word": ...}`` dicts) the way Japanese is written."""
    out = ""
    for item in words:
        word = _word_of(item).strip()
        if not word or word.lower() in _UNKNOWN:
            continue
        if out and _LATIN_OR_DIGIT.fullmatch(out[-1]) and _LATIN_OR_DIGIT.fullmatch(word[0]):
            out += " "
        out += word
    return out


def normalise_for_cer(text: str) -> str:
    """NFKC, then drop whitespace, punctuation and control characters."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZC")


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1) between two strings,
    or two sequences of words."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(ref: str, hyp: str) -> float:
    """Character error rate of ``hyp`` against ``ref``, both normalised with :func:`normalise_for_cer`.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    ref_n, hyp_n = normalise_for_cer(ref), normalise_for_cer(hyp)
    if not ref_n:
        return 0.0 if not hyp_n else 1.0
    return edit_distance(ref_n, hyp_n) / len(ref_n)
