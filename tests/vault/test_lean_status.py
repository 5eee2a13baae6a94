"""What ``callrec status`` reads of the calls comes from small partial indexes, never a scan of
every call (issue 22 item 1): the SQL each query really runs is caught with SQLite's trace
callback and its plan asked for with ``EXPLAIN QUERY PLAN``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callrec.vault import Vault
from callrec.vault.calls import last_test_call_ts, oldest_waiting_ts, transcript_backlog
from tests.conftest import record_call


def _plans(vault: Vault, query: Callable[[], object]) -> list[str]:
    """The query plan of every SELECT that ``query`` runs on the vault's connection."""
    seen: list[str] = []
    vault.conn.set_trace_callback(seen.append)
    try:
        query()
    finally:
        vault.conn.set_trace_callback(None)
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert selects, "the query ran no SELECT"
    return [" / ".join(row[3] for row in vault.query("EXPLAIN QUERY PLAN " + sql)) for sql in selects]


@pytest.mark.parametrize(("query", "index"), [
    (transcript_backlog, "calls_waiting"),
    (oldest_waiting_ts, "calls_waiting"),
    (last_test_call_ts, "calls_test"),
    (lambda vault: last_test_call_ts(vault, "main"), "calls_test_line"),
], ids=["backlog", "oldest waiting", "last test call", "last test call on a line"])
def test_status_queries_use_their_partial_index(vault: Vault, query, index: str) -> None:
    for plan in _plans(vault, lambda: query(vault)):
        assert f"INDEX {index}" in plan, plan
        assert "SCAN calls" not in plan.replace(f"SCAN calls USING COVERING INDEX {index}", "").replace(
            f"SCAN calls USING INDEX {index}", ""), plan


def test_the_indexed_queries_count_what_they_did_before(vault: Vault) -> None:
    """The indexes change the path, not the answer: calls of every kind and state."""
    record_call(vault, seconds=0.2, kind="test", started_ts=1_700_000_000.0)
    record_call(vault, seconds=0.2, started_ts=1_700_000_100.0)
    waiting = record_call(vault, seconds=0.2, started_ts=1_700_000_200.0)
    with vault.transaction() as conn:
        conn.execute("UPDATE calls SET transcript_status = 'done' WHERE id != ?", (waiting,))
        conn.execute("UPDATE calls SET transcript_status = 'running' WHERE id = ?", (waiting,))
    assert transcript_backlog(vault) == 1
    assert oldest_waiting_ts(vault) == 1_700_000_200.0
    assert last_test_call_ts(vault) == 1_700_000_000.0
    assert last_test_call_ts(vault, "main") == 1_700_000_000.0
    assert last_test_call_ts(vault, "other") is None
