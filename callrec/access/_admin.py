"""Administration use cases: people and roles, deletion requests (four-eyes), retention and
re-transcription."""

from __future__ import annotations

import pwd
import time
from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.errors import UsageError
from callrec.health import refresh_stored_days
from callrec.timefmt import format_ts
from callrec.vault import Vault
from callrec.vault.archive import (
    approve_deletion,
    deletion_call_span,
    list_deletion_requests,
    plan_retention,
    refuse_deletion,
    request_deletion,
    run_retention,
)
from callrec.vault.people import add_user, list_users, remove_role, remove_user

__all__ = ["Deletion", "DeletionList", "Done", "Requeued", "RetentionResult", "User", "UserList", "delete_approve",
           "delete_list", "delete_refuse", "delete_request", "retention_run", "retranscribe", "users_add",
           "users_list", "users_remove", "users_revoke"]


@dataclass(frozen=True)
class Done:
    """An action that changed something and has nothing more to say than its message."""
    message: str
    #: The id of what it created, when it created something (a deletion request).
    id: int | None = None


@dataclass(frozen=True)
class User:
    name: str
    roles: list[str]


@dataclass(frozen=True)
class UserList:
    users: list[User]


@dataclass(frozen=True)
class Deletion:
    id: int
    call_id: int
    status: str
    requested_by: str
    requested_at: str
    reason: str
    decided_by: str | None
    decided_at: str | None
    requested_ts: float
    decided_ts: float | None


@dataclass(frozen=True)
class DeletionList:
    requests: list[Deletion]


@dataclass(frozen=True)
class RetentionResult:
    keep_days: int
    dry_run: bool
    #: Calls past the limit (in a dry run: that would be purged) and those kept by a legal hold.
    due: list[int]
    held: list[int]
    #: How many were purged (0 in a dry run).
    purged: int


@dataclass(frozen=True)
class Requeued:
    call_ids: list[int]


def _os_account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@use_case("users.add")
def users_add(vault: Vault, actor: Actor, *, name: str, roles: list[str], allow_unknown: bool = False) -> Done:
    """A person is an OS account of this host (identity comes from the kernel): a name with no
    account could never act, so it is refused unless the account is planned (``allow_unknown``)."""
    known = _os_account_exists(name)
    if not known and not allow_unknown:
        raise UsageError(f"there is no OS account {name!r} on this host: create it first (useradd), or pass"
                         " --allow-unknown for an account that is planned")
    add_user(vault, actor.log_name, name, roles)
    planned = "" if known else " (no such OS account yet: the roles apply once it exists)"
    return Done(f"{name} now holds {', '.join(sorted(roles))}{planned}")


@use_case("users.revoke")
def users_revoke(vault: Vault, actor: Actor, *, name: str, role: str) -> Done:
    remove_role(vault, actor.log_name, name, role)
    return Done(f"{name} no longer holds {role}")


@use_case("users.remove")
def users_remove(vault: Vault, actor: Actor, *, name: str) -> Done:
    roles = remove_user(vault, actor.log_name, name)
    return Done(f"{name} removed (held {', '.join(roles) or 'no role'})")


@use_case("users.list")
def users_list(vault: Vault, actor: Actor) -> UserList:
    return UserList([User(name, roles) for name, roles in list_users(vault)])


@use_case("delete.request")
def delete_request(vault: Vault, actor: Actor, *, call_id: int, reason: str) -> Done:
    request_id = request_deletion(vault, actor.log_name, call_id, reason)
    return Done(f"deletion request {request_id} filed for call {call_id}: a second person must approve it"
                f" ('callrec delete-request approve {request_id}')", request_id)


def _refresh_reports(vault: Vault, request_id: int) -> None:
    """The deleted call's day tells a new story: its stored report is rewritten."""
    refresh_stored_days(vault, vault.config, *deletion_call_span(vault, request_id))


@use_case("delete.approve")
def delete_approve(vault: Vault, actor: Actor, *, request_id: int) -> Done:
    approve_deletion(vault, actor.log_name, request_id)
    _refresh_reports(vault, request_id)
    return Done(f"deletion request {request_id} approved: the call's audio and transcripts are deleted")


@use_case("delete.refuse")
def delete_refuse(vault: Vault, actor: Actor, *, request_id: int, reason: str = "") -> Done:
    refuse_deletion(vault, actor.log_name, request_id, reason)
    return Done(f"deletion request {request_id} refused")


@use_case("delete.list")
def delete_list(vault: Vault, actor: Actor, *, status: str | None = None) -> DeletionList:
    zone = vault.config.zone
    return DeletionList([
        Deletion(r.id, r.call_id, r.status, r.requested_by, format_ts(r.requested_ts, zone, "seconds"), r.reason,
                 r.decided_by, format_ts(r.decided_ts, zone, "seconds"), r.requested_ts, r.decided_ts)
        for r in list_deletion_requests(vault, actor.log_name, status)])


@use_case("retention.run")
def retention_run(vault: Vault, actor: Actor, *, dry_run: bool = False) -> RetentionResult:
    keep_days, now = vault.config.retention.keep_days, time.time()
    plan = plan_retention(vault, now, keep_days)
    purged = 0 if dry_run else run_retention(vault, now, keep_days, actor=actor.log_name)[0]
    return RetentionResult(keep_days, dry_run, list(plan.due), list(plan.held), purged)


@use_case("retranscribe")
def retranscribe(vault: Vault, actor: Actor, *, call_id: int | None = None, all: bool = False) -> Requeued:  # noqa: A002 - the CLI's --all
    from callrec.asr import requeue

    if (call_id is None) == (not all):
        raise UsageError("retranscribe: give one CALL or --all")
    ids = requeue(vault, actor.log_name, None if all else [call_id])
    if not all and not ids:
        raise UsageError(f"call {call_id} is not sealed, does not exist, or is already queued: see 'callrec calls list'")
    return Requeued(list(ids))
