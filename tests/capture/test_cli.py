"""``callrec replay`` and ``callrec run`` as real processes: bad input, kill -9, SIGTERM, privacy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from callrec.testing.synth import FeedBuilder
from tests.capture.conftest import AUDIO, calls
from tests.conftest import run_cli, write_config

START = "2026-08-03T08:30:00+09:00"


@pytest.fixture
def cli_config(make_config, tmp_path) -> Path:
    config = make_config()
    return config.source


def _one_line_error(proc: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr


@pytest.mark.parametrize("kind", ["44k", "float", "ulaw", "text", "missing"])
def test_replay_refuses_a_feed_that_is_not_8_or_16_khz_pcm(cli_config, tmp_path, kind):
    path = tmp_path / f"bad-{kind}.wav"
    noise = (np.random.default_rng(0).standard_normal(8000) * 0.1).astype(np.float32)
    if kind == "44k":
        soundfile.write(path, noise, 44100, subtype="PCM_16")
    elif kind == "float":
        soundfile.write(path, noise, 8000, subtype="FLOAT")
    elif kind == "ulaw":
        soundfile.write(path, noise, 8000, subtype="ULAW")
    elif kind == "text":
        path.write_text("not audio\n")
    proc = run_cli(cli_config, "replay", str(path), "--start", START, "--no-asr")
    _one_line_error(proc, 5, "cannot replay", path.name)


def test_run_with_a_device_that_does_not_exist_is_a_one_line_error(tmp_path):
    config = write_config(tmp_path / "c", '[capture]\ndevice = "no such sound card"\n')
    assert run_cli(config, "init").returncode == 0
    proc = run_cli(config, "run")
    _one_line_error(proc, 5, "no such sound card", "not found")


@pytest.mark.parametrize("extra, key", [
    ("[capture]\nstart_active_s = 2.0\nstart_window_s = 1.0\n", "capture"),
    ("[capture]\nend_silence_s = 0\n", "capture.end_silence_s"),
    ("[capture]\npre_roll_s = 0.2\n", "capture"),
    ("[capture]\nmin_level_dbfs = 6\n", "capture.min_level_dbfs"),
])
def test_impossible_thresholds_are_a_one_line_config_error(tmp_path, extra, key):
    config = write_config(tmp_path / "c", extra)
    proc = run_cli(config, "replay", str(AUDIO / "ja_1.flac"), "--start", START)
    _one_line_error(proc, 2, f"'{key}'")


def test_replay_of_the_demo_feed(cli_config):
    demo = Path(__file__).resolve().parents[2] / "callrec" / "demo" / "feed.flac"
    proc = run_cli(cli_config, "replay", str(demo), "--start", START, "--no-asr")
    assert proc.returncode == 0, proc.stderr
    from callrec.config import load_config

    rows = calls(load_config(cli_config))
    assert [r.kind for r in rows] == ["call", "test", "call"]
    assert all(r.status == "sealed" and r.levels["end"] == "busy_tone" for r in rows)
    assert "short" in rows[2].flags and "short" not in rows[0].flags


def _spawn(config: Path, *argv: str, env: dict | None = None) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"}
    return subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config), *argv], cwd="/",
                            env={**base, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _long_call_feed(ja, tmp_path) -> tuple[Path, float]:
    feed = FeedBuilder().hiss(2)
    speech_at = feed.now_s
    for i in range(4):
        feed.speech(ja[i % 3]).hiss(0.5)
    return feed.hiss(3).write(tmp_path / "long.wav"), speech_at


@pytest.mark.slow
def test_kill_9_mid_call_then_restart_seals_it_interrupted_with_all_but_the_last_second(cli_config, ja, tmp_path):
    path, speech_at = _long_call_feed(ja, tmp_path)
    proc = _spawn(cli_config, "replay", str(path), "--start", START, "--no-asr", "--realtime")
    assert proc.stdout.readline().startswith("replaying")
    paced_from = time.monotonic()
    time.sleep(9.0)
    proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait(10)
    from callrec.config import load_config

    config = load_config(cli_config)
    (row,) = calls(config)
    assert row.status == "recording"
    # Restart: the next start of the pipeline seals what the crash left open.
    restart = run_cli(cli_config, "replay", str(AUDIO / "ja_1.flac"), "--start", "2026-08-03T09:30:00+09:00", "--no-asr")
    assert restart.returncode == 0, restart.stderr
    row = calls(config)[0]
    assert row.status == "interrupted"
    delivered_s = killed_at - paced_from - row.start
    assert row.seconds >= delivered_s - 1.0, (row.seconds, delivered_s)
    assert row.start < speech_at


@pytest.mark.slow
def test_sigterm_mid_call_seals_it(cli_config, ja, tmp_path):
    path, _ = _long_call_feed(ja, tmp_path)
    proc = _spawn(cli_config, "replay", str(path), "--start", START, "--no-asr", "--realtime")
    assert proc.stdout.readline().startswith("replaying")
    time.sleep(6.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 5  # stopped before the end of the feed: not a success
    (line,) = proc.stderr.read().strip().splitlines()
    assert "replay of long.wav was stopped (SIGTERM) after" in line and "what was read is sealed and kept" in line
    from callrec.config import load_config

    (row,) = calls(load_config(cli_config))
    assert row.status == "sealed" and row.levels["end"] == "stopped"
    assert 3.0 < row.seconds < 7.0


def test_nothing_about_content_reaches_output_logs_or_the_ledger(cli_config, ja, tmp_path):
    """DESIGN.md invariant 9: the test digits and the callers' words appear nowhere but in the audio."""
    feed = FeedBuilder().hiss(3).dtmf("*0*0#").hiss(0.5).speech(ja[0]).hiss(1).busy_tone(3).hiss(2)
    feed.speech(ja[1]).dtmf("0312345678").hiss(1).busy_tone(3).hiss(2).flat(65).hiss(1)
    path = feed.write(tmp_path / "feed.wav")
    proc = run_cli(cli_config, "replay", str(path), "--start", START, "--no-asr")
    assert proc.returncode == 0, proc.stderr
    from callrec.config import load_config
    from callrec.vault import Vault

    with Vault.open(load_config(cli_config)) as vault:
        stored = json.dumps(vault.query("SELECT flags, levels, kind, status FROM calls")
                            + vault.query("SELECT cause, detail FROM gaps")
                            + vault.query("SELECT action, detail, reason FROM access_log"))
    texts = [e["text"] for e in json.loads((AUDIO / "fixtures.json").read_text())["files"].values()]
    for where in (proc.stdout, proc.stderr, stored):
        for secret in ["0312345678", "*0*0#", *texts]:
            assert secret not in where
    assert "flat" in proc.stderr  # the log does say what happened to the line
