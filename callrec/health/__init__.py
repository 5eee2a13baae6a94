"""Recording health: scheduled checks, the daily report, alerts and metrics (DESIGN.md invariant 3).

Nothing here reads audio or transcript text: checks look at the ledger, call metadata, the access
log's structure and the exchange's call times.
"""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.health._alerts import Alerter
    from callrec.health._cdr import CdrFileError, CdrImport, import_cdr, import_cdr_bytes
    from callrec.health._checks import CHECKS, SCHEDULER_JOB, Check, CheckContext, Issue, live_window, run_checks
    from callrec.health._findings import SEVERITIES, Finding, plugin_status, worst
    from callrec.health._html import render_html
    from callrec.health._maintenance import (
        MaintenanceInPast,
        MaintenanceWindow,
        add_maintenance,
        cancel_maintenance,
        end_maintenance,
        list_maintenance,
    )
    from callrec.health._metrics import metrics_path, write_metrics
    from callrec.health._present import CHECK_NAMES, awaiting_ack, check_lines, present
    from callrec.health._reconcile import Reconciliation, reconcile
    from callrec.health._report import (
        ReportDayBeforeService,
        ReportDayInFuture,
        build_report,
        day_window,
        refresh_stored_days,
        refresh_stored_report,
        report_paths,
        summary_line,
        write_report,
    )
    from callrec.health._status import (
        DaemonStatus,
        StatusKeeper,
        SystemStatus,
        collect_status,
        daemon_down_finding,
        print_status,
        read_daemon_status,
        status_from_file,
        status_path,
        write_daemon_status,
    )
    from callrec.lazy import lazy_face

__all__ = [
    "Alerter",
    "CHECKS",
    "CHECK_NAMES",
    "CdrFileError",
    "CdrImport",
    "Check",
    "CheckContext",
    "DaemonStatus",
    "Finding",
    "Issue",
    "MaintenanceInPast",
    "MaintenanceWindow",
    "Reconciliation",
    "ReportDayBeforeService",
    "ReportDayInFuture",
    "SCHEDULER_JOB",
    "SEVERITIES",
    "StatusKeeper",
    "SystemStatus",
    "add_maintenance",
    "awaiting_ack",
    "build_report",
    "cancel_maintenance",
    "check_lines",
    "collect_status",
    "daemon_down_finding",
    "day_window",
    "end_maintenance",
    "import_cdr",
    "import_cdr_bytes",
    "list_maintenance",
    "live_window",
    "metrics_path",
    "plugin_status",
    "present",
    "print_status",
    "read_daemon_status",
    "reconcile",
    "refresh_stored_days",
    "refresh_stored_report",
    "render_html",
    "report_paths",
    "run_checks",
    "status_from_file",
    "status_path",
    "summary_line",
    "worst",
    "write_daemon_status",
    "write_metrics",
    "write_report",
]

__getattr__ = lazy_face(__name__, __file__)
