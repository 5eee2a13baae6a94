"""Reports that tell the truth: in service since, today so far, no future, stored files that
follow the vault, lawful removals, planned maintenance."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest

from callrec.cli import execute
from callrec.cli._context import Context
from callrec.config import load_config
from callrec.health import build_report, report_paths
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.archive import request_deletion
from callrec.vault.log import log_entries
from callrec.vault.ops import close_session, heartbeat, insert_maintenance_window, open_session
from callrec.vault.people import add_user
from tests.conftest import FIXTURES, run_cli, write_config
from tests.health.conftest import DAY, DayPlan, at, build_day
from tests.health.test_reconcile import CDR_CONFIG, HOTLINE, _csv


def _today(config) -> dt.date:
    return dt.datetime.now(config.zone).date()


def _report(config_file, day: dt.date) -> dict:
    result = run_cli(config_file, "health", "report", "--date", day.isoformat(), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_fresh_install_has_no_critical_and_no_report_before_it_existed(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    with Vault.open(config) as vault:  # the daemon starts a minute after init
        session = open_session(vault, "device:test", time.time() + 60)
        heartbeat(vault, session, time.time() + 61)
    today = _report(config_file, _today(config))
    assert [f for f in today["findings"] if f["severity"] == "critical"] == []
    assert today["so_far"] is True and "(so far, until " in today["summary"]
    yesterday = run_cli(config_file, "health", "report", "--date", (_today(config) - dt.timedelta(days=1)).isoformat())
    assert yesterday.returncode == 7
    assert yesterday.stderr.strip().endswith("is before the recorder was put in service ("
                                             f"{today['in_service_since']}): there is nothing to report for it")
    assert not list(config.reports_path.glob("*.json"))


def test_today_counts_only_the_time_that_has_passed(vault, config):
    now = time.time()
    midnight = dt.datetime.combine(_today(config), dt.time(0), config.zone).timestamp()
    elapsed = now - midnight
    session = open_session(vault, "device:test", midnight)
    close_session(vault, session, midnight + elapsed / 2)
    report = build_report(vault, config, _today(config), now)
    assert report["coverage_ratio"] == pytest.approx(0.5, abs=0.001)
    # Running with a fresh heartbeat: no gap at the moment the report is made.
    session = open_session(vault, "device:test", midnight + elapsed / 2)
    heartbeat(vault, session, now - 2)
    report = build_report(vault, config, _today(config), now)
    assert report["coverage_ratio"] == 1.0 and report["gaps"] == []
    assert report["measured"]["end"] == report["generated_at"]


def test_a_future_day_is_a_one_line_error_and_writes_nothing(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    tomorrow = (_today(config) + dt.timedelta(days=1)).isoformat()
    result = run_cli(config_file, "health", "report", "--date", tomorrow)
    assert result.returncode == 7
    assert result.stderr == f"callrec: error: {tomorrow} has not begun yet: a report covers a day that has started" \
                            " (today's covers the time so far)\n"
    assert not report_paths(config, dt.date.fromisoformat(tomorrow))["json"].exists()


@pytest.mark.slow
def test_a_replay_into_yesterday_rewrites_yesterdays_stored_report(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    yesterday = _today(config) - dt.timedelta(days=1)
    with Vault.open(config) as vault:  # in service since the day before yesterday, then down
        start = dt.datetime.combine(yesterday - dt.timedelta(days=1), dt.time(0), config.zone).timestamp()
        close_session(vault, open_session(vault, "device:test", start), start + 3600)
    before = _report(config_file, yesterday)
    stored = report_paths(config, yesterday)["json"]
    assert json.loads(stored.read_text())["calls"]["recorded"] == 0 and before["coverage_ratio"] == 0.0

    speech = load_speech(FIXTURES / "audio" / "ja_1.flac", 8000)
    feed = FeedBuilder(seed=2).hiss(3).speech(speech).hiss(1).busy_tone(3).hiss(2).write(tmp_path / "outage.wav")
    at_ten = dt.datetime.combine(yesterday, dt.time(10), config.zone).isoformat()
    result = run_cli(config_file, "replay", str(feed), "--start", at_ten, "--no-asr")
    assert result.returncode == 0, result.stderr

    after = json.loads(stored.read_text())
    assert after["calls"]["recorded"] == 1 and after["coverage_ratio"] > 0.0
    assert [g["cause"] for g in after["gaps"]] == ["service_stopped", "service_stopped"]


def test_a_lawfully_deleted_call_reconciles_without_a_critical(tmp_path):
    config_file = write_config(tmp_path, CDR_CONFIG)
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    from callrec.identity import current_account

    add_user(vault, "admin", current_account(), ["ops", "admin"])
    add_user(vault, "admin", "approver-b", ["approver"])
    recorded = ["09:05", "10:20"]
    build_day(vault, config, DayPlan(calls=recorded))
    (gone,) = vault.query("SELECT id FROM calls WHERE kind = 'call' AND started_ts = ?", (at(config, "10:20"),))[0]
    csv_file = tmp_path / "cdr.csv"
    csv_file.write_text(_csv([(HOTLINE, "08:00", 30)] + [(HOTLINE, t, 120) for t in recorded]))
    assert run_cli(config_file, "cdr", "import", str(csv_file)).returncode == 0
    assert _report(config_file, DAY)["calls"]["recorded"] == 2
    stored = report_paths(config, DAY)["json"]

    request = request_deletion(vault, current_account(), gone, "the caller asked for it (letter 12)")
    approver = Context(config_flag=str(config_file), actor="approver-b", out=io.StringIO(), err=io.StringIO())
    assert execute(approver, ["delete-request", "approve", str(request)]) == 0, approver.err.getvalue()
    assert json.loads(stored.read_text())["calls"]["recorded"] == 1  # the stored day follows the deletion

    report = _report(config_file, DAY)
    exchange = [f for f in report["findings"] if f["check"] == "exchange_log"]
    today = dt.datetime.now(config.zone).date().isoformat()
    assert [(f["severity"], f["message"]) for f in exchange] == [
        ("ok", f"recorded, then deleted by request {request} on {today}")]
    assert not [f for f in report["findings"] if f["severity"] == "critical"]
    vault.close()


def test_a_maintenance_window_turns_its_gap_into_a_warning(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    with Vault.open(config) as vault:
        build_day(vault, config, DayPlan(stopped=("10:00", "11:00")))
        # Announced ahead, back then (the CLI refuses a past start today: see test_maintenance_ahead.py).
        insert_maintenance_window(vault, "vendor", at(config, "09:55"), at(config, "11:05"), "exchange firmware update")
    listed = json.loads(run_cli(config_file, "maintenance", "list", "--json").stdout)
    assert [(w["id"], w["reason"]) for w in listed] == [(1, "exchange firmware update")]

    report = _report(config_file, DAY)
    assert [(f["check"], f["severity"], f["message"]) for f in report["findings"] if f["severity"] != "ok"] == [
        ("maintenance", "warning", "not recording for 60 min during planned maintenance (exchange firmware update):"
                                   " service stopped")]
    assert report["maintenance"][0]["reason"] == "exchange firmware update"
    assert [g["cause"] for g in report["gaps"]] == ["service_stopped"]  # still a gap: not recorded is not recorded
    with Vault.open(config) as vault:
        assert [(e.actor, e.action, e.outcome) for e in log_entries(vault) if e.action.startswith("maintenance")] == [
            ("vendor", "maintenance.add", "ok")]
    assert report["maintenance"][0]["by"] == "vendor"


def test_maintenance_is_refused_to_ops(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(load_config(config_file)) as vault:
        add_user(vault, "admin", "ops-person", ["ops"])
    err = io.StringIO()
    code = execute(Context(config_flag=str(config_file), actor="ops-person", out=io.StringIO(), err=err),
                   ["maintenance", "add", "--from", "2026-08-03T09:00", "--to", "2026-08-03T10:00", "--reason", "x"])
    assert code == 4 and "needs the role admin or maintainer" in err.getvalue()


def test_the_timeline_shows_time_before_service_as_not_in_service(vault, config):
    from callrec.health._html import timeline_svg

    noon = at(config, "12:00")
    close_session(vault, open_session(vault, "device:test", noon), noon + 3600)  # first capture at noon
    report = build_report(vault, config, DAY, at(config, "00:00", DAY + dt.timedelta(days=1)))
    assert report["in_service_since"] == "2026-08-03T12:00:00+09:00"
    assert report["coverage_ratio"] == pytest.approx(1 / 12, abs=0.001)  # 1 h of the 12 h in service
    svg = timeline_svg(report["_timeline"], config.zone, noon + 86400)
    assert "<title>not in service</title>" in svg
    assert [g["start"][11:16] for g in report["gaps"]] == ["13:00"]  # the morning is no gap
