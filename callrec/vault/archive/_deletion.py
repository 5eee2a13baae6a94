"""Deletion requests: a person asks for one call's content to be removed.

An admin files the request with a reason; a *different* person holding admin or approver
approves or refuses it (four-eyes, ``[cases] four_eyes``; with it off the requester may decide).
Approval purges the call exactly like retention does, in the same transaction as its ``delete``
entry, which stays in the access log as the tombstone. A call on legal hold cannot be deleted.
Every step, and every refused attempt, is an access-log entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlcipher3

from callrec.errors import InvalidState, NotFound, UsageError
from callrec.vault._guard import refuse
from callrec.vault._store import Vault
from callrec.vault.archive._retention import PURGEABLE, is_on_hold, purge_call

__all__ = ["DeletionRequest", "request_deletion", "approve_deletion", "refuse_deletion", "list_deletion_requests",
           "deletion_call_span"]


@dataclass(frozen=True)
class DeletionRequest:
    id: int
    call_id: int
    requested_by: str
    requested_ts: float
    reason: str
    status: str
    decided_by: str | None
    decided_ts: float | None


_COLUMNS = "id, call_id, requested_by, requested_ts, reason, status, decided_by, decided_ts"


def _get(vault: Vault, request_id: int) -> DeletionRequest:
    row = vault.conn.execute(f"SELECT {_COLUMNS} FROM deletion_requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise NotFound(f"deletion request {request_id}")
    return DeletionRequest(*row)


def request_deletion(vault: Vault, actor: str, call_id: int, reason: str) -> int:
    """File a request (admin only); returns its id."""
    if not reason.strip():
        raise UsageError("a deletion request needs --reason: say who asked and why")
    with vault.transaction() as conn:
        row = conn.execute("SELECT status FROM calls WHERE id = ?", (call_id,)).fetchone()
        if row is None:
            raise NotFound(f"call {call_id}")
        if row[0] not in PURGEABLE:
            raise InvalidState(f"call {call_id} is {row[0]}: only sealed or interrupted calls can be deleted")
        if conn.execute("SELECT 1 FROM deletion_requests WHERE call_id = ? AND status = 'pending'", (call_id,)).fetchone():
            raise InvalidState(f"call {call_id} already has a pending deletion request: see 'callrec delete-request list'")
        request_id = conn.execute(
            "INSERT INTO deletion_requests (call_id, requested_by, requested_ts, reason, status) VALUES (?,?,?,?, 'pending')",
            (call_id, actor, time.time(), reason),
        ).lastrowid
        vault.log(actor, "delete.request", call_id=call_id, reason=reason, detail={"request": request_id})
    vault.checkpoint()
    return request_id


def _decide(vault: Vault, actor: str, request_id: int, action: str) -> DeletionRequest:
    """Four-eyes and state checks shared by approve and refuse (roles: the access layer); refusals are logged."""
    request = _get(vault, request_id)
    fields = {"call_id": request.call_id, "detail": {"request": request_id}}
    if vault.config.cases.four_eyes and actor == request.requested_by:
        refuse(vault, actor, action, "the person who filed a deletion request cannot decide it (four-eyes rule)", **fields)
    if request.status != "pending":
        raise InvalidState(f"deletion request {request_id} is already {request.status}")
    return request


def _mark_decided(conn: sqlcipher3.Connection, request_id: int, status: str, actor: str) -> None:
    changed = conn.execute(
        "UPDATE deletion_requests SET status = ?, decided_by = ?, decided_ts = ? WHERE id = ? AND status = 'pending'",
        (status, actor, time.time(), request_id),
    ).rowcount
    if not changed:
        raise InvalidState(f"deletion request {request_id} was decided by someone else meanwhile")


def approve_deletion(vault: Vault, actor: str, request_id: int) -> None:
    """Approve and carry out a request: the call's content is purged and a ``delete`` entry logged."""
    request = _decide(vault, actor, request_id, "delete.approve")
    with vault.transaction() as conn:
        if is_on_hold(conn, request.call_id):
            raise InvalidState(f"call {request.call_id} is attached to an open case (legal hold): it cannot be deleted until the case is closed")
        _mark_decided(conn, request_id, "approved", actor)
        purge_call(vault, request.call_id, actor=actor, action="delete", reason=request.reason,
                   detail={"request": request_id, "requested_by": request.requested_by})
    vault.checkpoint()


def refuse_deletion(vault: Vault, actor: str, request_id: int, reason: str = "") -> None:
    request = _decide(vault, actor, request_id, "delete.refuse")
    with vault.transaction() as conn:
        _mark_decided(conn, request_id, "refused", actor)
        vault.log(actor, "delete.refuse", call_id=request.call_id, reason=reason, detail={"request": request_id})
    vault.checkpoint()


def list_deletion_requests(vault: Vault, actor: str, status: str | None = None) -> list[DeletionRequest]:
    """Requests, oldest first (admin or approver)."""
    sql = f"SELECT {_COLUMNS} FROM deletion_requests"
    args: tuple = ()
    if status is not None:
        sql += " WHERE status = ?"
        args = (status,)
    return [DeletionRequest(*row) for row in vault.query(sql + " ORDER BY id", args)]


def deletion_call_span(vault: Vault, request_id: int) -> tuple[float, float]:
    """(start, end) of the call a deletion request names (its day's report tells a new story)."""
    (row,) = vault.query("SELECT c.started_ts, coalesce(c.ended_ts, c.started_ts) FROM deletion_requests d"
                         " JOIN calls c ON c.id = d.call_id WHERE d.id = ?", (request_id,))
    return row
