"""Tampering through a direct SQLCipher connection with the right key is caught by ``callrec verify``.

The attacker here holds the data key and drops the guard triggers, as someone copying the key
file would; unless a test says otherwise they do not hold the checkpoint (signing) key.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec.config import load_config
from callrec.vault import Vault, _db, entries, read_key_file
from callrec.vault._accesslog import body_json, body_sha256, entry_message, link_hash
from callrec.vault._checkpoint import Checkpoint, load_signing_key, state_message
from callrec.vault.calls import _content, add_transcript
from callrec.vault.ops import _ledger
from callrec.vault.people import _cases, add_user
from tests.conftest import record_call, run_cli, write_config


def build_history(vault: Vault) -> list[int]:
    """Three sealed calls, people, an approved case with a read, a gap; a checkpoint after each
    step as the daemon and each command write them. The ids of the calls."""
    ids = [record_call(vault, seconds=2, seed=i) for i in range(3)]
    vault.checkpoint()
    add_transcript(vault, ids[0], 0, "vosk", "test-model", "0" * 64,
                   [{"word": "w", "start": 0.1, "end": 0.4, "conf": 0.9}], "w")
    vault.checkpoint()
    for name, role in (("root", "admin"), ("rev", "reviewer"), ("appr", "approver")):
        add_user(vault, "root", name, [role])
    vault.checkpoint()
    now = time.time()
    case = _cases.open_case(vault, "rev", "incident", now - 7200, now)
    vault.checkpoint()
    _cases.decide_case(vault, "appr", case, approve=True)
    _cases.attach_call(vault, "rev", case, ids[0])
    vault.checkpoint()
    _content.read_audio(vault, "rev", ids[0], case)
    _ledger.add_gap(vault, now - 600, now - 590, "overflow", "queue full")
    vault.checkpoint()
    return ids


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """:func:`build_history` built once; each test tampers with a copy."""
    base = tmp_path_factory.mktemp("tamper")
    vault, _ = Vault.initialise(load_config(write_config(base)))
    ids = build_history(vault)
    vault.close()
    ok = run_cli(base / "callrec.toml", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    return base / "state", ids


@pytest.fixture
def sealed(template, config_file):
    shutil.copytree(template[0], config_file.parent / "state")
    return template[1]


def _attacker(config):
    """A direct connection with the right key, as someone holding the key file would open it."""
    conn = _db._raw(config.vault_path, read_key_file(config.key_path))
    for trigger in ("access_log_no_update", "access_log_no_delete", "transcripts_no_update"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return conn


def _verify_fails(config_file, *expected, args=()):
    result = run_cli(config_file, "verify", *args)
    assert result.returncode == 8, result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout
    return result.stdout


def _forge_append(conn, signer, actor, action, call_id, detail):
    """Append an entry with a correct format-2 hash, signed by ``signer``."""
    seq, prev, count = conn.execute("SELECT seq, hash, checkpoints FROM access_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq += 1
    ts, nonce = time.time(), "00" * 16
    digest = link_hash(prev, body_sha256(body_json(seq, ts, actor, action, "ok", call_id, None, "", detail, count, nonce)))
    conn.execute("INSERT INTO access_log (seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash, hash,"
                 " nonce, checkpoints, sig) VALUES (?,?,?,?,'ok',?,NULL,'',?,?,?,?,?,?)",
                 (seq, ts, actor, action, call_id, json.dumps(detail, sort_keys=True, separators=(",", ":")), prev, digest,
                  nonce, count, signer.sign(entry_message(seq, digest)).hex()))
    return seq


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
    _verify_fails(config_file, f"call {sealed[1]}: sealed audio differs", f"call {sealed[1]}: pcm_sha256 differs from its seal entry")


def test_changed_transcript_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    conn.execute("UPDATE transcripts SET text = 'changed', words = ? WHERE call_id = ?",
                 (json.dumps([{"word": "changed", "start": 0.1, "end": 0.4, "conf": 0.9}]), sealed[0]))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[0]}: transcript version 1 channel 0 was altered")


def test_deleted_call_row_with_its_audio_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    for table in ("sealed_audio", "transcripts"):
        conn.execute(f"DELETE FROM {table} WHERE call_id = ?", (sealed[2],))
    conn.execute("DELETE FROM calls WHERE id = ?", (sealed[2],))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[2]}: sealed in access log entry",
                  "but its row and audio are gone (no purge or deletion entry)")


def test_seal_undone_and_audio_dropped_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    conn.execute("DELETE FROM sealed_audio WHERE call_id = ?", (sealed[1],))
    conn.execute("UPDATE calls SET status = 'recording', pcm_sha256 = NULL, sealed_ts = NULL WHERE id = ?", (sealed[1],))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"call {sealed[1]}: sealed in access log entry", "but the row says recording (seal undone)")


@pytest.mark.parametrize("action", ["seal", "transcript"])
def test_forged_entry_appended_without_the_signing_key_is_reported(sealed, config_file, config, action):
    """The chain hash alone can be recomputed by anyone with the data key; the signature cannot."""
    conn = _attacker(config)
    detail = ({"pcm_sha256": "ab" * 32, "frames": 1, "sample_rate": 8000, "channels": 1, "status": "sealed"}
              if action == "seal" else {"version": 2, "channel": 0, "sha256": "cd" * 32})
    seq = _forge_append(conn, Ed25519PrivateKey.generate(), "service", action, sealed[1], detail)
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"access log: entry {seq} is not signed by the checkpoint key")


def test_rechained_log_with_resigned_witness_is_caught_by_a_trusted_head(sealed, config_file, config):
    """Someone holding every key rewrites the log and the witness: only a head kept elsewhere shows it."""
    kept = run_cli(config_file, "log", "head")
    assert kept.returncode == 0, kept.stderr
    head_seq, head_hash = (kept.stdout.split()[0].split("=")[1], kept.stdout.split()[1].split("=")[1])
    signer = load_signing_key(config.checkpoint_key_path)
    conn = _attacker(config)
    case_open = next(e for e in entries(conn) if e.action == "case.open")
    rows = entries(conn)
    conn.execute("DELETE FROM access_log WHERE seq >= ?", (case_open.seq,))
    conn.execute("UPDATE cases SET reason = 'rewritten'")
    prev = next(e.hash for e in rows if e.seq == case_open.seq - 1)
    for e in rows[case_open.seq - 1:]:
        reason = "rewritten" if e.case_id is not None and e.reason else e.reason
        body = body_json(e.seq, e.ts, e.actor, e.action, e.outcome, e.call_id, e.case_id, reason, e.detail, e.checkpoints, e.nonce)
        digest = link_hash(prev, body_sha256(body))
        conn.execute("INSERT INTO access_log (seq, ts, actor, action, outcome, call_id, case_id, reason, detail, prev_hash,"
                     " hash, nonce, checkpoints, sig) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (e.seq, e.ts, e.actor, e.action, e.outcome, e.call_id, e.case_id, reason,
                      json.dumps(e.detail, sort_keys=True, separators=(",", ":")), prev, digest, e.nonce, e.checkpoints,
                      signer.sign(entry_message(e.seq, digest)).hex()))
        prev = digest
    witness = []
    for line in config.witness_path.read_text().splitlines():
        cp = Checkpoint(**json.loads(line))
        (new_hash,) = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (cp.seq,)).fetchone()
        unsigned = Checkpoint(cp.seq, new_hash, cp.ts, "")
        witness.append(json.dumps({**unsigned.__dict__, "sig": signer.sign(unsigned.message()).hex()}))
    config.witness_path.write_text("\n".join(witness) + "\n")
    written, state_seq = conn.execute("SELECT written, seq FROM checkpoint_state").fetchone()
    conn.execute("UPDATE checkpoint_state SET hash = ?, sig = ?",
                 (prev, signer.sign(state_message(written, state_seq, prev)).hex()))
    # ... and the point up to which the chain was last verified (else verify names that entry).
    conn.execute("UPDATE chain_verified SET hash = (SELECT hash FROM access_log WHERE seq = chain_verified.seq)")
    for seq, digest, ts in conn.execute("SELECT seq, hash, ts FROM chain_verified").fetchall():
        conn.execute("UPDATE chain_verified SET sig = ?", (signer.sign(f"callrec-verified:{seq}:{digest}:{ts!r}".encode()).hex(),))
    conn.commit()
    conn.close()
    assert run_cli(config_file, "verify").returncode == 0  # a perfect rewrite is invisible from inside the host
    _verify_fails(config_file, f"trusted head {head_seq}: access log entry {head_seq} differs from the head kept outside",
                  args=("--trusted-head", f"{head_seq}:{head_hash}"))
    heads = config_file.parent / "heads.txt"
    heads.write_text(f"# from the daily report\n{kept.stdout}")
    _verify_fails(config_file, f"trusted head {head_seq}:", args=("--trusted-heads", str(heads)))


def test_deleted_witness_stays_a_finding_after_the_next_logged_action(sealed, config_file, config):
    config.witness_path.unlink()
    _verify_fails(config_file, f"checkpoint: witness file {config.witness_path} is missing")
    assert run_cli(config_file, "users", "add", "newcomer", "--role", "ops", "--allow-unknown").returncode == 0  # logs, checkpoints
    _verify_fails(config_file, "holds 1 checkpoint(s) but", "were written (witness truncated or replaced)")


def test_deleted_witness_and_reset_count_are_caught_by_the_signed_entries(sealed, config_file, config):
    config.witness_path.unlink()
    conn = _attacker(config)
    conn.execute("DELETE FROM checkpoint_state")
    conn.commit()
    conn.close()
    _verify_fails(config_file, "is missing (access log entry")


def test_truncated_log_and_witness_tails_are_reported(sealed, config_file, config):
    lines = config.witness_path.read_text().splitlines()
    keep = json.loads(lines[-3])
    conn = _attacker(config)
    conn.execute("DELETE FROM access_log WHERE seq > ?", (keep["seq"],))
    conn.commit()
    conn.close()
    config.witness_path.write_text("\n".join(lines[:-2]) + "\n")
    _verify_fails(config_file, "were written (witness truncated or replaced)", "the newest checkpointed, is gone (log truncated)")


def test_deleted_access_log_row_is_reported(sealed, config_file, config):
    conn = _attacker(config)
    conn.execute("DELETE FROM access_log WHERE seq = 2")
    conn.commit()
    conn.close()
    _verify_fails(config_file, "access log: entries 2..2 are missing")


def test_truncated_access_log_is_caught_by_the_checkpoint(sealed, config_file, config):
    conn = _attacker(config)
    last = conn.execute("SELECT max(seq) FROM access_log").fetchone()[0]
    conn.execute("DELETE FROM access_log WHERE seq = ?", (last,))
    conn.commit()
    conn.close()
    _verify_fails(config_file, f"access log entry {last} recorded in the witness file is gone")


@pytest.mark.parametrize(("sql", "finding"), [
    ("INSERT INTO user_roles (name, role) VALUES ('rev', 'admin')", "user_roles: rev holds role admin that no access-log entry grants"),
    ("DELETE FROM user_roles WHERE name = 'appr'", "user_roles: appr lost role approver without a user.revoke entry"),
    ("INSERT INTO users (name, created_ts) VALUES ('ghost', 0)", "users: user ghost has no user.grant entry"),
    ("UPDATE cases SET window_from_ts = window_from_ts - 86400", "case 1: window_from_ts differs from the access log"),
    ("UPDATE cases SET status = 'closed'", "case 1: status differs from the access log"),
    ("INSERT INTO cases (opened_by, opened_ts, reason, window_from_ts, window_to_ts, status) VALUES ('rev', 0, 'x', 0, 1, 'approved')",
     "case 2: row has no case.open entry"),
    ("INSERT INTO case_calls VALUES (1, 2, 'rev', 0)", "case 1: call 2 is attached without a case.attach entry"),
    ("DELETE FROM case_calls", "case 1: call 1 attached in access log entry"),
    ("DELETE FROM gaps", "gap 1: recorded in access log entry"),
    ("UPDATE gaps SET cause = 'flatline'", "gap 1: cause differs from the access log"),
    ("UPDATE gaps SET end_ts = start_ts + 1", "gap 1: end_ts differs from the access log"),
    ("INSERT INTO gaps (start_ts, end_ts, cause) VALUES (0, 10, 'crash')", "gap 2: row has no gap.open entry"),
    ("INSERT INTO calls (started_ts, sample_rate, channels) VALUES (0, 8000, 1)", "call 4: row has no call.start entry"),
    ("UPDATE calls SET started_ts = started_ts - 3600 WHERE id = 1", "call 1: started_ts differs from its call.start entry"),
    ("UPDATE log_format SET legacy_calls_upto = 10", "log_format: a vault created with access-log format 2 has format-1 rows"),
])
def test_rows_edited_directly_are_reported(sealed, config_file, config, sql, finding):
    conn = _attacker(config)
    conn.execute(sql)
    conn.commit()
    conn.close()
    _verify_fails(config_file, finding)


def test_corrupted_page_on_disk_is_reported(sealed, config_file, config):
    data = bytearray(config.vault_path.read_bytes())
    data[4096 * 2 + 100] ^= 0xFF
    config.vault_path.write_bytes(bytes(data))
    result = run_cli(config_file, "verify")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
