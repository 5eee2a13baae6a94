"""Opening the vault: encryption on disk, and each bad key or file is a clear one-line error."""

from __future__ import annotations

import hashlib

import sqlcipher3

from callrec.vault import create_key_file
from tests.conftest import record_call, run_cli


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_vault_file_is_encrypted(vault, config):
    record_call(vault)
    header = config.vault_path.read_bytes()[:16]
    assert header != b"SQLite format 3\x00"
    plain = sqlcipher3.connect(str(config.vault_path))
    try:
        plain.execute("SELECT count(*) FROM sqlite_master").fetchone()
        raise AssertionError("an unkeyed connection could read the vault")
    except sqlcipher3.DatabaseError:
        pass
    finally:
        plain.close()


def test_init_twice_never_overwrites_key_or_vault(config_file, config):
    first = run_cli(config_file, "init")
    assert first.returncode == 0, first.stderr
    before = (_sha(config.key_path), _sha(config.vault_path))
    second = run_cli(config_file, "init")
    assert second.returncode == 0
    assert "nothing to do" in second.stdout
    assert (_sha(config.key_path), _sha(config.vault_path)) == before
    assert config.key_path.stat().st_mode & 0o777 == 0o600


def _one_line_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_wrong_key_is_refused_clearly_and_vault_untouched(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    before = _sha(config.vault_path)
    config.key_path.unlink()
    create_key_file(config.key_path)
    result = run_cli(config_file, "calls", "list", "--from", "2026-01-01", "--to", "2027-01-01")
    _one_line_error(result, "wrong key", str(config.key_path))
    assert result.returncode == 3
    assert _sha(config.vault_path) == before


def test_missing_key_file(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    config.key_path.unlink()
    _one_line_error(run_cli(config_file, "verify"), "key file", "not found")
    again = run_cli(config_file, "init")
    _one_line_error(again, "key file", "not found")
    assert not config.key_path.exists(), "init made a new key for an existing vault"


def test_not_a_vault(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    config.vault_path.write_bytes(b"hello, this is a text file\n")
    _one_line_error(run_cli(config_file, "verify"), "not a callrec vault")


def test_plain_sqlite_file_is_not_a_vault(config_file, config):
    assert run_cli(config_file, "init").returncode == 0
    config.vault_path.unlink()
    conn = sqlcipher3.connect(str(config.vault_path))
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _one_line_error(run_cli(config_file, "verify"), "unencrypted SQLite")


def test_vault_from_newer_schema_is_refused(vault, config_file, config):
    vault.conn.execute("PRAGMA user_version = 99")
    vault.close()
    _one_line_error(run_cli(config_file, "verify"), "schema version 99", "upgrade callrec")


def test_missing_config_and_unknown_key(tmp_path):
    _one_line_error(run_cli(tmp_path / "nope.toml", "verify"), "nope.toml", "not found")
    bad = tmp_path / "bad.toml"
    bad.write_text('state_dir = "/tmp/x"\n[capture]\nchanels = 2\n')
    _one_line_error(run_cli(bad, "verify"), "capture.chanels", str(bad))
    typed = tmp_path / "typed.toml"
    typed.write_text('state_dir = "/tmp/x"\n[retention]\nkeep_days = "ten"\n')
    _one_line_error(run_cli(typed, "verify"), "retention.keep_days", "integer")
