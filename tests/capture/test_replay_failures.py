"""Replay and the writer when something real goes wrong: a full disk, a truncated FLAC, the same
feed twice. Each ends with one line naming the cause, keeps what was recorded and leaves a vault
that ``callrec verify`` finds clean."""

from __future__ import annotations

import json
import shutil

import pytest

from callrec.capture import FileSource, Pipeline
from callrec.config import load_config
from callrec.errors import DiskFull
from callrec.testing.synth import FeedBuilder
from callrec.vault import Vault
from callrec.vault.log import log_entries
from tests.capture.conftest import T0
from tests.conftest import run_cli, write_config

START = "2026-08-03T08:30:00+09:00"


def _one_line(result, *words: str) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    for word in words:
        assert word in line, line
    return line


def _two_calls_then_a_long_one(ja) -> FeedBuilder:
    """A short call sealed early, then a call too long for a 3 MiB disk."""
    fb = FeedBuilder(seed=5).hiss(2).speech(ja[0]).hiss(1).busy_tone(3).hiss(2)
    for _ in range(80):
        fb.speech(ja[1])
    return fb.hiss(1).busy_tone(3).hiss(2)


def _calls(config_file) -> list[dict]:
    out = run_cli(config_file, "calls", "list", "--from", "2026-08-03T00:00", "--to", "2026-08-04T00:00", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _verify_clean(config_file) -> None:
    result = run_cli(config_file, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_disk_full_during_replay_says_so_and_keeps_what_was_recorded(small_disk, tmp_path, ja):
    config_file = tmp_path / "callrec.toml"
    config_file.write_text(f'state_dir = "{small_disk / "state"}"\n[asr]\nenabled = false\n')
    assert run_cli(config_file, "init").returncode == 0
    feed = _two_calls_then_a_long_one(ja).write(tmp_path / "feed.wav")
    result = run_cli(config_file, "replay", str(feed), "--start", START, "--no-asr")
    line = _one_line(result, "disk full", "nothing needs restoring", str(small_disk / "state" / "vault.db"))
    assert "damaged" not in line and "restore from a backup" not in line
    calls = _calls(config_file)
    # What was committed is kept: the first call, sealed. A replay commits a call's audio in
    # 4 MiB batches (its feed can be read again), so the long call had nothing committed yet.
    assert [c["status"] for c in calls] == ["sealed"] and calls[0]["duration_s"] > 5
    # The batch that did not fit was rolled back, not left filling the disk: a short replay fits.
    later = FeedBuilder(seed=7).hiss(2).speech(ja[0]).hiss(2).write(tmp_path / "later.wav")
    again = run_cli(config_file, "replay", str(later), "--start", "2026-08-03T12:00:00+09:00", "--no-asr")
    assert again.returncode == 0, again.stderr
    assert [c["status"] for c in _calls(config_file)] == ["sealed", "sealed"]
    _verify_clean(config_file)


@pytest.mark.slow
def test_disk_full_while_recording_stops_the_writer_with_the_cause(small_disk, ja, tmp_path):
    """The daemon's writer (the same Pipeline ``callrec run`` drives) on a disk that fills up."""
    config_file = write_config(small_disk)
    config = load_config(config_file)
    assert run_cli(config_file, "init").returncode == 0
    feed = _two_calls_then_a_long_one(ja).write(tmp_path / "live.wav")
    with Vault.open(config) as vault:
        source = FileSource(feed, T0)
        source.rereadable = False  # the daemon's commits (every 0.5 s), on a feed read as fast as it goes
        pipeline = Pipeline(config, vault, source)
        pipeline.start()
        with pytest.raises(DiskFull) as failed:
            pipeline.join(120)
        assert not pipeline._thread.is_alive()
    assert "nothing needs restoring" in str(failed.value)
    with Vault.open(config) as vault:
        assert vault.query("SELECT status FROM calls ORDER BY id") == [("sealed",), ("recording",)]
    _verify_clean(config_file)


def test_a_truncated_flac_ends_the_replay_with_one_line_and_keeps_the_calls_before(tmp_path, ja):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    feed = FeedBuilder(seed=4).hiss(2).speech(ja[0]).hiss(1).busy_tone(3).hiss(2).speech(ja[1]).speech(ja[2])
    flac = feed.hiss(3).write(tmp_path / "feed.flac")
    data = flac.read_bytes()
    flac.write_bytes(data[: int(len(data) * 0.75)])
    result = run_cli(config_file, "replay", str(flac), "--start", START, "--no-asr")
    _one_line(result, "feed.flac cannot be read past", "truncated or damaged", "what came before is recorded")
    assert result.returncode == 5
    calls = _calls(config_file)
    assert calls[0]["status"] == "sealed" and calls[0]["levels"]["end"] == "busy_tone"
    _verify_clean(config_file)


def test_the_same_feed_twice_is_refused_unless_forced_and_the_override_is_logged(tmp_path, ja):
    config_file = write_config(tmp_path, "[asr]\nenabled = false\n")
    assert run_cli(config_file, "init").returncode == 0
    feed = FeedBuilder(seed=6).hiss(2).speech(ja[0]).hiss(1).busy_tone(3).hiss(2).write(tmp_path / "feed.wav")
    assert run_cli(config_file, "replay", str(feed), "--start", START, "--no-asr").returncode == 0
    again = run_cli(config_file, "replay", str(feed), "--start", START, "--no-asr")
    _one_line(again, "already holds 1 call(s) between 2026-08-03T08:30:00+09:00 and", "feed.wav", "--force")
    assert len(_calls(config_file)) == 1
    forced = run_cli(config_file, "replay", str(feed), "--start", START, "--no-asr", "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(_calls(config_file)) == 2
    with Vault.open(load_config(config_file)) as vault:
        assert [e.action for e in log_entries(vault, action="replay.force")] == ["replay.force"]
    _verify_clean(config_file)
    shutil.rmtree(tmp_path / "state")
