"""A real 15-second burst of capture-queue overflow: ``callrec run`` on an ALSA PCM backed by a FIFO
(see test_alsa.py), its writer stalled again and again by another process holding the vault's
write lock (as a long backup or a stuck reader would); with a heartbeat every half second the writer meets
the lock at once. Each stall overflows the one-second queue;
between stalls the writer catches up for a moment. That is one outage: one gap row, one
``gap.open``/``gap.close`` pair, one journal warning and one finding, not one per dropped block.
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np

from callrec.config import load_config
from callrec.health import run_checks
from callrec.vault import Vault
from tests.capture.test_alsa import PCM, _pace, fifo_device
from tests.capture.test_cli import _spawn
from tests.conftest import run_cli, write_config

BURST_S = 15.0


def _stall_writer(config, seconds: float) -> int:
    """Hold the vault's write lock 2 s at a time, letting go for 0.3 s, for ``seconds``; the stalls."""
    stalls = 0
    with Vault.open(config) as vault:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            vault.conn.execute("BEGIN IMMEDIATE")
            time.sleep(min(2.0, max(0.0, until - time.monotonic())))
            vault.conn.execute("COMMIT")
            stalls += 1
            time.sleep(0.3)
    return stalls


def _wait_for_session(config, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Vault.open(config) as vault:
            if vault.query("SELECT count(*) FROM capture_sessions WHERE ended_ts IS NULL")[0][0]:
                return
        time.sleep(0.3)
    raise AssertionError("the daemon never started capturing")


def test_a_fifteen_second_overflow_burst_is_one_gap_one_warning_one_finding(tmp_path):
    fifo, home = fifo_device(tmp_path)
    config_file = write_config(tmp_path / "c", f'[capture]\ndevice = "{PCM}"\nqueue_s = 1\nheartbeat_s = 0.5\n[asr]\nenabled = false\n')
    config = load_config(config_file)
    assert run_cli(config_file, "init").returncode == 0
    stop = threading.Event()
    hiss = (np.random.default_rng(4).standard_normal(8000 * 120) * 300).astype("<i2")
    pacer = threading.Thread(target=_pace, args=(str(fifo), hiss, 8000, stop), daemon=True)
    pacer.start()
    proc = _spawn(config_file, "run", env={"HOME": str(home)})
    try:
        _wait_for_session(config)
        time.sleep(2.0)
        stalls = _stall_writer(config, BURST_S)
        time.sleep(config.health.gap_merge_s + 3.0)  # the writer closes the gap once it stayed away
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        stop.set()
        pacer.join()
    journal = proc.stderr.read()
    assert code == 0, journal
    assert stalls >= 6
    with Vault.open(config) as vault:
        rows = vault.query("SELECT start_ts, end_ts FROM gaps WHERE cause = 'overflow'")
        opened = vault.query("SELECT count(*) FROM access_log WHERE action = 'gap.open'")[0][0]
        closed = vault.query("SELECT count(*) FROM access_log WHERE action = 'gap.close'")[0][0]
        ((started, ended),) = vault.query("SELECT started_ts, ended_ts FROM capture_sessions")
        findings = [f for f in run_checks(vault, config, start=started, end=ended, live=False, now=ended + 1)
                    if f.check == "queue_overflow"]
    assert len(rows) == 1, rows
    ((start, end),) = rows
    assert BURST_S - 4.0 < end - start < BURST_S + 1.0, end - start
    assert (opened, closed) == (1, 1)
    assert journal.count("capture queue overflow: audio is being dropped") == 1, journal
    assert len(findings) == 1 and findings[0].severity == "warning", findings
    assert "callrec stopping (SIGTERM)" in journal and journal.rstrip().endswith("callrec stopped"), journal
