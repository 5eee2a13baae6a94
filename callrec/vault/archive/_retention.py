"""Retention: purge sealed calls older than ``[retention] keep_days``, never one on legal hold.

A purge deletes a call's content (``chunks``, ``sealed_audio``, ``transcripts``, and the numbers a
signalling source stored with it, ``call_numbers``) and keeps its
``calls`` row as a tombstone with status ``purged`` (times, durations, kind, flags; no content).
The access-log entry that says why (``purge`` for retention, ``delete`` for an approved deletion
request) is written in the same transaction, so content never disappears without a trace
(DESIGN.md invariant 8). ``callrec verify`` accepts a purged call only with such an entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlcipher3

from callrec.errors import InvalidState, NotFound
from callrec.vault._store import SERVICE_ACTOR, Vault
from callrec.vault.archive._periods import HELD, drop_file_later, open_period, remove_leftovers, rewrite_without
from callrec.vault.people import HOLDING_STATUSES

__all__ = ["RetentionPlan", "drop_period", "held_call_ids", "is_on_hold", "plan_retention", "purge_call", "run_retention"]

DAY_S = 86400.0
#: Only finished calls are ever purged; a call being recorded is left alone.
PURGEABLE = ("sealed", "interrupted")


@dataclass(frozen=True)
class RetentionPlan:
    """Call ids past the limit: ``due`` would be purged, ``held`` are kept by a legal hold."""

    cutoff_ts: float | None
    due: tuple[int, ...]
    held: tuple[int, ...]


def is_on_hold(conn: sqlcipher3.Connection, call_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM case_calls cc JOIN cases c ON c.id = cc.case_id"
        f" WHERE cc.call_id = ? AND c.status IN {HOLDING_STATUSES!r} LIMIT 1",
        (call_id,),
    ).fetchone()
    return row is not None


def held_call_ids(vault: Vault) -> set[int]:
    """Every call attached to a pending or approved case."""
    rows = vault.query(
        "SELECT DISTINCT cc.call_id FROM case_calls cc JOIN cases c ON c.id = cc.case_id"
        f" WHERE c.status IN {HOLDING_STATUSES!r}"
    )
    return {r[0] for r in rows}


def plan_retention(vault: Vault, now_ts: float, keep_days: int) -> RetentionPlan:
    """What a run at ``now_ts`` would do; reads only call metadata. ``keep_days == 0`` keeps all."""
    if keep_days == 0:
        return RetentionPlan(None, (), ())
    cutoff = now_ts - keep_days * DAY_S
    # A call in a closed day goes with its day, once the whole day is past the limit.
    old = [r[0] for r in vault.query(
        f"SELECT c.id FROM calls c LEFT JOIN periods p ON p.name = c.period WHERE c.status IN {PURGEABLE!r}"
        " AND coalesce(c.ended_ts, c.started_ts) < ? AND (p.name IS NULL OR p.to_ts <= ?) ORDER BY c.id",
        (cutoff, cutoff),
    )]
    held = held_call_ids(vault)
    return RetentionPlan(cutoff, tuple(i for i in old if i not in held), tuple(i for i in old if i in held))


def purge_call(vault: Vault, call_id: int, *, actor: str, action: str, reason: str,
               detail: dict[str, Any] | None = None, dropping: bool = False) -> None:
    """Delete one call's content and log why; call inside ``vault.transaction()``.

    Checks status and legal hold inside the caller's transaction, so a case attached a moment
    earlier still protects the call. A call whose audio is in a closed period file is removed by
    rewriting that file without it (``period.amend``), unless the whole period is being dropped.
    """
    conn = vault.conn
    row = conn.execute("SELECT status, pcm_sha256, period FROM calls WHERE id = ?", (call_id,)).fetchone()
    if row is None:
        raise NotFound(f"call {call_id}")
    status, digest, period = row
    if status not in PURGEABLE:
        raise InvalidState(f"call {call_id} is {status}: only sealed or interrupted calls can be purged")
    if is_on_hold(conn, call_id):
        raise InvalidState(f"call {call_id} is attached to an open case (legal hold): close the case first")
    removed = {
        table: conn.execute(f"DELETE FROM main.{table} WHERE call_id = ?", (call_id,)).rowcount
        for table in ("chunks", "sealed_audio", "transcripts", "call_numbers")
    }
    if period not in (None, HELD) and not dropping:
        rewrite_without(vault, conn, period, [call_id], action)
    conn.execute("UPDATE calls SET status = 'purged', period = NULL WHERE id = ?", (call_id,))
    vault.log(actor, action, call_id=call_id, reason=reason,
              detail={"pcm_sha256": digest, "rows_removed": removed, **({"period": period} if period else {}),
                      **(detail or {})})


def drop_period(vault: Vault, name: str, *, actor: str, reason: str, keep_days: int) -> tuple[int, int]:
    """Drop a whole closed period: its held calls go back to the hot file, every other call is
    purged (one ``purge`` entry each), the drop is logged with the file's hash (``period.drop``),
    and the file is deleted after the commit. Returns (purged, held)."""
    with vault.transaction() as conn:
        row = conn.execute("SELECT file, key, sha256 FROM periods WHERE name = ?", (name,)).fetchone()
        if row is None:
            return 0, 0
        file, key, digest = row
        ids = [r[0] for r in conn.execute("SELECT id FROM calls WHERE period = ? ORDER BY id", (name,))]
        held = [i for i in ids if is_on_hold(conn, i)]
        if held:
            source = open_period(vault.periods_dir / file, bytes(key))
            try:
                marks = ",".join("?" * len(held))
                copy_into = source.execute(f"SELECT call_id, seq, data FROM sealed_audio WHERE call_id IN ({marks})", held)
                for values in copy_into:
                    conn.execute("INSERT INTO main.sealed_audio (call_id, seq, data) VALUES (?,?,?)", values)
            finally:
                source.close()
            conn.execute(f"UPDATE calls SET period = '{HELD}' WHERE id IN ({marks})", held)
        purged = 0
        for call_id in ids:
            if call_id not in held:
                purge_call(vault, call_id, actor=actor, action="purge", reason=reason,
                           detail={"keep_days": keep_days}, dropping=True)
                purged += 1
        conn.execute("DELETE FROM periods WHERE name = ?", (name,))
        vault.log(actor, "period.drop", reason=reason,
                  detail={"period": name, "file": file, "sha256": digest, "purged": purged, "held": held})
        drop_file_later(vault, file)
    return purged, len(held)


def run_retention(vault: Vault, now_ts: float, keep_days: int, actor: str = SERVICE_ACTOR) -> tuple[int, int]:
    """Purge every call past ``keep_days`` that no open case holds; returns (purged, held).

    Closed periods go whole once their last second is past the limit (:func:`drop_period`: the
    file is deleted, so the disk space is returned); a call in a period not yet wholly past it
    waits for its period (at most a day). Calls still in the hot file are purged one by one, each
    in a transaction of its own so the capture writer never waits long. The scheduler runs this
    as the service; a person's role is checked by the access layer (``callrec.access``) before.
    The run itself is recorded in ``retention_runs``.
    """
    plan = plan_retention(vault, now_ts, keep_days)
    reason = f"retention: older than {keep_days} days"
    purged, held = 0, 0
    if plan.cutoff_ts is not None:
        for (name,) in vault.query("SELECT name FROM periods WHERE to_ts <= ? ORDER BY name", (plan.cutoff_ts,)):
            purged += drop_period(vault, name, actor=actor, reason=reason, keep_days=keep_days)[0]
        remove_leftovers(vault)
    in_hot = {r[0] for r in vault.query(f"SELECT id FROM calls WHERE period IS NULL OR period = '{HELD}'")}
    held = len(plan.held)
    for call_id in plan.due:
        if call_id not in in_hot:
            continue
        with vault.transaction():
            try:
                purge_call(vault, call_id, actor=actor, action="purge", reason=reason,
                           detail={"keep_days": keep_days})
            except InvalidState:
                held += is_on_hold(vault.conn, call_id)  # attached to a case since the plan was made
                continue
        purged += 1
    with vault.transaction() as conn:
        conn.execute("INSERT INTO retention_runs (ts, purged, held) VALUES (?, ?, ?)", (now_ts, purged, held))
    vault.checkpoint()
    return purged, held
