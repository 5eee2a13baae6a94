"""Calls, their sealed audio, transcripts, the transcription queue and content reads."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault.calls._audio import MAX_ROW_BYTES, decode_flac, encode_flac, pcm_sha256
    from callrec.vault.calls._call import (
        Call,
        RemovedCall,
        calls_overlapping,
        calls_started,
        count_calls,
        get_call,
        get_calls,
        has_calls,
        last_test_call_ts,
        removed_calls_overlapping,
    )
    from callrec.vault.calls._calls import list_calls, list_calls_paged
    from callrec.vault.calls._content import (
        CONTENT_ACTIONS,
        SealedAudio,
        read_audio,
        read_case_transcripts,
        read_transcripts,
        resolve_case,
    )
    from callrec.vault.calls._queue import (
        TRANSCRIPT_STATUSES,
        Claim,
        QueueSummary,
        TranscribedChannel,
        claim_next,
        finish_done,
        finish_failed,
        mark_no_model,
        oldest_waiting_ts,
        queue_summary,
        release,
        requeue,
        requeue_no_model,
        resume_interrupted,
        transcript_backlog,
    )
    from callrec.vault.calls._recorder import CallRecorder
    from callrec.vault.calls._replay import unexplained_rows
    from callrec.vault.calls._transcripts import (
        Transcript,
        TranscriptCounts,
        add_transcript,
        latest_counts,
        latest_transcripts,
        latest_words,
        store_counts,
        transcript_sha256,
        uncounted_transcripts,
    )

__all__ = [
    "CONTENT_ACTIONS",
    "Call",
    "CallRecorder",
    "Claim",
    "MAX_ROW_BYTES",
    "QueueSummary",
    "RemovedCall",
    "SealedAudio",
    "TRANSCRIPT_STATUSES",
    "TranscribedChannel",
    "Transcript",
    "TranscriptCounts",
    "add_transcript",
    "calls_overlapping",
    "calls_started",
    "claim_next",
    "count_calls",
    "decode_flac",
    "encode_flac",
    "finish_done",
    "finish_failed",
    "get_call",
    "get_calls",
    "has_calls",
    "last_test_call_ts",
    "latest_counts",
    "latest_transcripts",
    "latest_words",
    "list_calls",
    "list_calls_paged",
    "mark_no_model",
    "oldest_waiting_ts",
    "pcm_sha256",
    "queue_summary",
    "read_audio",
    "read_case_transcripts",
    "read_transcripts",
    "release",
    "removed_calls_overlapping",
    "requeue",
    "requeue_no_model",
    "resolve_case",
    "resume_interrupted",
    "store_counts",
    "transcript_backlog",
    "transcript_sha256",
    "uncounted_transcripts",
    "unexplained_rows",
]

__getattr__ = lazy_face(__name__, __file__)
