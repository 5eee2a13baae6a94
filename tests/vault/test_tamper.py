"""Tampering through a direct SQLCipher connection with the right key is caught by ``callrec verify``."""

from __future__ import annotations

import json

import pytest

from callrec.vault import _db
from callrec.vault._keyfile import read_key_file
from tests.conftest import record_call, run_cli


@pytest.fixture
def sealed(vault, config_file, config):
    ids = [record_call(vault, seconds=2, seed=i) for i in range(3)]
    from callrec.vault._transcripts import add_transcript

    add_transcript(vault, ids[0], 0, "vosk", "test-model", "0" * 64,
                   [{"word": "w", "start": 0.1, "end": 0.4, "conf": 0.9}], "w")
    vault.checkpoint()
    vault.close()
    ok = run_cli(config_file, "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    return ids


def _attacker(config):
    """A direct connection with the right key, as someone holding the key file would open it."""
    return _db._raw(config.vault_path, read_key_file(config.key_path))


def _verify_fails(config_file, *expected):
    result = run_cli(config_file, "verify")
    assert result.returncode != 0
    for text in expected:
        assert text in result.stdout, result.stdout
    return result.stdout


def test_changed_sealed_audio_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    data = bytearray(conn.execute("SELECT data FROM sealed_audio WHERE call_id = ? AND seq = 0", (sealed[1],)).fetchone()[0])
    data[len(data) // 2] ^= 0xFF
    conn.execute("UPDATE sealed_audio SET data = ? WHERE call_id = ? AND seq = 0", (bytes(data), sealed[1]))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[1]}")


def test_replaced_audio_with_matching_column_hash_is_reported(sealed, config_file, config):
    """Swapping in another call's audio and its hash column still fails: the chain holds the seal."""
    conn = _attacker(config)
    other = conn.execute("SELECT data FROM sealed_audio WHERE call_id = ?", (sealed[2],)).fetchall()
    conn.execute("DELETE FROM sealed_audio WHERE call_id = ?", (sealed[1],))
    for seq, (data,) in enumerate(other):
        conn.execute("INSERT INTO sealed_audio (call_id, seq, data) VALUES (?,?,?)", (sealed[1], seq, data))
    conn.execute("UPDATE calls SET pcm_sha256 = (SELECT pcm_sha256 FROM calls WHERE id = ?) WHERE id = ?", (sealed[2], sealed[1]))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[1]}: sealed audio differs")


def test_changed_transcript_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    with pytest.raises(Exception, match="never modified"):
        conn.execute("UPDATE transcripts SET text = 'x' WHERE call_id = ?", (sealed[0],))
    conn.execute("DROP TRIGGER transcripts_no_update")
    conn.execute("UPDATE transcripts SET text = 'changed', words = ? WHERE call_id = ?",
                 (json.dumps([{"word": "changed", "start": 0.1, "end": 0.4, "conf": 0.9}]), sealed[0]))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[0]}: transcript version 1 channel 0 was altered")


def test_deleted_access_log_row_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    with pytest.raises(Exception, match="append-only"):
        conn.execute("DELETE FROM access_log WHERE seq = 2")
    conn.execute("DROP TRIGGER access_log_no_delete")
    conn.execute("DELETE FROM access_log WHERE seq = 2")
    conn.commit()
    conn.close()
    _verify_fails(config_file, "access log: entries 2..2 are missing")


def test_truncated_access_log_is_caught_by_the_checkpoint(sealed, config_file, config):
    conn = _attacker(config)
    last = conn.execute("SELECT max(seq) FROM access_log").fetchone()[0]
    conn.execute("DROP TRIGGER access_log_no_delete")
    conn.execute("DELETE FROM access_log WHERE seq = ?", (last,))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"access log entry {last} recorded in the witness file is gone")


def test_corrupted_page_on_disk_is_reported(sealed, config_file, config):
    data = bytearray(config.vault_path.read_bytes())
    data[4096 * 2 + 100] ^= 0xFF
    config.vault_path.write_bytes(bytes(data))
    result = run_cli(config_file, "verify")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
