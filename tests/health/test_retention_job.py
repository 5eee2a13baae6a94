"""The daemon's scheduler runs retention daily when ``keep_days`` is set, and logs each purge."""

from __future__ import annotations

import time
from types import MappingProxyType

import pytest

from callrec.access import _table
from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.errors import AccessDenied
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.calls import get_call
from callrec.vault.log import log_entries
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
    assert (get_call(vault, old).status, get_call(vault, new).status) == ("purged", "sealed")
    assert [(e.call_id, e.actor) for e in log_entries(vault) if e.action == "purge"] == [(old, SERVICE_ACTOR)]
    vault.close()


def test_the_role_table_alone_lets_the_scheduled_retention_run(tmp_path, monkeypatch):
    """Take ``service`` out of the table's ``retention.run`` row: the daemon's job is refused (and
    the refusal logged) like anyone's, and nothing is purged."""
    config = load_config(write_config(tmp_path, "[retention]\nkeep_days = 30\n"))
    vault, _ = Vault.initialise(config)
    old = record_call(vault, seconds=1, started_ts=time.time() - 40 * 86400)
    monkeypatch.setattr(_table, "ACTION_ROLES",
                        MappingProxyType({**_table.ACTION_ROLES, "retention.run": frozenset({"admin"})}))
    service = HealthService(config, vault)
    try:
        with pytest.raises(AccessDenied):
            service.run_retention()
    finally:
        service.stop()
    assert get_call(vault, old).status == "sealed"
    assert [(e.actor, e.action) for e in log_entries(vault) if e.outcome == "refused"] == [(SERVICE_ACTOR, "retention.run")]
    vault.close()


def test_no_retention_job_when_keeping_forever(config, vault):
    service = HealthService(config, vault)
    service.start()
    try:
        assert service.scheduler.get_job("retention") is None
    finally:
        service.stop()
