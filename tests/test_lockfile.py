"""Lock files: 0600 whatever the umask, never through a symlink or a special file, and a lock
squatted by another real OS account is named as such ("lock held by uid N, not a callrec process")."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import time

import pytest

from callrec.config import load_config
from callrec.errors import LockSquatted
from callrec.lockfile import LockNotOurs, lock_holder, try_lock
from tests.conftest import add_os_account, open_dir, run_cli, write_config

_HOLD = ("import fcntl, sys, time\n"
         "f = open(sys.argv[1])\n"  # read-only is enough for flock
         "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
         "print('held', flush=True)\n"
         "time.sleep(120)\n")


@pytest.fixture
def site():
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root to create OS accounts with useradd")
    base = open_dir("callrec-lock-")
    config_file = write_config(base)
    assert run_cli(config_file, "init").returncode == 0
    name = f"crsquat{secrets.token_hex(3)}"
    add_os_account(name)
    try:
        yield load_config(config_file), config_file, name
    finally:
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


def _squat(name: str, path) -> subprocess.Popen:
    """A process of another account holding ``path``'s flock (it opens the file read-only)."""
    proc = subprocess.Popen(["runuser", "-u", name, "--", sys.executable, "-c", _HOLD, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/", start_new_session=True)
    assert proc.stdout.readline().strip() == "held", proc.stderr.read()
    return proc


def _end(proc: subprocess.Popen, path) -> None:
    os.killpg(proc.pid, 9)  # runuser and the squatting python under it
    proc.wait()
    for _ in range(100):  # the python under runuser may outlive it by a moment
        if lock_holder(path) is None:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_a_new_lock_file_is_0600_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        lock = try_lock(tmp_path / "x.lock")
    finally:
        os.umask(old)
    assert lock is not None
    assert stat.S_IMODE((tmp_path / "x.lock").stat().st_mode) == 0o600
    lock.close()


def test_an_old_0644_lock_file_of_our_own_is_narrowed(tmp_path):
    path = tmp_path / "x.lock"
    path.touch(mode=0o644)
    path.chmod(0o644)
    try_lock(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_symlinks_and_special_files_are_never_opened(tmp_path):
    target = tmp_path / "target"
    (tmp_path / "link.lock").symlink_to(target)
    os.mkfifo(tmp_path / "fifo.lock")
    for name, why in (("link.lock", "symbolic link"), ("fifo.lock", "special file")):
        with pytest.raises(LockNotOurs, match=why):
            try_lock(tmp_path / name)
    assert not target.exists()


def test_the_serve_lock_is_0600_under_umask_0_and_another_account_cannot_open_it(site):
    config, config_file, name = site
    server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(config_file), "serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",
                              preexec_fn=lambda: os.umask(0))
    lock = config.socket_path.with_name(config.socket_path.name + ".lock")
    try:
        for _ in range(100):
            if config.socket_path.exists():
                break
            time.sleep(0.1)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        tried = subprocess.run(["runuser", "-u", name, "--", sys.executable, "-c", _HOLD, str(lock)],
                               capture_output=True, text=True, cwd="/", timeout=60)
        assert tried.returncode != 0 and "PermissionError" in tried.stderr
        holder = lock_holder(lock)
        assert holder is not None and holder.pid == server.pid and holder.callrec
    finally:
        server.terminate()
        server.wait(10)


def test_a_squatted_serve_lock_names_the_other_account(site):
    """An older callrec left the lock 0644; another account holds its flock: serve says who."""
    config, config_file, name = site
    lock = config.socket_path.with_name(config.socket_path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()
    lock.chmod(0o644)
    squatter = _squat(name, lock)
    try:
        result = run_cli(config_file, "serve")
    finally:
        _end(squatter, lock)
    uid = pwd.getpwnam(name).pw_uid
    assert result.returncode == 3, result.stderr
    assert f"lock {lock} held by uid {uid}, not a callrec process" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_squatted_capture_lock_names_the_other_account(site):
    from callrec.capture._pipeline import _capture_lock, _lock_path

    config, _, name = site
    lock = _lock_path(config)
    lock.touch()
    lock.chmod(0o644)
    lock.parent.chmod(0o755)
    squatter = _squat(name, lock)
    try:
        with pytest.raises(LockSquatted, match=f"held by uid {pwd.getpwnam(name).pw_uid}, not a callrec process"):
            _capture_lock(config)
    finally:
        _end(squatter, lock)
    held = _capture_lock(config)  # the squatter gone, the lock is ours again, and 0600
    assert held is not None and stat.S_IMODE(lock.stat().st_mode) == 0o600
    held.close()
