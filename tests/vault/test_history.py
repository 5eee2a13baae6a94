"""A vault with a long, varied history verifies clean; so does one written by an older callrec."""

from __future__ import annotations

import time

from callrec.config import load_config
from callrec.vault import Vault, _db, read_key_file
from callrec.vault.archive import run_retention
from callrec.vault.calls import _content, add_transcript
from callrec.vault.log import log_entries, verify
from callrec.vault.ops import _ledger
from callrec.vault.people import _cases, add_user, remove_role
from tests.conftest import record_call, run_cli
from tests.vault.legacy import legacy_vault

DAY = 86400.0


def test_months_of_synthetic_history_verify_clean(vault):
    """Ninety days: daily sessions (nightly stops become gaps), a call a day, transcripts, a device
    gap now and then, weekly cases read and closed, role changes, retention purging old calls."""
    add_user(vault, "root", "root", ["admin"])
    add_user(vault, "root", "rev", ["reviewer"])
    add_user(vault, "root", "appr", ["approver", "ops"])
    start = time.time() - 90 * DAY
    for day in range(90):
        t = start + day * DAY
        session = _ledger.open_session(vault, "wav", t)
        call = record_call(vault, seconds=0.2, started_ts=t + 3600, seed=day, channels=1 + day % 2)
        add_transcript(vault, call, 0, "vosk", "model", "1" * 64, [{"word": "x", "start": 0.0, "end": 0.1, "conf": 0.5}], "x")
        if day % 10 == 3:
            gap = _ledger.open_gap(vault, t + 7200, "device_lost")
            _ledger.close_gap(vault, gap, t + 7260)
        if day % 7 == 5:
            case = _cases.open_case(vault, "rev", "weekly review", t, t + DAY)
            _cases.decide_case(vault, "appr", case, approve=True)
            _cases.attach_call(vault, "rev", case, call)
            _content.read_audio(vault, "rev", call, case)
            _content.read_transcripts(vault, "rev", call, case)
            if day != 40:  # stays open: its call is on legal hold
                _cases.close_case(vault, "rev", case)
        if day == 45:
            remove_role(vault, "root", "appr", "ops")
        _ledger.close_session(vault, session, t + 8 * 3600)
        if day % 5 == 0:
            vault.checkpoint()
    purged, held = run_retention(vault, time.time(), keep_days=30)
    assert purged > 50 and held >= 1
    assert verify(vault) == []
    assert len(log_entries(vault)) > 500


def test_a_vault_written_by_the_previous_release_migrates_and_verifies_clean(tmp_path):
    config_file = legacy_vault(tmp_path)
    first = run_cli(config_file, "verify")
    assert first.returncode == 0, first.stdout + first.stderr
    config = load_config(config_file)
    with Vault.open(config) as vault:
        assert vault.query("SELECT legacy_upto FROM log_format")[0][0] > 10
        call = record_call(vault, seconds=0.5, seed=9)
        _ledger.add_gap(vault, time.time() - 60, time.time() - 50, "overflow")
        case = _cases.open_case(vault, "alice", "after the upgrade", time.time() - 7200, time.time())
        _cases.decide_case(vault, "bob", case, approve=True)
        _cases.attach_call(vault, "alice", case, call)
        vault.checkpoint()
    again = run_cli(config_file, "verify")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_migrated_vault_still_catches_tampering_with_old_rows(tmp_path):
    config_file = legacy_vault(tmp_path)
    config = load_config(config_file)
    Vault.open(config).close()  # migrate
    conn = _db._raw(config.vault_path, read_key_file(config.key_path))
    conn.execute("UPDATE cases SET status = 'closed'")
    conn.execute("DELETE FROM sealed_audio WHERE call_id = 2")
    conn.execute("DELETE FROM calls WHERE id = 2")
    conn.commit()
    conn.close()
    result = run_cli(config_file, "verify")
    assert result.returncode == 8
    assert "case 1: status differs from the access log" in result.stdout
    assert "call 2: sealed in access log entry" in result.stdout


def test_a_moved_format_boundary_is_reported(tmp_path):
    """The ids below which rows need no entry are stated by the signed log.format entry."""
    config_file = legacy_vault(tmp_path)
    config = load_config(config_file)
    with Vault.open(config) as vault:
        record_call(vault, seconds=0.2)
        first = log_entries(vault)[vault.query("SELECT legacy_upto FROM log_format")[0][0]]
        assert first.action == "log.format" and first.detail["legacy_calls_upto"] == 3
        vault.checkpoint()
    conn = _db._raw(config.vault_path, read_key_file(config.key_path))
    conn.execute("UPDATE log_format SET legacy_calls_upto = 100")
    conn.execute("INSERT INTO calls (id, started_ts, sample_rate, channels) VALUES (50, 0, 8000, 1)")
    conn.commit()
    conn.close()
    result = run_cli(config_file, "verify")
    assert result.returncode == 8
    assert "log_format: the format-1 boundary differs from the log.format entry" in result.stdout
    assert "call 50: row has no call.start entry" in result.stdout
