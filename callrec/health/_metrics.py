"""Metrics in Prometheus text format for node_exporter's textfile collector.

``prometheus_client.write_to_textfile`` writes to a temporary file and renames it, so the
collector never reads half a file.
"""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from callrec.config import Config
from callrec.health._checks import CHECKS
from callrec.health._findings import SEVERITIES, Finding
from callrec.health._present import present
from callrec.vault import Vault
from callrec.vault.calls import count_calls, last_test_call_ts, transcript_backlog
from callrec.vault.ops import coverage, last_heartbeat_ts

__all__ = ["metrics_path", "write_metrics"]


def metrics_path(config: Config) -> Path:
    path = config.health.metrics_file or Path("callrec.prom")
    return path if path.is_absolute() else config.state_dir / path


def write_metrics(vault: Vault, config: Config, findings: list[Finding], now: float | None = None) -> Path:
    """The check statuses say what ``health check`` says: critical only for what is going on now."""
    now = time.time() if now is None else now
    findings = present(vault, findings, now)
    reg = CollectorRegistry()
    status = Gauge("callrec_check_status", "Worst severity of a health check (0 ok, 1 warning, 2 critical)",
                   ["check"], registry=reg)
    for c in CHECKS:
        mine = [SEVERITIES.index(f.severity) for f in findings if f.check == c.name]
        status.labels(c.name).set(max(mine, default=0))
    per_line = {line.name: coverage(vault, now - 86400, now - config.health.heartbeat_max_age_s, now, line=line.name)
                for line in config.recorded_lines}
    Gauge("callrec_coverage_ratio_24h", "Share of the last 24 hours that was recorded (the least of the lines)",
          registry=reg).set(min(ratio for ratio, _ in per_line.values()))
    Gauge("callrec_gaps_24h", "Gaps in the last 24 hours", registry=reg).set(sum(len(g) for _, g in per_line.values()))
    line_ratio = Gauge("callrec_line_coverage_ratio_24h", "Share of the last 24 hours each line recorded", ["line"],
                       registry=reg)
    for name, (ratio, _) in per_line.items():
        line_ratio.labels(name).set(ratio)
    beat = last_heartbeat_ts(vault)
    Gauge("callrec_heartbeat_age_seconds", "Seconds since the capture heartbeat", registry=reg).set(
        now - beat if beat is not None else float("inf"))
    Gauge("callrec_calls_24h", "Calls recorded in the last 24 hours", registry=reg).set(count_calls(vault, now - 86400))
    test = last_test_call_ts(vault)
    Gauge("callrec_last_test_call_timestamp_seconds", "Start of the newest test call", registry=reg).set(test or 0)
    Gauge("callrec_asr_backlog_calls", "Calls waiting for transcription", registry=reg).set(transcript_backlog(vault))
    Gauge("callrec_vault_bytes", "Size of the vault file", registry=reg).set(config.vault_path.stat().st_size)
    Gauge("callrec_health_run_timestamp_seconds", "When these metrics were written", registry=reg).set(now)
    path = metrics_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), reg)
    return path
