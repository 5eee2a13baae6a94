"""Monitoring follows the present: a 10-minute outage followed by recovery is CRITICAL while it
lasts, a WARNING naming its span once over, and OK after ``callrec health ack`` (ops) or once
``recovered_window_h`` has passed; the daily report keeps it critical for its day. Real vault,
real ledger rows; the clock of the live check is injected through ``check_result``'s ``now``."""

from __future__ import annotations

import datetime as dt
import io
import time

from callrec.access import check_result
from callrec.cli import execute
from callrec.cli._context import Context
from callrec.health import build_report
from callrec.identity import current_account
from callrec.timefmt import format_ts
from callrec.vault import Vault
from callrec.vault.log import log_entries
from callrec.vault.people import add_user
from tests.conftest import run_cli, write_config
from tests.health.conftest import ended_outage


def _as(config_file, actor: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = execute(Context(config_flag=str(config_file), actor=actor, out=out, err=err), list(argv))
    return code, out.getvalue(), err.getvalue()


def test_ten_minute_outage_is_critical_then_warning_then_ok_after_ack(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    me = current_account()
    from callrec.config import load_config

    config = load_config(config_file)
    with Vault.open(config) as vault:
        add_user(vault, "admin", me, ["ops"])
        add_user(vault, "admin", "vendor", ["maintainer"])
    now = time.time()
    t, during = ended_outage(config, now)
    assert during.code == 2 and during.lines[0].startswith("CRITICAL capture_alive: capture stopped (stopped) [since ")
    assert during.unacknowledged == [], "an outage going on is not for acknowledging"
    with Vault.open(config) as vault:
        assert check_result(vault, now).unacknowledged == ["service_gaps"]

    after = run_cli(config_file, "health", "check")
    span = f"[{format_ts(t, config.zone, 'seconds')} .. {format_ts(t + 600, config.zone, 'seconds')}]"
    assert after.returncode == 1, after.stdout
    lines = after.stdout.splitlines()
    assert lines[0].startswith("CALLREC WARNING - service_gaps: not recording for 10 min"), lines
    assert lines[1:] == [f"WARNING service_gaps: not recording for 10 min: service stopped, over (seen: "
                         f"'callrec health ack service_gaps') {span}"]
    assert " now" not in after.stdout

    refused = _as(config_file, "vendor", "health", "ack", "service_gaps")
    assert refused[0] == 4 and "needs the role ops" in refused[2]
    typo = run_cli(config_file, "health", "ack", "service_gap")
    assert typo.returncode == 2 and "did you mean 'service_gaps'" in typo.stderr
    acked = run_cli(config_file, "health", "ack", "service_gaps", "--json")
    assert acked.returncode == 0, acked.stderr
    ok = run_cli(config_file, "health", "check")
    assert (ok.returncode, ok.stdout.splitlines()) == (0, ["CALLREC OK - recording, every check passed"])
    with Vault.open(config) as vault:
        assert check_result(vault, time.time()).unacknowledged == []

    with Vault.open(config) as vault:
        assert [(e.actor, e.outcome) for e in log_entries(vault) if e.action == "health.ack"] == [
            ("vendor", "refused"), (me, "ok")]
        report = build_report(vault, config, dt.datetime.fromtimestamp(t, config.zone).date(), now)
    assert [(f["check"], f["severity"]) for f in report["findings"] if f["check"] == "service_gaps"] == [
        ("service_gaps", "critical")]


def test_an_outage_is_ok_once_the_recovered_window_has_passed_without_ack(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n[health]\nrecovered_window_h = 2\n")
    assert run_cli(config_file, "init").returncode == 0
    from callrec.config import load_config

    config = load_config(config_file)
    now = time.time()
    ended_outage(config, now, extra_h=3)
    with Vault.open(config) as vault:
        inside = check_result(vault, now)
        after = check_result(vault, now + 3 * 3600)
    assert inside.code == 1 and any(line.startswith("WARNING service_gaps") for line in inside.lines)
    assert not any("service_gaps" in line for line in after.lines), after.lines
