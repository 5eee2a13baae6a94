"""Incremental backups on real SQLCipher vaults: the backup's vault.db follows the vault's changes
in place, restores to the same rows, and falls back to a full copy when it cannot follow."""

from __future__ import annotations

import time

import numpy as np
import pytest

from callrec.vault import Vault
from callrec.vault._keyfile import read_key_file
from callrec.vault._schema import UNTRACKED_TABLES
from callrec.vault.archive import close_periods
from callrec.vault.archive._backup import BackupUnverified, _open_copy, backup, rekey, restore
from callrec.vault.archive._changes import KEEP_DAYS, prune_changes
from callrec.vault.archive._retention import run_retention
from callrec.vault.calls import CallRecorder
from callrec.vault.calls._transcripts import add_transcript
from callrec.vault.log import verify
from callrec.vault.people import _cases
from callrec.vault.people._users import add_user, remove_role, remove_user
from tests.conftest import record_call
from tests.vault.test_archive import _days_ago

ADMIN = "root"
PAGE = 4096


def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if r[0] not in UNTRACKED_TABLES]


def _rows(conn, with_rowid: bool = True) -> dict[str, list[tuple]]:
    """Every row of every copied table (with its rowid, which the incremental copy must keep)."""
    select = "_rowid_, *" if with_rowid else "*"
    return {t: sorted(conn.execute(f'SELECT {select} FROM "{t}"').fetchall(), key=repr) for t in _tables(conn)}


def _copy_rows(config, dest) -> dict[str, list[tuple]]:
    key = read_key_file(config.key_path)
    with _open_copy(dest / "vault.db", key, config.key_path) as conn:
        return _rows(conn)


@pytest.fixture
def busy(vault):
    add_user(vault, ADMIN, ADMIN, ["admin"])
    add_user(vault, ADMIN, "rev", ["reviewer"])
    add_user(vault, ADMIN, "appr", ["approver"])
    for days in (50, 3):
        record_call(vault, seconds=1, started_ts=_days_ago(vault, days), seed=days)
    close_periods(vault)
    return vault


def _one_more_day_of_changes(vault, seed: int) -> None:
    """Changes of every kind: calls, transcripts, log entries, a case, users, retention, a day closed."""
    call = record_call(vault, seconds=1, started_ts=_days_ago(vault, 1), seed=seed)
    add_transcript(vault, call, 0, "vosk", "m", "1" * 64, [{"word": "w", "start": 0, "end": 1}], "w")
    vault.log_now(ADMIN, "note", detail={"n": seed})
    case = _cases.open_case(vault, "rev", "incident", 0, time.time())
    _cases.decide_case(vault, "appr", case, approve=True)
    _cases.attach_call(vault, "rev", case, call)
    add_user(vault, ADMIN, f"temp{seed}", ["reviewer"])
    remove_role(vault, ADMIN, "appr", "approver")
    add_user(vault, ADMIN, "appr", ["approver"])
    remove_user(vault, ADMIN, f"temp{seed}")
    close_periods(vault)
    vault.checkpoint()


def test_several_incremental_backups_follow_every_kind_of_change_and_restore(busy, config, tmp_path):
    vault, dest = busy, tmp_path / "b"
    first = backup(vault, ADMIN, dest)
    assert first.full_reason and _copy_rows(config, dest) == _rows(vault.conn)

    for seed in (21, 22):
        _one_more_day_of_changes(vault, seed)
        result = backup(vault, ADMIN, dest)
        assert result.full_reason == "" and result.rows > 0
        assert _copy_rows(config, dest) == _rows(vault.conn)

    # retention drops the 50-day-old day file and purges its call; a call is being recorded
    assert run_retention(vault, time.time(), keep_days=30)[0] == 1
    rec = CallRecorder(vault)
    live = rec.start_call(time.time(), 8000, 1)
    rec.append(live, np.full((8000, 1), 5, dtype=np.int16))
    rec.flush()
    result = backup(vault, ADMIN, dest)
    assert result.full_reason == ""
    assert _copy_rows(config, dest) == _rows(vault.conn)
    assert sorted(p.name for p in (dest / "periods").iterdir()) == sorted(r[0] for r in vault.query("SELECT file FROM periods"))
    rec.seal(live)  # its chunks are deleted again
    final = backup(vault, ADMIN, dest, full_check=True)
    assert final.full_reason == ""
    source = _rows(vault.conn, with_rowid=False)
    vault.close()
    config.vault_path.unlink()
    for leftover in config.vault_path.parent.glob("vault.db-*"):
        leftover.unlink()

    restore(config, ADMIN, dest)

    with Vault.open(config) as restored:
        got = _rows(restored.conn, with_rowid=False)
        assert verify(restored) == [] and verify(restored, full=True) == []
        head = final.snapshot.head_seq
        # the restore itself adds its log entry and re-notes the day files and the checkpoint count
        got["access_log"] = [r for r in got["access_log"] if r[0] <= head]
        for t in ("periods", "checkpoint_state"):
            got.pop(t), source.pop(t)
        assert got == source
        # a normal vault again: its triggers refuse edits of the log and track changes
        before = restored.query("SELECT count(*) FROM row_changes")[0][0]
        record_call(restored, seconds=1, seed=99)
        assert restored.query("SELECT count(*) FROM row_changes")[0][0] > before
        assert restored.query("SELECT count(*) FROM backup_state")[0][0] == 0


def test_after_a_restore_the_next_backup_is_a_full_copy(busy, config, tmp_path):
    dest = tmp_path / "b"
    backup(busy, ADMIN, dest)
    busy.close()
    restore(config, ADMIN, dest)
    with Vault.open(config) as vault:
        assert "restored" in backup(vault, ADMIN, dest).full_reason
        assert backup(vault, ADMIN, dest).full_reason == ""
        assert _copy_rows(config, dest) == _rows(vault.conn)


def test_a_backup_older_than_the_changes_kept_gets_a_full_copy(busy, config, tmp_path):
    dest = tmp_path / "b"
    backup(busy, ADMIN, dest)
    record_call(busy, seconds=1, seed=5)

    assert prune_changes(busy, time.time() + (KEEP_DAYS + 1) * 86400) > 0

    result = backup(busy, ADMIN, dest)
    assert f"older than the {KEEP_DAYS} days of changes kept" in result.full_reason
    assert _copy_rows(config, dest) == _rows(busy.conn)
    assert backup(busy, ADMIN, dest).full_reason == ""


def test_pruning_keeps_the_recent_changes(busy):
    total = busy.query("SELECT count(*) FROM row_changes")[0][0]
    assert prune_changes(busy, time.time()) == 0
    assert busy.query("SELECT count(*) FROM row_changes")[0][0] == total
    prune_changes(busy, time.time() + KEEP_DAYS * 86400 + 3600)
    assert busy.query("SELECT count(*) FROM row_changes")[0][0] == 0
    record_call(busy, seconds=1, seed=6)  # ids keep growing after the table was emptied
    assert busy.query("SELECT min(id) FROM row_changes")[0][0] > total


def test_a_new_key_gets_a_full_copy_under_it(busy, config, tmp_path):
    dest = tmp_path / "b"
    backup(busy, ADMIN, dest)
    result = backup(busy, ADMIN, dest, new_key_path=tmp_path / "offsite.key")
    assert result.full_reason == "the backup is under another key"
    again = backup(busy, ADMIN, dest, key_path=tmp_path / "offsite.key")
    assert again.full_reason == ""


def _pages(path) -> list[bytes]:
    data = path.read_bytes()
    return [data[i:i + PAGE] for i in range(0, len(data), PAGE)]


def test_one_more_day_rewrites_a_small_part_of_the_backup_file(vault, config, tmp_path):
    """What rsync ships after a night: only the pages that changed (SQLCipher gives each rewritten
    page a new IV, so an unchanged page is byte-identical only if it was not written)."""
    add_user(vault, ADMIN, ADMIN, ["admin"])
    for seed in range(40):
        call = record_call(vault, seconds=2, seed=seed)  # today's calls: their audio stays in the hot file
        add_transcript(vault, call, 0, "vosk", "m", "1" * 64, [], "w" * 200)
    dest = tmp_path / "b"
    backup(vault, ADMIN, dest)
    before = _pages(dest / "vault.db")

    call = record_call(vault, seconds=1, seed=77)
    add_transcript(vault, call, 0, "vosk", "m", "1" * 64, [], "w")
    result = backup(vault, ADMIN, dest)

    after = _pages(dest / "vault.db")
    changed = sum(1 for i, page in enumerate(after) if i >= len(before) or before[i] != page)
    assert result.full_reason == ""
    assert changed / len(after) < 0.10, f"{changed} of {len(after)} pages rewritten"
    assert result.written < 0.25 * len(after) * PAGE


def test_every_table_a_backup_carries_has_change_tracking(vault):
    """A migration that adds a table must add its three triggers (else backups fall back to full)."""
    triggers = {r[0] for r in vault.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in _tables(vault.conn):
        assert {f"{table}_track_{e}" for e in ("insert", "update", "delete")} <= triggers, table


def test_a_damaged_backup_is_caught_by_the_full_check_and_written_whole_next(vault, config, tmp_path):
    """Bit rot on the backup disk in a page no update touches: --full-check finds it."""
    add_user(vault, ADMIN, ADMIN, ["admin"])
    for seed in range(30):
        record_call(vault, seconds=2, seed=seed)
    dest = tmp_path / "b"
    backup(vault, ADMIN, dest)
    copy = dest / "vault.db"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2 + 100] ^= 0xFF
    copy.write_bytes(bytes(data))
    record_call(vault, seconds=1, seed=99)

    with pytest.raises(BackupUnverified, match="writes it whole again"):
        backup(vault, ADMIN, dest, full_check=True)

    again = backup(vault, ADMIN, dest, full_check=True)
    assert again.full_reason and _copy_rows(config, dest) == _rows(vault.conn)


def test_after_a_rekey_the_backup_is_written_whole_under_the_new_key(busy, config, tmp_path):
    dest = tmp_path / "b"
    backup(busy, ADMIN, dest)
    rekey(busy, ADMIN)

    result = backup(busy, ADMIN, dest)

    assert result.full_reason == "the backup is under another key"
    assert _copy_rows(config, dest) == _rows(busy.conn)  # opened with the new configured key
    assert backup(busy, ADMIN, dest).full_reason == ""
