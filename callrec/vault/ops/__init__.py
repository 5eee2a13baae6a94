"""Operations state: the coverage ledger, capture sessions, job runs, alerts, acknowledgements, maintenance windows, tap findings, the exchange's call log."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault.ops._acks import GapNote, acked_since, add_ack, add_gap_note, gap_notes
    from callrec.vault.ops._alerts import AlertBook, AlertState, alert_book, alert_undelivered
    from callrec.vault.ops._exchange import cdr_calls_started, cdr_spans_overlapping, store_cdr_import
    from callrec.vault.ops._jobs import JobTrouble, job_troubles, last_ok_run_ts, last_retention_ts, record_job_run
    from callrec.vault.ops._ledger import (
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
    from callrec.vault.ops._maintenance import (
        MaintenanceWindow,
        cancel_maintenance_window,
        end_maintenance_window,
        insert_maintenance_window,
        maintenance_window,
        maintenance_windows,
    )
    from callrec.vault.ops._sessions import (
        CaptureSession,
        capture_running,
        last_heartbeat_ts,
        last_sign_of_life_ts,
        newest_session,
        open_gap_starts,
        sessions_overlapping,
        unfinished_replay,
    )
    from callrec.vault.ops._tap import TapFindingRow, add_tap_finding, tap_findings

__all__ = [
    "AlertBook",
    "AlertState",
    "CaptureSession",
    "GAP_CAUSES",
    "Gap",
    "GapNote",
    "JobTrouble",
    "MaintenanceWindow",
    "TapFindingRow",
    "acked_since",
    "add_ack",
    "add_gap",
    "add_gap_note",
    "add_tap_finding",
    "alert_book",
    "alert_undelivered",
    "cancel_maintenance_window",
    "capture_running",
    "cdr_calls_started",
    "cdr_spans_overlapping",
    "close_gap",
    "close_session",
    "coverage",
    "end_maintenance_window",
    "gap_notes",
    "gaps_in",
    "heartbeat",
    "in_service_since",
    "insert_maintenance_window",
    "job_troubles",
    "last_heartbeat_ts",
    "last_ok_run_ts",
    "last_retention_ts",
    "last_sign_of_life_ts",
    "maintenance_window",
    "maintenance_windows",
    "measured_span",
    "merge_gaps",
    "newest_session",
    "open_gap",
    "open_gap_starts",
    "open_session",
    "record_job_run",
    "sessions_overlapping",
    "store_cdr_import",
    "tap_findings",
    "unfinished_replay",
]

__getattr__ = lazy_face(__name__, __file__)
