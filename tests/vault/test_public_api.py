"""The vault's public API as other packages use it: typed call records and a consistent read
snapshot (issue 11, "the vault owns its tables")."""

from __future__ import annotations

import dataclasses
import time

import pytest

from callrec.vault import Vault
from callrec.vault.archive import run_retention
from callrec.vault.calls import (
    Call,
    calls_overlapping,
    calls_started,
    count_calls,
    get_call,
    get_calls,
    last_test_call_ts,
)
from callrec.vault.log import log_entries
from callrec.vault.people import add_user
from tests.conftest import record_call


def test_a_call_is_a_frozen_record_without_content(vault):
    start = time.time() - 600
    call_id = record_call(vault, seconds=2.0, started_ts=start, channels=2)
    call = get_call(vault, call_id)
    assert isinstance(call, Call)
    assert (call.id, call.started_ts, call.kind, call.status, call.channels) == (call_id, start, "call", "sealed", 2)
    assert call.duration_s == pytest.approx(2.0)
    assert call.end_ts == call.ended_ts and call.pcm_sha256
    assert isinstance(call.flags, tuple)
    assert not {"pcm", "data", "flac", "words", "text"} & {f.name for f in dataclasses.fields(Call)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.status = "purged"  # type: ignore[misc]
    assert get_call(vault, call_id + 100) is None


def test_window_reads_leave_purged_calls_out_unless_asked(vault):
    now = time.time()
    old = record_call(vault, seconds=1.0, started_ts=now - 40 * 86400)
    new = record_call(vault, seconds=1.0, started_ts=now - 3600)
    test = record_call(vault, seconds=1.0, started_ts=now - 1800, kind="test")
    assert run_retention(vault, now, 30) == (1, 0)
    assert [c.id for c in calls_started(vault, now - 50 * 86400, now)] == [new, test]
    assert [c.id for c in calls_started(vault, now - 50 * 86400, now, purged=True)] == [old, new, test]
    assert [c.id for c in calls_started(vault, now - 50 * 86400, now, kind="test")] == [test]
    assert [c.id for c in calls_overlapping(vault, now - 3600.5, now - 3599.5)] == [new]
    assert count_calls(vault, now - 50 * 86400) == 2 and count_calls(vault, now - 50 * 86400, kind="test") == 1
    assert last_test_call_ts(vault) == now - 1800
    assert [c.id for c in get_calls(vault, [test, old, 999])] == [old, test]


def test_a_snapshot_reads_one_consistent_vault_while_another_process_writes(vault, config):
    add_user(vault, "root", "first", ["ops"])
    with vault.snapshot() as view:
        before = view.entries()
        head = view.head()
        with Vault.open(config) as other:  # the daemon, the CLI: another connection writing meanwhile
            add_user(other, "root", "second", ["ops"])
        assert view.entries() == before and view.head() == head
        assert view.verify_chain(vault.signer.public_key()) == []
    after = log_entries(vault)
    assert len(after) == len(before) + 1 and after[-1].detail["user"] == "second"


def test_a_snapshot_does_not_block_writes_after_it_ends(vault):
    with vault.snapshot() as view:
        view.entries()
    add_user(vault, "root", "later", ["ops"])
    assert log_entries(vault)[-1].detail["user"] == "later"
