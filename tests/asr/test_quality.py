"""Quality numbers from the counts stored with each transcript are the numbers counted from its
words: stored at the configured threshold, missing (a vault written before they were stored),
stored at another threshold, mixed between channels, superseded by a newer version; the worker
counts the transcripts that have none when it has nothing to transcribe; a purge takes the counts
with the transcript."""

from __future__ import annotations

import time

from callrec.asr import TranscriptionWorker, call_quality, count_transcripts, quality_by_call, transcript_counts
from callrec.vault.archive import run_retention
from callrec.vault.calls import add_transcript, get_call, latest_counts, latest_words
from tests.conftest import record_call

BELOW = 0.6
WORDS = [
    [{"word": "안녕", "start": 0.1, "end": 0.4, "conf": 0.95}, {"word": "[unk]", "start": 0.5, "end": 0.6, "conf": 1.0},
     {"word": "네", "start": 0.7, "end": 0.8, "conf": 0.59999}, {"word": " <UNK> ", "start": 0.9, "end": 1.0},
     {"word": "감사", "start": 1.1, "end": 1.3}],
    [{"word": "여보세요", "start": 0.2, "end": 0.6, "conf": 0.6}, {"word": "예", "start": 0.8, "end": 0.9, "conf": 0.2}],
]


def _add(vault, call_id: int, channel: int, words: list[dict], below: float | None = BELOW) -> None:
    audio_s = get_call(vault, call_id).duration_s
    add_transcript(vault, call_id, channel, "vosk", "test-model", "0" * 64, words, "text",
                   None if below is None else transcript_counts(words, below, audio_s))


def _from_words(vault, call_ids: list[int]) -> dict:
    return {cid: call_quality(channels, get_call(vault, cid).duration_s, BELOW)
            for cid, channels in latest_words(vault, call_ids).items()}


def test_stored_counts_give_the_numbers_the_words_give(vault):
    started = time.time() - 3600
    ids = [record_call(vault, seconds=1.0 + i / 3, started_ts=started + 10 * i, seed=i) for i in range(7)]
    counted, legacy, other_threshold, mixed, superseded, stereo_counted, untranscribed = ids
    _add(vault, counted, 0, WORDS[0])
    _add(vault, legacy, 0, WORDS[0], below=None)
    _add(vault, other_threshold, 0, WORDS[0], below=0.5)
    _add(vault, mixed, 0, WORDS[0])
    _add(vault, mixed, 1, WORDS[1], below=None)
    _add(vault, superseded, 0, WORDS[1])
    _add(vault, superseded, 0, WORDS[0], below=None)
    _add(vault, stereo_counted, 0, WORDS[0])
    _add(vault, stereo_counted, 1, WORDS[1])

    stored = latest_counts(vault, ids, BELOW)
    assert stored == {counted: (5, 3, get_call(vault, counted).duration_s), legacy: None, other_threshold: None,
                      mixed: None, superseded: None, stereo_counted: (7, 4, get_call(vault, stereo_counted).duration_s)}
    assert quality_by_call(vault, ids, BELOW) == _from_words(vault, ids)
    assert quality_by_call(vault, ids, BELOW)[stereo_counted].to_json() == {
        "uncertain_share": round(4 / 7, 4), "words_per_minute": round(7 * 60 / get_call(vault, stereo_counted).duration_s, 1)}
    # Only the calls asked for, though their neighbours' ids are in the same range.
    assert set(quality_by_call(vault, [counted, stereo_counted], BELOW)) == {counted, stereo_counted}
    assert latest_counts(vault, [untranscribed], BELOW) == {} and quality_by_call(vault, [], BELOW) == {}


def test_a_purge_removes_the_counts_with_the_transcript(vault):
    old = record_call(vault, seconds=1.0, started_ts=time.time() - 400 * 86400)
    _add(vault, old, 0, WORDS[0])
    assert latest_counts(vault, [old], BELOW) == {old: (5, 3, 1.0)}
    run_retention(vault, time.time(), 365)
    assert get_call(vault, old).status == "purged"
    assert latest_counts(vault, [old], BELOW) == {} and quality_by_call(vault, [old], BELOW) == {}
    assert vault.query("SELECT count(*) FROM transcript_counts WHERE call_id = ?", (old,)) == [(0,)]


def _uncounted_vault(vault) -> list[int]:
    started = time.time() - 3600
    ids = [record_call(vault, seconds=1.0 + i / 4, started_ts=started + 10 * i, seed=i) for i in range(5)]
    for i, call_id in enumerate(ids):
        _add(vault, call_id, 0, WORDS[i % 2], below=None if i % 2 else 0.5)
        _add(vault, call_id, 1, WORDS[(i + 1) % 2], below=None)
    return ids


def test_transcripts_without_counts_are_counted_in_batches(vault):
    ids = _uncounted_vault(vault)
    before = _from_words(vault, ids)
    assert set(latest_counts(vault, ids, BELOW).values()) == {None}
    batches, next_from = 0, None
    while (next_from := count_transcripts(vault, BELOW, limit=4, older_than=next_from)) is not None:
        batches += 1
        assert None in latest_counts(vault, ids, BELOW).values() or batches == 3
    assert batches == 3  # ten transcripts, four at a time
    assert count_transcripts(vault, BELOW) is None
    assert None not in latest_counts(vault, ids, BELOW).values()
    assert quality_by_call(vault, ids, BELOW) == before


def test_the_worker_counts_old_transcripts_when_idle(config, vault):
    ids = _uncounted_vault(vault)
    worker = TranscriptionWorker(config, poll_s=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while None in latest_counts(vault, ids, config.asr.uncertain_below).values():
            assert time.monotonic() < deadline, "the worker did not count the transcripts"
            time.sleep(0.05)
    finally:
        worker.stop()
    assert quality_by_call(vault, ids, config.asr.uncertain_below) == {
        cid: call_quality(channels, get_call(vault, cid).duration_s, config.asr.uncertain_below)
        for cid, channels in latest_words(vault, ids).items()}
