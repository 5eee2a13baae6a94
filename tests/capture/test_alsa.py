"""The sounddevice path for real: ``callrec run`` capturing from an ALSA PCM backed by a file.

The test writes an asoundrc in a temporary HOME declaring a PCM of ALSA's ``file`` plugin over
the ``null`` device, whose ``infile`` is a FIFO. ALSA's null device does not keep time (it
captures as fast as it is read), so the test writes the feed into the FIFO at real-time pace and
the blocking read paces PortAudio's capture thread like a sound card would. Under it all runs
the real daemon: PortAudio, sounddevice's callback, the queue, the writer, the vault, and
sd_notify to a socket the test listens on.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from callrec.config import load_config
from callrec.testing.synth import FeedBuilder
from callrec.vault import Vault
from callrec.vault.ops import gaps_in
from tests.capture.conftest import calls
from tests.capture.test_cli import _spawn
from tests.conftest import write_config

PCM = "callrecfeed"


def fifo_device(base: Path) -> tuple[Path, Path]:
    """A FIFO to feed raw audio into, and a home whose ``.asoundrc`` makes it the ALSA device ``PCM``
    (ALSA's ``file`` plugin reading ``infile``): run the daemon with ``HOME`` set to that home."""
    fifo = base / "line.raw"
    os.mkfifo(fifo)
    home = base / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.{PCM} {{\n  type file\n  slave.pcm "null"\n  file "/dev/null"\n  infile "{fifo}"\n  format "raw"\n}}\n')
    return fifo, home


def _pace(fifo: str, frames: np.ndarray, rate: int, stop: threading.Event) -> None:
    """Write the feed at real time, then line hiss until told to stop."""
    fd = os.open(fifo, os.O_RDWR)
    block = rate // 10
    hiss = np.random.default_rng(9).standard_normal(block) * 40
    started = time.monotonic()
    n = 0
    try:
        while not stop.is_set():
            chunk = frames[n:n + block] if n < len(frames) else hiss.astype("<i2")
            os.write(fd, np.ascontiguousarray(chunk, dtype="<i2").tobytes())
            n += block
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
    finally:
        os.close(fd)


@pytest.mark.slow
def test_callrec_run_records_a_call_from_an_alsa_device(tmp_path, ja):
    fifo, home = fifo_device(tmp_path)
    config_file = write_config(tmp_path / "c", f'[capture]\ndevice = "{PCM}"\n[asr]\nenabled = false\n')
    notify_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(0.1)

    feed = FeedBuilder().hiss(3).speech(ja[0]).hiss(0.5).speech(ja[1]).hiss(1).busy_tone(3).hiss(2)
    stop = threading.Event()
    writer = threading.Thread(target=_pace, args=(str(fifo), feed.build()[:, 0], 8000, stop), daemon=True)
    writer.start()
    from tests.conftest import run_cli

    assert run_cli(config_file, "init").returncode == 0
    proc = _spawn(config_file, "run", env={"HOME": str(home), "NOTIFY_SOCKET": notify_path,
                                           "WATCHDOG_USEC": "1500000"})
    messages: list[str] = []
    deadline = time.monotonic() + feed.now_s + 4.0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            messages.append(listener.recv(1024).decode())
        except TimeoutError:
            pass
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        stop.set()
        writer.join()
        listener.close()
    assert "READY=1" in messages
    assert messages.count("WATCHDOG=1") >= 3
    config = load_config(config_file)
    with Vault.open(config) as vault:
        ((started, ended),) = vault.query("SELECT started_ts, ended_ts FROM capture_sessions")
        assert gaps_in(vault, started, ended) == []  # no overflow, no device loss, no flatline
    rows = calls(config)
    assert len(rows) == 1, rows
    (row,) = rows
    assert row.status == "sealed" and row.levels["end"] == "busy_tone"
    speech_s = sum(e - s for s, e in feed.spans("speech")) + 0.5
    # Pre-roll + both utterances + the pause, up to the moment the busy tone was recognised.
    assert speech_s + 1.0 < row.seconds < speech_s + 1.5 + 3.0
