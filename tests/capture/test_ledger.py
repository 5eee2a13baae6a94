"""The coverage ledger from the writer's side: sessions, heartbeats, overflow and device-loss gaps."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from callrec.capture import Block, DeviceSource, Dropped, End, FeedQueue, Pipeline
from callrec.testing.synth import FeedBuilder
from callrec.vault import Vault
from callrec.vault.ops import coverage, open_session
from tests.capture.conftest import T0, calls, gaps, replay


def _block(ts: float, seconds: float = 0.1, rate: int = 8000) -> Block:
    return Block(ts, np.zeros((round(seconds * rate), 1), np.int16), rate)


def test_a_full_queue_drops_without_blocking_and_reports_the_span():
    feed = FeedQueue(2)
    blocks = [_block(T0 + i * 0.1) for i in range(5)]
    started = time.monotonic()
    for b in blocks:
        feed.offer(b)
    assert time.monotonic() - started < 0.05
    assert feed.get(0) is blocks[0] and feed.get(0) is blocks[1]
    later = _block(T0 + 1.0)
    feed.offer(later)
    dropped = feed.get(0)
    assert dropped == Dropped(blocks[2].ts, blocks[4].end_ts)
    assert feed.get(0) is later
    assert feed.get(0) is None


class ScriptedSource:
    """A source that plays a list of events (for faults a file cannot carry, e.g. an overflow)."""

    name = "scripted"
    sample_rate = 8000
    channels = 1
    block_s = 0.1
    rereadable = False

    def __init__(self, events):
        self.events = events
        self.clock = T0

    def now(self) -> float:
        return self.clock

    def start(self, feed: FeedQueue) -> None:
        for event in self.events:
            if isinstance(event, Block):
                self.clock = event.end_ts
            feed.put(event)
        feed.put(End())

    def stop(self) -> None:
        pass


def test_an_overflow_becomes_a_gap_with_cause_overflow(make_config):
    config = make_config()
    events = [_block(T0 + i * 0.1) for i in range(50)] + [Dropped(T0 + 5.0, T0 + 7.5)]
    events += [_block(T0 + 7.5 + i * 0.1) for i in range(50)]
    with Vault.open(config) as vault:
        Pipeline(config, vault, ScriptedSource(events)).run()
    assert [(g.start_ts - T0, g.end_ts - T0, g.cause) for g in gaps(config, 12.5)] == [(5.0, 7.5, "overflow")]


def test_a_replayed_feed_is_one_covered_session(make_config, ja, tmp_path):
    config = make_config()
    feed = FeedBuilder().hiss(20).speech(ja[0]).hiss(50)
    replay(config, feed, tmp_path)
    with Vault.open(config) as vault:
        ratio, found = coverage(vault, T0, T0 + feed.now_s)
        sessions = vault.query("SELECT source, started_ts, heartbeat_ts, ended_ts FROM capture_sessions")
    assert ratio == 1.0 and found == []
    assert sessions == [("replay:feed.wav", T0, T0 + feed.now_s, T0 + feed.now_s)]


def test_stop_seals_the_call_in_progress(make_config, ja, tmp_path):
    config = make_config()
    path = FeedBuilder().hiss(2).speech(ja[0]).speech(ja[1]).speech(ja[2]).hiss(5).write(tmp_path / "f.wav")
    from callrec.capture import FileSource

    with Vault.open(config) as vault:
        source = FileSource(path, T0, realtime=True)
        pipeline = Pipeline(config, vault, source)
        pipeline.start()
        time.sleep(4.0)
        pipeline.stop()
        assert pipeline.join(10)
    (row,) = calls(config)
    assert row.status == "sealed" and row.levels["end"] == "stopped"
    assert 1.5 < row.seconds < 4.5


class FakeStream:
    """Stands in for PortAudio: delivers `blocks` callbacks, then goes quiet like a pulled USB card."""

    def __init__(self, callback, blocks, rate, block):
        self.callback, self.blocks, self.rate, self.block = callback, blocks, rate, block
        self.active = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.active = True
        self._thread.start()

    def _run(self):
        rng = np.random.default_rng(0)
        for _ in range(self.blocks):
            if not self.active:
                return
            data = (rng.standard_normal((self.block, 1)) * 30).astype(np.int16)
            self.callback(data, self.block, None, SimpleNamespace(input_overflow=False))
            time.sleep(self.block / self.rate)

    def abort(self):
        self.active = False

    def close(self):
        self.active = False


class FakeBackend:
    """A sound card that works, vanishes (opening fails twice), then comes back."""

    def __init__(self):
        self.opens = 0

    def query_devices(self, device, kind):
        if device not in (None, "fake card"):
            raise ValueError(device)
        return {"name": "fake card"}

    def check_input_settings(self, **kw):
        pass

    def InputStream(self, *, callback, blocksize, samplerate, **kw):
        self.opens += 1
        if self.opens in (2, 3):
            raise OSError("device unavailable")
        return FakeStream(callback, 20 if self.opens == 1 else 10_000, samplerate, blocksize)


def test_device_loss_is_a_gap_closed_when_audio_returns(make_config):
    config = make_config('[capture]\ndevice = "fake card"\ndevice_retry_max_s = 1\n')
    backend = FakeBackend()
    with Vault.open(config) as vault:
        source = DeviceSource(config.capture, backend=backend)
        pipeline = Pipeline(config, vault, source)
        pipeline.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = vault.query("SELECT start_ts, end_ts, cause FROM gaps")
            if rows and rows[0][1] is not None:
                break
            time.sleep(0.2)
        pipeline.stop()
        pipeline.join(10)
    ((start, end, cause),) = rows
    assert cause == "device_lost"
    assert backend.opens == 4
    # Lost after the first stream's 2 s of audio; back after two failed retries (1 s + 1 s) and more.
    assert 3.0 < end - start < 12.0


def test_replay_beside_the_running_daemon_leaves_its_call_and_session_alone(make_config, ja, tmp_path):
    """Ingesting a feed recorded during an outage while ``callrec run`` is live."""
    from callrec.capture._pipeline import CaptureBusy, _capture_lock
    from callrec.vault.calls import CallRecorder
    from tests.conftest import run_cli

    config = make_config()
    daemon_lock = _capture_lock(config)  # the live daemon holds the capture lock
    with Vault.open(config) as vault:
        session = open_session(vault, "device:card", T0 + 7200)
        recorder = CallRecorder(vault)
        live_call = recorder.start_call(T0 + 7300, 8000, 1)
        recorder.append(live_call, np.zeros((8000, 1), np.int16))
        recorder.flush()
        with pytest.raises(CaptureBusy):
            Pipeline(config, vault, ScriptedSource([])).run()
    path = FeedBuilder().hiss(3).speech(ja[0]).hiss(1).busy_tone(3).hiss(2).write(tmp_path / "outage.wav")
    proc = run_cli(config.source, "replay", str(path), "--start", "2026-08-03T08:30:00+09:00", "--no-asr")
    assert proc.returncode == 0, proc.stderr
    rows = calls(config)
    assert [(r.id, r.status) for r in rows] == [(live_call, "recording"), (live_call + 1, "sealed")]
    with Vault.open(config) as vault:
        sessions = vault.query("SELECT id, source, ended_ts FROM capture_sessions ORDER BY id")
        assert sessions[0] == (session, "device:card", None)  # the daemon's session goes on
        # The replayed span is accounted: a guest session of its own, so its calls are not drawn over a gap.
        (guest,) = sessions[1:]
        assert guest[1] == "replay:outage.wav" and guest[2] is not None
        ratio, found = coverage(vault, T0, guest[2])
        assert ratio == 1.0 and found == []
    daemon_lock.close()


def _burst(start: float, seconds: float) -> list:
    """A stalled writer's queue: one block gets through, the next is dropped, for ``seconds``."""
    events: list = []
    t = start
    while t < start + seconds:
        events += [_block(t), Dropped(t + 0.1, t + 0.2)]
        t += 0.2
    return events


@pytest.mark.parametrize("merge_s, expected", [(5.0, [(5.0, 14.9), (25.0, 27.9)]), (0.0, None)])
def test_an_overflow_burst_is_one_gap_and_one_log_pair_per_outage(make_config, merge_s, expected):
    """Two bursts 10 s apart: with the default merge time, two gaps (each one ``gap.open`` and one
    ``gap.close``); with merging off, one row per dropped block as before."""
    config = make_config(f"[capture]\nqueue_s = 120\n[health]\ngap_merge_s = {merge_s}\n")
    events = [_block(T0 + i * 0.1) for i in range(50)] + _burst(T0 + 4.9, 10.0)
    events += [_block(T0 + 15.0 + i * 0.1) for i in range(100)] + _burst(T0 + 24.9, 3.0)
    events += [_block(T0 + 28.0 + i * 0.1) for i in range(100)]
    with Vault.open(config) as vault:
        Pipeline(config, vault, ScriptedSource(events)).run()
        rows = vault.query("SELECT start_ts, end_ts FROM gaps WHERE cause = 'overflow' ORDER BY start_ts")
        opened = vault.query("SELECT count(*) FROM access_log WHERE action = 'gap.open'")[0][0]
        closed = vault.query("SELECT count(*) FROM access_log WHERE action = 'gap.close'")[0][0]
    if expected is None:
        assert len(rows) == opened == closed == 65  # one per dropped block, as before merging
        return
    assert [(round(s - T0, 1), round(e - T0, 1)) for s, e in rows] == expected
    assert (opened, closed) == (2, 2)
    assert [(round(g.start_ts - T0, 1), round(g.end_ts - T0, 1)) for g in gaps(config, 40)
            if g.cause == "overflow"] == expected


def test_old_vaults_many_small_gaps_are_one_gap_when_read(make_config):
    """Rows written before the writer merged (one per dropped block) are read as one outage."""
    from callrec.vault.ops import add_gap, close_session

    config = make_config()
    with Vault.open(config) as vault:
        close_session(vault, open_session(vault, "test", T0), T0 + 60)
        for i in range(100):
            add_gap(vault, T0 + 10 + i * 0.2, T0 + 10.1 + i * 0.2, "overflow")
        add_gap(vault, T0 + 40, T0 + 41, "overflow")
        add_gap(vault, T0 + 41, T0 + 50, "flatline")
    found = [(round(g.start_ts - T0, 1), round(g.end_ts - T0, 1), g.cause) for g in gaps(config, 60)]
    assert found == [(10.0, 29.9, "overflow"), (40.0, 41.0, "overflow"), (41.0, 50.0, "flatline")]
    with Vault.open(config) as vault:
        ratio, _ = coverage(vault, T0, T0 + 60, T0 + 60)
    assert ratio == pytest.approx(1 - (10.0 + 1 + 9) / 60, abs=0.01)  # captured blocks between drops count
