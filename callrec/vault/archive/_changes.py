"""Which rows of the hot file changed: the record an incremental backup copies from.

Triggers (schema 6) append ``(ts, tbl, rowid)`` to ``row_changes`` for every insert, update and
delete of a tracked table. A backup copy remembers the generation and the newest change id it
holds (``backup_state``); the next backup copies the rows named after that id. The nightly
``archive`` job prunes entries older than :data:`KEEP_DAYS`; a backup directory left alone longer
than that gets a full copy.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlcipher3

from callrec.vault._store import Vault

__all__ = ["KEEP_DAYS", "ChangeState", "change_state", "prune_changes", "start_new_generation"]

#: How long changes are kept for backups that fall behind (a weekly backup still copies only changes).
KEEP_DAYS = 14


class ChangeState(NamedTuple):
    """The hot file's change tracking, read in one snapshot."""

    generation: str
    #: The newest change id handed out (also when pruning removed it).
    newest: int
    #: The newest id deleted by pruning: a backup holding an older one cannot catch up.
    pruned_upto: int


def change_state(conn: sqlcipher3.Connection, schema: str = "main") -> ChangeState:
    generation, pruned = conn.execute(f"SELECT generation, pruned_upto FROM {schema}.change_tracking").fetchone()
    row = conn.execute(f"SELECT seq FROM {schema}.sqlite_sequence WHERE name = 'row_changes'").fetchone()
    return ChangeState(generation, row[0] if row else 0, pruned)


def prune_changes(vault: Vault, now: float, keep_days: int = KEEP_DAYS) -> int:
    """Delete change entries older than ``keep_days``; how many. Ids are in time order, so the
    scan stops at the first entry kept."""
    with vault.transaction() as conn:
        row = conn.execute("SELECT id FROM row_changes WHERE ts >= ? ORDER BY id LIMIT 1",
                           (now - keep_days * 86400,)).fetchone()
        upto = row[0] - 1 if row else change_state(conn).newest
        removed = conn.execute("DELETE FROM row_changes WHERE id <= ?", (upto,)).rowcount
        if removed:
            conn.execute("UPDATE change_tracking SET pruned_upto = max(pruned_upto, ?)", (upto,))
        return removed


def start_new_generation(conn: sqlcipher3.Connection) -> None:
    """The rowids of this file may differ from those any backup holds (a restore copied it):
    forget the old changes so the next backup of every directory is a full copy."""
    newest = change_state(conn).newest
    conn.execute("DELETE FROM row_changes")
    conn.execute("DELETE FROM backup_state")
    conn.execute("UPDATE change_tracking SET generation = lower(hex(randomblob(16))), pruned_upto = ?", (newest,))
