"""``callrec users add`` checks the OS account; ``users remove`` is logged, explained by the log
to ``verify``, and never leaves the vault without an admin. Real command, real vault; tests run
as root, which ``init`` makes the first admin."""

from __future__ import annotations

import json

import pytest

from callrec.config import load_config
from callrec.vault import Vault, entries
from tests.conftest import run_cli


@pytest.fixture
def site(config_file):
    assert run_cli(config_file, "init").returncode == 0
    return config_file


def _users(config_file) -> dict[str, list[str]]:
    return {u["name"]: u["roles"] for u in json.loads(run_cli(config_file, "users", "list", "--json").stdout)}


def _log(config_file, action: str) -> list:
    with Vault.open(load_config(config_file)) as vault:
        return [e for e in entries(vault.conn) if e.action == action]


def _one_line(done, rc: int, *words: str) -> None:
    assert done.returncode == rc, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("callrec: error: "), done.stderr
    for word in words:
        assert word in done.stderr


def test_add_refuses_an_account_that_does_not_exist(site):
    _one_line(run_cli(site, "users", "add", "nosuchaccount", "--role", "ops"), 2, "nosuchaccount", "--allow-unknown")
    assert "nosuchaccount" not in _users(site)
    assert [e.detail["user"] for e in _log(site, "user.grant")] == ["root"], "a refused add grants nothing"


def test_add_accepts_a_planned_account_with_allow_unknown(site):
    done = run_cli(site, "users", "add", "plannedops", "--role", "ops", "--allow-unknown")
    assert done.returncode == 0, done.stderr
    assert "no such OS account yet" in done.stdout
    assert _users(site)["plannedops"] == ["ops"]


def test_add_accepts_an_existing_account(site):
    assert run_cli(site, "users", "add", "nobody", "--role", "maintainer").returncode == 0
    assert _users(site)["nobody"] == ["maintainer"]


def test_remove_takes_every_role_logs_it_and_verify_explains_it(site):
    run_cli(site, "users", "add", "nobody", "--role", "ops", "--role", "approver")
    done = run_cli(site, "users", "remove", "nobody")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nobody removed (held approver, ops)"
    assert "nobody" not in _users(site)
    (revoked,) = _log(site, "user.revoke")
    assert revoked.actor == "root" and revoked.detail == {"user": "nobody", "roles": ["approver", "ops"], "removed": True}
    verified = run_cli(site, "verify")
    assert verified.returncode == 0, verified.stdout
    with Vault.open(load_config(site)) as vault:
        assert vault.query("SELECT count(*) FROM user_roles WHERE name = 'nobody'") == [(0,)]


def test_remove_refuses_the_last_admin_in_one_line(site):
    _one_line(run_cli(site, "users", "remove", "root"), 3, "root is the last admin")
    assert _users(site)["root"] == ["admin"]
    assert not _log(site, "user.revoke")


def test_an_admin_cannot_remove_themselves_but_may_remove_another_admin(site):
    assert run_cli(site, "users", "add", "nobody", "--role", "admin").returncode == 0
    _one_line(run_cli(site, "users", "remove", "root"), 3, "cannot remove themselves")
    assert run_cli(site, "users", "remove", "nobody").returncode == 0
    assert _users(site) == {"root": ["admin"]}


def test_remove_of_an_unknown_person_is_not_found(site):
    _one_line(run_cli(site, "users", "remove", "nosuchperson"), 3, "user nosuchperson not found")
