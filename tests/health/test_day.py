"""A day with a flatline hour, an overflow, a stopped service and no test call, against a clean day."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from callrec.health import build_report
from tests.conftest import run_cli
from tests.health.conftest import DAY, DayPlan, build_day

BAD = DayPlan(test_call=None, flatline=("13:00", "14:00"), overflow=("10:00:00", "10:00:12"),
              stopped=("15:00", "15:30"))


def _by_check(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["check"], []).append(f)
    return out


def test_clean_day_has_no_gaps_and_no_findings(vault, config):
    build_day(vault, config, DayPlan())
    report = build_report(vault, config, DAY)
    assert report["gaps"] == []
    assert report["findings"] == []
    assert report["coverage_ratio"] == 1.0
    assert report["calls"]["recorded"] == 5 and report["calls"]["test_calls"] == 1


def test_bad_day_has_each_gap_with_its_cause_and_a_finding_for_it(vault, config):
    build_day(vault, config, BAD)
    report = build_report(vault, config, DAY)
    gaps = [(g["cause"], g["start"], g["end"]) for g in report["gaps"]]
    assert gaps == [
        ("overflow", "2026-08-03T10:00:00+09:00", "2026-08-03T10:00:12+09:00"),
        ("flatline", "2026-08-03T13:00:00+09:00", "2026-08-03T14:00:00+09:00"),
        ("service_stopped", "2026-08-03T15:00:00+09:00", "2026-08-03T15:30:00+09:00"),
    ]
    assert report["coverage_ratio"] == pytest.approx(1 - (3600 + 12 + 1800) / 86400)
    found = _by_check(report)
    assert set(found) == {"flatline", "queue_overflow", "service_gaps", "test_call"}
    assert [(f["severity"], f["start"], f["end"]) for f in found["flatline"]] == [
        ("critical", "2026-08-03T13:00:00+09:00", "2026-08-03T14:00:00+09:00")]
    assert found["queue_overflow"][0]["severity"] == "warning"
    assert found["service_gaps"][0]["severity"] == "critical"
    assert "service stopped" in found["service_gaps"][0]["message"]
    assert found["test_call"][0]["message"] == "no test call was recorded on this day"
    assert report["summary"].startswith("2026-08-03: 93.7% recorded, 3 gap(s), 5 call(s) and 0 test call(s), 2 critical")


def test_quiet_service_hour_is_a_finding_only_against_a_busy_baseline(vault, config):
    busy = ["09:05", "09:15", "09:25", "09:35"]
    for weeks in range(1, 5):
        build_day(vault, config, DayPlan(calls=busy + ["10:10"]), DAY - dt.timedelta(weeks=weeks))
    build_day(vault, config, DayPlan(calls=["10:10"]))
    found = _by_check(build_report(vault, config, DAY))
    # 08:30-09:30 had three calls every week before and none today; 09:30-10:30 has today's call.
    assert [(f["start"], f["end"]) for f in found["expected_activity"]] == [
        ("2026-08-03T08:30:00+09:00", "2026-08-03T09:30:00+09:00")]
    assert found["expected_activity"][0]["message"] == "no calls in a service hour that usually has 3.0"


def test_report_cli_prints_the_contract_and_writes_three_files(config_file, config, vault, ops):
    build_day(vault, config, BAD)
    result = run_cli(config_file, "health", "report", "--date", "2026-08-03", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"date", "window", "coverage_ratio", "gaps", "findings", "calls", "access_log", "chain_head"} <= set(report)
    assert report["window"] == {"start": "2026-08-03T00:00:00+09:00", "end": "2026-08-04T00:00:00+09:00"}
    assert set(report["calls"]) >= {"recorded", "test_calls", "total_duration_s", "transcribed", "pending", "failed"}
    for name in ("2026-08-03.json", "2026-08-03.html", "2026-08-03.txt"):
        assert (config.reports_path / name).stat().st_size > 0
    text = run_cli(config_file, "health", "report", "--date", "2026-08-03")
    assert text.stdout.splitlines()[0] == report["summary"]
    assert any(line.startswith("CRITICAL flatline:") for line in text.stdout.splitlines())


def test_report_carries_the_chain_head_and_checkpoints_it(vault, config):
    build_day(vault, config, DayPlan())
    report = build_report(vault, config, DAY)
    seq, digest = vault.query("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1")[0]
    assert report["chain_head"] == {"seq": seq, "hash": digest}
    last = json.loads(config.witness_path.read_text().splitlines()[-1])
    assert (last["seq"], last["hash"]) == (seq, digest)


def test_bad_date_is_a_one_line_usage_error(config_file, vault, ops):
    result = run_cli(config_file, "health", "report", "--date", "3 Aug")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "YYYY-MM-DD" in result.stderr
