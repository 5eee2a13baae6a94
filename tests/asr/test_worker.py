"""The transcription queue and worker on a real vault with the real Korean model."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from callrec.asr import TranscriptionWorker, activate_model, active_model, join_words, queue_summary, requeue, to_text
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder, claim_next, get_call, latest_counts, latest_transcripts, transcript_sha256
from callrec.vault.log import log_entries
from callrec.vault.people import add_user
from tests.asr.conftest import hardlink_copy, make_config, record_call
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _status(vault: Vault, call_id: int) -> tuple[str, int, str | None]:
    return vault.query("SELECT transcript_status, transcript_attempts, transcript_error FROM calls WHERE id = ?",
                       (call_id,))[0]


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_worker_transcribes_adds_versions_and_keeps_text_out_of_logs(config, vault, ko_speech, caplog):
    caplog.set_level(logging.DEBUG, logger="callrec")
    call_id = record_call(vault, ko_speech(8000), 8000)
    still_recording = CallRecorder(vault).start_call(time.time(), 8000, 1)
    worker = TranscriptionWorker(config)
    worker.drain()

    assert _status(vault, call_id) == ("done", 1, None)
    assert _status(vault, still_recording)[0] == "pending"
    (first,) = latest_transcripts(vault, call_id)
    info = active_model(config)
    assert (first.version, first.channel, first.model_name, first.model_sha256) == (1, 0, "ko", info.sha256)
    assert first.words and first.text == join_words(first.words, "ko") and " " in first.text  # Korean keeps spaces
    assert first.sha256 == transcript_sha256(call_id, 1, 0, first.engine, "ko", info.sha256, first.words, first.text)
    logged = [e for e in log_entries(vault) if e.action == "transcript" and e.call_id == call_id]
    assert [{k: e.detail[k] for k in ("version", "channel", "sha256", "model_sha256")} for e in logged] == [
        {"version": 1, "channel": 0, "sha256": first.sha256, "model_sha256": info.sha256}]

    assert requeue(vault, "admin", [call_id]) == [call_id]
    worker.drain()
    worker.stop()
    (second,) = latest_transcripts(vault, call_id)
    assert second.version == 2
    rows = vault.query("SELECT version, words, text, sha256 FROM transcripts WHERE call_id = ? ORDER BY version", (call_id,))
    assert [r[0] for r in rows] == [1, 2] and rows[0][3] == first.sha256 and rows[0][2] == first.text
    with pytest.raises(Exception, match="never modified"):
        with vault.transaction() as conn:
            conn.execute("UPDATE transcripts SET text = 'x' WHERE call_id = ?", (call_id,))

    words = {w["word"] for w in first.words + second.words}
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"call {call_id} transcribed" in m for m in messages)
    for message in messages:
        assert not _CJK.search(message) and not any(w in message for w in words)
    stored = vault.query("SELECT coalesce(transcript_error, '') FROM calls")
    details = [str(e.detail) + e.reason for e in log_entries(vault)]
    for text in [r[0] for r in stored] + details:
        assert not _CJK.search(text)


def test_crash_mid_transcription_resumes(config, vault, ko_speech):
    long_call = np.concatenate([ko_speech(8000)] * 3)
    call_id = record_call(vault, long_call, 8000)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from callrec.config import load_config; from callrec.asr import TranscriptionWorker;"
         " TranscriptionWorker(load_config(sys.argv[1])).drain()", str(config.source)],
        cwd=os.getcwd(),
    )
    try:
        _wait_for(lambda: _status(vault, call_id)[0] == "running", timeout=60)
        time.sleep(2.0)
        assert child.poll() is None, "the worker finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _status(vault, call_id)[0] == "running"
    assert latest_transcripts(vault, call_id) == []

    worker = TranscriptionWorker(config)
    worker.start()
    try:
        worker.drain()
    finally:
        worker.stop()
    assert _status(vault, call_id) == ("done", 2, None)
    assert [t.version for t in latest_transcripts(vault, call_id)] == [1]


def _damage_truncate(path):
    path.unlink()
    path.write_bytes(b"\0" * 100)


def _damage_garbage_same_size(path):
    size = path.stat().st_size
    path.unlink()
    path.write_bytes(os.urandom(size))


@pytest.mark.parametrize(("damage", "reason"), [
    (_damage_truncate, "am/final.mdl changed since import"),
    (_damage_garbage_same_size, "could not be loaded by Vosk"),
])
def test_corrupt_model_fails_with_reason_and_capture_goes_on(tmp_path, models_dir, ko_speech, damage, reason):
    models = tmp_path / "models"
    hardlink_copy(models_dir / "ko", models / "ko")
    damage(models / "ko" / "am" / "final.mdl")
    config = make_config(tmp_path, models, asr="max_attempts = 2")
    activate_model(config, "ko")
    vault, _ = Vault.initialise(config)
    worker = TranscriptionWorker(config)
    worker.start()
    try:
        call_id = record_call(vault, ko_speech(8000)[:16000], 8000)
        worker.notify()
        _wait_for(lambda: _status(vault, call_id)[0] == "failed")
        status, attempts, error = _status(vault, call_id)
        assert attempts == 2 and reason in error and "callrec model import" in error
        next_call = record_call(vault, ko_speech(8000)[:8000], 8000)  # capture still records and seals
        assert vault.query("SELECT status FROM calls WHERE id = ?", (next_call,))[0][0] == "sealed"
        assert all(t.is_alive() for t in worker._threads)
    finally:
        worker.stop()
    failed = [e for e in log_entries(vault) if e.action == "transcript.failed"]
    assert failed[0].call_id == call_id and failed[0].detail["attempts"] == 2
    vault.close()


def test_without_a_model_calls_wait_as_no_model_until_one_is_installed(tmp_path, models_dir, ko_speech):
    models = tmp_path / "models"
    config = make_config(tmp_path, models)
    vault, _ = Vault.initialise(config)
    call_id = record_call(vault, ko_speech(8000)[:24000], 8000)
    worker = TranscriptionWorker(config)
    worker.drain()
    assert _status(vault, call_id)[0] == "no_model"
    summary = queue_summary(vault)
    assert summary.counts["no_model"] == 1 and summary.counts["pending"] == 0 and summary.oldest_pending_age_s is None

    hardlink_copy(models_dir / "ko", models / "ko")
    activate_model(config, "ko")
    worker.drain()
    worker.stop()
    assert _status(vault, call_id)[0] == "done"
    assert queue_summary(vault).counts["done"] == 1
    vault.close()


def test_queue_takes_the_oldest_sealed_call_first_and_test_calls_last(config, vault):
    recorder = CallRecorder(vault)
    silence = np.zeros((8000, 1), np.int16)
    started = time.time() - 600
    ids = {}
    for name, offset, kind in (("test", 0, "test"), ("long", 10, "call"), ("short", 20, "call")):
        ids[name] = recorder.start_call(started + offset, 8000, 1, kind=kind)
        recorder.append(ids[name], silence)
    for name in ("test", "short", "long"):  # sealed in this order
        recorder.seal(ids[name])
    order = [claim_next(vault).call_id for _ in range(3)]
    assert order == [ids["short"], ids["long"], ids["test"]]
    assert claim_next(vault) is None


def test_quality_numbers_reach_calls_list_and_the_daily_report_without_text(config, vault, ko_speech):
    call_id = record_call(vault, ko_speech(8000), 8000)
    add_user(vault, "root", "root", ["ops"])
    TranscriptionWorker(config).drain()
    (t,) = latest_transcripts(vault, call_id)
    # The worker stored the counts with the transcript: the listing needs no words.
    stored = latest_counts(vault, [call_id], config.asr.uncertain_below)[call_id]
    assert stored == (len(t.words), sum(w["conf"] < config.asr.uncertain_below for w in t.words),
                      get_call(vault, call_id).duration_s)
    done = run_cli(config.source, "calls", "list", "--from", "2000-01-01T00:00:00+09:00",
                   "--to", "2100-01-01T00:00:00+09:00", "--json")
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(done.stdout)
    uncertain = sum(w["conf"] < config.asr.uncertain_below for w in t.words) / len(t.words)
    assert listed["uncertain_share"] == pytest.approx(uncertain, abs=1e-4) and 0 < listed["uncertain_share"] < 1
    assert listed["words_per_minute"] == pytest.approx(len(t.words) * 60 / listed["duration_s"], abs=0.1)
    assert not _CJK.search(done.stdout) and not any(w["word"] in done.stdout for w in t.words if len(w["word"]) > 1)

    day = dt.datetime.fromtimestamp(time.time() - 20, config.zone).date().isoformat()
    report = run_cli(config.source, "health", "report", "--date", day, "--json")
    assert report.returncode == 0, report.stderr
    quality = json.loads(report.stdout)["transcript_quality"]
    assert quality == {"transcribed_calls": 1, "words": len(t.words),
                       "uncertain_share": listed["uncertain_share"], "words_per_minute": listed["words_per_minute"]}
    assert not _CJK.search(report.stdout)


def _drain_timed(directory, models_dir, audio, workers: int, calls: int) -> tuple[float, int]:
    """Wall time of draining ``calls`` sealed calls with ``workers``, and the most calls seen
    ``running`` at once (polled through a second connection to the vault)."""
    config = make_config(directory, models_dir, asr=f"workers = {workers}")
    vault, _ = Vault.initialise(config)
    ids = [record_call(vault, audio, 8000) for _ in range(calls)]
    watcher, most, done = Vault.open(config), [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], watcher.query("SELECT count(*) FROM calls WHERE transcript_status = 'running'")[0][0])
            time.sleep(0.05)

    poller = threading.Thread(target=watch)
    poller.start()
    worker = TranscriptionWorker(config)
    started = time.monotonic()
    try:
        worker.drain()
        elapsed = time.monotonic() - started
    finally:
        done.set()
        poller.join()
        worker.stop()
        watcher.close()
    assert [_status(vault, i)[0] for i in ids] == ["done"] * calls
    vault.close()
    return elapsed, most[0]


def test_two_workers_decode_two_calls_at_once(tmp_path, models_dir, ko_speech):
    _elapsed, most = _drain_timed(tmp_path / "two", models_dir, ko_speech(8000), 2, 2)
    assert most == 2
    _elapsed, most = _drain_timed(tmp_path / "one", models_dir, ko_speech(8000), 1, 2)
    assert most == 1


def test_two_workers_take_clearly_less_than_twice_the_time_of_one(tmp_path, models_dir, ko_speech):
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.skip(f"needs two cores: this machine gives the tests {cores}")
    settle = time.monotonic() + 30  # let the previous test's load fall off before timing
    while os.getloadavg()[0] > cores - 1 and time.monotonic() < settle:
        time.sleep(1)
    speech = np.concatenate([ko_speech(8000)] * 2)
    _drain_timed(tmp_path / "warm", models_dir, speech, 1, 1)  # loads the shared model once for this process
    one, _ = _drain_timed(tmp_path / "one", models_dir, speech, 1, 1)
    two, _ = _drain_timed(tmp_path / "two", models_dir, speech, 2, 2)
    print(f"\none call, one worker: {one:.1f} s; two calls, two workers: {two:.1f} s ({two / one:.2f}x)")
    assert two < 1.7 * one, (one, two)


def test_a_stereo_call_reads_as_caller_and_staff_lines_in_time_order(config, vault, ko_speech):
    speech = ko_speech(8000)
    audio = np.zeros((2 * len(speech), 2), np.int16)
    audio[:len(speech), 0] = speech  # the caller speaks first ...
    audio[len(speech):, 1] = speech  # ... then the staff member answers
    call_id = record_call(vault, audio, 8000)
    TranscriptionWorker(config).drain()
    transcripts = latest_transcripts(vault, call_id)
    text = to_text(transcripts, {"id": call_id}, config)
    lines = [line for line in text.splitlines() if line.startswith("[")]
    speakers = [line.split("] ")[1].split(":")[0] for line in lines]
    assert set(speakers) == {"caller", "staff"}
    assert speakers == sorted(speakers)  # every caller line comes before every staff line
    assert lines == sorted(lines)  # in time order
    half = len(speech) / 8000
    assert all(float(line[7:13]) < half for line in lines if "caller:" in line)
    assert all(float(line[7:13]) >= half - 1 for line in lines if "staff:" in line)
    assert any(" " in line.split(": ", 1)[1] for line in lines)  # Korean keeps its spaces
