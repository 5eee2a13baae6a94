"""Quiet logs: no traceback for a socket client that hangs up or sends junk; APScheduler's
per-run INFO lines are off unless asked for."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time

from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.vault import Vault
from tests.conftest import run_cli, write_config


def test_junk_and_hang_ups_on_the_socket_leave_no_traceback(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    config = load_config(config_file)
    server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        for _ in range(100):
            if config.socket_path.exists():
                break
            time.sleep(0.1)
        for payload in (b"", b"\xff\xfe not json\n", b'{"argv": ["health", "check"]}\n'):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(config.socket_path))
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_RDWR)  # hang up before reading the answer
        time.sleep(1.0)
        assert run_cli(config_file, "health", "check").returncode in (0, 1, 2)  # still serving
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert "Traceback" not in err, err


def test_scheduler_runs_are_not_logged_at_info_by_default(tmp_path, caplog):
    config = load_config(write_config(tmp_path, "[asr]\nenabled = false\n"))
    vault, _ = Vault.initialise(config)
    with caplog.at_level(logging.INFO):
        logging.getLogger("apscheduler").setLevel(logging.NOTSET)
        service = HealthService(config, vault)
        service.start()
        deadline = time.time() + 20
        while not vault.query("SELECT 1 FROM job_runs WHERE job = 'checks'") and time.time() < deadline:
            time.sleep(0.1)
        service.stop()
    assert vault.query("SELECT 1 FROM job_runs WHERE job = 'checks'")
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno <= logging.INFO
                and "executed successfully" in r.getMessage()]
    vault.close()
