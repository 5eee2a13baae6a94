"""Small things a user trips on (issue 19): each through the real CLI in a new process."""

from __future__ import annotations

import subprocess
import sys

from callrec.config import load_config
from callrec.vault import Vault
from tests.conftest import run_cli, write_config


def _site(tmp_path, extra: str = ""):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n" + extra)
    assert run_cli(config_file, "init").returncode == 0
    return config_file


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``callrec log show | head -1``: far more output than a pipe holds, the reader leaves early."""
    config_file = _site(tmp_path)
    with Vault.open(load_config(config_file)) as vault, vault.transaction():
        for i in range(3000):
            vault.log("root", "health.ack", detail={"check": "disk", "ack": i})
    proc = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "log", "show"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
    assert proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(60) == 0
    assert proc.stderr.read() == b""


def test_did_you_mean_for_config_keys_role_and_check_names(tmp_path):
    bad = write_config(tmp_path / "bad", "[health]\nrecoverd_window_h = 2\n")
    done = run_cli(bad, "status")
    assert done.returncode == 2 and "did you mean 'health.recovered_window_h'?" in done.stderr
    config_file = _site(tmp_path)
    assert run_cli(config_file, "users", "add", "root", "--role", "ops").returncode == 0
    role = run_cli(config_file, "users", "add", "root", "--role", "reviwer")
    assert role.returncode == 2 and "did you mean 'reviewer'?" in role.stderr
    check = run_cli(config_file, "health", "ack", "servce_gaps")
    assert check.returncode == 2 and "did you mean 'service_gaps'?" in check.stderr


def test_future_relative_times_and_help_without_rst(tmp_path):
    config_file = _site(tmp_path)
    assert run_cli(config_file, "calls", "list", "--from", "-1h", "--to", "+20m").returncode == 0
    shown = run_cli(config_file, "maintenance", "--help")
    assert shown.returncode == 0 and "``" not in shown.stdout and "'callrec maintenance'" in shown.stdout


def test_a_missing_replay_feed_names_the_file(tmp_path):
    config_file = _site(tmp_path)
    done = run_cli(config_file, "replay", str(tmp_path / "nope.wav"), "--start", "2026-08-03T08:30:00+09:00")
    assert done.returncode == 5
    assert done.stderr.strip() == (f"callrec: error: feed {tmp_path / 'nope.wav'} not found: give the path of a"
                                   " recorded WAV or FLAC file (relative to the current directory)")


def test_status_reads_like_words(tmp_path):
    done = run_cli(_site(tmp_path), "status")
    assert done.returncode == 0 and "daemon running: no" in done.stdout
    assert "True" not in done.stdout and "False" not in done.stdout
