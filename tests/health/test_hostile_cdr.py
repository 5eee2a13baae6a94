"""Hostile exchange call logs and far-off dates: every number and time is range-checked where it
enters; a bad row rejects the whole import with its line number and nothing is stored."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callrec.health import CdrFileError, import_cdr_bytes, run_checks
from tests.conftest import record_call, run_cli
from tests.health.test_reconcile import HOTLINE, _setup

HEADER = "発信番号,着信番号,開始,通話秒数\n"
GOOD = f"09011112222,{HOTLINE},2026/08/03 09:00:00,30\n"


def _stored(vault) -> tuple[int, int]:
    return (vault.query("SELECT count(*) FROM cdr_imports")[0][0], vault.query("SELECT count(*) FROM cdr_calls")[0][0])


@pytest.fixture
def site(tmp_path):
    config_file, config, vault = _setup(tmp_path)
    yield config_file, config, vault
    vault.close()


DURATIONS = (st.sampled_from(["1e308", "-1e308", "nan", "inf", "-inf", "-1", "86401", "1e999", "9" * 400, "0x10", ""])
             | st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.integers(-10**30, 10**30).map(str))
STARTS = (st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)).map(
    lambda d: d.strftime("%Y/%m/%d %H:%M:%S")) | st.sampled_from(["9999/12/31 23:59:59", "0001/01/01 00:00:00", "x"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=STARTS, duration=DURATIONS, before=st.integers(0, 3))
def test_any_row_is_imported_in_range_or_rejects_the_whole_file(site, start, duration, before):
    _, config, vault = site
    raw = (HEADER + GOOD * before + f"09011112222,{HOTLINE},{start},{duration}\n" + GOOD).encode()
    stored = _stored(vault)
    try:
        import_cdr_bytes(vault, config, raw, "x.csv", "ops")
    except CdrFileError as exc:
        message = str(exc)
        assert "\n" not in message and f"line {before + 2}: " in message and "nothing was imported" in message
        assert _stored(vault) == stored  # the good rows before it are not stored either
        return
    rows = vault.query("SELECT started_ts, ended_ts FROM cdr_calls")
    assert all(0 <= s <= e <= s + 86400 for s, e in rows)
    run_checks(vault, config, start=rows[0][0] - 3600, end=rows[0][0] + 3600, live=False)  # never overflows


def test_a_field_over_the_csv_limit_is_a_one_line_error(site, tmp_path):
    config_file, _, vault = site
    stored = _stored(vault)
    path = tmp_path / "big.csv"
    path.write_text(HEADER + GOOD + f'09011112222,{HOTLINE},"{"x" * 200_000}",30\n')
    result = run_cli(config_file, "cdr", "import", str(path))
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "line 3: not a CSV row" in line and "nothing was imported" in line
    assert _stored(vault) == stored


def test_a_huge_duration_through_the_cli_rejects_the_file_and_checks_keep_working(site, tmp_path):
    config_file, _, vault = site
    record_call(vault, seconds=1)
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + GOOD + f"09011112222,{HOTLINE},2026/08/03 10:00:00,1e308\n")
    result = run_cli(config_file, "cdr", "import", str(path))
    assert result.returncode == 2 and "line 3: the duration '1e308' is not 0 to 86400 seconds" in result.stderr
    assert _stored(vault) == (0, 0)
    assert run_cli(config_file, "health", "check").returncode in (0, 1, 2)  # an answer, not UNKNOWN


@pytest.mark.parametrize("argv", [("health", "report", "--date", "9999-12-31"),
                                  ("calls", "list", "--to", "9999-12-31"),
                                  ("calls", "list", "--from", "0001-01-01T00:00:00", "--to", "9999-12-31T23:59:59"),
                                  ("health", "report", "--date", "-99999999999d")])
def test_far_dates_on_the_command_line_are_one_line_usage_errors(site, argv):
    config_file, _, _ = site
    result = run_cli(config_file, *argv)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("callrec: error: ") and "internal error" not in line
