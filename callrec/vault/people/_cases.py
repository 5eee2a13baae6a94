"""Cases: the only way to content (DESIGN.md, "People" and threat model).

A reviewer opens a case with a reason and a time window; with the four-eyes rule a different
person holding ``approver`` approves it. The reviewer who opened an approved case attaches calls
from its window; only those calls' audio and transcripts can then be read, by that reviewer,
each read logged (``_content.py``). While a case is pending or approved its calls are on legal
hold; closing it ends the hold. Roles are checked by the access layer (``callrec.access``) before
these functions run; here are the rules of one case (ownership, state, four-eyes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.errors import InvalidState, NotFound, UsageError
from callrec.vault._guard import refuse
from callrec.vault._store import Vault
from callrec.vault.people._numbers import case_number_tags, numbers_of_calls

__all__ = ["Case", "open_case", "decide_case", "attach_call", "close_case", "get_case", "list_cases",
           "case_call_ids", "case_numbers", "number_matches", "require_own_approved", "still_readable",
           "HOLDING_STATUSES"]

#: Case statuses that put the attached calls on legal hold.
HOLDING_STATUSES = ("pending", "approved")


@dataclass(frozen=True)
class Case:
    id: int
    opened_by: str
    opened_ts: float
    reason: str
    window_from_ts: float
    window_to_ts: float
    status: str
    decided_by: str | None
    decided_ts: float | None
    closed_ts: float | None


_COLUMNS = "id, opened_by, opened_ts, reason, window_from_ts, window_to_ts, status, decided_by, decided_ts, closed_ts"


def get_case(vault: Vault, case_id: int) -> Case:
    rows = vault.query(f"SELECT {_COLUMNS} FROM cases WHERE id = ?", (case_id,))
    if not rows:
        raise NotFound(f"case {case_id}")
    return Case(*rows[0])


def list_cases(vault: Vault, opened_by: str | None = None, status: str | None = None) -> list[Case]:
    """Cases, oldest first: all of them, or those ``opened_by`` one person; optionally in one ``status``."""
    sql, args = f"SELECT {_COLUMNS} FROM cases WHERE 1=1", []
    if opened_by is not None:
        sql, args = sql + " AND opened_by = ?", [*args, opened_by]
    if status is not None:
        sql, args = sql + " AND status = ?", [*args, status]
    return [Case(*r) for r in vault.query(sql + " ORDER BY id", args)]


def case_numbers(vault: Vault, case_id: int) -> list[str]:
    """The numbers a case is scoped to (normalised), sorted; empty for a time-only case."""
    return [r[0] for r in vault.query("SELECT number FROM case_numbers WHERE case_id = ? ORDER BY number", (case_id,))]


def open_case(vault: Vault, actor: str, reason: str, window_from_ts: float, window_to_ts: float,
              numbers: tuple[str, ...] = ()) -> int:
    """A new case; with ``numbers`` (normalised) it reaches only calls whose remote number is one of them."""
    if not reason.strip():
        raise UsageError("a case needs a reason: pass --reason")
    if window_to_ts <= window_from_ts:
        raise UsageError("the case window must end after it starts (--to after --from)")
    four_eyes = vault.config.cases.four_eyes
    now = time.time()
    with vault.transaction() as conn:
        case_id = conn.execute(
            "INSERT INTO cases (opened_by, opened_ts, reason, window_from_ts, window_to_ts, status) VALUES (?,?,?,?,?,?)",
            (actor, now, reason, window_from_ts, window_to_ts, "pending" if four_eyes else "approved"),
        ).lastrowid
        conn.executemany("INSERT INTO case_numbers (case_id, number) VALUES (?, ?)",
                         [(case_id, n) for n in sorted(set(numbers))])
        detail = {"from": window_from_ts, "to": window_to_ts, "four_eyes": four_eyes}
        if numbers:
            detail["numbers_hmac"] = case_number_tags(vault, case_id, sorted(set(numbers)))
        vault.log(actor, "case.open", case_id=case_id, reason=reason, ts=now, detail=detail)
    return case_id


def _changed(conn, case_id: int, sql: str, args: tuple, expected: str) -> None:
    """One compare-and-set: ``sql`` updates the case only from the state(s) it was read in; when
    another transition got there first (rowcount 0), the transaction rolls back and says so."""
    if conn.execute(sql, args).rowcount != 1:
        row = conn.execute("SELECT status FROM cases WHERE id = ?", (case_id,)).fetchone()
        raise InvalidState(f"case {case_id} is {row[0] if row else 'gone'}, not {expected}")


def decide_case(vault: Vault, actor: str, case_id: int, approve: bool, reason: str = "") -> None:
    """Approve or refuse a pending case; a refusal's ``reason`` goes to the access log. The state
    change is one compare-and-set from ``pending`` in the transaction of its log entry, so a close
    or another decision that came first wins and this one changes nothing."""
    action = "case.approve" if approve else "case.refuse"
    case = get_case(vault, case_id)
    if vault.config.cases.four_eyes and case.opened_by == actor:
        refuse(vault, actor, action, "four-eyes rule: the person who opened a case cannot decide it", case_id=case_id)
    if case.status != "pending":
        raise InvalidState(f"case {case_id} is {case.status}, not pending")
    now = time.time()
    with vault.transaction() as conn:
        _changed(conn, case_id, "UPDATE cases SET status = ?, decided_by = ?, decided_ts = ? WHERE id = ? AND status = 'pending'",
                 ("approved" if approve else "refused", actor, now, case_id), "pending")
        vault.log(actor, action, case_id=case_id, reason=reason, ts=now)


def require_own_approved(vault: Vault, actor: str, case_id: int, action: str, call_id: int | None = None) -> Case:
    try:
        case = get_case(vault, case_id)
    except NotFound:
        refuse(vault, actor, action, f"case {case_id} does not exist", case_id=None, call_id=call_id)
    if case.opened_by != actor:
        refuse(vault, actor, action, f"case {case_id} is not this reviewer's case", case_id=case_id, call_id=call_id)
    if case.status != "approved":
        refuse(vault, actor, action, f"case {case_id} is {case.status}, not approved", case_id=case_id, call_id=call_id)
    return case


def still_readable(conn, case_id: int, call_id: int | None) -> bool:
    """Inside a write transaction: the case is still approved (and the call still attached), so a
    close or refusal committed since the caller's checks cannot let content out."""
    sql = "SELECT 1 FROM cases WHERE id = ? AND status = 'approved'"
    if call_id is None:
        return conn.execute(sql, (case_id,)).fetchone() is not None
    return conn.execute(sql + " AND EXISTS (SELECT 1 FROM case_calls WHERE case_id = ? AND call_id = ?)",
                        (case_id, case_id, call_id)).fetchone() is not None


def attach_call(vault: Vault, actor: str, case_id: int, call_id: int) -> None:
    case = require_own_approved(vault, actor, case_id, "case.attach", call_id)
    rows = vault.query("SELECT started_ts, coalesce(ended_ts, started_ts) FROM calls WHERE id = ?", (call_id,))
    if not rows:
        raise NotFound(f"call {call_id}")
    started, ended = rows[0]
    if ended < case.window_from_ts or started > case.window_to_ts:
        refuse(vault, actor, "case.attach", f"call {call_id} is outside the window of case {case_id}",
               case_id=case_id, call_id=call_id)
    if not number_matches(vault, case_id, call_id):
        refuse(vault, actor, "case.attach", f"call {call_id} is not a call of the numbers of case {case_id}",
               case_id=case_id, call_id=call_id)
    now = time.time()
    with vault.transaction() as conn:
        _changed(conn, case_id, "UPDATE cases SET status = status WHERE id = ? AND status = 'approved'", (case_id,),
                 "approved")  # still approved now that this transaction holds the write lock
        conn.execute("INSERT OR IGNORE INTO case_calls (case_id, call_id, attached_by, attached_ts) VALUES (?,?,?,?)",
                     (case_id, call_id, actor, now))
        vault.log(actor, "case.attach", case_id=case_id, call_id=call_id, reason=case.reason, ts=now)


def number_matches(vault: Vault, case_id: int, call_id: int) -> bool:
    """A time-only case reaches every call of its window; a case with numbers only the calls whose
    remote number is one of them (a call of unknown or withheld number is outside it)."""
    scoped = case_numbers(vault, case_id)
    if not scoped:
        return True
    numbers = numbers_of_calls(vault, [call_id]).get(call_id)
    return numbers is not None and numbers.remote in scoped


def close_case(vault: Vault, actor: str, case_id: int, any_case: bool = False) -> None:
    """Close a case: its opener may, and with ``any_case`` (an admin) anyone."""
    case = get_case(vault, case_id)
    if case.opened_by != actor and not any_case:
        refuse(vault, actor, "case.close", f"case {case_id} is not this reviewer's case", case_id=case_id)
    if case.status == "closed":
        raise InvalidState(f"case {case_id} is already closed")
    now = time.time()
    with vault.transaction() as conn:
        _changed(conn, case_id, "UPDATE cases SET status = 'closed', closed_ts = ? WHERE id = ? AND status != 'closed'",
                 (now, case_id), "open")  # from any open state: a close never loses to a decision
        vault.log(actor, "case.close", case_id=case_id, ts=now)


def case_call_ids(vault: Vault, case_id: int) -> list[int]:
    return [r[0] for r in vault.query("SELECT call_id FROM case_calls WHERE case_id = ? ORDER BY call_id", (case_id,))]
