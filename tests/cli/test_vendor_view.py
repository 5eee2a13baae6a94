"""The maintainer (the exchange's outside vendor) sees that recording works, never who
investigates what: its view of ``health report`` and ``status`` names no reviewer, approver,
refused stranger or case, through the real socket as a real OS account; ops still sees them."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import time

import pytest

from callrec.config import load_config
from callrec.errors import AccessDenied
from callrec.vault import Vault
from callrec.vault.calls import _content, add_transcript
from callrec.vault.people import _cases, add_user
from tests.conftest import add_os_account, open_dir, record_call, run_cli, start_serve, tear_down_site, write_config

pytestmark = pytest.mark.root
ROLES = {"maint": ["maintainer"], "ops": ["ops"], "rev": ["reviewer"], "appr": ["approver"]}


@pytest.fixture(scope="module")
def site():
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root to create OS accounts with useradd")
    base = open_dir("callrec-vendor-")
    config_file = write_config(base)
    config_file.chmod(0o644)
    suffix = secrets.token_hex(3)
    accounts = {role: f"cr{role}{suffix}" for role in [*ROLES, "stranger"]}
    for name in accounts.values():
        add_os_account(name)
    server = None
    try:
        assert run_cli(config_file, "init").returncode == 0
        config = load_config(config_file)
        now = time.time()
        with Vault.open(config) as vault:
            for role, roles in ROLES.items():
                add_user(vault, "root", accounts[role], roles)
            call = record_call(vault, seconds=1, started_ts=now - 600)
            add_transcript(vault, call, 0, "vosk", "m", "0" * 64, [{"word": "x", "start": 0, "end": 1, "conf": 1}], "x")
            case = _cases.open_case(vault, accounts["rev"], "check the advice", now - 3600, now)
            _cases.decide_case(vault, accounts["appr"], case, approve=True)
            _cases.attach_call(vault, accounts["rev"], case, call)
            _content.read_transcripts(vault, accounts["rev"], call, case)
            with pytest.raises(AccessDenied):
                _content.read_audio(vault, accounts["stranger"], call, case)
        server = start_serve(config_file, config)
        yield {"config_file": config_file, "accounts": accounts, "case": case}
    finally:
        tear_down_site(server, accounts.values(), base)


def _report(site, role: str) -> dict:
    today = dt.datetime.now(load_config(site["config_file"]).zone).date().isoformat()
    result = run_cli(site["config_file"], "health", "report", "--date", today, "--json", user=site["accounts"][role])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_maintainer_sees_counts_but_no_one_who_read_or_was_refused(site):
    report = _report(site, "maint")
    blob = json.dumps(report)
    for role in ("rev", "appr", "stranger"):
        assert site["accounts"][role] not in blob
    access = report["access_log"]
    assert access["content_reads"] >= 1
    assert all(set(item) == {"action", "count"} for item in access["reads"] + access["refused"])
    assert {"action": "transcript.read", "count": 1} in access["reads"]
    assert any(item["action"] == "play" for item in access["refused"])


def test_ops_still_sees_who_read_in_which_case(site):
    access = _report(site, "ops")["access_log"]
    assert {"actor": site["accounts"]["rev"], "case_id": site["case"], "action": "transcript.read", "count": 1} in access["reads"]
    assert any(item["actor"] == site["accounts"]["stranger"] for item in access["refused"])


def test_the_maintainers_status_names_no_one(site):
    result = run_cli(site["config_file"], "status", "--json", user=site["accounts"]["maint"])
    assert result.returncode == 0, result.stderr
    for role in ("rev", "appr", "stranger"):
        assert site["accounts"][role] not in result.stdout
    assert "case" not in json.loads(result.stdout)


def test_the_maintainers_html_page_names_no_one(site):
    """The page the maintainer gets is rendered from its own view, not read from the stored file."""
    from callrec.access._health import _anonymous
    from callrec.health import build_report, render_html

    config = load_config(site["config_file"])
    with Vault.open(config) as vault:
        report = build_report(vault, config, dt.datetime.now(config.zone).date())
    assert site["accounts"]["rev"] in render_html(report, config.zone)  # what ops and admins see
    page = render_html(_anonymous(report), config.zone)
    for role in ("rev", "appr", "stranger"):
        assert site["accounts"][role] not in page
