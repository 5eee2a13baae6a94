"""Transcripts: versions, never overwritten (DESIGN.md invariant 5).

Each row is one channel of one transcription run. Transcribing again adds a version beside the
old one (a trigger refuses UPDATE). The row's SHA-256 over a canonical encoding of its content
is entered into the access-log chain in the same transaction, so ``callrec verify`` can tell an
edited or swapped transcript from the one the service wrote.

:func:`latest_transcripts` is a raw read: the access-controlled layer above it writes the
access-log entry for the read (invariant 6); nothing here logs reads.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from callrec.vault._store import SERVICE_ACTOR, Vault

__all__ = ["Transcript", "TranscriptCounts", "add_transcript", "insert_transcript", "latest_counts", "latest_transcripts",
           "latest_words", "store_counts", "transcript_sha256", "uncounted_transcripts"]

_COLUMNS = "call_id, version, channel, created_ts, engine, model_name, model_sha256, words, text, sha256"


@dataclass(frozen=True)
class Transcript:
    call_id: int
    version: int
    channel: int
    created_ts: float
    engine: str
    model_name: str
    model_sha256: str
    #: Vosk's words: ``{"word", "start", "end", "conf"}``, times in seconds from the call's start.
    words: list[dict]
    #: Display text (Japanese joined without spaces).
    text: str
    sha256: str


@dataclass(frozen=True)
class TranscriptCounts:
    """Stored beside a transcript for the quality numbers: how many of its words the recogniser was
    unsure of below a confidence threshold (the ASR layer decides which), and the audio's length."""

    uncertain_below: float
    uncertain: int
    audio_s: float


def transcript_sha256(call_id: int, version: int, channel: int, engine: str, model_name: str,
                      model_sha256: str, words: list[dict], text: str) -> str:
    """SHA-256 over canonical JSON (sorted keys, UTF-8, no spaces) of the transcript's content."""
    canonical = json.dumps(
        [call_id, version, channel, engine, model_name, model_sha256, words, text],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def insert_transcript(vault: Vault, call_id: int, channel: int, engine: str, model_name: str,
                      model_sha256: str, words: list[dict], text: str, counted: TranscriptCounts | None = None) -> int:
    """Add the next version inside the caller's transaction and log it; returns the version.
    ``counted`` is stored with it for :func:`latest_counts`."""
    conn = vault.conn
    (last,) = conn.execute(
        "SELECT coalesce(max(version), 0) FROM transcripts WHERE call_id = ? AND channel = ?", (call_id, channel)
    ).fetchone()
    version = last + 1
    digest = transcript_sha256(call_id, version, channel, engine, model_name, model_sha256, words, text)
    conn.execute(
        f"INSERT INTO transcripts ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (call_id, version, channel, time.time(), engine, model_name, model_sha256,
         json.dumps(words, ensure_ascii=False, separators=(",", ":")), text, digest),
    )
    if counted is not None:
        conn.execute("INSERT INTO transcript_counts (call_id, version, channel, uncertain_below, words, uncertain, audio_s)"
                     " VALUES (?,?,?,?,?,?,?)",
                     (call_id, version, channel, counted.uncertain_below, len(words), counted.uncertain, counted.audio_s))
    vault.log(SERVICE_ACTOR, "transcript", call_id=call_id,
              detail={"version": version, "channel": channel, "sha256": digest, "engine": engine, "model_name": model_name,
                      "model_sha256": model_sha256})
    return version


def add_transcript(vault: Vault, call_id: int, channel: int, engine: str, model_name: str,
                   model_sha256: str, words: list[dict], text: str, counted: TranscriptCounts | None = None) -> int:
    """Add a new version of one channel's transcript in a transaction of its own."""
    with vault.transaction():
        return insert_transcript(vault, call_id, channel, engine, model_name, model_sha256, words, text, counted)


#: The newest version of each channel of the calls in a JSON array parameter (one parameter, so a
#: long listing never meets SQLite's limit on the number of parameters).
_LATEST_OF_IDS = ("t.call_id IN (SELECT value FROM json_each(?)) AND t.version ="
                  " (SELECT max(version) FROM transcripts WHERE call_id = t.call_id AND channel = t.channel)")


def _row(row: tuple) -> Transcript:
    return Transcript(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]), row[8], row[9])


def latest_transcripts(vault: Vault, call_id: int) -> list[Transcript]:
    """The newest version of each channel's transcript, by channel."""
    rows = vault.query(
        f"SELECT {_COLUMNS} FROM transcripts t WHERE call_id = ? AND version ="
        " (SELECT max(version) FROM transcripts WHERE call_id = t.call_id AND channel = t.channel)"
        " ORDER BY channel",
        (call_id,),
    )
    return [_row(r) for r in rows]


def latest_words(vault: Vault, call_ids: Sequence[int]) -> dict[int, list[list[dict]]]:
    """The words of the newest version of each channel of each call that has a transcript, for the
    service's own numbers (quality counts); never for a person, whose reads go through a case."""
    if not call_ids:
        return {}
    out: dict[int, list[list[dict]]] = {}
    for call_id, raw in vault.query(f"SELECT t.call_id, t.words FROM transcripts t WHERE {_LATEST_OF_IDS}",
                                    (json.dumps(list(call_ids)),)):
        out.setdefault(call_id, []).append(json.loads(raw))
    return out


def latest_counts(vault: Vault, call_ids: Sequence[int],
                  uncertain_below: float) -> dict[int, tuple[int, int, float] | None]:
    """For each of ``call_ids`` that has a transcript: (words, uncertain words, audio seconds) over
    the newest version of each channel, counted at ``uncertain_below`` — or None when a channel has
    no counts at that threshold (written before they were stored, or under another threshold), and
    the caller must count from :func:`latest_words`.

    One read of a range of call ids (a month's calls have neighbouring ids), filtered here: a range
    read is several times faster than looking thousands of ids up one by one. The newest version of
    a channel is SQLite's ``max()`` with bare columns (they come from the row holding the maximum).
    """
    if not call_ids:
        return {}
    wanted = set(call_ids)
    out: dict[int, tuple[int, int, float] | None] = {}
    for call_id, words, uncertain, audio_s, missing in vault.query(
            "SELECT call_id, sum(words), sum(uncertain), max(audio_s), count(*) > count(words) FROM ("
            " SELECT t.call_id, max(t.version), q.words, q.uncertain, q.audio_s FROM transcripts t"
            " LEFT JOIN transcript_counts q ON q.call_id = t.call_id AND q.version = t.version"
            " AND q.channel = t.channel AND q.uncertain_below = ?"
            " WHERE t.call_id BETWEEN ? AND ? GROUP BY t.call_id, t.channel) GROUP BY call_id",
            (uncertain_below, min(wanted), max(wanted))):
        if call_id in wanted:
            out[call_id] = None if missing else (words, uncertain, audio_s)
    return out


def uncounted_transcripts(vault: Vault, uncertain_below: float, limit: int,
                          older_than: int | None = None) -> list[tuple[int, int, int, int, float, list[dict]]]:
    """Up to ``limit`` transcripts with no counts at ``uncertain_below``, newest first and older than
    transcript ``older_than`` when given (the last one of the previous batch), as (transcript id,
    call_id, version, channel, audio seconds, words): for the service to count and
    :func:`store_counts` (transcripts written before the counts were stored, or a new threshold)."""
    rows = vault.query(
        "SELECT t.id, t.call_id, t.version, t.channel, c.frames * 1.0 / c.sample_rate, t.words FROM transcripts t"
        " JOIN calls c ON c.id = t.call_id WHERE t.id < ? AND NOT EXISTS (SELECT 1 FROM transcript_counts q WHERE"
        " q.call_id = t.call_id AND q.version = t.version AND q.channel = t.channel AND q.uncertain_below = ?)"
        " ORDER BY t.id DESC LIMIT ?", (older_than if older_than is not None else 2**63 - 1, uncertain_below, limit))
    return [(tid, call_id, version, channel, audio_s, json.loads(words))
            for tid, call_id, version, channel, audio_s, words in rows]


def store_counts(vault: Vault, counted: Sequence[tuple[int, int, int, int, TranscriptCounts]]) -> None:
    """Store (call_id, version, channel, words, counts) for existing transcripts, replacing counts
    made at another threshold; a transcript purged meanwhile is skipped."""
    with vault.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO transcript_counts (call_id, version, channel, uncertain_below, words, uncertain, audio_s)"
            " SELECT call_id, version, channel, ?, ?, ?, ? FROM transcripts WHERE call_id = ? AND version = ? AND channel = ?",
            [(c.uncertain_below, words, c.uncertain, c.audio_s, call_id, version, channel)
             for call_id, version, channel, words, c in counted])
