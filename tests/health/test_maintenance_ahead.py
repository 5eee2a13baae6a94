"""Maintenance is announced ahead (DESIGN.md invariant 3): a window starting in the past is refused
for every role; a running window can be ended early, one not started cancelled; an admin's note on
a past gap never changes its severity. Each is logged and in the report, through the CLI as the
role that uses it."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest

from callrec.cli import execute
from callrec.cli._context import Context
from callrec.config import load_config
from callrec.health import build_report
from callrec.vault import Vault
from callrec.vault.log import log_entries
from callrec.vault.ops import close_session, heartbeat, open_session
from callrec.vault.people import add_user
from tests.conftest import run_cli, write_config

ROLES = ("maintainer", "admin", "ops", "reviewer", "approver")


@pytest.fixture
def site(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(load_config(config_file)) as vault:
        for role in ROLES:
            add_user(vault, "admin", f"the-{role}", [role])
    return config_file


def _as(config_file, actor: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = execute(Context(config_flag=str(config_file), actor=actor, out=out, err=err), list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("start", ["-2h", "yesterday", "2026-08-03T09:00:00+09:00"])
def test_a_past_window_is_refused_for_every_role(site, role, start):
    code, out, err = _as(site, f"the-{role}", "maintenance", "add", "--from", start, "--to", "+1h", "--reason", "x")
    assert code in (2, 4) and out == "" and len(err.strip().splitlines()) == 1, (code, err)
    if role in ("maintainer", "admin"):
        assert code == 2 and "maintenance is announced ahead" in err
    with Vault.open(load_config(site)) as vault:
        assert vault.query("SELECT count(*) FROM maintenance_windows")[0][0] == 0


def test_announce_ahead_end_early_cancel_and_the_report(site):
    code, out, _ = _as(site, "the-maintainer", "maintenance", "add", "--from", "now", "--to", "+2h",
                       "--reason", "exchange firmware update", "--json")
    running = json.loads(out)
    assert code == 0 and running["id"] == 1 and running["by"] == "the-maintainer"
    code, out, _ = _as(site, "the-admin", "maintenance", "add", "--from", "+1d", "--to", "+25h", "--reason", "cabling")
    assert code == 0 and out.startswith("maintenance window 2 announced: ")

    assert _as(site, "the-maintainer", "maintenance", "cancel", "1")[0] == 2  # started: end it instead
    assert _as(site, "the-maintainer", "maintenance", "end", "2")[0] == 2  # not started: cancel it instead
    assert _as(site, "the-ops", "maintenance", "end", "1")[0] == 4
    assert _as(site, "the-maintainer", "maintenance", "end", "9")[0] == 3
    assert _as(site, "the-maintainer", "maintenance", "end", "1")[0] == 0
    assert _as(site, "the-admin", "maintenance", "cancel", "2")[0] == 0
    assert _as(site, "the-admin", "maintenance", "cancel", "2")[0] == 3  # already cancelled

    listed = {w["id"]: w for w in json.loads(_as(site, "the-admin", "maintenance", "list", "--json")[1])}
    assert (listed[1]["state"], listed[1]["ended_by"]) == ("ended early", "the-maintainer")
    assert listed[1]["to_ts"] < listed[1]["announced_to_ts"] and listed[1]["to_ts"] <= time.time()
    assert (listed[2]["state"], listed[2]["cancelled_by"]) == ("cancelled", "the-admin")
    config = load_config(site)
    with Vault.open(config) as vault:
        actions = [(e.actor, e.action) for e in log_entries(vault) if e.action.startswith("maintenance.")
                   and e.outcome == "ok"]
        report = build_report(vault, config, dt.datetime.now(config.zone).date())
    assert actions == [("the-maintainer", "maintenance.add"), ("the-admin", "maintenance.add"),
                       ("the-maintainer", "maintenance.end"), ("the-admin", "maintenance.cancel")]
    assert [(w["by"], w["state"]) for w in report["maintenance"]] == [("the-maintainer", "ended early")]


def test_a_gap_note_is_the_admins_and_never_changes_severity(site):
    config = load_config(site)
    now = time.time()
    day = dt.datetime.fromtimestamp(now, config.zone).date() - dt.timedelta(days=1)
    noon = dt.datetime.combine(day, dt.time(12), config.zone)
    with Vault.open(config) as vault:
        first = open_session(vault, "test", noon.timestamp() - 7200)
        close_session(vault, first, noon.timestamp() - 3600)
        heartbeat(vault, open_session(vault, "test", noon.timestamp() - 3000), now)
    before = _severities(config, day, now)
    assert ("service_gaps", "critical") in before
    inside = (noon - dt.timedelta(minutes=55)).isoformat()
    assert _as(site, "the-maintainer", "gap", "note", "--at", inside, "--text", "power cut")[0] == 4
    code, out, _ = _as(site, "the-admin", "gap", "note", "--at", inside, "--text", "power cut in the building",
                       "--json")
    assert code == 0 and json.loads(out)["id"] == 1
    assert _severities(config, day, now) == before
    with Vault.open(config) as vault:
        report = build_report(vault, config, day, now)
        assert [(e.actor, e.action) for e in log_entries(vault) if e.action == "gap.note" and e.outcome == "ok"] == [
            ("the-admin", "gap.note")]
    (gap,) = [g for g in report["gaps"] if g["cause"] == "service_stopped" and "notes" in g]
    assert gap["notes"] == [{"note": "power cut in the building", "by": "the-admin"}]


def _severities(config, day: dt.date, now: float) -> list[tuple[str, str]]:
    with Vault.open(config) as vault:
        report = build_report(vault, config, day, now)
    return sorted((f["check"], f["severity"]) for f in report["findings"])
