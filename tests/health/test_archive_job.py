"""The nightly archive job closes finished days into their own files and scrubs a share of them;
the daily report says since when the whole archive was re-checked."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from callrec.config import load_config
from callrec.health import HealthService, build_report
from callrec.vault import Vault
from callrec.vault._periods import list_periods
from tests.conftest import record_call, write_config
from tests.vault.test_archive import _days_ago


def test_archive_job_closes_days_scrubs_and_the_report_says_when(tmp_path):
    config = load_config(write_config(tmp_path, "[health]\nscrub_days = 2\n"))
    vault, _ = Vault.initialise(config)
    for d in (4, 3, 2, 1):
        record_call(vault, seconds=1, started_ts=_days_ago(vault, d), seed=d)
    service = HealthService(config, vault)
    service.start()
    try:
        assert service.scheduler.get_job("archive") is not None
        assert len(service.run_archive()) == 4
        checked = {p.name: p.verified_ts for p in list_periods(vault)}
        service.run_archive()  # half of the bytes a night with scrub_days = 2
        rechecked = {p.name: p.verified_ts for p in list_periods(vault)}
        assert sum(checked[n] != rechecked[n] for n in checked) == 2
        report = build_report(vault, config, dt.datetime.now(config.zone).date())
        assert report["archive"]["closed_days"] == 4 and report["archive"]["last_full_check"]

        victim = vault.periods_dir / list_periods(vault, order="verified_ts")[0].file
        st = victim.stat()
        data = bytearray(victim.read_bytes())
        data[-100] ^= 0xFF
        victim.write_bytes(bytes(data))
        os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
        with pytest.raises(RuntimeError, match="verify --full"):
            service.run_archive()
    finally:
        service.stop()
        vault.close()
