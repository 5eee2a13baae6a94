"""``callrec status``: how the recorder is doing, for maintainer, ops and admin, without content;
and what ``health check`` says from the status file when no daemon answers."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from callrec.cli import execute
from callrec.cli._context import Context
from callrec.health import DaemonStatus, daemon_down_finding, write_daemon_status
from callrec.identity import current_account
from callrec.vault.log import log_entries
from callrec.vault.people import add_user
from tests.conftest import record_call

FIELDS = {"daemon_running", "daemon_up_since", "daemon_last_heard", "version", "device", "device_state", "last_frame",
          "input_level_dbfs", "queue_depth", "queue_capacity", "calls_today", "asr_backlog", "disk_free_bytes",
          "disk_free_pct", "days_to_full", "last_test_call", "last_checkpoint", "last_checkpoint_seq"}


def _run(config_file, actor: str, *argv: str) -> tuple[int, str, str]:
    ctx = Context(config_flag=str(config_file), actor=actor, out=io.StringIO(), err=io.StringIO())
    code = execute(ctx, list(argv))
    return code, ctx.out.getvalue(), ctx.err.getvalue()


@pytest.mark.parametrize("role", ["maintainer", "ops", "admin"])
def test_status_for_each_monitoring_role(vault, config, config_file, role):
    add_user(vault, "admin", f"a-{role}", [role])
    record_call(vault, started_ts=time.time() - 60)
    record_call(vault, started_ts=time.time() - 120, kind="test")
    now = time.time()
    write_daemon_status(config, DaemonStatus(os.getpid(), "0.1.0", now - 3600, now, "device:hw:1", "capturing",
                                             now - 0.1, -48.5, 2, 50))
    code, out, err = _run(config_file, f"a-{role}", "status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert set(status) == FIELDS
    assert (status["daemon_running"], status["device_state"], status["input_level_dbfs"]) == (True, "capturing", -48.5)
    assert (status["calls_today"] >= 0, status["asr_backlog"], status["queue_depth"]) == (True, 2, 2)
    assert status["last_test_call"] is not None and status["disk_free_bytes"] > 0


def test_status_is_refused_to_a_reviewer_and_logged(vault, config_file):
    add_user(vault, "admin", "rev", ["reviewer"])
    code, _, err = _run(config_file, "rev", "status")
    assert code == 4 and "needs the role admin or maintainer or ops" in err
    assert [(e.actor, e.action, e.outcome) for e in log_entries(vault)][-1] == (
        "rev", "status", "refused")


def test_a_stopped_daemon_shows_as_not_running(vault, config, config_file):
    add_user(vault, "admin", current_account(), ["admin"])
    now = time.time()
    write_daemon_status(config, DaemonStatus(1, "0.1.0", now - 600, now - 30, "device:hw:1", "stopped"))
    code, out, _ = _run(config_file, current_account(), "status")  # init made this account admin
    assert code == 0
    assert "daemon running: no" in out and "device state: not running" in out


def test_daemon_down_is_critical_and_a_warning_during_maintenance(vault, config):
    assert daemon_down_finding(config).message.startswith("daemon not running (never heard: no status file ")
    now = time.time()
    write_daemon_status(config, DaemonStatus(1, "0.1.0", now - 600, now - 300, "device:hw:1", "capturing"))
    down = daemon_down_finding(config, now)
    assert down.severity == "critical" and down.message.startswith("daemon not running (last heard ")
    write_daemon_status(config, DaemonStatus(1, "0.1.0", now - 600, now - 300, "device:hw:1", "capturing",
                                             maintenance=[(now - 900, now + 900, "exchange firmware update")]))
    planned = daemon_down_finding(config, now)
    assert planned.severity == "warning" and "planned maintenance (exchange firmware update;" in planned.message
