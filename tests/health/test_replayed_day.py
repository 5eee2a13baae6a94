"""End to end through ``callrec replay``: feeds replayed into a day, then the daily report.

The line feeds go through the real capture pipeline (segmenter, flatline detector, DTMF test-call
detection, ledger). A queue overflow cannot be caused by a replay (it reads the file at its own
pace), so that one gap is written to the ledger directly: a fake for a fault we cannot cause.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.health import run_checks
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.ops import add_gap
from tests.conftest import FIXTURES, run_cli, write_config
from tests.health.conftest import DAY, at

SPEECH = FIXTURES / "audio" / "ja_1.flac"


def _feed(path: Path, build) -> Path:
    fb = FeedBuilder(seed=1)
    build(fb, load_speech(SPEECH, 8000))
    return fb.write(path)


def _replay(config_file: Path, feed: Path, start: str) -> None:
    result = run_cli(config_file, "replay", str(feed), "--start", start, "--no-asr")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def replay_config(tmp_path):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    return config_file


@pytest.mark.slow
def test_replayed_day_with_flatline_overflow_stop_and_no_test_call(replay_config, tmp_path):
    # In service since before that day: its first eight hours are a gap, not "not in service".
    with replay_config.open("a") as f:
        f.write('[health]\nin_service_since = "2026-08-01T00:00:00+09:00"\n')
    # 08:00 a call, then the tap is pulled for an hour, then a call; no test call all day.
    morning = _feed(tmp_path / "morning.wav", lambda fb, sp: fb.hiss(20).speech(sp).hiss(5).speech(sp).hiss(60)
                    .flat(3600).hiss(30).speech(sp).hiss(60))
    # The service is stopped from the end of that feed until 11:00; then a short afternoon.
    noon = _feed(tmp_path / "noon.wav", lambda fb, sp: fb.hiss(20).speech(sp).hiss(60))
    _replay(replay_config, morning, "2026-08-03T08:00:00+09:00")
    _replay(replay_config, noon, "2026-08-03T11:00:00+09:00")
    config = load_config(replay_config)
    with Vault.open(config) as vault:
        add_gap(vault, at(config, "11:00:30"), at(config, "11:00:35"), "overflow", "queue full")

    result = run_cli(replay_config, "health", "report", "--date", DAY.isoformat(), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    gaps = [(g["cause"], g["start"][11:19], g["end"][11:19]) for g in report["gaps"]]
    causes = [c for c, _, _ in gaps]
    assert causes == ["service_stopped", "flatline", "service_stopped", "overflow", "service_stopped"]
    flat = gaps[1]
    flat_start = dt.time.fromisoformat(flat[1])
    assert dt.time(8, 1) <= flat_start <= dt.time(8, 3)
    flat_len = (dt.datetime.combine(DAY, dt.time.fromisoformat(flat[2]))
                - dt.datetime.combine(DAY, flat_start)).total_seconds()
    assert 3540 <= flat_len <= 3610  # the hour, less at most the detector's delay
    assert gaps[0][1:] == ("00:00:00", "08:00:00")
    assert gaps[2][2] == "11:00:00" and gaps[3][1:] == ("11:00:30", "11:00:35") and gaps[4][2] == "00:00:00"

    found = {(f["check"], f["severity"]) for f in report["findings"]}
    assert found == {("service_gaps", "critical"), ("flatline", "critical"), ("queue_overflow", "warning"),
                     ("test_call", "warning")}
    assert report["calls"]["recorded"] == 3 and report["calls"]["test_calls"] == 0


@pytest.mark.slow
def test_replayed_clean_span_with_a_test_call_has_no_findings(replay_config, tmp_path):
    feed = _feed(tmp_path / "clean.wav", lambda fb, sp: fb.hiss(10).dtmf("*0*0#").hiss(2).speech(sp).hiss(60)
                 .speech(sp).hiss(60))
    _replay(replay_config, feed, "2026-08-03T09:00:00+09:00")
    config = load_config(replay_config)
    with Vault.open(config) as vault:
        start, end = vault.query("SELECT started_ts, ended_ts FROM capture_sessions")[0]
        findings = run_checks(vault, config, start=start, end=end, live=False, now=end + 3600)
        kinds = [k for (k,) in vault.query("SELECT kind FROM calls ORDER BY started_ts")]
    assert kinds == ["test", "call"]
    assert findings == []
