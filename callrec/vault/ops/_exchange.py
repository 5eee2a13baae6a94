"""The exchange's call log (CDR) as the vault keeps it: each import with the span it covers, and
the hotline's calls by time only (never a caller's number). Parsing a CDR file is the health layer's."""

from __future__ import annotations

import time
from collections.abc import Sequence

from callrec.vault._store import Vault

__all__ = ["cdr_calls_started", "cdr_spans_overlapping", "store_cdr_import"]


def store_cdr_import(vault: Vault, actor: str, file_sha256: str, from_ts: float, to_ts: float,
                     calls: Sequence[tuple[float, float]]) -> int:
    """Store one import covering ``[from_ts, to_ts)`` and its calls (start, end), logged in the same
    transaction; a call already stored is not added again. Returns how many calls were new."""
    with vault.transaction() as conn:
        import_id = conn.execute(
            "INSERT INTO cdr_imports (imported_ts, actor, file_sha256, from_ts, to_ts, rows) VALUES (?,?,?,?,?,?)",
            (time.time(), actor, file_sha256, from_ts, to_ts, len(calls))).lastrowid
        new = sum(conn.execute("INSERT OR IGNORE INTO cdr_calls (import_id, started_ts, ended_ts) VALUES (?,?,?)",
                               (import_id, s, e)).rowcount for s, e in calls)
        vault.log(actor, "cdr.import", detail={"file_sha256": file_sha256, "hotline_calls": len(calls), "new": new})
    return new


def cdr_spans_overlapping(vault: Vault, start_ts: float, end_ts: float) -> list[tuple[float, float]]:
    """The (from, to) spans of the imports that cover part of ``(start_ts, end_ts)``."""
    return [tuple(r) for r in vault.query("SELECT from_ts, to_ts FROM cdr_imports WHERE from_ts < ? AND to_ts > ?",
                                          (end_ts, start_ts))]


def cdr_calls_started(vault: Vault, start_ts: float, end_ts: float) -> list[tuple[float, float]]:
    """The exchange's hotline calls (start, end) started in ``[start_ts, end_ts)``, oldest first."""
    return [tuple(r) for r in vault.query(
        "SELECT started_ts, ended_ts FROM cdr_calls WHERE started_ts >= ? AND started_ts < ? ORDER BY started_ts",
        (start_ts, end_ts))]
