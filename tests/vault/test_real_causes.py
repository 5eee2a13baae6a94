"""Errors that name the real cause: a read-only state directory, a damaged first page, a state
directory the account may not write, and files left behind by root after a restore."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time

import pytest

from callrec.config import load_config
from tests.conftest import add_os_account, open_dir, record_call, run_cli, write_config

LIST = ("calls", "list", "--from", "2026-08-03T00:00", "--to", "2026-08-04T00:00", "--json")


def _one_line(result, *words: str) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    for word in words:
        assert word in line, line
    return line


def test_a_read_only_state_directory_is_named_not_called_a_wrong_key(small_disk):
    config_file = write_config(small_disk)
    assert run_cli(config_file, "init").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = run_cli(config_file, *LIST)
    line = _one_line(result, str(small_disk / "state"), "read-only file system", "account root")
    assert "wrong key" not in line and "damaged" not in line


def test_a_damaged_first_page_is_told_apart_from_a_wrong_key(vault, config, config_file):
    for seed in range(3):
        record_call(vault, seconds=2.0, seed=seed)
    vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vault.close()
    data = bytearray(config.vault_path.read_bytes())
    data[1000:1016] = b"\xa5" * 16  # inside page 1, after its salt
    config.vault_path.write_bytes(bytes(data))
    line = _one_line(run_cli(config_file, *LIST), "is damaged: 1 of its", "is the right key",
                     "restore the vault from a backup")
    assert "wrong key" not in line


def test_a_truncated_vault_is_not_a_wrong_key(vault, config, config_file):
    record_call(vault, seconds=2.0)
    vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vault.close()
    with open(config.vault_path, "r+b") as f:
        f.truncate(config.vault_path.stat().st_size - 1000)
    _one_line(run_cli(config_file, *LIST), "is truncated", "the key is not the problem")


def _need_accounts() -> None:
    from tests.conftest import accounts_skip_reason as _skip_reason

    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def service_account():
    _need_accounts()
    name = f"crsvc{secrets.token_hex(3)}"
    add_os_account(name)
    base = open_dir("callrec-svc-")
    try:
        yield name, base
    finally:
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.root
def test_init_into_a_directory_the_account_may_not_write_names_it(service_account):
    name, base = service_account
    (base / "locked").mkdir(mode=0o755)  # root's
    config_file = base / "callrec.toml"
    config_file.write_text(f'state_dir = "{base / "locked" / "state"}"\n')
    config_file.chmod(0o644)
    result = run_cli(config_file, "init", user=name)
    _one_line(result, "permission denied", f"account {name}", str(base / "locked" / "state"))


@pytest.mark.root
def test_restore_as_root_leaves_files_the_service_account_can_use(service_account):
    name, base = service_account
    config_file = base / "callrec.toml"
    config_file.write_text(f'state_dir = "{base / "state"}"\n[asr]\nenabled = false\n')
    config_file.chmod(0o644)
    (base / "state").mkdir(mode=0o711)  # as the install script does: install -d -o callrec
    shutil.chown(base / "state", name)
    assert run_cli(config_file, "init", user=name).returncode == 0
    assert run_cli(config_file, "users", "add", "root", "--role", "admin", user=name).returncode == 0
    copies = base / "copies"
    copies.mkdir()
    shutil.chown(copies, name)
    made = run_cli(config_file, "backup", str(copies / "b.db"), user=name)
    assert made.returncode == 0, made.stderr

    restored = run_cli(config_file, "restore", str(copies / "b.db"))  # as root
    assert restored.returncode == 0, restored.stderr
    config = load_config(config_file)
    owner = (base / "state").stat().st_uid
    for path in (config.vault_path, config.witness_path, config.key_path):
        assert path.stat().st_uid == owner, path
    # The service account starts the daemon's socket and works with the restored vault.
    server = subprocess.Popen(["runuser", "-u", name, "--", sys.executable, "-m", "callrec", "--config",
                               str(config_file), "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd="/")
    try:
        for _ in range(100):
            if config.socket_path.exists() or server.poll() is not None:
                break
            time.sleep(0.1)
        assert config.socket_path.exists(), server.stderr.read()
    finally:
        server.terminate()
        server.wait(10)
    verified = run_cli(config_file, "verify", user=name)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    rekeyed = run_cli(config_file, "rekey")  # as root too: the new key must stay the service account's
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert config.key_path.stat().st_uid == owner
    assert all(p.stat().st_uid == owner for p in config.key_path.parent.glob("vault.key.old-*"))
    again = run_cli(config_file, "verify", user=name)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_vault_held_by_another_writer_is_busy_never_damaged(vault, config):
    """Another connection holds the write lock past the busy timeout ("database is locked"): every
    path that turns a SQLite error into a vault error says busy and try again, never restore."""
    from callrec.errors import VaultBusy
    from callrec.vault import Vault, classify

    other = Vault.open(config)
    other.conn.execute("PRAGMA busy_timeout = 50")  # the real lock, only a shorter wait for it
    vault.conn.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(VaultBusy) as raised, other.transaction():
            pass
        with pytest.raises(VaultBusy):
            other.log_now("root", "socket", outcome="refused")
        with pytest.raises(Exception) as raw:  # the bare sqlite error a daemon or the CLI may meet
            other.conn.execute("CREATE TABLE busy_probe (x)")
        assert isinstance(classify(config.vault_path, raw.value), VaultBusy)
    finally:
        vault.conn.execute("ROLLBACK")
        other.close()
    message = str(raised.value)
    assert "database is locked" in message and "busy" in message
    assert "is damaged (" not in message and "restore" not in message
