"""Refusals cost nothing (issue 18, item 4), in one process as the daemon runs them: aggregated
per account, action and minute with an exact count, capped per day for an account without a
role, no checkpoint per refusal, and a checkpoint that never reads the witness file."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from callrec.errors import AccessDenied
from callrec.vault import _guard, entries, flush_refusals, refuse
from callrec.vault.people import add_user


def _refuse(vault, actor: str, action: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AccessDenied):
            refuse(vault, actor, action, "test refusal")


def _counted(vault, actor: str) -> dict[str, int]:
    """Refusals per action as the log tells them: one per plain entry, ``count`` per aggregate."""
    out: dict[str, int] = {}
    for e in entries(vault.conn):
        if e.actor == actor and e.outcome == "refused":
            out[e.action] = out.get(e.action, 0) + e.detail.get("count", 1)
    return out


@pytest.fixture(autouse=True)
def _fresh_books():
    _guard._BOOKS.clear()
    yield
    _guard._BOOKS.clear()


def test_refusals_of_a_minute_are_one_entry_and_one_count(vault):
    add_user(vault, "root", "opsy", ["ops"])
    before = len(entries(vault.conn))
    for action in ("play", "transcript.read", "log.show"):
        _refuse(vault, "opsy", action, 25)
    assert len(entries(vault.conn)) == before + 3  # the first of each, at once
    assert flush_refusals(vault, everything=True) == 3
    log = [e for e in entries(vault.conn)[before:] if e.actor == "opsy"]
    assert [(e.action, e.detail.get("count")) for e in log] == [
        ("play", None), ("transcript.read", None), ("log.show", None),
        ("play", 24), ("transcript.read", 24), ("log.show", 24)]
    assert _counted(vault, "opsy") == {"play": 25, "transcript.read": 25, "log.show": 25}


def test_an_account_without_a_role_is_capped_per_day_and_the_rest_counted(vault, monkeypatch):
    monkeypatch.setattr(_guard, "ROLELESS_DAILY_CAP", 3)
    add_user(vault, "root", "opsy", ["ops"])
    actions = ("play", "transcript.read", "log.show", "calls.list", "status")
    for action in actions:
        _refuse(vault, "stranger", action, 4)
        _refuse(vault, "opsy", action, 4)  # an account with a role is not capped
    flush_refusals(vault, everything=True)
    stranger = [e for e in entries(vault.conn) if e.actor == "stranger"]
    assert len(stranger) == 3 + 1  # the cap, then one overflow entry
    assert stranger[-1].action == "refused.overflow" and stranger[-1].detail["count"] == 17
    assert sum(_counted(vault, "stranger").values()) == 20
    assert _counted(vault, "opsy") == dict.fromkeys(actions, 4)


def test_counts_stay_exact_with_concurrent_refusals(vault, config):
    from callrec.vault import Vault

    def flood(n: int) -> None:
        with Vault.open(config) as own:
            _refuse(own, "stranger", "play", n)

    threads = [threading.Thread(target=flood, args=(40,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flush_refusals(vault, everything=True)
    assert _counted(vault, "stranger") == {"play": 240}
    assert len([e for e in entries(vault.conn) if e.actor == "stranger"]) <= 4  # two minutes at most, two entries each


def test_refusals_add_no_checkpoint_of_their_own(vault, config):
    vault.checkpoint()
    lines = len(config.witness_path.read_text().splitlines())
    _refuse(vault, "stranger", "play", 1)  # the first after a minute without: checkpointed
    for action in ("transcript.read", "log.show", "calls.list", "health.check"):
        _refuse(vault, "stranger", action, 30)
    flush_refusals(vault)
    assert len(config.witness_path.read_text().splitlines()) - lines == 1


def test_a_checkpoint_opens_the_witness_only_to_append(vault, config):
    """Audited for real (``sys.addaudithook``): under the write lock the witness is opened once,
    write-only and append, however long it is."""
    vault.checkpoint()
    with open(config.witness_path, "a") as f:
        f.write(config.witness_path.read_text() * 200)  # a long witness (the same valid lines)
    opened: list[tuple[str, int]] = []
    watching = threading.Event()

    def hook(event: str, args: tuple) -> None:
        if watching.is_set() and event == "open" and str(args[0]) == str(config.witness_path):
            flags = args[2] if isinstance(args[2], int) else (os.O_RDONLY if "r" in str(args[1]) else os.O_WRONLY)
            opened.append((str(args[1]), flags))

    sys.addaudithook(hook)
    add_user(vault, "root", "newcomer", ["ops"])
    watching.set()
    try:
        assert vault.checkpoint() is not None
    finally:
        watching.clear()
    assert len(opened) == 1, opened
    flags = opened[0][1]
    assert flags & os.O_APPEND and flags & os.O_ACCMODE == os.O_WRONLY, opened
