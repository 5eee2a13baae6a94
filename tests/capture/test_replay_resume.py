"""A replay killed with SIGKILL is simply run again: the re-run carries on from what the killed
run left, and the vault ends up holding exactly what one uninterrupted replay records — each call
once, with the same audio — and verifies clean. Also: replay's commits follow the feed, not the
clock."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from callrec.capture import FileSource, Pipeline
from callrec.capture import _pipeline as pipeline_module
from callrec.capture._pipeline import REPLAY_COMMIT_BYTES, _capture_lock
from callrec.config import load_config
from callrec.testing.synth import FeedBuilder
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder, calls_started
from callrec.vault.log import log_entries
from tests.capture.conftest import T0
from tests.conftest import run_cli, write_config

START = "2026-08-03T08:30:00+09:00"

#: Runs the replay pipeline as ``callrec replay`` does and kills its own process with SIGKILL
#: right after the commit named by argv[3] ("flush": the first batch of a long call's audio;
#: "seal": the first sealed call) — a real kill -9 at a moment the test can name.
_KILLED_REPLAY = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from callrec.capture import FileSource, Pipeline
    from callrec.config import load_config
    from callrec.vault import Vault
    config = load_config(Path(sys.argv[1]))
    with Vault.open(config) as vault:
        pipeline = Pipeline(config, vault, FileSource(Path(sys.argv[2]), float(sys.argv[4])), guest_ok=True)
        if sys.argv[3] == "flush":
            flush = pipeline.recorder.flush
            def flush_then_die():
                flush()
                os.kill(os.getpid(), signal.SIGKILL)
            pipeline.recorder.flush = flush_then_die
        else:
            pipeline.on_sealed = lambda call_id: os.kill(os.getpid(), signal.SIGKILL)
        pipeline.run()
""")


def _feed(ja, tmp_path):
    """A short call, a call of about six minutes (longer than one replay commit), a test call."""
    feed = FeedBuilder(seed=11).hiss(3).speech(ja[0]).hiss(1).busy_tone(3).hiss(4)
    for i in range(90):
        feed.speech(ja[i % 3]).hiss(0.4)
    feed.hiss(1).busy_tone(3).hiss(5).dtmf("*0*0#").speech(ja[1]).hiss(1).busy_tone(3).hiss(3)
    return feed.write(tmp_path / "feed.wav")


def _rows(config) -> list[tuple]:
    with Vault.open(config) as vault:
        calls = calls_started(vault, float("-inf"), float("inf"), purged=True)
    return [(round(c.started_ts, 3), round(c.ended_ts or 0, 3), c.frames, c.kind, c.status, c.pcm_sha256) for c in calls]


@pytest.fixture(scope="module")
def reference(ja, tmp_path_factory):
    """The feed and what one uninterrupted replay of it records."""
    tmp = tmp_path_factory.mktemp("reference")
    feed = _feed(ja, tmp)
    config = load_config(write_config(tmp / "ref", "[asr]\nenabled = false\n"))
    Vault.initialise(config)[0].close()
    with Vault.open(config) as vault:
        Pipeline(config, vault, FileSource(feed, T0)).run()
    return feed, _rows(config)


@pytest.mark.parametrize("killed_after, beside_daemon", [("flush", False), ("seal", False), ("flush", True)])
def test_a_replay_killed_mid_feed_is_run_again_without_a_duplicate(make_config, reference, killed_after,
                                                                   beside_daemon):
    feed, expected = reference
    assert [r[3] for r in expected] == ["call", "call", "test"] and expected[1][2] > 5 * 60 * 8000
    config = make_config()
    if beside_daemon:  # the live daemon holds the capture lock and is recording a call of its own
        daemon_lock = _capture_lock(config)
        with Vault.open(config) as vault:
            recorder = CallRecorder(vault)
            live_call = recorder.start_call(T0 + 7200, 8000, 1)
            recorder.append(live_call, np.zeros((8000, 1), np.int16))
            recorder.flush()
    killed = subprocess.run([sys.executable, "-c", _KILLED_REPLAY, str(config.source), str(feed), killed_after, str(T0)],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = [r for r in _rows(config) if not beside_daemon or r[0] != T0 + 7200]
    if killed_after == "flush":  # the long call's first batch is committed, the call not sealed
        assert [r[4] for r in left] == ["sealed", "recording"] and 0 < left[1][2] < expected[1][2]
    else:
        assert [r[4] for r in left] == ["sealed"]
    # The same command again: no --force, no duplicate.
    again = run_cli(config.source, "replay", str(feed), "--start", START, "--no-asr")
    assert again.returncode == 0, again.stderr
    rows = _rows(config)
    if beside_daemon:  # the daemon's call is left as it was, still recording
        assert rows.pop() == (T0 + 7200, 0.0, 8000, "call", "recording", None)
        daemon_lock.close()
    assert rows == expected
    with Vault.open(config) as vault:
        (entry,) = log_entries(vault, action="replay.resume")
        assert entry.detail["calls_sealed"] == 1 and entry.detail["calls_unfinished"] == (killed_after == "flush")
    assert run_cli(config.source, "verify").returncode == 0
    # Once finished, the feed is refused again as already recorded.
    assert run_cli(config.source, "replay", str(feed), "--start", START, "--no-asr").returncode != 0


def test_replay_commits_follow_the_feed_not_the_clock(make_config, reference, monkeypatch):
    """One commit per call (its row, its audio and its seal), one more per 4 MiB of a long call,
    the session's open and close: the same count however fast the machine is (heartbeats, by the
    wall clock, apart)."""
    feed, expected = reference
    heartbeats = []
    monkeypatch.setattr(pipeline_module, "heartbeat", lambda *args: heartbeats.append(args))
    counts = []
    for run in range(2):
        config = make_config(name=f"run{run}")
        with Vault.open(config) as vault:
            commits = []
            vault.transaction = lambda commits=commits, transaction=vault.transaction: (commits.append(1),
                                                                                        transaction())[1]
            Pipeline(config, vault, FileSource(feed, T0)).run()
        counts.append(len(commits))
    batches = expected[1][2] * 2 // REPLAY_COMMIT_BYTES
    assert batches == 1
    assert counts == [2 + len(expected) + batches] * 2
