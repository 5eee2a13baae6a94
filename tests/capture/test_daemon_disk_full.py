"""``callrec run`` (the real daemon on an ALSA device fed through a FIFO) on a disk that fills up:
it stops with one line saying the disk is full, and what it recorded before is kept."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest

from callrec.testing.synth import FeedBuilder
from tests.capture.test_alsa import PCM, _pace, fifo_device
from tests.capture.test_cli import _spawn
from tests.conftest import run_cli, tmpfs

pytestmark = pytest.mark.root


@pytest.mark.slow
def test_the_daemon_stops_on_a_full_disk_with_one_line_and_keeps_its_audio(tmp_path, ja):
    fifo, home = fifo_device(tmp_path)
    fb = FeedBuilder(seed=8).hiss(1)
    for _ in range(40):
        fb.speech(ja[0]).speech(ja[1])
    stop = threading.Event()
    writer = threading.Thread(target=_pace, args=(str(fifo), fb.build()[:, 0], 8000, stop), daemon=True)
    with tmpfs(tmp_path / "disk", "3m") as disk:  # a new vault with its WAL and the daemon's first writes take ~2.5 MiB (16 KiB pages)
        config_file = tmp_path / "callrec.toml"
        config_file.write_text(f'state_dir = "{disk / "state"}"\n[capture]\ndevice = "{PCM}"\n[asr]\nenabled = false\n')
        assert run_cli(config_file, "init").returncode == 0
        writer.start()
        daemon = _spawn(config_file, "run", env={"HOME": str(home)})
        try:
            rc = daemon.wait(120)
        finally:
            stop.set()
            if daemon.poll() is None:
                daemon.kill()
            writer.join()
        err = daemon.stderr.read()
        assert rc == 3 and "Traceback" not in err, err
        last = err.strip().splitlines()[-1]
        assert last.startswith("callrec: error: disk full: no space left on the file system holding "), err
        assert "nothing needs restoring" in last
        assert "damaged" not in err and "restore from a backup" not in err
        # grow the disk, as the message says
        subprocess.run(["mount", "-o", "remount,size=5m", str(disk)], check=True)
        listed = run_cli(config_file, "calls", "list", "--from", "2000-01-01T00:00", "--to", "2100-01-01T00:00",
                         "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout), err
        (call,) = json.loads(listed.stdout)
        assert call["status"] == "recording" and call["duration_s"] > 5  # committed audio is kept
        verified = run_cli(config_file, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
