"""Finding a phrase in a transcript the way a reader would: ignoring spaces, punctuation and
full-/half-width differences, across Vosk's word boundaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callrec.asr._japanese import normalise_for_cer
from callrec.asr._lines import join_words

__all__ = ["Hit", "find_phrase"]


@dataclass(frozen=True)
class Hit:
    start_s: float
    end_s: float
    #: The matching words and a few around them, joined for display.
    context: str


def find_phrase(words: Sequence[dict], phrase: str, context_words: int = 3, language: str = "ja") -> list[Hit]:
    """Every place ``phrase`` occurs in ``words`` (Vosk word dicts), oldest first; the context is
    shown as ``language`` is written (Japanese without spaces, Korean with them)."""
    needle = normalise_for_cer(phrase)
    if not needle:
        return []
    owner: list[int] = []
    text = ""
    for index, word in enumerate(words):
        piece = normalise_for_cer(word["word"])
        text += piece
        owner += [index] * len(piece)
    hits, at = [], text.find(needle)
    while at >= 0:
        first, last = owner[at], owner[at + len(needle) - 1]
        shown = words[max(0, first - context_words): last + context_words + 1]
        hits.append(Hit(words[first]["start"], words[last]["end"], join_words(shown, language)))
        at = text.find(needle, at + len(needle))
    return hits
