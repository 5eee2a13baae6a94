"""A dead recorder is CRITICAL: the real daemon (``callrec run`` on an ALSA device backed by a FIFO),
asked by a monitoring account with the command docs/health.md documents, then killed."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.health import status_path
from callrec.testing.synth import FeedBuilder
from tests.capture.test_alsa import PCM, _pace, fifo_device
from tests.capture.test_cli import _spawn
from tests.conftest import accounts_skip_reason as _skip_reason
from tests.conftest import add_os_account, open_dir, run_cli

pytestmark = pytest.mark.root


def _monitoring_command(config_file: Path, account: str, *extra: str) -> subprocess.CompletedProcess:
    """docs/health.md, "Monitoring": the monitoring account runs ``callrec health check``."""
    return run_cli(config_file, "health", "check", *extra, user=account)


@pytest.mark.slow
def test_a_killed_daemon_is_critical_for_the_documented_monitoring_command():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = open_dir("callrec-down-")
    monitor = f"crmon{secrets.token_hex(3)}"
    add_os_account(monitor)
    fifo, home = fifo_device(base)
    config_file = base / "callrec.toml"
    config_file.write_text(f'state_dir = "{base / "state"}"\n[capture]\ndevice = "{PCM}"\n[asr]\nenabled = false\n')
    config_file.chmod(0o644)
    stop = threading.Event()
    feed = FeedBuilder().hiss(2)
    writer = threading.Thread(target=_pace, args=(str(fifo), feed.build()[:, 0], 8000, stop), daemon=True)
    daemon = None
    try:
        assert run_cli(config_file, "init").returncode == 0
        assert run_cli(config_file, "users", "add", monitor, "--role", "ops").returncode == 0
        config = load_config(config_file)
        writer.start()
        daemon = _spawn(config_file, "run", env={"HOME": str(home)})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                config.socket_path.exists() and status_path(config).exists()
                and json.loads(status_path(config).read_text())["device_state"] == "capturing"):
            assert daemon.poll() is None, daemon.stderr.read()
            time.sleep(0.2)

        up = _monitoring_command(config_file, monitor)
        assert up.returncode in (0, 1), up.stdout + up.stderr  # no test call yet: at worst a warning
        status = run_cli(config_file, "status", "--json", user=monitor)
        assert status.returncode == 0, status.stderr
        live = json.loads(status.stdout)
        assert live["daemon_running"] is True and live["device_state"] == "capturing"
        assert live["input_level_dbfs"] is not None and live["queue_capacity"] > 0
        assert oct(status_path(config).stat().st_mode & 0o777) == "0o644"

        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
        heard = json.loads(status_path(config).read_text())["heard"]
        down = _monitoring_command(config_file, monitor)
        assert down.returncode == 2, down.stdout + down.stderr
        (line,) = down.stdout.splitlines()
        assert line.startswith("CALLREC CRITICAL - daemon: daemon not running (last heard 20")
        assert down.stderr == ""
        assert abs(heard - time.time()) < 30

        after = run_cli(config_file, "status", "--json", user=monitor)  # what the status file still tells
        assert after.returncode == 0, after.stderr
        dead = json.loads(after.stdout)
        assert (dead["daemon_running"], dead["device_state"], dead["calls_today"]) == (False, "not running", None)
        assert dead["daemon_last_heard"] == line.split("last heard ")[1].rstrip(")")

        config.socket_path.unlink()  # as after a clean stop: no socket at all
        gone = _monitoring_command(config_file, monitor)
        assert (gone.returncode, gone.stdout.split(" (")[0]) == (2, "CALLREC CRITICAL - daemon: daemon not running")
    finally:
        stop.set()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        subprocess.run(["userdel", monitor], check=False)
        shutil.rmtree(base, ignore_errors=True)
