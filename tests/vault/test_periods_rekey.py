"""``rekey --periods``: every closed day file rewritten under a fresh key after the data key was
rotated, so an old data key with an old copy of the hot file no longer opens today's day files;
the chain, verify, backup and restore follow; kill -9 half-way leaves every file readable and the
next run carries on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlcipher3

from callrec.errors import VaultCorrupt
from callrec.vault import Vault, entries, read_key_file
from callrec.vault._db import open_read_only
from callrec.vault.archive import close_periods, rekey
from callrec.vault.archive._backup import backup, restore
from callrec.vault.archive._periods import file_sha256, list_periods, open_period
from callrec.vault.archive._periods_rekey import periods_due_for_rekey, rekey_periods, resuming_period_rekey
from callrec.vault.calls import _content
from callrec.vault.log._verify import verify
from callrec.vault.people._users import add_user
from tests.conftest import REPO, record_call, run_cli
from tests.vault.test_archive import ADMIN, _case, _days_ago

DAYS = (4, 3, 2)


def _opens(path: Path, key: bytes) -> bool:
    conn = open_period(path, key)
    try:
        conn.execute("SELECT count(*) FROM sealed_audio").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def _keys_in(hot_copy: Path, key: bytes) -> dict[str, bytes]:
    conn = open_read_only(hot_copy, key)  # a copy of the hot file, or a backup's: whatever its settings
    try:
        return {name: bytes(k) for name, k in conn.execute("SELECT name, key FROM periods")}
    finally:
        conn.close()


@pytest.fixture
def closed(vault):
    add_user(vault, ADMIN, ADMIN, ["admin"])
    add_user(vault, ADMIN, "rev", ["reviewer"])
    add_user(vault, ADMIN, "appr", ["approver"])
    calls = [record_call(vault, seconds=1, started_ts=_days_ago(vault, d), seed=d) for d in DAYS]
    close_periods(vault)
    return vault, calls


def test_rekey_periods_leaves_no_day_file_that_the_old_key_and_hot_copy_open(closed, config, tmp_path):
    vault, calls = closed
    flac = {c: _content.read_audio(vault, "rev", c, _case(vault, c)).flac for c in calls}
    before = {p.name: p for p in list_periods(vault)}
    vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    old_hot = tmp_path / "old-vault.db"
    shutil.copyfile(config.vault_path, old_hot)
    old_key = read_key_file(config.key_path)
    dest = tmp_path / "backup"
    backup(vault, ADMIN, dest)

    rekey(vault, ADMIN)
    vault.close()  # SQLCipher's cipher_integrity_check misreads pages on the connection that ran PRAGMA rekey
    vault = Vault.open(config)
    assert periods_due_for_rekey(vault) == sorted(before)
    done = rekey_periods(vault, ADMIN)

    assert done.files == len(DAYS) and done.bytes == sum(p.bytes for p in list_periods(vault))
    logged = {e.detail["period"]: e.detail for e in entries(vault.conn) if e.action == "period.rekey"}
    old_keys = _keys_in(old_hot, old_key)
    for period in list_periods(vault):
        path = vault.periods_dir / period.file
        assert period.file != before[period.name].file and not (vault.periods_dir / before[period.name].file).exists()
        assert logged[period.name]["sha256"] == period.sha256 == file_sha256(path)
        assert not _opens(path, old_keys[period.name])
    for call_id, data in flac.items():
        assert _content.read_audio(vault, "rev", call_id, None).flac == data
    assert periods_due_for_rekey(vault) == [] and rekey_periods(vault, ADMIN).files == 0
    assert verify(vault) == [] and verify(vault, full=True) == []

    # The backup directory copies the new files (new names) and drops the old ones.
    backup(vault, ADMIN, dest)
    assert sorted(p.name for p in (dest / "periods").iterdir()) == sorted(p.file for p in list_periods(vault))
    vault.close()
    restore(config, ADMIN, dest)
    with Vault.open(config) as restored:
        assert verify(restored) == [] and verify(restored, full=True) == []
        for call_id, data in flac.items():
            assert _content.read_audio(restored, "rev", call_id, _case(restored, call_id)).flac == data


def test_days_closed_or_amended_after_the_rotation_are_not_due(closed):
    vault, _ = closed
    rekey(vault, ADMIN)
    record_call(vault, seconds=1, started_ts=_days_ago(vault, 1), seed=1)
    (fresh,) = close_periods(vault)

    assert fresh not in periods_due_for_rekey(vault) and len(periods_due_for_rekey(vault)) == len(DAYS)
    assert not resuming_period_rekey(vault)


_CHILD = """
import sys, time
from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.archive import _periods
from callrec.vault.people._users import add_user
from callrec.vault.archive._periods_rekey import rekey_periods

def slow(fsync):
    def wrapper(path):
        fsync(path)
        time.sleep(0.4)
    return wrapper

_periods.fsync_path = slow(_periods.fsync_path)
with Vault.open(load_config(sys.argv[1])) as vault:
    rekey_periods(vault, "root")
"""


@pytest.mark.parametrize("point", ["tmp", "renamed"])
def test_kill_during_rekey_periods_leaves_every_day_readable_and_the_next_run_finishes(closed, config, config_file,
                                                                                      point):
    vault, calls = closed
    first = list_periods(vault)[0].file
    rekey(vault, ADMIN)
    directory = vault.periods_dir
    vault.close()
    key_files = sorted(config.key_path.parent.glob("vault.key*"))

    def ready() -> bool:
        names = [p.name for p in directory.iterdir()]
        if first in names:  # the first file is not registered yet
            return False
        fresh = [n for n in names if ".k" in n]
        if point == "tmp":
            return any(n.endswith(".tmp") for n in fresh)
        return sum(n.endswith(".db") for n in fresh) >= 2  # the second one renamed, maybe not yet registered

    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(config_file)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    try:
        while not ready():
            assert child.poll() is None, "rekey_periods finished before the kill point"
            assert time.monotonic() < deadline, "rekey_periods never reached the kill point"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        assert child.wait(timeout=30) == -signal.SIGKILL

    with Vault.open(config) as killed:
        due = periods_due_for_rekey(killed)
        assert 0 < len(due) < len(DAYS) and resuming_period_rekey(killed)
        for period in list_periods(killed):
            key = bytes(killed.query("SELECT key FROM periods WHERE name = ?", (period.name,))[0][0])
            assert _opens(directory / period.file, key)
        assert verify(killed) == [] and verify(killed, full=True) == []

    again = run_cli(config_file, "rekey", "--periods")

    assert again.returncode == 0, again.stderr
    assert f"{len(due)} closed day files rewritten" in again.stdout and "new key" not in again.stdout
    assert sorted(config.key_path.parent.glob("vault.key*")) == key_files  # the data key was not rotated again
    with Vault.open(config) as finished:
        assert periods_due_for_rekey(finished) == []
        assert verify(finished) == [] and verify(finished, full=True) == []
        for call_id in calls:
            assert _content.read_audio(finished, "rev", call_id, _case(finished, call_id)).flac


def test_cli_rekey_periods_rotates_the_data_key_and_the_day_files(closed, config, config_file):
    vault, _ = closed
    files = {p.file for p in list_periods(vault)}
    vault.close()
    key = read_key_file(config.key_path)

    done = run_cli(config_file, "rekey", "--periods")

    assert done.returncode == 0, done.stderr
    assert "new key" in done.stdout and f"{len(DAYS)} closed day files rewritten" in done.stdout
    assert read_key_file(config.key_path) != key
    with Vault.open(config) as reopened:
        assert not files & {p.file for p in list_periods(reopened)}
        assert verify(reopened, full=True) == []


def test_a_damaged_day_file_stops_the_run_with_the_file_named_and_nothing_registered(closed, config):
    vault, _ = closed
    rekey(vault, ADMIN)
    vault.close()
    vault = Vault.open(config)
    first, *_ = list_periods(vault)
    path = vault.periods_dir / first.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(VaultCorrupt, match=first.file):
        rekey_periods(vault, ADMIN)

    assert list_periods(vault)[0].file == first.file and periods_due_for_rekey(vault)[0] == first.name
    assert not [e for e in entries(vault.conn) if e.action == "period.rekey"]
    vault.close()
