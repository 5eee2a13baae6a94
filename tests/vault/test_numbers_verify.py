"""The chain explains a call's and a case's numbers without revealing them; verify catches an edit."""

from __future__ import annotations

import time

import pytest

from callrec.vault import Vault, _db, read_key_file
from callrec.vault.log import log_entries
from callrec.vault.people import CallNumbers, open_case, write_numbers
from tests.conftest import record_call, run_cli

NUMBER = "+819011112222"


@pytest.fixture
def numbered(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    with Vault.open(config) as vault:
        call = record_call(vault, seconds=0.5)
        with vault.transaction():
            write_numbers(vault, call, CallNumbers("in", NUMBER, "+81312340000"))
        open_case(vault, "alice", "a death at home", time.time() - 7200, time.time(), (NUMBER,))
        entries = [e for e in log_entries(vault) if e.action in ("call.numbers", "case.open")]
        vault.checkpoint()
    assert len(entries) == 2
    return config_file, config, call


def test_the_log_names_no_number(numbered):
    _, config, _ = numbered
    with Vault.open(config) as vault:
        details = vault.query("SELECT coalesce(detail, '') FROM access_log")
    assert not any("9011112222" in d for (d,) in details)


@pytest.mark.parametrize("edit", [
    "UPDATE call_numbers SET remote_number = '+819099999999'",
    "DELETE FROM call_numbers",
    "UPDATE case_numbers SET number = '+819099999999'",
    "DELETE FROM case_numbers",
    "INSERT INTO case_numbers (case_id, number) VALUES (1, '+819099999999')",
])
def test_verify_catches_a_changed_number_and_names_none(numbered, edit):
    config_file, config, _ = numbered
    assert run_cli(config_file, "verify").returncode == 0
    conn = _db._raw(config.vault_path, read_key_file(config.key_path))
    conn.execute(edit)
    conn.commit()
    conn.close()
    result = run_cli(config_file, "verify")
    assert result.returncode == 8, result.stdout + result.stderr
    assert "numbers" in result.stdout
    assert "9099999999" not in result.stdout + result.stderr and "9011112222" not in result.stdout + result.stderr
