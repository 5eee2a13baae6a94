"""The scheduled jobs of the daemon (health checks, integrity, archive, retention, daily report): APScheduler 3.x ``BackgroundScheduler`` in UTC.

Jobs are declared here in code. Every job runs at most once at a time, a late run is merged
into one (``coalesce``) and dropped after ``misfire_grace_time``; a listener writes each run's
outcome to ``job_runs``, so a job that fails or is missed becomes a finding of the ``scheduler``
check, and a checks job that stops running altogether is noticed by ``callrec health check``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from callrec.access import SERVICE, retention_run
from callrec.config import Config
from callrec.errors import VaultError
from callrec.health import (
    CHECKS,
    SCHEDULER_JOB,
    Alerter,
    Finding,
    live_window,
    refresh_stored_report,
    report_paths,
    run_checks,
    write_metrics,
)
from callrec.vault import Vault
from callrec.vault.archive import close_periods, prune_changes
from callrec.vault.log import scrub
from callrec.vault.ops import record_job_run

__all__ = ["HealthService"]

log = logging.getLogger("callrec.health")

INTEGRITY_JOB = "integrity"
REPORT_JOB = "daily_report"
RETENTION_JOB = "retention"
ARCHIVE_JOB = "archive"


def _hhmm(value: str) -> tuple[int, int]:
    hh, mm = value.split(":")
    return int(hh), int(mm)


class HealthService:
    def __init__(self, config: Config, vault: Vault | None = None) -> None:
        self.config = config
        self._own_vault = vault is None
        self.vault = vault
        self._alerter: Alerter | None = None
        if not config.health.log_job_runs:
            # APScheduler logs every run at INFO ("Running job", "executed successfully"): once a
            # minute in the journal, drowning what matters. Failures still come as WARNING/ERROR.
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        # A job that raises is logged once, by _on_event: one line for a vault fault (a full disk
        # is not a bug), the traceback only for anything else. APScheduler's own copy would repeat
        # every traceback.
        logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )

    def start(self) -> None:
        if self.vault is None:
            self.vault = Vault.open(self.config)
        zone = self.config.zone
        health = self.config.health
        self.scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
                                    | EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_job(self.run_checks, IntervalTrigger(seconds=health.check_interval_s), id=SCHEDULER_JOB,
                               next_run_time=dt.datetime.now(dt.UTC),
                               misfire_grace_time=max(10, health.check_interval_s // 2))
        hh, mm = _hhmm(health.integrity_time)
        self.scheduler.add_job(self.run_integrity, CronTrigger(hour=hh, minute=mm, timezone=zone), id=INTEGRITY_JOB,
                               misfire_grace_time=3 * 3600)
        self.scheduler.add_job(self.run_archive, CronTrigger(hour=hh, minute=mm, timezone=zone), id=ARCHIVE_JOB,
                               misfire_grace_time=12 * 3600)
        if self.config.retention.keep_days:
            self.scheduler.add_job(self.run_retention, CronTrigger(hour=hh, minute=mm, timezone=zone),
                                   id=RETENTION_JOB, misfire_grace_time=12 * 3600)
        hh, mm = _hhmm(health.report_time)
        self.scheduler.add_job(self.write_daily_report, CronTrigger(hour=hh, minute=mm, timezone=zone), id=REPORT_JOB,
                               misfire_grace_time=6 * 3600)
        if self._report_overdue(time.time()):
            self.scheduler.add_job(self.write_daily_report, id=f"{REPORT_JOB}_catch_up", misfire_grace_time=None)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._alerter is not None:
            self._alerter.close()
        if self._own_vault and self.vault is not None:
            self.vault.close()
            self.vault = None

    @property
    def alerter(self) -> Alerter:
        if self._alerter is None:
            self._alerter = Alerter(self.vault, self.config)
        return self._alerter

    def run_checks(self, now: float | None = None) -> list[Finding]:
        """One live run: every live and window check over the last 24 hours, alerts, metrics."""
        now = time.time() if now is None else now
        start, end = live_window(now)
        findings = run_checks(self.vault, self.config, start=start, end=end, live=True, now=now)
        self.alerter.process(findings, [c.name for c in CHECKS], now)
        write_metrics(self.vault, self.config, findings, now)
        return findings

    def run_integrity(self) -> list[Finding]:
        now = time.time()
        findings = run_checks(self.vault, self.config, start=now, end=now, live=True, now=now, thorough=True,
                              names=["vault_integrity", "access_log"])
        self.alerter.process(findings, ["vault_integrity", "access_log"], now)
        return findings

    def run_retention(self) -> tuple[int, int]:
        """Purge what the retention policy allows (never a call on legal hold); (purged, held)."""
        result = retention_run(self.vault, SERVICE)
        purged, held = result.purged, len(result.held)
        self.vault.checkpoint()
        log.info("callrec retention: %d call(s) purged, %d held", purged, held)
        return purged, held

    def run_archive(self) -> list[str]:
        """Close the finished days into their own files, prune the change record older than the
        incremental backups need, then scrub a share of the old day files."""
        closed = close_periods(self.vault)
        prune_changes(self.vault, time.time())
        checked, problems = scrub(self.vault, self.config.health.scrub_days)
        log.info("callrec archive: %d day(s) closed, %d day file(s) re-hashed", len(closed), checked)
        if problems:
            raise RuntimeError(f"scrub found {len(problems)} problem(s): run 'callrec verify --full'")
        return closed

    def write_daily_report(self) -> dict | None:
        yesterday = dt.datetime.now(self.config.zone).date() - dt.timedelta(days=1)
        report = refresh_stored_report(self.vault, self.config, yesterday)
        if report is not None:
            log.info("callrec daily report: %s", report["summary"])
        return report

    def _report_overdue(self, now: float) -> bool:
        local = dt.datetime.fromtimestamp(now, self.config.zone)
        hh, mm = _hhmm(self.config.health.report_time)
        yesterday = local.date() - dt.timedelta(days=1)
        return (local.hour, local.minute) >= (hh, mm) and not report_paths(self.config, yesterday)["json"].exists()

    def _on_event(self, event: JobEvent) -> None:
        job = event.job_id.removesuffix("_catch_up")
        if event.code == EVENT_JOB_EXECUTED:
            self._record(job, "ok")
            return
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            detail = type(event.exception).__name__
            outcome = "error"
            bug = not isinstance(event.exception, VaultError)
            log.error("callrec health job %s failed (%s)%s", job, detail, f"\n{event.traceback}" if bug else "")
        else:
            detail = "missed" if event.code == EVENT_JOB_MISSED else "still running"
            outcome = "missed"
            log.warning("callrec health job %s was missed (%s)", job, detail)
        self._record(job, outcome, detail)

    def _record(self, job: str, outcome: str, detail: str = "") -> None:
        """Note a job's run; a vault that cannot take it (a full disk, say) is one line here —
        the capture writer meets the same fault and stops the daemon with its own message."""
        try:
            record_job_run(self.vault, job, outcome, detail)
        except VaultError as exc:
            log.warning("callrec health job %s: its run could not be recorded (%s)", job, type(exc).__name__)
