"""Cases, four eyes, and the rule that content is read only through an approved case, logged."""

from __future__ import annotations

import time

import pytest

from callrec.errors import AccessDenied, InvalidState
from callrec.vault.calls import read_audio, read_case_transcripts
from callrec.vault.log import log_entries
from callrec.vault.people import add_user, attach_call, close_case, decide_case, get_case, open_case
from tests.conftest import record_call


@pytest.fixture
def people(vault):
    add_user(vault, "root", "rev", ["reviewer"])
    add_user(vault, "root", "rev2", ["reviewer"])
    add_user(vault, "root", "appr", ["approver"])
    add_user(vault, "root", "both", ["reviewer", "approver"])
    add_user(vault, "root", "opsy", ["ops"])
    return vault


def _case(vault, actor="rev"):
    now = time.time()
    return open_case(vault, actor, "death of a caller: verify advice given", now - 7200, now)


def test_four_eyes_opener_cannot_approve(people):
    case = _case(people, "both")
    with pytest.raises(AccessDenied, match="four-eyes"):
        decide_case(people, "both", case, approve=True)
    refused = [e for e in log_entries(people) if e.outcome == "refused"]
    assert refused[-1].actor == "both" and refused[-1].action == "case.approve"
    decide_case(people, "appr", case, approve=True)
    assert get_case(people, case).status == "approved"


def test_reader_needs_approved_case_with_call_attached(people):
    call = record_call(people, seconds=1)
    case = _case(people)
    with pytest.raises(AccessDenied):
        attach_call(people, "rev", case, call)  # still pending
    decide_case(people, "appr", case, approve=True)
    with pytest.raises(AccessDenied, match="not attached"):
        read_audio(people, "rev", call, case)
    attach_call(people, "rev", case, call)
    audio = read_audio(people, "rev", call, case)
    assert audio.flac.startswith(b"fLaC")
    last = log_entries(people)[-1]
    assert (last.actor, last.action, last.call_id, last.case_id, last.outcome) == ("rev", "play", call, case, "ok")
    assert last.reason.startswith("death of a caller")
    with pytest.raises(AccessDenied, match="not this reviewer"):
        read_audio(people, "rev2", call, case)


def test_call_outside_window_cannot_be_attached(people):
    old = record_call(people, seconds=1, started_ts=time.time() - 86400 * 3)
    case = _case(people)
    decide_case(people, "appr", case, approve=True)
    with pytest.raises(AccessDenied, match="outside the window"):
        attach_call(people, "rev", case, old)


def test_closed_case_ends_access(people):
    call = record_call(people, seconds=1)
    case = _case(people)
    decide_case(people, "appr", case, approve=True)
    attach_call(people, "rev", case, call)
    close_case(people, "rev", case)
    with pytest.raises(AccessDenied, match="closed"):
        read_audio(people, "rev", call, case)
    with pytest.raises(InvalidState):
        close_case(people, "rev", case)


def test_refused_case_gives_no_access(people):
    call = record_call(people, seconds=1)
    case = _case(people)
    decide_case(people, "appr", case, approve=False)
    with pytest.raises(AccessDenied):
        read_audio(people, "rev", call, None)


def test_four_eyes_off_opens_approved(people, config):
    import dataclasses

    people.config = dataclasses.replace(config, cases=dataclasses.replace(config.cases, four_eyes=False))
    case = _case(people)
    assert get_case(people, case).status == "approved"


def test_case_search_is_logged_without_the_phrase(people):
    from callrec.vault.calls import add_transcript

    call = record_call(people, seconds=1)
    add_transcript(people, call, 0, "vosk", "m", "0" * 64, [{"word": "咳", "start": 0.1, "end": 0.3, "conf": 1.0}], "咳")
    case = _case(people)
    with pytest.raises(AccessDenied):
        read_case_transcripts(people, "rev", case)
    decide_case(people, "appr", case, approve=True)
    attach_call(people, "rev", case, call)
    found = read_case_transcripts(people, "rev", case)
    assert [t.text for t in found[call]] == ["咳"]
    last = log_entries(people)[-1]
    assert (last.action, last.case_id, last.detail) == ("transcript.search", case, {"calls": [call]})
