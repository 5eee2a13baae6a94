"""Content stays out of the access log, error messages and the calls list (DESIGN.md invariant 9)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from callrec.errors import AccessDenied
from callrec.vault.calls import add_transcript, list_calls, read_transcripts
from callrec.vault.log import log_entries
from callrec.vault.people import add_user, attach_call, decide_case, open_case
from tests.conftest import record_call

PHRASE = "昨日から熱が三十八度あって"


def test_no_transcript_text_in_log_errors_or_listing(vault, config, caplog):
    caplog.set_level(logging.DEBUG)
    add_user(vault, "root", "rev", ["reviewer"])
    add_user(vault, "root", "appr", ["approver"])
    call = record_call(vault, seconds=1)
    add_transcript(vault, call, 0, "vosk", "m", "0" * 64, [{"word": PHRASE, "start": 0.1, "end": 0.9, "conf": 1.0}], PHRASE)
    case = open_case(vault, "rev", "verify advice", time.time() - 86400, time.time())
    with pytest.raises(AccessDenied) as refused:
        read_transcripts(vault, "rev", call, case)
    decide_case(vault, "appr", case, approve=True)
    attach_call(vault, "rev", case, call)
    transcripts, _, _ = read_transcripts(vault, "rev", call, case)
    assert transcripts[0].text == PHRASE
    logged = json.dumps([e.__dict__ for e in log_entries(vault)], ensure_ascii=False)
    listing = json.dumps(list_calls(vault, 0, time.time() + 60, config.zone), ensure_ascii=False)
    for text in (logged, listing, str(refused.value), caplog.text):
        assert PHRASE not in text and "三十八" not in text
