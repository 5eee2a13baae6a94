"""``callrec retranscribe``: queues calls again, logged, with one-line errors."""

from __future__ import annotations

from callrec.vault import Vault
from callrec.vault.log import log_entries
from tests.asr.conftest import make_config
from tests.conftest import record_call, run_cli


def test_retranscribe_queues_a_done_call_and_logs_it(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    with Vault.open(config) as vault:
        call_id = record_call(vault)
        with vault.transaction() as conn:
            conn.execute("UPDATE calls SET transcript_status = 'failed', transcript_attempts = 3,"
                         " transcript_error = 'x' WHERE id = ?", (call_id,))
    done = run_cli(config.source, "retranscribe", str(call_id))
    assert done.returncode == 0, done.stderr
    assert "queued 1 call" in done.stdout
    with Vault.open(config) as vault:
        assert vault.query("SELECT transcript_status, transcript_attempts, transcript_error FROM calls WHERE id = ?",
                           (call_id,)) == [("pending", 0, None)]
        assert [e.call_id for e in log_entries(vault) if e.action == "retranscribe"] == [call_id]


def test_retranscribe_of_an_unknown_call_is_one_line(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    done = run_cli(config.source, "retranscribe", "999")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "call 999" in done.stderr
    assert run_cli(config.source, "retranscribe").returncode == 2
