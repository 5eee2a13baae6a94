"""Reading the access log: entries for ``log show`` and the reports, and the seal of each call
for evidence packages. Appending is ``Vault.log``'s; checking the chain is ``ReadView``'s."""

from __future__ import annotations

from collections.abc import Sequence

from callrec.vault._accesslog import LogEntry
from callrec.vault._store import Vault

__all__ = ["decision_reasons", "log_entries", "seal_seqs"]


def log_entries(vault: Vault, since_ts: float | None = None, until_ts: float | None = None,
                action: str | None = None) -> list[LogEntry]:
    """Entries in ``[since_ts, until_ts)`` (all when not given), oldest first."""
    with vault.snapshot() as view:
        return view.entries(since_ts, until_ts, action)


def seal_seqs(vault: Vault, call_ids: Sequence[int]) -> dict[int, int]:
    """The seq of each call's (newest) seal entry, for the calls of ``call_ids`` that were sealed."""
    if not call_ids:
        return {}
    return dict(vault.query(f"SELECT call_id, max(seq) FROM access_log WHERE action = 'seal' AND outcome = 'ok'"
                            f" AND call_id IN ({','.join('?' * len(call_ids))}) GROUP BY call_id", tuple(call_ids)))


def decision_reasons(vault: Vault, case_ids: Sequence[int]) -> dict[int, str]:
    """The reason an approver gave when refusing each case (the ``case.refuse`` entry), for the
    cases of ``case_ids`` that were refused: the opener sees why."""
    if not case_ids:
        return {}
    rows = vault.query(f"SELECT case_id, reason FROM access_log WHERE action = 'case.refuse' AND outcome = 'ok'"
                       f" AND case_id IN ({','.join('?' * len(case_ids))}) ORDER BY seq", tuple(case_ids))
    return dict(rows)
