"""Backup, restore and rekey on real SQLCipher vaults in temporary directories."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import stat

import pytest

from callrec import access
from callrec.config import load_config
from callrec.errors import AccessDenied, UsageError, WrongKey
from callrec.identity import current_account
from callrec.vault import SERVICE_ACTOR, Vault, create_key_file, read_key_file
from callrec.vault._checkpoint import create_signing_key
from callrec.vault._db import PLAIN_SQLITE_HEADER
from callrec.vault.archive import _backup
from callrec.vault.archive._backup import (
    DaemonRunning,
    backup,
    finish_interrupted_rekey,
    inspect_copy,
    rekey,
    restore,
)
from callrec.vault.log import log_entries, verify
from callrec.vault.people import add_user
from tests.conftest import record_call, run_cli, write_config

ADMIN = "adm"


@pytest.fixture
def filled(vault):
    add_user(vault, SERVICE_ACTOR, ADMIN, ["admin"])
    ids = [record_call(vault, seconds=1, seed=i) for i in range(3)]
    vault.checkpoint()
    return vault, ids


def _audio(conn, call_id: int) -> bytes:
    return b"".join(r[0] for r in conn.execute("SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))


def test_backup_is_encrypted_opens_with_its_key_and_holds_every_call(filled, config, tmp_path):
    vault, ids = filled
    result = backup(vault, ADMIN, tmp_path / "copies")
    dest = tmp_path / "copies" / "vault.db"

    assert dest.read_bytes()[:16] != PLAIN_SQLITE_HEADER
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    snap = inspect_copy(dest, read_key_file(config.key_path), config.key_path)
    assert dict(snap.counts)["calls"] == 3 and snap == result.snapshot
    with _backup._open_copy(dest, read_key_file(config.key_path), config.key_path) as copy:
        for call_id in ids:
            assert _audio(copy, call_id) == _audio(vault.conn, call_id) != b""
        logged = [r[0] for r in copy.execute("SELECT action FROM access_log ORDER BY seq")]
        assert logged[-1] == "backup"
        assert [r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    other = tmp_path / "other.key"
    create_key_file(other)
    with pytest.raises(WrongKey):
        inspect_copy(dest, read_key_file(other), other)


def test_backup_never_writes_over_a_file_or_a_directory_it_did_not_make(filled, tmp_path):
    vault, _ = filled
    dest = tmp_path / "taken.db"
    dest.write_bytes(b"precious")
    with pytest.raises(UsageError, match="is a file"):
        backup(vault, ADMIN, dest)
    assert dest.read_bytes() == b"precious"
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"precious")
    with pytest.raises(UsageError, match="did not make"):
        backup(vault, ADMIN, tmp_path / "photos")
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["cat.jpg"]


def test_backup_under_a_new_key(filled, config, tmp_path):
    vault, _ = filled
    new_key = tmp_path / "offsite.key"
    result = backup(vault, ADMIN, tmp_path / "offsite", new_key_path=new_key)
    dest = tmp_path / "offsite" / "vault.db"

    assert result.key_path == new_key and stat.S_IMODE(new_key.stat().st_mode) == 0o600
    assert dict(inspect_copy(dest, read_key_file(new_key), new_key).counts)["calls"] == 3
    with pytest.raises(WrongKey):
        inspect_copy(dest, read_key_file(config.key_path), config.key_path)
    with pytest.raises(UsageError, match="never overwrites a key"):
        backup(vault, ADMIN, tmp_path / "second", new_key_path=new_key)


@pytest.mark.parametrize("action", ["backup", "rekey", "rekey_periods", "restore"])
def test_backup_restore_and_rekey_need_admin_and_the_refusal_is_logged(filled, config, tmp_path, action):
    """The access layer checks the role (the vault no longer does); nothing is touched when refused."""
    vault, _ = filled
    backup(vault, ADMIN, tmp_path / "kept")
    add_user(vault, SERVICE_ACTOR, "opsy", ["ops"])
    key_before = config.key_path.read_bytes()
    opsy = access.Actor.person("opsy")
    with pytest.raises(AccessDenied):
        if action == "backup":
            access.backup(vault, opsy, dest=tmp_path / "b")
        elif action == "restore":
            access.restore(config, opsy, tmp_path / "kept")
        else:
            getattr(access, action)(vault, opsy)
    assert not (tmp_path / "b").exists() and config.key_path.read_bytes() == key_before
    with Vault.open(config) as reopened:
        last = log_entries(reopened)[-1]
    assert (last.actor, last.action, last.outcome) == ("opsy", "restore" if action == "restore" else
                                                       action.removesuffix("_periods"), "refused")


def test_restore_round_trip_moves_the_current_vault_aside(filled, config, tmp_path):
    vault, ids = filled
    dest = tmp_path / "b"
    backup(vault, ADMIN, dest)
    later = record_call(vault, seconds=1, seed=9)
    vault.checkpoint()
    vault.close()

    result = restore(config, ADMIN, dest)

    assert result.moved_aside is not None and not result.reencrypted
    key = read_key_file(config.key_path)
    with _backup._open_copy(result.moved_aside, key, config.key_path) as old:
        assert later in [r[0] for r in old.execute("SELECT id FROM calls")]
    with Vault.open(config) as restored:
        assert [r[0] for r in restored.query("SELECT id FROM calls ORDER BY id")] == ids
        last = log_entries(restored)[-1]
        assert (last.actor, last.action) == (ADMIN, "restore")
        assert last.detail["moved_aside"] == str(result.moved_aside)
        assert verify(restored) == []


def test_restore_re_encrypts_a_backup_under_another_key(filled, tmp_path):
    vault, ids = filled
    dest, offsite_key = tmp_path / "offsite", tmp_path / "offsite.key"
    backup(vault, ADMIN, dest, new_key_path=offsite_key)

    other = load_config(write_config(tmp_path / "elsewhere"))
    # The checkpoint key travels with the vault (its fingerprint is published; entries are signed by it).
    other.state_dir.mkdir(parents=True, mode=0o711)
    shutil.copy2(vault.config.checkpoint_key_path, other.checkpoint_key_path)
    fresh, _ = Vault.initialise(other)
    add_user(fresh, SERVICE_ACTOR, ADMIN, ["admin"])
    fresh.close()
    with pytest.raises(WrongKey):
        restore(other, ADMIN, dest)

    result = restore(other, ADMIN, dest, offsite_key)

    assert result.reencrypted
    with Vault.open(other) as restored:
        assert [r[0] for r in restored.query("SELECT id FROM calls ORDER BY id")] == ids
        assert verify(restored) == []


def test_restore_without_a_vault_needs_admin_in_the_backup(filled, config, tmp_path):
    vault, ids = filled
    dest = tmp_path / "b"
    backup(vault, ADMIN, dest)
    other = load_config(write_config(tmp_path / "new-machine"))
    other.state_dir.mkdir(parents=True)
    os.link(config.key_path, other.key_path)
    create_signing_key(other.checkpoint_key_path)

    with pytest.raises(AccessDenied):
        restore(other, "stranger", dest)
    assert not other.vault_path.exists()

    result = restore(other, ADMIN, dest)
    assert result.moved_aside is None
    with Vault.open(other) as restored:
        assert len(restored.query("SELECT id FROM calls")) == len(ids)


def test_restore_and_rekey_refuse_while_the_daemon_answers(filled, config, tmp_path):
    vault, _ = filled
    dest = tmp_path / "b"
    backup(vault, ADMIN, dest)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as daemon:
        daemon.bind(str(config.socket_path))
        daemon.listen(1)
        with pytest.raises(DaemonRunning, match="stop it first"):
            restore(config, ADMIN, dest)
        with pytest.raises(DaemonRunning):
            rekey(vault, ADMIN)
    assert read_key_file(config.key_path)
    assert not list(config.vault_path.parent.glob("*.before-restore-*"))


def test_two_rekeys_within_one_second_keep_both_old_keys(filled, config, monkeypatch):
    """The clock is pinned (the one fake: two real rekeys landing in the same second is a race)."""
    vault, _ = filled
    monkeypatch.setattr(_backup, "_stamp", lambda: "20261204T000000Z")
    first_key = read_key_file(config.key_path)
    first = rekey(vault, ADMIN)
    second_key = read_key_file(config.key_path)
    vault.close()
    with Vault.open(config) as again:
        second = rekey(again, ADMIN)
    assert first.old_key_kept != second.old_key_kept
    assert read_key_file(first.old_key_kept) == first_key and read_key_file(second.old_key_kept) == second_key


def test_rekey_old_key_refused_new_key_works(filled, config):
    vault, ids = filled
    old_key = read_key_file(config.key_path)

    result = rekey(vault, ADMIN)
    vault.close()

    assert read_key_file(result.old_key_kept) == old_key
    assert read_key_file(config.key_path) != old_key
    assert stat.S_IMODE(config.key_path.stat().st_mode) == 0o600
    with pytest.raises(WrongKey):
        with Vault.open(dataclasses.replace(config, key_file=result.old_key_kept)):
            pass
    with Vault.open(config) as reopened:
        assert [r[0] for r in reopened.query("SELECT id FROM calls ORDER BY id")] == ids
        assert log_entries(reopened)[-1].action == "rekey"
        assert verify(reopened) == []


def test_rekey_cut_short_after_the_vault_changed_is_finished(filled, config, monkeypatch):
    vault, ids = filled

    def crash(*args):
        raise OSError("simulated power cut")

    monkeypatch.setattr(_backup.os, "replace", crash)
    with pytest.raises(OSError):
        rekey(vault, ADMIN)
    vault.close()
    monkeypatch.undo()
    with pytest.raises(WrongKey):
        Vault.open(config)

    message = finish_interrupted_rekey(config)

    assert "finished an interrupted rekey" in message
    with Vault.open(config) as reopened:
        assert len(reopened.query("SELECT id FROM calls")) == len(ids)
    assert not config.key_path.with_name(config.key_path.name + ".new").exists()


def test_rekey_cut_short_before_the_vault_changed_keeps_the_old_key(filled, config):
    vault, _ = filled
    vault.close()
    key_before = read_key_file(config.key_path)
    create_key_file(config.key_path.with_name(config.key_path.name + ".new"))

    assert "had not changed the vault" in finish_interrupted_rekey(config)
    assert read_key_file(config.key_path) == key_before
    Vault.open(config).close()


def test_cli_backup_rekey_restore(tmp_path):
    config_file = write_config(tmp_path)
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    add_user(vault, SERVICE_ACTOR, current_account(), ["admin"])
    record_call(vault, seconds=1)
    vault.close()
    dest = tmp_path / "b"

    made = run_cli(config_file, "backup", str(dest))
    assert made.returncode == 0, made.stderr
    assert "copied whole (this is the first backup" in made.stdout and "verified" in made.stdout
    again = run_cli(config_file, "backup", str(dest), "--full-check")
    assert again.returncode == 0, again.stderr
    assert "changed row(s) applied" in again.stdout and "verified" in again.stdout
    onto_file = run_cli(config_file, "backup", str(config.key_path))
    assert onto_file.returncode == 2 and "is a file" in onto_file.stderr and onto_file.stderr.count("\n") == 1

    rotated = run_cli(config_file, "rekey")
    assert rotated.returncode == 0, rotated.stderr
    assert "destroy the old key" in rotated.stdout

    old_key = next(config.key_path.parent.glob("vault.key.old-*"))
    back = run_cli(config_file, "restore", str(dest), "--key-file", str(old_key))
    assert back.returncode == 0, back.stderr
    assert "moved aside" in back.stdout and "re-encrypted" in back.stdout
    assert run_cli(config_file, "verify").returncode == 0


def test_backup_is_a_consistent_snapshot_while_another_process_records(filled, config, tmp_path):
    """A writer on its own connection (as the daemon is) keeps committing during the copy."""
    import threading

    import numpy as np

    from callrec.vault.calls import CallRecorder

    vault, _ = filled
    stop = threading.Event()
    flushed = []

    def writer():
        with Vault.open(config) as daemon:
            rec = CallRecorder(daemon)
            call = rec.start_call(0.0, 8000, 1)
            while not stop.is_set():
                rec.append(call, np.full((800, 1), 7, dtype=np.int16))
                rec.flush()
                flushed.append(1)
            rec.seal(call)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(flushed) < 5:
            stop.wait(0.01)
        results = [backup(vault, ADMIN, tmp_path / "b", full_check=True) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert [bool(r.full_reason) for r in results] == [True, False, False]  # then applied while it records
    chunk_counts = [dict(r.snapshot.counts)["chunks"] for r in results]
    assert chunk_counts == sorted(chunk_counts) and chunk_counts[-1] > 0
    assert len(flushed) > 5


def test_a_second_restore_in_the_same_second_sets_aside_under_a_new_name(tmp_path, monkeypatch):
    """Two restores within one second (docs/admin.md's two restore lines run as written): the second
    set-aside copy gets ``-2`` instead of failing or replacing the first."""
    from callrec.vault.archive import _backup

    monkeypatch.setattr(_backup, "_stamp", lambda: "20260803T010203Z")
    (tmp_path / "vault.db.before-restore-20260803T010203Z").write_text("first")
    name = _backup._unused_stamp(lambda st: tmp_path / f"vault.db.before-restore-{st}")
    assert name == "20260803T010203Z-2"
