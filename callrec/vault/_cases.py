"""Cases: the only way to content (DESIGN.md, "People" and threat model).

A reviewer opens a case with a reason and a time window; with the four-eyes rule a different
person holding ``approver`` approves it. The reviewer who opened an approved case attaches calls
from its window; only those calls' audio and transcripts can then be read, by that reviewer,
each read logged (``_content.py``). While a case is pending or approved its calls are on legal
hold; closing it ends the hold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from callrec.errors import InvalidState, NotFound, UsageError
from callrec.vault._guard import refuse, require_role
from callrec.vault._store import Vault
from callrec.vault._users import has_role

__all__ = ["Case", "open_case", "decide_case", "attach_call", "close_case", "get_case", "list_cases",
           "case_call_ids", "require_own_approved", "HOLDING_STATUSES"]

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


def list_cases(vault: Vault, actor: str) -> list[Case]:
    """Approvers and admins see every case; a reviewer sees the cases they opened."""
    held = require_role(vault, actor, "case.list", "reviewer", "approver", "admin")
    if held & {"approver", "admin"}:
        rows = vault.query(f"SELECT {_COLUMNS} FROM cases ORDER BY id")
    else:
        rows = vault.query(f"SELECT {_COLUMNS} FROM cases WHERE opened_by = ? ORDER BY id", (actor,))
    return [Case(*r) for r in rows]


def open_case(vault: Vault, actor: str, reason: str, window_from_ts: float, window_to_ts: float) -> int:
    require_role(vault, actor, "case.open", "reviewer")
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
        vault.log(actor, "case.open", case_id=case_id, reason=reason, ts=now,
                  detail={"from": window_from_ts, "to": window_to_ts, "four_eyes": four_eyes})
    return case_id


def decide_case(vault: Vault, actor: str, case_id: int, approve: bool) -> None:
    action = "case.approve" if approve else "case.refuse"
    require_role(vault, actor, action, "approver", case_id=case_id)
    case = get_case(vault, case_id)
    if vault.config.cases.four_eyes and case.opened_by == actor:
        refuse(vault, actor, action, "four-eyes rule: the person who opened a case cannot decide it", case_id=case_id)
    if case.status != "pending":
        raise InvalidState(f"case {case_id} is {case.status}, not pending")
    now = time.time()
    with vault.transaction() as conn:
        conn.execute("UPDATE cases SET status = ?, decided_by = ?, decided_ts = ? WHERE id = ?",
                     ("approved" if approve else "refused", actor, now, case_id))
        vault.log(actor, action, case_id=case_id, ts=now)


def require_own_approved(vault: Vault, actor: str, case_id: int, action: str, call_id: int | None = None) -> Case:
    require_role(vault, actor, action, "reviewer", case_id=case_id, call_id=call_id)
    try:
        case = get_case(vault, case_id)
    except NotFound:
        refuse(vault, actor, action, f"case {case_id} does not exist", case_id=None, call_id=call_id)
    if case.opened_by != actor:
        refuse(vault, actor, action, f"case {case_id} is not this reviewer's case", case_id=case_id, call_id=call_id)
    if case.status != "approved":
        refuse(vault, actor, action, f"case {case_id} is {case.status}, not approved", case_id=case_id, call_id=call_id)
    return case


def attach_call(vault: Vault, actor: str, case_id: int, call_id: int) -> None:
    case = require_own_approved(vault, actor, case_id, "case.attach", call_id)
    rows = vault.query("SELECT started_ts, coalesce(ended_ts, started_ts) FROM calls WHERE id = ?", (call_id,))
    if not rows:
        raise NotFound(f"call {call_id}")
    started, ended = rows[0]
    if ended < case.window_from_ts or started > case.window_to_ts:
        refuse(vault, actor, "case.attach", f"call {call_id} is outside the window of case {case_id}",
               case_id=case_id, call_id=call_id)
    now = time.time()
    with vault.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO case_calls (case_id, call_id, attached_by, attached_ts) VALUES (?,?,?,?)",
                     (case_id, call_id, actor, now))
        vault.log(actor, "case.attach", case_id=case_id, call_id=call_id, reason=case.reason, ts=now)


def close_case(vault: Vault, actor: str, case_id: int) -> None:
    require_role(vault, actor, "case.close", "reviewer", "admin", case_id=case_id)
    case = get_case(vault, case_id)
    if case.opened_by != actor and not has_role(vault, actor, "admin"):
        refuse(vault, actor, "case.close", f"case {case_id} is not this reviewer's case", case_id=case_id)
    if case.status == "closed":
        raise InvalidState(f"case {case_id} is already closed")
    now = time.time()
    with vault.transaction() as conn:
        conn.execute("UPDATE cases SET status = 'closed', closed_ts = ? WHERE id = ?", (now, case_id))
        vault.log(actor, "case.close", case_id=case_id, ts=now)


def case_call_ids(vault: Vault, case_id: int) -> list[int]:
    return [r[0] for r in vault.query("SELECT call_id FROM case_calls WHERE case_id = ? ORDER BY call_id", (case_id,))]
