"""What ops and admins said about outages that are over: acknowledgements (``health ack``) and
notes on past gaps (``gap note``). Each is a row and an access-log entry in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.vault._store import Vault

__all__ = ["GapNote", "acked_since", "add_ack", "add_gap_note", "gap_notes"]


@dataclass(frozen=True)
class GapNote:
    id: int
    at_ts: float
    note: str
    actor: str
    ts: float


def add_ack(vault: Vault, actor: str, check: str, now: float) -> int:
    with vault.transaction() as conn:
        ack_id = conn.execute("INSERT INTO health_acks (check_name, actor, ts) VALUES (?,?,?)",
                              (check, actor, now)).lastrowid
        vault.log(actor, "health.ack", detail={"check": check, "ack": ack_id})
    return ack_id


def acked_since(vault: Vault, check: str) -> float | None:
    """When ``check`` was last acknowledged (None: never)."""
    return vault.query("SELECT max(ts) FROM health_acks WHERE check_name = ?", (check,))[0][0]


def add_gap_note(vault: Vault, actor: str, at_ts: float, note: str, now: float) -> GapNote:
    with vault.transaction() as conn:
        note_id = conn.execute("INSERT INTO gap_notes (at_ts, note, actor, ts) VALUES (?,?,?,?)",
                               (at_ts, note, actor, now)).lastrowid
        vault.log(actor, "gap.note", reason=note, detail={"note": note_id, "at_ts": at_ts})
    return GapNote(note_id, at_ts, note, actor, now)


def gap_notes(vault: Vault, start: float, end: float) -> list[GapNote]:
    return [GapNote(*row) for row in vault.query(
        "SELECT id, at_ts, note, actor, ts FROM gap_notes WHERE at_ts >= ? AND at_ts < ? ORDER BY at_ts, id",
        (start, end))]
