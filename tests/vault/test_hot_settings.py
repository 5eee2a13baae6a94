"""The hot file has the day files' cipher settings (16 KiB pages, HMAC-SHA256). A vault written
with SQCipher's defaults before is rewritten with ``sqlcipher_export`` by the first open that has
it to itself, keeps every row and its integrity, starts a new change generation (the next backup
is whole), is left alone while another connection has it open, and a real ``kill -9`` at any
moment of the rewrite leaves the old file whole or the new one complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from callrec.vault import Vault, _db, read_key_file
from callrec.vault.archive import backup
from callrec.vault.log import log_entries, verify
from tests.conftest import record_call

ADMIN = "root"


def _to_old_settings(config) -> None:
    """The vault as a release before issue 22 wrote it: SQLCipher 4's defaults (4 KiB, HMAC-SHA512)."""
    key = read_key_file(config.key_path)
    conn = _db._raw(config.vault_path, key)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    old = config.vault_path.with_name("old.db")
    conn.execute("ATTACH DATABASE ? AS old KEY ?", (str(old), f"x'{key.hex()}'"))
    conn.execute("SELECT sqlcipher_export('old')")
    conn.execute(f"PRAGMA old.user_version = {version}")
    conn.execute("DETACH DATABASE old")
    conn.close()
    os.replace(old, config.vault_path)


def _settings(config) -> int:
    """0: the current settings read the file; 1: SQLCipher's defaults do."""
    conn, number = _db._readable(config.vault_path, read_key_file(config.key_path))
    conn.close()
    return number


def _state(config) -> tuple:
    with Vault.open(config) as vault:
        return (vault.query("SELECT id, started_ts, pcm_sha256, status FROM calls ORDER BY id"),
                [(e.seq, e.hash) for e in log_entries(vault)], verify(vault))


@pytest.fixture
def filled(vault, config):
    for seed in range(3):
        record_call(vault, seconds=2, seed=seed)
    vault.checkpoint()
    vault.close()
    return config


def test_a_new_vault_has_the_day_files_settings(vault, config):
    assert vault.conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "16384"
    assert vault.conn.execute("PRAGMA cipher_hmac_algorithm").fetchone()[0] == "HMAC_SHA256"
    assert _settings(config) == 0


def test_a_vault_with_the_old_settings_is_rewritten_on_open(filled, tmp_path):
    config = filled
    with Vault.open(config) as vault:
        backup(vault, ADMIN, tmp_path / "b")  # a backup that follows the changes from now on
    before = _state(config)
    _to_old_settings(config)
    assert _settings(config) == 1
    with Vault.open(config) as vault:
        assert vault.conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "16384"
        assert vault.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        again = backup(vault, ADMIN, tmp_path / "b")
    assert _settings(config) == 0
    assert again.full_reason, "the rowids may have changed: the next backup must be whole"
    after = _state(config)
    assert after[0] == before[0] and after[1][:len(before[1])] == before[1] and after[2] == before[2]
    assert not list(config.vault_path.parent.glob("*.upgrading*"))


def test_the_old_settings_stay_while_another_connection_has_the_vault_open(filled):
    config = filled
    _to_old_settings(config)
    other = _db._raw(config.vault_path, read_key_file(config.key_path), _db.HOT_SETTINGS[1][1])
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("SELECT count(*) FROM calls").fetchone()
    try:
        started = time.monotonic()
        with Vault.open(config) as vault:  # works at once, as it is
            assert vault.conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "4096"
            assert len(vault.query("SELECT id FROM calls")) == 3
        assert time.monotonic() - started < 5
        assert _settings(config) == 1
    finally:
        other.close()
    with Vault.open(config):
        pass
    assert _settings(config) == 0


UPGRADE = """
import sys
from callrec.config import load_config
from callrec.vault import Vault
Vault.open(load_config(sys.argv[1])).close()
"""


@pytest.mark.slow
def test_kill_9_during_the_rewrite_leaves_a_whole_vault(vault, config):
    """The upgrade runs in a real process killed with SIGKILL while its copy is being written
    (seen on disk), at several moments; each time the vault opens with every row and the same
    integrity findings, and the rewrite is done by a later open."""
    for seed in range(12):  # about 10 MB of sealed audio: the copy takes a while
        record_call(vault, seconds=60, seed=seed)
    vault.checkpoint()
    vault.close()
    before = _state(config)
    copy = config.vault_path.with_name(config.vault_path.name + ".upgrading")
    killed_during = 0
    for delay in (0.0, 0.01, 0.05, 0.1, 0.2, 0.4):
        _to_old_settings(config)
        child = subprocess.Popen([sys.executable, "-c", UPGRADE, str(config.source)], cwd="/")
        deadline = time.monotonic() + 60
        while not copy.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        during = copy.exists() and child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait()
        killed_during += during
        assert _settings(config) in (0, 1)
        after = _state(config)  # this open finishes (or had nothing left of) the rewrite
        assert after[0] == before[0] and after[2] == before[2], f"killed after {delay} s"
        assert _settings(config) == 0
    assert killed_during >= 2, "the kills must land while the copy is written"
