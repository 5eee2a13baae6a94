"""Transcript lines: what a reviewer reads, in time order, one speaker per line.

Vosk gives each channel's words with start/end times and a confidence. A line is a run of one
speaker's words: a new line starts where the speaker pauses longer than ``pause_s`` and where the
other channel's speaker comes in. Both channels of a stereo call are merged by time and labelled
with their roles (``[capture] channel_roles``, e.g. caller/staff); a mono call is one lane
without labels.

Words are joined the way the language is written: Japanese and Chinese without spaces (see
:func:`display_text`), every other language with spaces. A word whose confidence is below
``uncertain_below`` is *uncertain*; text output puts marks around it.

These typed lines are the one renderer behind the text, JSON and WebVTT exports and the case
player: other front ends should reuse :func:`transcript_lines` instead of splitting words again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from callrec.asr._japanese import display_text, is_unknown
from callrec.vault.calls import Transcript

__all__ = [
    "DEFAULT_ROLES",
    "Line",
    "UNSPACED_LANGUAGES",
    "Word",
    "join_words",
    "line_text",
    "transcript_lines",
]

DEFAULT_ROLES = ("caller", "staff")
#: Languages written without spaces between words.
UNSPACED_LANGUAGES = frozenset({"ja", "zh", "th", "lo", "my", "km"})


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    #: Vosk's confidence (0..1); None when the transcript has none.
    conf: float | None
    uncertain: bool


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    channel: int
    #: The channel's role in a stereo call ("caller", "staff"); None for a mono call.
    speaker: str | None
    words: tuple[Word, ...]


def join_words(words: Iterable[str | Mapping], language: str) -> str:
    """Display text of Vosk words (strings or word dicts), without unknown-word tokens."""
    if language in UNSPACED_LANGUAGES:
        return display_text(words)
    tokens = (w if isinstance(w, str) else str(w["word"]) for w in words)
    return " ".join(t.strip() for t in tokens if t.strip() and not is_unknown(t))


def line_text(line: Line, language: str, marks: Sequence[str] | None = None) -> str:
    """The line's text; with ``marks`` (before, after) around each uncertain word."""
    tokens = [
        f"{marks[0]}{w.text}{marks[1]}" if marks and w.uncertain else w.text
        for w in line.words if not is_unknown(w.text)
    ]
    return join_words(tokens, language)


def _speaker(channels: int, channel: int, roles: Sequence[str]) -> str | None:
    if channels < 2:
        return None
    return roles[channel] if channel < len(roles) else f"channel {channel + 1}"


def transcript_lines(transcripts: Sequence[Transcript], *, roles: Sequence[str] = DEFAULT_ROLES,
                     pause_s: float = 0.6, uncertain_below: float = 0.6) -> list[Line]:
    """Lines of the newest transcript of each channel, in time order (see the module doc)."""
    timeline = sorted(
        ((w["start"], t.channel, w) for t in transcripts for w in t.words),
        key=lambda item: (item[0], item[1]),
    )
    lines: list[Line] = []
    group: list[Word] = []
    channel = -1
    for start, ch, raw in timeline + [(None, -1, None)]:
        if group and (raw is None or ch != channel or start - group[-1].end > pause_s):
            if any(not is_unknown(w.text) for w in group):
                lines.append(Line(group[0].start, group[-1].end, channel,
                                  _speaker(len(transcripts), channel, roles), tuple(group)))
            group = []
        if raw is None:
            break
        conf = raw.get("conf")
        group.append(Word(str(raw["word"]), float(raw["start"]), float(raw["end"]),
                          None if conf is None else float(conf),
                          conf is not None and float(conf) < uncertain_below))
        channel = ch
    return lines
