"""Findings of a line's tap: what it saw but cannot record (SIP over TCP/TLS, SRTP for the
number). The tap words them without a number; the health checks read them per line."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.vault._store import Vault

__all__ = ["TapFindingRow", "add_tap_finding", "tap_findings"]


@dataclass(frozen=True)
class TapFindingRow:
    line: str
    ts: float
    check: str
    severity: str
    message: str


def add_tap_finding(vault: Vault, line: str, ts: float, check: str, severity: str, message: str) -> None:
    with vault.transaction() as conn:
        conn.execute("INSERT INTO tap_findings (line, ts, check_name, severity, message) VALUES (?,?,?,?,?)",
                     (line, ts, check, severity, message))


def tap_findings(vault: Vault, line: str, start_ts: float, end_ts: float) -> list[TapFindingRow]:
    """The findings of ``line`` in ``[start_ts, end_ts)``, oldest first."""
    return [TapFindingRow(*r) for r in vault.query(
        "SELECT line, ts, check_name, severity, message FROM tap_findings WHERE line = ? AND ts >= ? AND ts < ?"
        " ORDER BY ts, id", (line, start_ts, end_ts))]
