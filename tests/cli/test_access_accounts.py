"""Authorisation with real OS accounts: identity comes from the kernel through the daemon's socket.

Each account runs the real ``callrec`` command with ``runuser``; it cannot read the data key, so the
command is forwarded to ``callrec serve`` (running as root here, the service account), which takes
the caller from ``SO_PEERCRED``. Needs root to create accounts; skipped with a reason otherwise.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.vault import Vault, entries
from callrec.vault._transcripts import add_transcript
from tests.conftest import record_call, run_cli, write_config

PHRASE = "熱が三十八度あります"
ROLES = {"ops": ["ops"], "maint": ["maintainer"], "appr": ["approver"], "rev": ["reviewer"], "rev2": ["reviewer"]}

pytestmark = pytest.mark.root


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create OS accounts with useradd"
    if not shutil.which("useradd") or not shutil.which("runuser"):
        return "useradd/runuser not available"
    probe = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", "import callrec.cli"],
                           capture_output=True, cwd="/")
    if probe.returncode != 0:
        return f"{sys.executable} with callrec is not usable by other accounts (install into a world-readable venv, as .ci/run does)"
    return None


@pytest.fixture(scope="module")
def site():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="callrec-acct-", dir="/tmp"))
    base.chmod(0o755)
    config_file = write_config(base)
    config_file.chmod(0o644)
    suffix = secrets.token_hex(3)
    accounts = {role: f"cr{role}{suffix}" for role in list(ROLES) + ["stranger"]}
    for name in accounts.values():
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    server = None
    try:
        assert run_cli(config_file, "init").returncode == 0
        for role, roles in ROLES.items():
            args = [a for r in roles for a in ("--role", r)]
            assert run_cli(config_file, "users", "add", accounts[role], *args).returncode == 0
        config = load_config(config_file)
        with Vault.open(config) as vault:
            call = record_call(vault, seconds=2)
            add_transcript(vault, call, 0, "vosk", "test", "0" * 64,
                           [{"word": PHRASE, "start": 0.2, "end": 1.0, "conf": 0.9}], PHRASE)
        server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "serve"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
        for _ in range(100):
            if config.socket_path.exists():
                break
            time.sleep(0.1)
        assert config.socket_path.exists(), server.stderr.read() if server.poll() is not None else "no socket"
        yield {"config_file": config_file, "config": config, "accounts": accounts, "call": call, "base": base}
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        for name in accounts.values():
            subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


def _as(site, role, *argv):
    return run_cli(site["config_file"], *argv, user=site["accounts"][role])


def _refusals(site, actor):
    with Vault.open(site["config"]) as vault:
        return [e for e in entries(vault.conn) if e.actor == actor and e.outcome == "refused"]


@pytest.mark.parametrize("role", ["ops", "maint", "appr", "rev", "stranger"])
def test_content_is_refused_and_logged(site, role):
    call = str(site["call"])
    out_dir = str(site["base"] / f"export-{role}")
    for argv in (("case", "transcript", call), ("case", "play", call), ("case", "export", "1", "--out", out_dir),
                 ("case", "search", "1", "三十八度")):
        result = _as(site, role, *argv)
        assert result.returncode == 4, (argv, result.stdout, result.stderr)
        assert "access refused for " + site["accounts"][role] in result.stderr
        assert PHRASE not in result.stdout + result.stderr
    assert not Path(out_dir).exists()
    refused = _refusals(site, site["accounts"][role])
    assert {e.action for e in refused} >= {"transcript.read", "play"}


def test_ops_sees_calls_but_no_content(site):
    result = _as(site, "ops", "calls", "list", "--from", "2000-01-01T00:00:00+09:00", "--to", "2100-01-01T00:00:00+09:00", "--json")
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert [c["id"] for c in calls] == [site["call"]]
    assert PHRASE not in result.stdout
    assert _as(site, "maint", "calls", "list", "--from", "2000-01-01", "--to", "2100-01-01").returncode == 4


def test_reviewer_with_approved_case_reads_and_exports(site):
    now = time.time()
    opened = _as(site, "rev2", "case", "open", "--reason", "caller died at home; verify advice",
                 "--from", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now - 86400)),
                 "--to", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now + 60)))
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.split()[1]
    assert _as(site, "rev2", "case", "approve", case_id).returncode == 4, "reviewer approved a case"
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    assert _as(site, "rev2", "case", "attach", case_id, str(site["call"])).returncode == 0
    text = _as(site, "rev2", "case", "transcript", str(site["call"]))
    assert text.returncode == 0, text.stderr
    assert PHRASE in text.stdout
    found = _as(site, "rev2", "case", "search", case_id, "三十八度")
    assert found.returncode == 0, found.stderr
    assert f"call {site['call']}" in found.stdout and "1 match(es)" in found.stdout
    assert _as(site, "rev", "case", "transcript", str(site["call"]), "--case", case_id).returncode == 4
    out = site["base"] / "export-ok"
    exported = _as(site, "rev2", "case", "export", case_id, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    names = {f["file"] for f in manifest["files"]}
    assert {f"call-{site['call']}.flac", f"call-{site['call']}.txt", f"call-{site['call']}.vtt"} <= names
    with Vault.open(site["config"]) as vault:
        log = {e.seq: e for e in entries(vault.conn)}
    for f in (f for f in manifest["files"] if "call_id" in f):  # content files; proofs and player carry no read
        entry = log[f["access_log"]["seq"]]
        assert entry.hash == f["access_log"]["hash"] and entry.actor == site["accounts"]["rev2"]
