"""Retention: old calls are purged to a tombstone with a log entry; a call on legal hold never."""

from __future__ import annotations

import json
import time

from callrec.identity import current_account
from callrec.vault import SERVICE_ACTOR
from callrec.vault.archive import plan_retention, run_retention
from callrec.vault.calls import CallRecorder, add_transcript
from callrec.vault.log import log_entries, verify
from callrec.vault.people import add_user
from tests.conftest import audio_rows, call_status, record_call, run_cli, write_config

DAY = 86400.0
SECRET = "発熱が三日続いています"


def _days_ago(days: float) -> float:
    return time.time() - days * DAY


def _case(vault, status: str, *call_ids: int) -> int:
    """A case in the given state with calls attached, written directly with the access-log entries
    that explain its rows (the case workflow is tested elsewhere)."""
    now = time.time()
    decided = status in ("approved", "refused", "closed")
    with vault.transaction() as conn:
        case_id = conn.execute(
            "INSERT INTO cases (opened_by, opened_ts, reason, window_from_ts, window_to_ts, status, decided_by, decided_ts,"
            " closed_ts) VALUES ('rev', ?, 'incident', 0, ?, ?, ?, ?, ?)",
            (now, now, status, "appr" if decided else None, now if decided else None, now if status == "closed" else None),
        ).lastrowid
        vault.log("rev", "case.open", case_id=case_id, reason="incident", ts=now, detail={"from": 0, "to": now})
        if decided:
            vault.log("appr", "case.refuse" if status == "refused" else "case.approve", case_id=case_id, ts=now)
        for call_id in call_ids:
            conn.execute("INSERT INTO case_calls (case_id, call_id, attached_by, attached_ts) VALUES (?,?, 'rev', ?)",
                         (case_id, call_id, now))
            vault.log("rev", "case.attach", case_id=case_id, call_id=call_id, ts=now)
        if status == "closed":
            vault.log("rev", "case.close", case_id=case_id, ts=now)
    return case_id


def test_retention_never_purges_a_call_under_legal_hold(vault):
    free = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=1)
    pending = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=2)
    approved = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=3)
    closed = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=4)
    refused = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=5)
    recent = record_call(vault, seconds=1, started_ts=_days_ago(2), seed=6)
    _case(vault, "pending", pending)
    _case(vault, "approved", approved)
    _case(vault, "closed", closed)
    _case(vault, "refused", refused)

    purged, held = run_retention(vault, time.time(), 30)

    assert (purged, held) == (3, 2)
    assert {c: call_status(vault, c) for c in (free, pending, approved, closed, refused, recent)} == {
        free: "purged", pending: "sealed", approved: "sealed", closed: "purged", refused: "purged", recent: "sealed"}
    assert audio_rows(vault, pending) > 0 and audio_rows(vault, approved) > 0 and audio_rows(vault, recent) > 0
    assert vault.query("SELECT purged, held FROM retention_runs") == [(3, 2)]
    assert verify(vault) == []


def test_purged_call_keeps_a_tombstone_without_content_and_a_log_entry(vault):
    call = record_call(vault, seconds=2, started_ts=_days_ago(10))
    add_transcript(vault, call, 0, "vosk", "test-model", "0" * 64, [{"word": SECRET, "start": 0.1, "end": 1.0}], SECRET)
    before = vault.query("SELECT started_ts, ended_ts, frames, kind, flags FROM calls WHERE id = ?", (call,))

    assert run_retention(vault, time.time(), 7) == (1, 0)

    for table in ("sealed_audio", "chunks", "transcripts"):
        assert vault.query(f"SELECT count(*) FROM {table} WHERE call_id = ?", (call,)) == [(0,)], table
    assert vault.query("SELECT started_ts, ended_ts, frames, kind, flags FROM calls WHERE id = ?", (call,)) == before
    purge = [e for e in log_entries(vault, action="purge") if e.call_id == call]
    assert len(purge) == 1
    assert purge[0].actor == SERVICE_ACTOR and purge[0].outcome == "ok" and "7 days" in purge[0].reason
    assert purge[0].detail["rows_removed"]["transcripts"] == 1
    assert verify(vault) == []


def test_purge_log_holds_no_content(vault):
    call = record_call(vault, seconds=1, started_ts=_days_ago(10))
    add_transcript(vault, call, 0, "vosk", "test-model", "0" * 64, [{"word": SECRET, "start": 0.1, "end": 1.0}], SECRET)
    run_retention(vault, time.time(), 7)
    log_text = json.dumps([e.__dict__ for e in log_entries(vault)], ensure_ascii=False)
    assert SECRET not in log_text


def test_keep_days_zero_keeps_every_call(vault):
    call = record_call(vault, seconds=1, started_ts=_days_ago(3650))
    assert run_retention(vault, time.time(), 0) == (0, 0)
    assert call_status(vault, call) == "sealed"


def test_a_call_still_recording_is_never_purged(vault):
    rec = CallRecorder(vault)
    call = rec.start_call(_days_ago(40), 8000, 1)
    rec.append(call, [[100]] * 8000)
    rec.flush()
    assert run_retention(vault, time.time(), 30) == (0, 0)
    assert call_status(vault, call) == "recording"
    assert vault.query("SELECT count(*) FROM chunks WHERE call_id = ?", (call,)) == [(1,)]


def test_interrupted_calls_are_purged_like_sealed_ones(vault):
    rec = CallRecorder(vault)
    call = rec.start_call(_days_ago(40), 8000, 1)
    rec.append(call, [[100]] * 8000)
    rec.flush()
    assert CallRecorder(vault).recover_interrupted() == [call]
    assert run_retention(vault, time.time(), 30) == (1, 0)
    assert call_status(vault, call) == "purged"


def test_dry_run_plan_changes_nothing(vault):
    old = record_call(vault, seconds=1, started_ts=_days_ago(40))
    held = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=1)
    _case(vault, "approved", held)
    plan = plan_retention(vault, time.time(), 30)
    assert (plan.due, plan.held) == ((old,), (held,))
    assert call_status(vault, old) == "sealed"


def test_cli_retention_run_and_dry_run(tmp_path):
    config_file = write_config(tmp_path, "[retention]\nkeep_days = 30\n")
    from callrec.config import load_config
    from callrec.vault import Vault

    vault, _ = Vault.initialise(load_config(config_file))
    add_user(vault, SERVICE_ACTOR, current_account(), ["admin"])
    old = record_call(vault, seconds=1, started_ts=_days_ago(40))
    held = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=1)
    _case(vault, "pending", held)
    vault.close()

    dry = run_cli(config_file, "retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would purge 1 call(s): {old}" in dry.stdout and f"on legal hold 1 call(s): {held}" in dry.stdout

    real = run_cli(config_file, "retention", "run")
    assert real.returncode == 0, real.stderr
    assert "purged 1 call(s)" in real.stdout and "kept 1 on legal hold" in real.stdout
    assert run_cli(config_file, "verify").returncode == 0


def test_a_purged_call_lists_its_transcript_as_purged(vault, config):
    from callrec.vault.calls import list_calls

    old = record_call(vault, seconds=1, started_ts=_days_ago(40), seed=7)
    add_transcript(vault, old, 0, "vosk", "m", "0" * 64, [{"word": SECRET, "start": 0.1, "end": 0.9, "conf": 0.9}],
                   SECRET)
    run_retention(vault, time.time(), 30)
    listed = {c["id"]: c for c in list_calls(vault, 0, time.time(), config.zone)}
    assert listed[old]["status"] == "purged"
    assert listed[old]["transcript_status"] == "purged"
