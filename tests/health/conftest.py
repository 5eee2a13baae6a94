"""Building days of line history in a real vault, through the recorder and the coverage ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from callrec.access import CheckResult, check_result
from callrec.config import Config
from callrec.vault import Vault
from callrec.vault.ops import add_gap, close_session, heartbeat, open_session
from tests.conftest import record_call, write_config

DAY = dt.date(2026, 8, 3)  # a Monday


def at(config: Config, hhmm: str, day: dt.date = DAY) -> float:
    """A local time on ``day`` as UNIX seconds."""
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), config.zone).timestamp()


@dataclass
class DayPlan:
    calls: list[str] = field(default_factory=lambda: ["09:05", "10:20", "11:40", "14:10", "16:30"])
    test_call: str | None = "08:00"
    flatline: tuple[str, str] | None = None
    overflow: tuple[str, str] | None = None
    stopped: tuple[str, str] | None = None


def build_day(vault: Vault, config: Config, plan: DayPlan, day: dt.date = DAY) -> None:
    """One local day of capture: sessions covering it, explicit gaps, calls through the real recorder."""
    start, end = at(config, "00:00", day) - 60, at(config, "00:00", day + dt.timedelta(days=1)) + 60
    session = open_session(vault, "test", start)
    if plan.stopped:
        close_session(vault, session, at(config, plan.stopped[0], day))
        session = open_session(vault, "test", at(config, plan.stopped[1], day))
    close_session(vault, session, end)
    for span, cause in ((plan.flatline, "flatline"), (plan.overflow, "overflow")):
        if span:
            add_gap(vault, at(config, span[0], day), at(config, span[1], day), cause)
    for i, hhmm in enumerate(plan.calls):
        record_call(vault, seconds=2.0, started_ts=at(config, hhmm, day), seed=i)
    if plan.test_call:
        record_call(vault, seconds=2.0, started_ts=at(config, plan.test_call, day), kind="test")


def ended_outage(config: Config, now: float, extra_h: float = 0.0) -> tuple[float, CheckResult]:
    """Capture for three hours, stopped at T for ten minutes, running since (its heartbeat ``extra_h``
    hours past ``now``); T is 30 min before ``now``. Returns T and the live check during the outage."""
    t = now - 1800
    with Vault.open(config) as vault:
        first = open_session(vault, "device:test", now - 3 * 3600)
        heartbeat(vault, first, t)
        record_call(vault, started_ts=t - 600, kind="test")
        close_session(vault, first, t, "stopped")
        during = check_result(vault, t + 300)
        heartbeat(vault, open_session(vault, "device:test", t + 600), now + extra_h * 3600)
    return t, during


@pytest.fixture
def vault(config: Config):
    """An installed vault as 'callrec init' leaves it: with its first checkpoint in the witness file."""
    v, _ = Vault.initialise(config)
    v.checkpoint()
    yield v
    v.close()


@pytest.fixture
def quiet_config_file(tmp_path):
    """A config whose live checks can all pass: ASR off (no model is needed)."""
    return write_config(tmp_path, "[asr]\nenabled = false\n")


@pytest.fixture
def ops(vault):
    """This account holds the ops role; returns its name."""
    from callrec.identity import current_account
    from callrec.vault.people import add_user

    name = current_account()
    add_user(vault, "admin", name, ["ops"])
    return name
