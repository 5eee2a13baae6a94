"""``callrec health check`` as a monitoring plugin; alerts sent once until they clear; metrics."""

from __future__ import annotations

import io
import time

from prometheus_client.parser import text_string_to_metric_families

from callrec.cli import execute
from callrec.cli._context import Context
from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.health import Alerter, run_checks
from callrec.vault import Vault
from callrec.vault.log import log_entries
from callrec.vault.ops import heartbeat, open_session, record_job_run
from tests.conftest import record_call, run_cli, write_config


def _healthy(vault: Vault) -> int:
    """Capture running with a fresh heartbeat for the last day, and a recent test call."""
    now = time.time()
    session = open_session(vault, "test", now - 86400 - 60)
    heartbeat(vault, session, now)
    record_call(vault, started_ts=now - 600, kind="test")
    return session


def test_plugin_exit_codes_ok_critical_unknown(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(load_config(config_file)) as vault:
        session = _healthy(vault)
    ok = run_cli(config_file, "health", "check")
    assert (ok.returncode, ok.stdout.splitlines()[0]) == (0, "CALLREC OK - recording, every check passed")

    with Vault.open(load_config(config_file)) as vault:
        heartbeat(vault, session, time.time() - 300)
    crit = run_cli(config_file, "health", "check")
    assert crit.returncode == 2
    assert crit.stdout.startswith("CALLREC CRITICAL - capture_alive: no capture heartbeat for 5 min")

    (tmp_path / "state" / "vault.key").write_text("00" * 32 + "\n")
    unknown = run_cli(config_file, "health", "check")
    assert unknown.returncode == 3
    assert unknown.stdout.startswith("CALLREC UNKNOWN - vault ") and len(unknown.stdout.splitlines()) == 1


def test_missing_test_call_is_warning(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(load_config(config_file)) as vault:
        _healthy(vault)
        vault.conn.execute("UPDATE calls SET started_ts = started_ts - 30 * 3600")
    warn = run_cli(config_file, "health", "check")
    assert warn.returncode == 1
    assert warn.stdout.startswith("CALLREC WARNING - test_call: the last test call is 30.2 h old")


def test_check_is_refused_and_logged_for_an_account_without_a_role(vault, config_file):
    out, err = io.StringIO(), io.StringIO()
    code = execute(Context(config_flag=str(config_file), actor="nobody-here", out=out, err=err), ["health", "check"])
    assert code == 3 and out.getvalue().startswith("CALLREC UNKNOWN - access refused for nobody-here")
    assert [(e.actor, e.action, e.outcome) for e in log_entries(vault)][-1] == (
        "nobody-here", "health.check", "refused")


def test_failing_alert_command_is_retried(tmp_path):
    config_file = write_config(tmp_path, '[asr]\nenabled = false\n[health]\nalert_command = "false"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    findings = run_checks(vault, config, start=time.time() - 60, end=time.time(), live=True, names=["capture_alive"])
    alerter = Alerter(vault, config)
    assert [n.kind for n in alerter.process(findings, ["capture_alive"])] == ["raised"]
    assert alerter.wait(10)
    assert [n.kind for n in alerter.process(findings, ["capture_alive"])] == ["raised"], \
        "an undelivered alert must be sent again"
    assert alerter.wait(10)
    alerter.close()
    vault.close()


def test_service_runs_checks_writes_metrics_and_records_failed_and_missed_jobs(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    _healthy(vault)
    service = HealthService(config, vault)
    service.start()
    try:
        deadline = time.time() + 20
        while not vault.query("SELECT 1 FROM job_runs WHERE job = 'checks' AND outcome = 'ok'") and time.time() < deadline:
            time.sleep(0.1)
        service.scheduler.add_job(lambda: 1 / 0, id="broken")
        import datetime as dt
        service.scheduler.add_job(print, "date", run_date=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                                  id="late", misfire_grace_time=1)
        while len(vault.query("SELECT 1 FROM job_runs WHERE outcome != 'ok'")) < 2 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        service.stop()
    assert sorted(vault.query("SELECT job, outcome, detail FROM job_runs WHERE outcome != 'ok'")) == [
        ("broken", "error", "ZeroDivisionError"), ("late", "missed", "missed")]
    metrics = {m.name: m for m in text_string_to_metric_families((config.state_dir / "callrec.prom").read_text())}
    assert metrics["callrec_coverage_ratio_24h"].samples[0].value > 0.99
    status = {s.labels["check"]: s.value for s in metrics["callrec_check_status"].samples}
    assert status["capture_alive"] == 0 and status["test_call"] == 0
    now = time.time()
    scheduler = [f for f in run_checks(vault, config, start=now - 3600, end=now, live=True, names=["scheduler"])]
    assert {f.message for f in scheduler} == {"scheduled job broken failed 1 time(s)", "scheduled job late was missed 1 time(s)"}
    vault.close()


def test_stalled_scheduler_is_critical_while_capture_runs(vault, config):
    _healthy(vault)
    record_job_run(vault, "checks", "ok", ts=time.time() - 3600)
    now = time.time()
    found = run_checks(vault, config, start=now - 86400, end=now, live=True, names=["scheduler"])
    assert [(f.severity, f.message) for f in found] == [
        ("critical", "the daemon's scheduled checks have not run for 60 min")]
