"""The daemon's scheduler runs retention daily when ``keep_days`` is set, and logs each purge."""

from __future__ import annotations

import time

from callrec.config import load_config
from callrec.health import HealthService
from callrec.vault import Vault, entries
from tests.conftest import record_call, write_config


def test_scheduled_retention_purges_old_calls_only(tmp_path):
    config = load_config(write_config(tmp_path, "[retention]\nkeep_days = 30\n"))
    vault, _ = Vault.initialise(config)
    old = record_call(vault, seconds=1, started_ts=time.time() - 40 * 86400)
    new = record_call(vault, seconds=1, started_ts=time.time() - 86400)
    service = HealthService(config, vault)
    service.start()
    try:
        assert service.scheduler.get_job("retention") is not None
        assert service.run_retention() == (1, 0)
    finally:
        service.stop()
    status = dict(vault.query("SELECT id, status FROM calls"))
    assert status == {old: "purged", new: "sealed"}
    assert [e.call_id for e in entries(vault.conn) if e.action == "purge"] == [old]
    vault.close()


def test_no_retention_job_when_keeping_forever(config, vault):
    service = HealthService(config, vault)
    service.start()
    try:
        assert service.scheduler.get_job("retention") is None
    finally:
        service.stop()
