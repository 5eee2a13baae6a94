"""Day files, backups, restore, rekey of day files, retention and deletion requests."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault.archive._backup import (
        BackupResult,
        RekeyResult,
        RestoreResult,
        backup,
        finish_interrupted_rekey,
        rekey,
        restore,
    )
    from callrec.vault.archive._changes import prune_changes
    from callrec.vault.archive._deletion import (
        DeletionRequest,
        approve_deletion,
        deletion_call_span,
        list_deletion_requests,
        refuse_deletion,
        request_deletion,
    )
    from callrec.vault.archive._periods import (
        HELD,
        Period,
        close_periods,
        file_sha256,
        list_periods,
        open_period,
        read_flac,
        sealed_bytes_since,
        sealed_flac,
    )
    from callrec.vault.archive._periods_rekey import PeriodRekeyResult, rekey_periods, resuming_period_rekey
    from callrec.vault.archive._retention import RetentionPlan, held_call_ids, plan_retention, run_retention

__all__ = [
    "BackupResult",
    "DeletionRequest",
    "HELD",
    "Period",
    "PeriodRekeyResult",
    "RekeyResult",
    "RestoreResult",
    "RetentionPlan",
    "approve_deletion",
    "backup",
    "close_periods",
    "deletion_call_span",
    "file_sha256",
    "finish_interrupted_rekey",
    "held_call_ids",
    "list_deletion_requests",
    "list_periods",
    "open_period",
    "plan_retention",
    "prune_changes",
    "read_flac",
    "refuse_deletion",
    "rekey",
    "rekey_periods",
    "request_deletion",
    "restore",
    "resuming_period_rekey",
    "run_retention",
    "sealed_bytes_since",
    "sealed_flac",
]

__getattr__ = lazy_face(__name__, __file__)
