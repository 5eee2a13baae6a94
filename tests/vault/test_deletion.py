"""Deletion requests: filed by an admin, decided by a second person, each step in the access log."""

from __future__ import annotations

import time

import pytest

from callrec.config import load_config
from callrec.errors import AccessDenied, InvalidState, UsageError
from callrec.identity import current_account
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.archive import approve_deletion, list_deletion_requests, refuse_deletion, request_deletion
from callrec.vault.log import log_entries, verify
from callrec.vault.people import add_user
from tests.conftest import audio_rows, call_status, record_call, run_cli, write_config

REASON = "caller asked on 2026-08-05 for their call to be erased"


@pytest.fixture
def people(vault):
    add_user(vault, SERVICE_ACTOR, "adm", ["admin"])
    add_user(vault, SERVICE_ACTOR, "adm2", ["admin"])
    add_user(vault, SERVICE_ACTOR, "appr", ["approver"])
    add_user(vault, SERVICE_ACTOR, "rev", ["reviewer"])
    return vault


def test_deletion_needs_a_second_person(people):
    call = record_call(people, seconds=1)
    request = request_deletion(people, "adm", call, REASON)

    with pytest.raises(AccessDenied, match="four-eyes"):
        approve_deletion(people, "adm", request)
    refused = log_entries(people)[-1]
    assert (refused.actor, refused.action, refused.outcome, refused.call_id) == ("adm", "delete.approve", "refused", call)
    assert call_status(people, call) == "sealed" and audio_rows(people, call) > 0

    approve_deletion(people, "appr", request)
    assert call_status(people, call) == "purged" and audio_rows(people, call) == 0
    steps = [(e.actor, e.action, e.outcome) for e in log_entries(people) if e.call_id == call and e.action.startswith("delete")]
    assert steps == [("adm", "delete.request", "ok"), ("adm", "delete.approve", "refused"), ("appr", "delete", "ok")]
    tombstone = [e for e in log_entries(people, action="delete") if e.call_id == call][0]
    assert tombstone.reason == REASON and tombstone.detail["requested_by"] == "adm"
    [req] = list_deletion_requests(people, "adm2")
    assert (req.status, req.decided_by) == ("approved", "appr")
    assert verify(people) == []


def test_same_person_cannot_refuse_either_but_another_can(people):
    call = record_call(people, seconds=1)
    request = request_deletion(people, "adm", call, REASON)
    with pytest.raises(AccessDenied):
        refuse_deletion(people, "adm", request)
    refuse_deletion(people, "adm2", request, "the caller's identity could not be confirmed")
    assert call_status(people, call) == "sealed" and audio_rows(people, call) > 0
    with pytest.raises(InvalidState, match="already refused"):
        approve_deletion(people, "appr", request)
    decided = [(e.actor, e.outcome) for e in log_entries(people, action="delete.refuse")]
    assert decided == [("adm", "refused"), ("adm2", "ok")]


def test_a_reason_is_required(people):
    call = record_call(people, seconds=1)
    with pytest.raises(UsageError, match="--reason"):
        request_deletion(people, "adm", call, "  ")


def test_a_call_on_legal_hold_cannot_be_deleted_until_the_case_closes(people):
    call = record_call(people, seconds=1)
    with people.transaction() as conn:
        case = conn.execute("INSERT INTO cases (opened_by, opened_ts, reason, window_from_ts, window_to_ts, status)"
                            " VALUES ('rev', ?, 'incident', 0, ?, 'approved')", (time.time(), time.time())).lastrowid
        conn.execute("INSERT INTO case_calls VALUES (?, ?, 'rev', ?)", (case, call, time.time()))
    request = request_deletion(people, "adm", call, REASON)
    with pytest.raises(InvalidState, match="legal hold"):
        approve_deletion(people, "appr", request)
    assert call_status(people, call) == "sealed"
    assert list_deletion_requests(people, "adm", "pending")[0].id == request
    with people.transaction() as conn:
        conn.execute("UPDATE cases SET status = 'closed' WHERE id = ?", (case,))
    approve_deletion(people, "appr", request)
    assert call_status(people, call) == "purged"


def test_with_four_eyes_off_the_requester_may_approve(tmp_path):
    config = load_config(write_config(tmp_path, "[cases]\nfour_eyes = false\n"))
    vault, _ = Vault.initialise(config)
    add_user(vault, SERVICE_ACTOR, "adm", ["admin"])
    call = record_call(vault, seconds=1)
    approve_deletion(vault, "adm", request_deletion(vault, "adm", call, REASON))
    assert call_status(vault, call) == "purged"
    vault.close()


def test_cli_request_then_same_person_refused(tmp_path):
    config_file = write_config(tmp_path)
    vault, _ = Vault.initialise(load_config(config_file))
    add_user(vault, SERVICE_ACTOR, current_account(), ["admin"])
    call = record_call(vault, seconds=1)
    vault.close()

    filed = run_cli(config_file, "delete-request", str(call), "--reason", REASON)
    assert filed.returncode == 0, filed.stderr
    assert "deletion request 1 filed" in filed.stdout

    same = run_cli(config_file, "delete-request", "approve", "1")
    assert same.returncode == 4
    assert same.stderr.count("\n") == 1 and "four-eyes" in same.stderr and "Traceback" not in same.stderr

    listed = run_cli(config_file, "delete-request", "list", "--json")
    assert listed.returncode == 0 and '"status": "pending"' in listed.stdout

    bad = run_cli(config_file, "delete-request", "approve")
    assert bad.returncode == 2 and "usage" in bad.stderr
