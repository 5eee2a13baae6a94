"""Reconciling the exchange's call log with the recordings."""

from __future__ import annotations

import json

from callrec.health import build_report
from tests.conftest import record_call, run_cli, write_config
from tests.health.conftest import DAY, DayPlan, at, build_day

HOTLINE = "03-1234-5678"
CDR_CONFIG = f'[asr]\nenabled = false\n[health.cdr]\nhotline_number = "{HOTLINE}"\ncalled_column = "着信番号"\n' \
             'start_column = "開始"\nduration_column = "通話秒数"\ntime_format = "%Y/%m/%d %H:%M:%S"\n'


def _csv(rows: list[tuple[str, str, int]]) -> str:
    lines = ["発信番号,着信番号,開始,通話秒数"]
    lines += [f"09011112222,{called},2026/08/03 {hhmm}:00,{secs}" for called, hhmm, secs in rows]
    return "\n".join(lines) + "\n"


def _setup(tmp_path):
    from callrec.config import load_config
    from callrec.identity import current_account
    from callrec.vault import Vault
    from callrec.vault.people import add_user

    config_file = write_config(tmp_path, CDR_CONFIG)
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    add_user(vault, "admin", current_account(), ["ops"])
    return config_file, config, vault


def test_the_one_exchange_call_that_was_not_recorded_is_critical(tmp_path):
    config_file, config, vault = _setup(tmp_path)
    recorded = ["09:05", "10:20", "11:40", "16:30"]
    build_day(vault, config, DayPlan(calls=recorded))
    # 14:10 rang at the exchange but there is no recording; 12:00 is another number.
    rows = [(HOTLINE, "08:00", 30)] + [(HOTLINE, t, 120) for t in recorded[:2]] + [("0312349999", "12:00", 60)] \
        + [(HOTLINE, "14:10", 95)] + [(HOTLINE, t, 120) for t in recorded[2:]]
    csv_file = tmp_path / "cdr.csv"
    csv_file.write_bytes(_csv(rows).encode("cp932"))
    (tmp_path / "callrec.toml").write_text((tmp_path / "callrec.toml").read_text() + 'encoding = "cp932"\n')

    result = run_cli(config_file, "cdr", "import", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported 6 call(s) to the hotline (6 new) of 7 row(s)")
    again = run_cli(config_file, "cdr", "import", str(csv_file))
    assert "(0 new)" in again.stdout

    report = json.loads(run_cli(config_file, "health", "report", "--date", DAY.isoformat(), "--json").stdout)
    exchange = [f for f in report["findings"] if f["check"] == "exchange_log"]
    assert exchange == [{"check": "exchange_log", "severity": "critical",
                         "message": "not recorded: the exchange logged a 95 s call with no recording",
                         "start": "2026-08-03T14:10:00+09:00", "end": "2026-08-03T14:11:35+09:00"}]
    assert "09011112222" not in json.dumps(report)
    vault.close()


def test_a_recording_the_exchange_does_not_know_is_a_warning(tmp_path):
    config_file, config, vault = _setup(tmp_path)
    build_day(vault, config, DayPlan(calls=["09:05", "10:20"]))
    (tmp_path / "cdr.csv").write_text(_csv([(HOTLINE, "08:00", 30), (HOTLINE, "09:05", 60)]))
    assert run_cli(config_file, "cdr", "import", str(tmp_path / "cdr.csv")).returncode == 0
    exchange = [f for f in build_report(vault, config, DAY)["findings"] if f["check"] == "exchange_log"]
    assert [(f["severity"], f["start"]) for f in exchange] == [("warning", "2026-08-03T10:20:00+09:00")]
    vault.close()


def test_no_imported_log_means_no_reconciliation_findings(vault, config):
    build_day(vault, config, DayPlan())
    record_call(vault, started_ts=at(config, "12:00"))
    assert not [f for f in build_report(vault, config, DAY)["findings"] if f["check"] == "exchange_log"]


def test_a_log_without_the_mapped_column_is_a_one_line_error(tmp_path):
    config_file, _, vault = _setup(tmp_path)
    vault.close()
    (tmp_path / "bad.csv").write_text("from,to,when\n1,2,3\n")
    result = run_cli(config_file, "cdr", "import", str(tmp_path / "bad.csv"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"callrec: error: exchange call log {tmp_path / 'bad.csv'}: has no column '着信番号':"
                                     " set the column names in [health.cdr]")
