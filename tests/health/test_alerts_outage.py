"""One alert per outage: the daemon's check runner driven minute by minute with a controllable
clock over a real vault, with a real alert command counting what it receives."""

from __future__ import annotations

import statistics
import threading
import time

from callrec.capture import FileSource, Pipeline
from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.ops import add_gap, close_session, gaps_in, heartbeat, open_session
from tests.conftest import FIXTURES, record_call, write_config


def _counting_config(tmp_path, extra: str = ""):
    sink = tmp_path / "alerts.txt"
    script = tmp_path / "count-alert.sh"
    script.write_text(f"#!/bin/sh\ncat >> {sink}\n")
    script.chmod(0o755)
    config_file = write_config(tmp_path, f'[asr]\nenabled = false\n[health]\nalert_command = "{script}"\n{extra}')
    return load_config(config_file), sink


def _stopped_for_ten_minutes(config, every_s: int = 60) -> list[str]:
    """Capture runs, is stopped at T for 10 minutes, then runs again; checks every minute throughout."""
    vault, _ = Vault.initialise(config)
    vault.checkpoint()  # as 'callrec init' leaves it: the witness file exists
    t = time.time() - 3 * 3600
    session = open_session(vault, "device:test", t - 3600)
    record_call(vault, started_ts=t - 1800, kind="test")
    service = HealthService(config, vault)
    try:
        for minute in range(-3, 21):
            now = t + minute * every_s
            if minute <= 0:
                heartbeat(vault, session, now)
            if minute == 0:
                close_session(vault, session, now, "stopped")
            if minute == 10:
                session = open_session(vault, "device:test", now)
            if minute >= 10:
                heartbeat(vault, session, now)
            service.run_checks(now=now + 1)
            assert service.alerter.wait(10)
    finally:
        service.stop()
        vault.close()
    return [(g.cause, round(g.end_ts - g.start_ts)) for g in gaps_in(Vault.open(config), t - 3600, t + 1200, t + 1200)]


def test_a_ten_minute_stop_is_one_alert_and_one_resolution(tmp_path):
    config, sink = _counting_config(tmp_path)
    assert _stopped_for_ten_minutes(config) == [("service_stopped", 600)]
    lines = [line for line in sink.read_text().splitlines() if not line.startswith("callrec chain head")]
    assert len(lines) == 2, lines
    assert lines[0].startswith("CRITICAL capture_alive: capture stopped (stopped) [")
    assert lines[1].startswith("RESOLVED capture_alive: capture stopped (stopped) [since ")


def test_a_long_outage_is_reminded_every_renotify_hours(tmp_path):
    config, sink = _counting_config(tmp_path, "renotify_hours = 0.1\n")  # 6 minutes
    _stopped_for_ten_minutes(config)
    kinds = [line.split(" ", 1)[0] + (" still" if line.endswith("(still going on)") else "")
             for line in sink.read_text().splitlines() if not line.startswith("callrec chain head")]
    assert kinds == ["CRITICAL", "CRITICAL still", "RESOLVED"]


def test_a_hanging_alert_command_never_delays_a_capture_commit(tmp_path):
    """``sleep 300`` as the alert command while the live pipeline records: commits stay within
    a second and the ledger shows no gap."""
    config_file = write_config(tmp_path, '[asr]\nenabled = false\n[health]\nalert_command = "sleep 300"\n'
                                         "alert_timeout_s = 20\n")
    config = load_config(config_file)
    with Vault.initialise(config)[0] as made:
        made.checkpoint()  # as 'callrec init' leaves it: the witness file exists
    speech = load_speech(FIXTURES / "audio" / "ja_1.flac", 8000)
    feed = FeedBuilder(seed=3).hiss(1).speech(speech).speech(speech).hiss(2).write(tmp_path / "live.wav")
    with Vault.open(config) as health_vault, Vault.open(config) as vault:
        add_gap(health_vault, time.time() - 7200, time.time() - 7000, "flatline", "input constant")
        service = HealthService(config, health_vault)
        start = time.time()
        pipeline = Pipeline(config, vault, FileSource(feed, start, realtime=True))
        stop = threading.Event()

        def checks() -> None:
            while not stop.wait(0.5):
                service.run_checks()

        runner = threading.Thread(target=checks)
        pipeline.start()
        runner.start()
        try:
            assert pipeline.join(60)
        finally:
            stop.set()
            runner.join()
        assert not service.alerter.wait(0.1), "the alert command should still be running"
        service.stop()
        latencies = sorted(pipeline.commit_latencies)
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        assert len(latencies) > 5 and p99 <= 1.0, (p99, statistics.mean(latencies))
        end = start + pipeline.frames_in / 8000
        assert [g for g in gaps_in(vault, start, end, end) if g.cause != "flatline"] == []
        assert pipeline.sealed
