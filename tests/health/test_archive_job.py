"""The nightly archive job closes finished days into their own files and scrubs a share of them;
the daily report says since when the whole archive was re-checked."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.health import build_report
from callrec.vault import Vault
from callrec.vault.archive._periods import list_periods
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


def test_archive_job_prunes_the_change_record_older_than_backups_need(tmp_path):
    config = load_config(write_config(tmp_path))
    vault, _ = Vault.initialise(config)
    record_call(vault, seconds=1, seed=1)
    with vault.transaction() as conn:  # these changes were made three weeks ago
        conn.execute("UPDATE row_changes SET ts = ts - 21 * 86400")
    old = vault.query("SELECT count(*) FROM row_changes")[0][0]
    record_call(vault, seconds=1, seed=2)
    recent = vault.query("SELECT count(*) FROM row_changes")[0][0] - old
    service = HealthService(config, vault)
    try:
        service.run_archive()
        assert vault.query("SELECT count(*) FROM row_changes WHERE ts < unixepoch() - 14 * 86400")[0][0] == 0
        assert vault.query("SELECT count(*) FROM row_changes")[0][0] >= recent  # and what the job itself changed
    finally:
        vault.close()
