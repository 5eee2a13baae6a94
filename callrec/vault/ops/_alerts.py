"""Alert state: the critical findings already alerted, one row per outage, kept until they clear
(and a while after). When to raise, remind or resolve is the health layer's decision; this is
the table it decides on, changed only inside one transaction per run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlcipher3

from callrec.vault._store import Vault

__all__ = ["AlertBook", "AlertState", "alert_book", "alert_undelivered"]


@dataclass(frozen=True)
class AlertState:
    key: str
    check: str
    #: Where the outage began (when first alerted, for rows older than outage keys).
    outage_ts: float
    #: When the last notice went out; None when it did not reach the alert command.
    notified_ts: float | None
    resolved_ts: float | None
    message: str


class AlertBook:
    """The alert table inside the transaction of :func:`alert_book`."""

    def __init__(self, conn: sqlcipher3.Connection) -> None:
        self._conn = conn

    def states(self) -> dict[str, AlertState]:
        return {row[0]: AlertState(*row) for row in self._conn.execute(
            "SELECT key, check_name, coalesce(outage_ts, first_ts), notified_ts, resolved_ts, message FROM alert_state")}

    def add(self, key: str, check: str, message: str, now: float, outage_ts: float | None, *, ended: bool) -> None:
        """A new alert, notified now (and already resolved when the outage is over)."""
        self._conn.execute(
            "INSERT INTO alert_state (key, check_name, message, first_ts, last_ts, sent_ts, outage_ts, notified_ts,"
            " resolved_ts) VALUES (?,?,?,?,?,?,?,?,?)",
            (key, check, message, now, now, now, outage_ts, now, now if ended else None))

    def seen(self, key: str, now: float, message: str) -> None:
        self._conn.execute("UPDATE alert_state SET last_ts = ?, message = ? WHERE key = ?", (now, message, key))

    def resolve(self, key: str, now: float) -> None:
        self._conn.execute("UPDATE alert_state SET resolved_ts = ? WHERE key = ?", (now, key))

    def reopen(self, key: str, now: float) -> None:
        """The outage is back after it looked resolved: open again, notified now."""
        self._conn.execute("UPDATE alert_state SET resolved_ts = NULL, notified_ts = ? WHERE key = ?", (now, key))

    def notified(self, key: str, now: float) -> None:
        self._conn.execute("UPDATE alert_state SET notified_ts = ? WHERE key = ?", (now, key))


@contextlib.contextmanager
def alert_book(vault: Vault, forget_resolved_before: float) -> Iterator[AlertBook]:
    """The alert table in one write transaction, without the alerts resolved before the given time."""
    with vault.transaction() as conn:
        conn.execute("DELETE FROM alert_state WHERE resolved_ts IS NOT NULL AND resolved_ts < ?",
                     (forget_resolved_before,))
        yield AlertBook(conn)


def alert_undelivered(vault: Vault, key: str) -> None:
    """The notice did not reach the alert command: it is sent again at the next run."""
    with vault.transaction() as conn:
        conn.execute("UPDATE alert_state SET notified_ts = NULL WHERE key = ?", (key,))
