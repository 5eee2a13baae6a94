"""kill -9 in the middle of closing days, a backup and a retention run leaves a vault that verifies
clean, and running the job again finishes it. The job runs in a real subprocess killed with
SIGKILL; its fsyncs are slowed down (the only thing faked) so the kill lands inside the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from callrec.vault import Vault
from callrec.vault._accesslog import head as _head
from callrec.vault.archive import close_periods
from callrec.vault.archive._backup import backup, restore
from callrec.vault.archive._periods import list_periods
from callrec.vault.archive._retention import run_retention
from callrec.vault.log._verify import verify
from callrec.vault.people._users import add_user
from tests.conftest import REPO, record_call
from tests.vault.test_archive import _days_ago

ADMIN = "root"

_CHILD = """
import sys, time
from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.archive import _backup, _backup_copy, _periods, close_periods
from callrec.vault.archive._retention import run_retention

def slow(fsync):
    def wrapper(*args):
        time.sleep(0.4)
        return fsync(*args)
    return wrapper

_periods.fsync_path = slow(_periods.fsync_path)
_backup.fsync_path = slow(_backup.fsync_path)
_backup_copy.digest_rows = slow(_backup_copy.digest_rows)  # runs inside the incremental transaction
job, config_file, dest = sys.argv[1:4]
with Vault.open(load_config(config_file)) as vault:
    if job == "close":
        close_periods(vault)
    elif job == "backup":
        _backup.backup(vault, "root", __import__("pathlib").Path(dest))
    else:
        run_retention(vault, time.time(), keep_days=int(dest))
"""


def _kill_when(job: str, config_file: Path, arg: str, ready: Callable[[], bool]) -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, job, str(config_file), arg], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    try:
        while not ready():
            assert child.poll() is None, f"{job} finished before the kill point"
            assert time.monotonic() < deadline, f"{job} never reached the kill point"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        assert child.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def days(vault, config_file):
    add_user(vault, ADMIN, ADMIN, ["admin"])
    for d in (45, 44, 43, 3, 2):
        record_call(vault, seconds=2, started_ts=_days_ago(vault, d), seed=d)
    vault.checkpoint()
    return vault


def log_head(vault) -> tuple[int, str]:
    return _head(vault.conn)


def _clean(config) -> None:
    with Vault.open(config) as vault:
        assert verify(vault) == [] and verify(vault, full=True) == []


@pytest.mark.parametrize("point", ["tmp", "renamed"])
def test_kill_during_closing_days(days, config, config_file, point):
    directory = days.periods_dir
    days.close()

    def ready() -> bool:
        names = [p.name for p in directory.iterdir()] if directory.is_dir() else []
        return any(n.endswith(".tmp") for n in names) if point == "tmp" else any(n.endswith(".db") for n in names)

    _kill_when("close", config_file, "-", ready)

    assert _registered(config) < 5  # killed mid-way
    _clean(config)
    with Vault.open(config) as vault:
        close_periods(vault)
        assert sorted(p.day for p in list_periods(vault)) == sorted({p.day for p in list_periods(vault)})
        assert len(list_periods(vault)) == 5 and vault.query("SELECT count(*) FROM main.sealed_audio")[0][0] == 0
    _clean(config)


def test_kill_during_a_backup_keeps_the_previous_backup_whole(days, config, config_file, tmp_path):
    dest = tmp_path / "backup"
    close_periods(days)
    backup(days, ADMIN, dest)
    record_call(days, seconds=2, started_ts=_days_ago(days, 1), seed=1)
    close_periods(days)
    days.close()
    before = (dest / "vault.db").read_bytes()

    _kill_when("backup", config_file, str(dest),
               lambda: any(p.name.endswith(".tmp") for p in (dest / "periods").iterdir()))

    assert (dest / "vault.db").read_bytes() == before  # the new day file is copied before the hot copy changes
    _clean(config)
    with Vault.open(config) as vault:
        backup(vault, ADMIN, dest)
    restore(config, ADMIN, dest)
    _clean(config)


def test_kill_inside_an_incremental_backup_keeps_the_previous_backup(days, config, config_file, tmp_path):
    """Killed while the changed rows are being written into the backup's vault.db in place."""
    dest = tmp_path / "backup"
    close_periods(days)
    backup(days, ADMIN, dest)
    previous_head = log_head(days)
    for seed in (11, 12):
        record_call(days, seconds=2, seed=seed)
    days.close()

    _kill_when("backup", config_file, str(dest), lambda: (dest / "vault.db-journal").exists())

    assert (dest / "vault.db-journal").exists()  # cut short inside its transaction
    with Vault.open(config) as vault:
        again = backup(vault, ADMIN, dest)  # rolls the journal back, then applies the changes again
        assert again.full_reason == "" and again.rows > 0
        source_head = log_head(vault)
    restore(config, ADMIN, dest)
    _clean(config)
    with Vault.open(config) as vault:
        assert vault.query("SELECT count(*) FROM calls")[0][0] == 7
        assert vault.query("SELECT hash FROM access_log WHERE seq = ?", (source_head[0],))[0][0] == source_head[1]
    assert previous_head[0] < source_head[0]


def test_a_backup_killed_mid_update_still_restores_as_it_was(days, config, config_file, tmp_path):
    dest = tmp_path / "backup"
    close_periods(days)
    backup(days, ADMIN, dest)
    head_then = log_head(days)
    record_call(days, seconds=2, seed=13)
    days.close()

    _kill_when("backup", config_file, str(dest), lambda: (dest / "vault.db-journal").exists())

    restore(config, ADMIN, dest)
    _clean(config)
    with Vault.open(config) as vault:
        assert vault.query("SELECT count(*) FROM calls")[0][0] == 5  # the call made after the backup is not in it
        assert vault.query("SELECT hash FROM access_log WHERE seq = ?", (head_then[0],))[0][0] == head_then[1]


def _registered(config) -> int:
    with Vault.open(config) as vault:
        return len(list_periods(vault))


def test_kill_during_a_retention_run(days, config, config_file):
    close_periods(days)
    directory = days.periods_dir
    days.close()

    _kill_when("retention", config_file, "30", lambda: len(list(directory.glob("*.db"))) < 5)

    assert _registered(config) > 2  # killed mid-way
    _clean(config)
    with Vault.open(config) as vault:
        assert run_retention(vault, time.time(), keep_days=30)[1] == 0
        assert len(list_periods(vault)) == 2 and len(list(directory.glob("*.db"))) == 2
        assert vault.query("SELECT count(*) FROM calls WHERE status = 'purged'")[0][0] == 3
    _clean(config)
