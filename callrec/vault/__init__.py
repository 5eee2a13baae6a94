"""The encrypted vault: SQLCipher store, audio chunks and sealing, the hash-chained access log,
users/cases/authorisation, retention, backup and verification.

The vault owns its tables: other packages read and change them only through the names below
(no SQL, no connection, no lock outside this package). By area:

- store: ``Vault`` (open, transaction, log, ``snapshot()`` giving a consistent ``ReadView``);
- recording: ``CallRecorder``, the coverage ledger (sessions, heartbeats, gaps, coverage) and
  the capture state read back (``newest_session``, ``last_heartbeat_ts`` …);
- calls and the transcription queue: the frozen ``Call`` record and its reads, ``list_calls``,
  ``claim_next`` … ``finish_done``;
- transcripts: ``Transcript``, ``TranscriptCounts``, ``add_transcript``, ``latest_transcripts``, ``latest_words``,
  ``latest_counts``, ``uncounted_transcripts``, ``store_counts``;
- the access log: entries, the head, chain and checkpoint checks, signed heads;
- cases and content: cases, reads of content (each logged), deletion requests, users, retention;
- ops state: job runs, alert state, exchange (CDR) records, maintenance windows;
- files: backup, restore, rekey, verify, key files.
"""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.lazy import lazy_face
    from callrec.vault._accesslog import LogEntry, body_sha256, entries, head, link_hash, verify_chain
    from callrec.vault._acks import GapNote, acked_since, add_ack, add_gap_note, gap_notes
    from callrec.vault._alerts import AlertBook, AlertState, alert_book, alert_undelivered
    from callrec.vault._audio import MAX_ROW_BYTES, decode_flac, encode_flac, pcm_sha256
    from callrec.vault._backup import (
        BackupResult,
        RekeyResult,
        RestoreResult,
        backup,
        finish_interrupted_rekey,
        rekey,
        restore,
    )
    from callrec.vault._call import (
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
    from callrec.vault._calls import list_calls, list_calls_paged
    from callrec.vault._cases import (
        HOLDING_STATUSES,
        Case,
        attach_call,
        case_call_ids,
        case_numbers,
        close_case,
        decide_case,
        get_case,
        list_cases,
        number_matches,
        open_case,
        require_own_approved,
    )
    from callrec.vault._changes import prune_changes
    from callrec.vault._checkpoint import Checkpoint, fingerprint, last_written, latest_checkpoint, verify_checkpoint
    from callrec.vault._content import (
        CONTENT_ACTIONS,
        SealedAudio,
        read_audio,
        read_case_transcripts,
        read_transcripts,
        resolve_case,
    )
    from callrec.vault._db import DatabaseError, classify
    from callrec.vault._deletion import (
        DeletionRequest,
        approve_deletion,
        deletion_call_span,
        list_deletion_requests,
        refuse_deletion,
        request_deletion,
    )
    from callrec.vault._exchange import cdr_calls_started, cdr_spans_overlapping, store_cdr_import
    from callrec.vault._guard import flush_refusals, refusals_pending, refuse
    from callrec.vault._heads import head_line, key_fingerprint, signed_head
    from callrec.vault._hostheads import verify_host_heads
    from callrec.vault._integrity import damaged_pages, quick_check
    from callrec.vault._jobs import JobTrouble, job_troubles, last_ok_run_ts, last_retention_ts, record_job_run
    from callrec.vault._keyfile import create_key_file, read_key_file
    from callrec.vault._ledger import (
        GAP_CAUSES,
        Gap,
        add_gap,
        close_gap,
        close_session,
        coverage,
        gaps_in,
        heartbeat,
        in_service_since,
        measured_span,
        merge_gaps,
        open_gap,
        open_session,
    )
    from callrec.vault._log import decision_reasons, log_entries, seal_seqs
    from callrec.vault._maintenance import (
        MaintenanceWindow,
        cancel_maintenance_window,
        end_maintenance_window,
        insert_maintenance_window,
        maintenance_window,
        maintenance_windows,
    )
    from callrec.vault._numbers import CallNumbers, call_numbers, numbers_of_calls, write_numbers
    from callrec.vault._periods import close_periods, sealed_bytes_since, sealed_flac
    from callrec.vault._periods_rekey import PeriodRekeyResult, rekey_periods, resuming_period_rekey
    from callrec.vault._queue import (
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
    from callrec.vault._recorder import CallRecorder
    from callrec.vault._retention import RetentionPlan, held_call_ids, plan_retention, run_retention
    from callrec.vault._schema import ROLES, SCHEMA_VERSION
    from callrec.vault._sessions import (
        CaptureSession,
        capture_running,
        last_heartbeat_ts,
        last_sign_of_life_ts,
        newest_session,
        open_gap_starts,
        sessions_overlapping,
        unfinished_replay,
    )
    from callrec.vault._store import SERVICE_ACTOR, Vault
    from callrec.vault._tap import TapFindingRow, add_tap_finding, tap_findings
    from callrec.vault._transcripts import (
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
    from callrec.vault._users import add_user, has_role, list_users, remove_role, remove_user, roles_of
    from callrec.vault._verify import archive_summary, scrub, verify, verify_chain_since_last
    from callrec.vault._view import ReadView

__all__ = [
    "AlertBook",
    "AlertState",
    "BackupResult",
    "CONTENT_ACTIONS",
    "Call",
    "CallNumbers",
    "CallRecorder",
    "CaptureSession",
    "Case",
    "Checkpoint",
    "Claim",
    "DatabaseError",
    "DeletionRequest",
    "GAP_CAUSES",
    "Gap",
    "GapNote",
    "HOLDING_STATUSES",
    "JobTrouble",
    "LogEntry",
    "MAX_ROW_BYTES",
    "MaintenanceWindow",
    "PeriodRekeyResult",
    "QueueSummary",
    "ROLES",
    "ReadView",
    "RekeyResult",
    "RemovedCall",
    "RestoreResult",
    "RetentionPlan",
    "SCHEMA_VERSION",
    "SERVICE_ACTOR",
    "SealedAudio",
    "TRANSCRIPT_STATUSES",
    "TapFindingRow",
    "TranscribedChannel",
    "Transcript",
    "TranscriptCounts",
    "Vault",
    "acked_since",
    "add_ack",
    "add_gap",
    "add_gap_note",
    "add_tap_finding",
    "add_transcript",
    "add_user",
    "alert_book",
    "alert_undelivered",
    "approve_deletion",
    "archive_summary",
    "attach_call",
    "backup",
    "body_sha256",
    "call_numbers",
    "calls_overlapping",
    "calls_started",
    "cancel_maintenance_window",
    "capture_running",
    "case_call_ids",
    "case_numbers",
    "cdr_calls_started",
    "cdr_spans_overlapping",
    "claim_next",
    "classify",
    "close_case",
    "close_gap",
    "close_periods",
    "close_session",
    "count_calls",
    "coverage",
    "create_key_file",
    "damaged_pages",
    "decide_case",
    "decision_reasons",
    "decode_flac",
    "deletion_call_span",
    "encode_flac",
    "end_maintenance_window",
    "entries",
    "fingerprint",
    "finish_done",
    "finish_failed",
    "finish_interrupted_rekey",
    "flush_refusals",
    "gap_notes",
    "gaps_in",
    "get_call",
    "get_calls",
    "get_case",
    "has_calls",
    "has_role",
    "head",
    "head_line",
    "heartbeat",
    "held_call_ids",
    "in_service_since",
    "insert_maintenance_window",
    "job_troubles",
    "key_fingerprint",
    "last_heartbeat_ts",
    "last_ok_run_ts",
    "last_retention_ts",
    "last_sign_of_life_ts",
    "last_test_call_ts",
    "last_written",
    "latest_checkpoint",
    "latest_counts",
    "latest_transcripts",
    "latest_words",
    "link_hash",
    "list_calls",
    "list_calls_paged",
    "list_cases",
    "list_deletion_requests",
    "list_users",
    "log_entries",
    "maintenance_window",
    "maintenance_windows",
    "mark_no_model",
    "measured_span",
    "merge_gaps",
    "newest_session",
    "number_matches",
    "numbers_of_calls",
    "oldest_waiting_ts",
    "open_case",
    "open_gap",
    "open_gap_starts",
    "open_session",
    "pcm_sha256",
    "plan_retention",
    "prune_changes",
    "queue_summary",
    "quick_check",
    "read_audio",
    "read_case_transcripts",
    "read_key_file",
    "read_transcripts",
    "record_job_run",
    "refusals_pending",
    "refuse",
    "refuse_deletion",
    "rekey",
    "rekey_periods",
    "release",
    "remove_role",
    "remove_user",
    "removed_calls_overlapping",
    "request_deletion",
    "requeue",
    "requeue_no_model",
    "require_own_approved",
    "resolve_case",
    "restore",
    "resume_interrupted",
    "resuming_period_rekey",
    "roles_of",
    "run_retention",
    "scrub",
    "seal_seqs",
    "sealed_bytes_since",
    "sealed_flac",
    "sessions_overlapping",
    "signed_head",
    "store_cdr_import",
    "store_counts",
    "tap_findings",
    "transcript_backlog",
    "transcript_sha256",
    "uncounted_transcripts",
    "unfinished_replay",
    "verify",
    "verify_chain",
    "verify_chain_since_last",
    "verify_checkpoint",
    "verify_host_heads",
    "write_numbers",
]

__getattr__ = lazy_face(__name__, __file__)
