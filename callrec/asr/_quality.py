"""Transcription quality as numbers only: the share of uncertain words and words per minute.

Ops watch these for drift (a worse line, a wrong model) without seeing any content: they are
counts over the newest transcript of each call, never words or text. A word is uncertain when
Vosk gave it a confidence below ``[asr] uncertain_below``, or could not recognise it at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callrec.asr._japanese import is_unknown
from callrec.vault import Vault
from callrec.vault.calls import (
    TranscriptCounts,
    calls_started,
    get_calls,
    latest_counts,
    latest_words,
    store_counts,
    uncounted_transcripts,
)

__all__ = ["CallQuality", "call_quality", "count_transcripts", "quality_by_call", "transcript_counts", "window_quality"]

@dataclass(frozen=True)
class CallQuality:
    #: Recognised words over all channels (unknown-word tokens included).
    words: int
    uncertain: int
    #: Seconds of audio the words came from.
    duration_s: float

    @property
    def uncertain_share(self) -> float | None:
        return round(self.uncertain / self.words, 4) if self.words else None

    @property
    def words_per_minute(self) -> float | None:
        return round(self.words * 60.0 / self.duration_s, 1) if self.duration_s > 0 else None

    def to_json(self) -> dict:
        return {"uncertain_share": self.uncertain_share, "words_per_minute": self.words_per_minute}


def _uncertain(word: dict, below: float) -> bool:
    conf = word.get("conf")
    return is_unknown(str(word.get("word", ""))) or (conf is not None and conf < below)


def call_quality(channels: Sequence[Sequence[dict]], duration_s: float | None, uncertain_below: float) -> CallQuality:
    """Quality of one call from its channels' Vosk words."""
    words = [w for channel in channels for w in channel]
    return CallQuality(len(words), sum(_uncertain(w, uncertain_below) for w in words), float(duration_s or 0.0))


def transcript_counts(words: Sequence[dict], uncertain_below: float, audio_s: float) -> TranscriptCounts:
    """What the vault stores beside a channel's transcript, so that quality needs no words later."""
    return TranscriptCounts(uncertain_below, sum(_uncertain(w, uncertain_below) for w in words), audio_s)


def count_transcripts(vault: Vault, uncertain_below: float, limit: int = 200, older_than: int | None = None) -> int | None:
    """Count up to ``limit`` transcripts that have no counts at ``uncertain_below`` (newest first,
    older than transcript ``older_than``) and store their counts; returns where the next batch
    starts, or None when none was left. The worker does this when the queue is empty, so a vault
    upgraded with years of transcripts gets its counts in the background."""
    todo = uncounted_transcripts(vault, uncertain_below, limit, older_than)
    store_counts(vault, [(call_id, version, channel, len(words), transcript_counts(words, uncertain_below, audio_s))
                         for _, call_id, version, channel, audio_s, words in todo])
    return todo[-1][0] if todo else None


def quality_by_call(vault: Vault, call_ids: Sequence[int], uncertain_below: float) -> dict[int, CallQuality]:
    """Quality of each of ``call_ids`` that has a transcript (newest version of each channel): from
    the counts stored with the transcripts, or from the words where none were stored at this threshold."""
    counted = latest_counts(vault, call_ids, uncertain_below)
    out = {cid: CallQuality(*counts) for cid, counts in counted.items() if counts is not None}
    uncounted = latest_words(vault, [cid for cid, counts in counted.items() if counts is None])
    durations = {c.id: c.duration_s for c in get_calls(vault, list(uncounted))}
    out.update((cid, call_quality(channels, durations.get(cid), uncertain_below)) for cid, channels in uncounted.items())
    return out


def window_quality(vault: Vault, start_ts: float, end_ts: float, uncertain_below: float) -> dict:
    """For the daily report: transcribed real calls started in the window, their words, and the
    pooled uncertain share and words per minute (None when nothing was transcribed)."""
    ids = [c.id for c in calls_started(vault, start_ts, end_ts, kind="call") if c.transcript_status == "done"]
    per_call = quality_by_call(vault, ids, uncertain_below)
    pooled = CallQuality(sum(q.words for q in per_call.values()), sum(q.uncertain for q in per_call.values()),
                         sum(q.duration_s for q in per_call.values()))
    return {"transcribed_calls": len(per_call), "words": pooled.words, **pooled.to_json()}
