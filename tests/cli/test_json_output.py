"""``--json`` on every command that prints a list or a status, through the real ``callrec``
command: each output parses and carries the keys docs/cli.md documents ("JSON schemas")."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.vault import Vault
from tests.conftest import record_call, run_cli, write_config

CASE_KEYS = {"id", "status", "reason", "opened_by", "opened_at", "window_from", "window_to", "decided_by",
             "decided_at", "closed_at", "attached", "decision_reason", "numbers"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A vault with a call, a case, a maintenance window and a deletion request; root is admin,
    reviewer (the case's opener) — tests run as root."""
    config_file = write_config(tmp_path_factory.mktemp("json"))
    assert run_cli(config_file, "init").returncode == 0
    assert run_cli(config_file, "users", "add", "root", "--role", "reviewer").returncode == 0
    with Vault.open(load_config(config_file)) as vault:
        call = record_call(vault, seconds=2, started_ts=time.time() - 600)
    opened = run_cli(config_file, "case", "open", "--reason", "a death at home", "--from", "-1h", "--to", "now",
                     "--json")
    assert opened.returncode == 0, opened.stderr
    case = str(json.loads(opened.stdout)["id"])
    for argv in (("maintenance", "add", "--from", "+1h", "--to", "+2h", "--reason", "firmware"),
                 ("delete-request", str(call), "--reason", "asked by the caller")):
        done = run_cli(config_file, *argv, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["id"] == 1  # a creating command prints the id of what it made
    return config_file, call, case


def test_creating_commands_print_their_id(site, tmp_path):
    made = _json(site[0], "backup", str(tmp_path / "copy"), "--new-key", str(tmp_path / "copy.key"), "--json")
    assert made["path"] == str(tmp_path / "copy") and made["head_seq"] > 0


def _json(config_file, *argv, rc: int = 0, user: str | None = None):
    done = run_cli(config_file, *argv, user=user)
    assert done.returncode == rc, done.stderr
    return json.loads(done.stdout)


def test_users_list(site):
    users = _json(site[0], "users", "list", "--json")
    assert {"name": "root", "roles": ["admin", "reviewer"]} in users
    assert all(set(u) == {"name", "roles"} for u in users)


def test_model_list_without_a_model(site):
    listing = _json(site[0], "model", "list", "--json")
    assert set(listing) == {"models_path", "active", "models"}
    assert listing["models"] == [] and listing["active"] is None


def test_case_list_and_show(site):
    config_file, call, case = site
    (listed,) = _json(config_file, "case", "list", "--json")
    assert set(listed) == CASE_KEYS and listed["id"] == int(case) and listed["status"] == "pending"
    shown = _json(config_file, "case", "show", case, "--json")
    assert set(shown) == {"case", "calls", "unknown_number_calls"} and set(shown["case"]) == CASE_KEYS
    (in_window,) = shown["calls"]
    assert in_window == {**in_window, "id": call, "kind": "call", "attached": False}
    assert set(in_window) == {"id", "started_at", "duration_s", "kind", "attached", "number"}


def test_json_goes_before_the_subcommand_too(site):
    assert _json(site[0], "case", "--json", "list") == _json(site[0], "case", "list", "--json")


def test_verify(site):
    assert _json(site[0], "verify", "--json") == {"ok": True, "findings": [], "trusted_heads": 0}


def test_health_check_keeps_the_plugin_exit_code(site):
    plain = run_cli(site[0], "health", "check")
    checked = _json(site[0], "health", "check", "--json", rc=plain.returncode)
    assert set(checked) == {"code", "status", "summary", "lines"}
    assert checked["code"] == plain.returncode == 2, "capture has never run: CRITICAL"
    # The two runs are seconds apart: a duration in the summary ("not recording for 3 s") may differ.
    strip = re.compile(r"\d+ s\b")
    assert strip.sub("N s", plain.stdout.splitlines()[0]) == strip.sub(
        "N s", f"CALLREC {checked['status']} - {checked['summary']}")
    assert len(plain.stdout.splitlines()) - 1 == len(checked["lines"]) == len({line.split(":")[0] for line in checked["lines"]})


def test_maintenance_list(site):
    (window,) = _json(site[0], "maintenance", "list", "--json")
    assert set(window) == {"id", "from", "to", "from_ts", "to_ts", "created_ts", "reason", "actor", "by", "state",
                           "announced_to_ts", "ended_by", "cancelled_ts", "cancelled_by"}


def test_log_show_and_head(site):
    entries = _json(site[0], "log", "show", "--json")
    assert entries and all(set(e) == {"seq", "time", "actor", "action", "result", "call", "case"} for e in entries)
    assert set(_json(site[0], "log", "head", "--json")) == {"seq", "hash", "time", "sig", "key_fingerprint"}


def test_key_show(site):
    key = _json(site[0], "key", "show", "--json")
    assert key["algorithm"] == "Ed25519" and len(key["fingerprint"]) == 64
    assert run_cli(site[0], "key", "show").stdout.strip().endswith(key["fingerprint"])


def test_delete_request_list(site):
    (request,) = _json(site[0], "delete-request", "list", "--json")
    assert request["call_id"] == site[1] and request["status"] == "pending"
    assert set(request) == {"id", "call_id", "status", "requested_by", "requested_at", "reason", "decided_by",
                            "decided_at", "requested_ts", "decided_ts"}


def test_retention_dry_run(site):
    planned = _json(site[0], "retention", "run", "--dry-run", "--json")
    assert set(planned) == {"keep_days", "dry_run", "due", "held", "purged"}
    assert planned["dry_run"] is True and planned["purged"] == 0 and site[1] not in planned["due"]


def test_status(site):
    status = _json(site[0], "status", "--json")
    assert status["daemon_running"] is False and "asr_backlog" in status and "last_checkpoint" in status


@pytest.mark.parametrize(("argv", "empty"), [
    (("delete-request", "list", "--status", "approved", "--json"), None),
    (("delete-request", "list", "--status", "refused"), "no refused deletion requests in this vault"),
    (("calls", "list", "--from", "-30d", "--to", "-29d"), "no calls in "),
    (("model", "list"), "no model installed in "),
])
def test_empty_listings_say_so(site, argv, empty):
    done = run_cli(site[0], *argv)
    assert done.returncode == 0, done.stderr
    if empty is None:
        assert json.loads(done.stdout) == []
    else:
        assert done.stdout.startswith(empty) and done.stdout.count("\n") == 1


def test_text_tables_have_a_header(site):
    assert run_cli(site[0], "users", "list").stdout.splitlines()[0].split() == ["NAME", "ROLES"]
    assert run_cli(site[0], "delete-request", "list").stdout.startswith("ID\tCALL\tSTATUS")
    shown = run_cli(site[0], "case", "show", site[2]).stdout.splitlines()
    header = next(i for i, line in enumerate(shown) if line.split()[:1] == ["CALL"])
    assert shown[header].split()[:3] == ["CALL", "STARTED", "DURATION"] and f"call {site[1]:>6}" in shown[header + 1]


def test_health_check_json_is_unknown_when_the_checks_cannot_run(tmp_path):
    config_file = write_config(tmp_path)  # never initialised: no vault
    plain = run_cli(config_file, "health", "check")
    checked = _json(config_file, "health", "check", "--json", rc=3)
    assert checked["code"] == plain.returncode == 3 and checked["status"] == "UNKNOWN"
    assert "vault.key not found" in checked["summary"] and checked["lines"] == []
    assert plain.stdout == f"CALLREC UNKNOWN - {checked['summary']}\n"


def test_health_check_json_of_a_monitoring_account_without_a_daemon_is_critical():
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to act as another account")
    if subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", "import callrec.cli"],
                      capture_output=True, cwd="/").returncode != 0:
        pytest.skip(f"{sys.executable} with callrec is not usable by other accounts")
    base = Path(tempfile.mkdtemp(prefix="callrec-json-", dir="/tmp"))
    try:
        base.chmod(0o755)
        config_file = write_config(base)
        config_file.chmod(0o644)
        assert run_cli(config_file, "init").returncode == 0
        plain = run_cli(config_file, "health", "check", user="nobody")
        checked = _json(config_file, "health", "--json", "check", rc=2, user="nobody")
        assert checked["status"] == "CRITICAL" and plain.returncode == 2
        assert plain.stdout.splitlines()[0] == f"CALLREC CRITICAL - {checked['summary']}"
    finally:
        shutil.rmtree(base)
