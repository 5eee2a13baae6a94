"""The access layer: every use case a person (or callrec's own service) can run, one table of
the roles that may run each, and nothing else between a front end and the vault.

Front ends only adapt: the CLI calls these functions directly where the data key is readable and
otherwise sends the same action as a typed request to the daemon's socket (``callrec.server``,
``docs/design/protocol.md``), which runs it for the account the kernel names.
"""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.access._actor import SERVICE, Actor
    from callrec.access._admin import (
        Deletion,
        DeletionList,
        Done,
        Requeued,
        RetentionResult,
        User,
        UserList,
        delete_approve,
        delete_list,
        delete_refuse,
        delete_request,
        retention_run,
        retranscribe,
        users_add,
        users_list,
        users_remove,
        users_revoke,
    )
    from callrec.access._archive import backup, rekey, rekey_periods, restore
    from callrec.access._calls import CallList, calls_list
    from callrec.access._cases import (
        CaseCall,
        CaseDetail,
        CaseList,
        CaseView,
        case_approve,
        case_attach,
        case_close,
        case_list,
        case_open,
        case_refuse,
        case_show,
    )
    from callrec.access._client import DaemonBusy, DaemonUnreachable, RemoteError, ReplyBroken, request, use_socket
    from callrec.access._content import (
        PlayAudio,
        PlayFailed,
        SearchHit,
        SearchResult,
        TimedLine,
        Transcript,
        play,
        play_failed,
        search,
        transcript,
    )
    from callrec.access._export import ExportFile, ExportPackage, build_export, export
    from callrec.access._health import (
        Acked,
        CdrImported,
        CheckResult,
        GapNoted,
        Report,
        cdr_import,
        check_result,
        gap_note,
        health_ack,
        health_check,
        health_report,
    )
    from callrec.access._log import KeyInfo, LogHead, LogListing, LogRow, key_show, log_head, log_show
    from callrec.access._models import Model, ModelList, model_activate, model_import, model_list, model_remove
    from callrec.access._ops import (
        MaintenanceList,
        maintenance_add,
        maintenance_cancel,
        maintenance_end,
        maintenance_list,
        status,
    )
    from callrec.access._private_files import export_target, make_private_dir, write_into, write_private_file
    from callrec.access._registry import ACTIONS, Action, action, check_bounds, perform, validate
    from callrec.access._table import ACTION_ROLES, authorize, may
    from callrec.access._whoami import Me, whoami
    from callrec.lazy import lazy_face

__all__ = [
    "ACTIONS",
    "ACTION_ROLES",
    "Acked",
    "Action",
    "Actor",
    "CallList",
    "CaseCall",
    "CaseDetail",
    "CaseList",
    "CaseView",
    "CdrImported",
    "CheckResult",
    "DaemonBusy",
    "DaemonUnreachable",
    "Deletion",
    "DeletionList",
    "Done",
    "ExportFile",
    "ExportPackage",
    "GapNoted",
    "KeyInfo",
    "LogHead",
    "LogListing",
    "LogRow",
    "MaintenanceList",
    "Me",
    "Model",
    "ModelList",
    "PlayAudio",
    "PlayFailed",
    "RemoteError",
    "ReplyBroken",
    "Report",
    "Requeued",
    "RetentionResult",
    "SERVICE",
    "SearchHit",
    "SearchResult",
    "TimedLine",
    "Transcript",
    "User",
    "UserList",
    "action",
    "authorize",
    "backup",
    "build_export",
    "calls_list",
    "case_approve",
    "case_attach",
    "case_close",
    "case_list",
    "case_open",
    "case_refuse",
    "case_show",
    "cdr_import",
    "check_bounds",
    "check_result",
    "delete_approve",
    "delete_list",
    "delete_refuse",
    "delete_request",
    "export",
    "export_target",
    "gap_note",
    "health_ack",
    "health_check",
    "health_report",
    "key_show",
    "log_head",
    "log_show",
    "maintenance_add",
    "maintenance_cancel",
    "maintenance_end",
    "maintenance_list",
    "make_private_dir",
    "may",
    "model_activate",
    "model_import",
    "model_list",
    "model_remove",
    "perform",
    "play",
    "play_failed",
    "rekey",
    "rekey_periods",
    "request",
    "restore",
    "retention_run",
    "retranscribe",
    "search",
    "status",
    "transcript",
    "use_socket",
    "users_add",
    "users_list",
    "users_remove",
    "users_revoke",
    "validate",
    "whoami",
    "write_into",
    "write_private_file",
]

__getattr__ = lazy_face(__name__, __file__)
