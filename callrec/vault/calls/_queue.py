"""The transcription queue, kept in the vault (``calls.transcript_status``).

A sealed (or interrupted) call waits as ``pending``; a worker claims it as ``running`` and counts
an attempt; it ends ``done``, goes back to ``pending`` after a failure while attempts remain, or
ends ``failed`` with a reason. Without an installed model pending calls become ``no_model`` and
return to ``pending`` once a model is active. A claim is one UPDATE inside BEGIN IMMEDIATE, so two
workers (threads or processes) never take the same call. Reasons never hold transcript text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from callrec.vault._store import SERVICE_ACTOR, Vault
from callrec.vault.calls._transcripts import TranscriptCounts, insert_transcript

__all__ = [
    "Claim",
    "QueueSummary",
    "TRANSCRIPT_STATUSES",
    "TranscribedChannel",
    "claim_next",
    "finish_done",
    "finish_failed",
    "mark_no_model",
    "oldest_waiting_ts",
    "queue_summary",
    "release",
    "requeue",
    "requeue_no_model",
    "resume_interrupted",
    "transcript_backlog",
]

TRANSCRIPT_STATUSES = ("pending", "running", "done", "failed", "no_model")
_TRANSCRIBABLE = "status IN ('sealed', 'interrupted')"
#: Calls waiting for transcription: the WHERE of the partial index calls_waiting, word for word.
_WAITING = f"transcript_status IN ('pending', 'running') AND {_TRANSCRIBABLE}"


@dataclass(frozen=True)
class Claim:
    call_id: int
    sample_rate: int
    channels: int
    attempt: int
    duration_s: float


@dataclass(frozen=True)
class QueueSummary:
    #: Calls (sealed or interrupted) by transcript status; every status is present.
    counts: dict[str, int]
    #: Seconds since the oldest pending call was sealed, or None when nothing is pending.
    oldest_pending_age_s: float | None


@dataclass(frozen=True)
class TranscribedChannel:
    """One channel's result of a transcription run: Vosk's words and the display text."""

    words: list[dict]
    text: str
    #: Stored with the transcript for the quality numbers (``calls list``), when the ASR layer counted.
    counted: TranscriptCounts | None = None


def queue_summary(vault: Vault, now: float | None = None) -> QueueSummary:
    counts = dict.fromkeys(TRANSCRIPT_STATUSES, 0)
    for status, count in vault.query(
        f"SELECT transcript_status, count(*) FROM calls WHERE {_TRANSCRIBABLE} GROUP BY transcript_status"
    ):
        counts[status] = count
    (oldest,) = vault.query(
        f"SELECT min(coalesce(sealed_ts, ended_ts, started_ts)) FROM calls WHERE {_TRANSCRIBABLE}"
        " AND transcript_status = 'pending'"
    )[0]
    now = time.time() if now is None else now
    return QueueSummary(counts, None if oldest is None else max(0.0, now - oldest))


def transcript_backlog(vault: Vault) -> int:
    """Sealed or interrupted calls waiting for transcription (pending or running)."""
    return vault.query(f"SELECT count(*) FROM calls WHERE {_WAITING}")[0][0]


def oldest_waiting_ts(vault: Vault) -> float | None:
    """Start of the oldest call waiting for transcription, or None when none waits."""
    return vault.query(f"SELECT min(started_ts) FROM calls WHERE {_WAITING}")[0][0]


def claim_next(vault: Vault) -> Claim | None:
    """Take the next pending call, the oldest sealed first and test calls last: mark it running
    and count the attempt."""
    with vault.transaction() as conn:
        row = conn.execute(
            f"SELECT id, sample_rate, channels, transcript_attempts, frames FROM calls WHERE {_TRANSCRIBABLE}"
            " AND transcript_status = 'pending'"
            " ORDER BY kind = 'test', coalesce(sealed_ts, ended_ts, started_ts), id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        call_id, rate, channels, attempts, frames = row
        conn.execute(
            "UPDATE calls SET transcript_status = 'running', transcript_attempts = ? WHERE id = ?",
            (attempts + 1, call_id),
        )
    return Claim(call_id, rate, channels, attempts + 1, frames / rate)


def finish_done(vault: Vault, claim: Claim, engine: str, model_name: str, model_sha256: str,
                channels: Sequence[TranscribedChannel]) -> None:
    """Store a new transcript version of every channel (each logged) and mark the call done, in
    one transaction."""
    with vault.transaction() as conn:
        for channel, result in enumerate(channels):
            insert_transcript(vault, claim.call_id, channel, engine, model_name, model_sha256, result.words, result.text,
                              result.counted)
        conn.execute("UPDATE calls SET transcript_status = 'done', transcript_error = NULL WHERE id = ?",
                     (claim.call_id,))


def finish_failed(vault: Vault, claim: Claim, reason: str, max_attempts: int) -> str:
    """Record a failed attempt; back to ``pending`` while attempts remain. Returns the new status."""
    status = "failed" if claim.attempt >= max_attempts else "pending"
    with vault.transaction() as conn:
        conn.execute(
            "UPDATE calls SET transcript_status = ?, transcript_error = ? WHERE id = ?",
            (status, reason, claim.call_id),
        )
        if status == "failed":
            vault.log(SERVICE_ACTOR, "transcript.failed", call_id=claim.call_id,
                      detail={"attempts": claim.attempt, "error": reason})
    return status


def release(vault: Vault, claim: Claim) -> None:
    """Give a claim back untouched (the worker is stopping): the attempt does not count."""
    with vault.transaction() as conn:
        conn.execute(
            "UPDATE calls SET transcript_status = 'pending', transcript_attempts = ? WHERE id = ?"
            " AND transcript_status = 'running'",
            (claim.attempt - 1, claim.call_id),
        )


def resume_interrupted(vault: Vault, max_attempts: int) -> int:
    """After a crash: calls left ``running`` are pending again, or failed when they used up their
    attempts (a call that keeps crashing the process must not do it forever). Returns how many."""
    reason = "transcription was interrupted (crash or power cut) too many times"
    with vault.transaction() as conn:
        failed = conn.execute(
            "UPDATE calls SET transcript_status = 'failed', transcript_error = ?"
            " WHERE transcript_status = 'running' AND transcript_attempts >= ?",
            (reason, max_attempts),
        ).rowcount
        resumed = conn.execute(
            "UPDATE calls SET transcript_status = 'pending' WHERE transcript_status = 'running'"
        ).rowcount
    return failed + resumed


def mark_no_model(vault: Vault) -> None:
    with vault.transaction() as conn:
        conn.execute("UPDATE calls SET transcript_status = 'no_model' WHERE transcript_status = 'pending'")


def requeue_no_model(vault: Vault) -> None:
    with vault.transaction() as conn:
        conn.execute("UPDATE calls SET transcript_status = 'pending' WHERE transcript_status = 'no_model'")


def requeue(vault: Vault, actor: str, call_ids: Sequence[int] | None) -> list[int]:
    """Queue calls (``None`` = every transcribable call) to be transcribed again; each run adds a
    version. Calls already pending or running are left as they are. Returns the queued ids."""
    with vault.transaction() as conn:
        sql = f"SELECT id FROM calls WHERE {_TRANSCRIBABLE} AND transcript_status NOT IN ('pending', 'running')"
        ids = [r[0] for r in conn.execute(sql + " ORDER BY id")]
        if call_ids is not None:
            ids = [i for i in ids if i in set(call_ids)]
        for call_id in ids:
            conn.execute(
                "UPDATE calls SET transcript_status = 'pending', transcript_attempts = 0, transcript_error = NULL"
                " WHERE id = ?", (call_id,),
            )
            vault.log(actor, "retranscribe", call_id=call_id)
    return ids
