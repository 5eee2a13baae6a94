"""The one table of who may do what, and the one check against it.

Each action maps to the roles that may run it; it mirrors DESIGN.md's role table. ``service``
stands for callrec's internal actors (:data:`callrec.access.SERVICE`), never for a person. Rows
whose name has no use case in this package (``backup``, ``restore``, ``rekey``, ``model.import``,
``status``) are checked by local commands; only use cases registered in
``_registry.py`` exist on the socket.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from callrec.access._actor import Actor
from callrec.vault import Vault, refuse
from callrec.vault.people import roles_of

__all__ = ["ACTION_ROLES", "authorize", "may"]

_CONTENT_READERS = ("reviewer",)
_CASE_VIEWERS = ("reviewer", "approver", "admin")
_HEALTH = ("ops", "maintainer", "admin")

ACTION_ROLES: MappingProxyType[str, frozenset[str]] = MappingProxyType({name: frozenset(roles) for name, roles in {
    # what was recorded, without content
    "calls.list": ("ops", "reviewer", "approver", "admin"),
    "status": ("maintainer", "ops", "admin"),
    "maintenance.add": ("maintainer", "admin"),
    "maintenance.end": ("maintainer", "admin"),
    "maintenance.cancel": ("maintainer", "admin"),
    "maintenance.list": ("maintainer", "admin"),
    "health.check": _HEALTH,
    "health.ack": ("ops",),  # an outage that is over was seen: no longer a warning in 'health check'
    "gap.note": ("admin",),  # words on a past gap; never its severity
    "health.report": _HEALTH,
    "report.who_read": ("ops", "admin"),  # privilege: who read or was refused, in which case (not the vendor)
    "cdr.import": _HEALTH,
    # cases: the only way to content
    "case.open": ("reviewer",),
    "case.approve": ("approver",),
    "case.refuse": ("approver",),
    "case.attach": ("reviewer",),
    "case.show": _CASE_VIEWERS,
    "case.list": _CASE_VIEWERS,
    "case.close": ("reviewer", "admin"),
    "case.see_all": ("approver", "admin"),  # privilege: every case, not only one's own
    "case.close_any": ("admin",),  # privilege: close a case opened by someone else
    "case.see_numbers": ("approver",),  # privilege: the numbers of any case (to decide it); an opener sees their own
    "transcript.read": _CONTENT_READERS,
    "transcript.search": _CONTENT_READERS,
    "play": _CONTENT_READERS,
    "play.failed": _CONTENT_READERS,  # the caller could not play what it read: a follow-up entry
    "export": _CONTENT_READERS,
    # the access log
    "log.show": ("approver", "admin"),
    "log.head": ("ops", "maintainer", "reviewer", "approver", "admin"),  # any person with a role; no content
    "key.show": ("ops", "maintainer", "reviewer", "approver", "admin"),  # the public key's fingerprint
    "whoami": ("ops", "maintainer", "reviewer", "approver", "admin"),  # one's own roles and the actions they allow
    # administration
    "users.add": ("admin",),
    "users.revoke": ("admin",),
    "users.remove": ("admin",),
    "users.list": ("admin",),
    "delete.request": ("admin",),
    "delete.approve": ("admin", "approver"),
    "delete.refuse": ("admin", "approver"),
    "delete.list": ("admin", "approver"),
    "retention.run": ("admin", "service"),
    "retranscribe": ("admin",),
    "model.list": ("admin", "service"),
    "model.import": ("admin", "service"),
    "model.activate": ("admin", "service"),
    "model.remove": ("admin",),
    "backup": ("admin",),
    "restore": ("admin",),
    "rekey": ("admin",),
}.items()})


def _held(vault: Vault, actor: Actor) -> set[str]:
    return {"service"} if actor.internal else roles_of(vault, actor.name)


def may(vault: Vault, actor: Actor, action: str) -> bool:
    """Whether ``actor`` holds a role the table allows for ``action`` (no log entry)."""
    return bool(_held(vault, actor) & ACTION_ROLES[action])


def authorize(vault: Vault, actor: Actor, action: str, **fields: Any) -> None:
    """Refuse (logged, :class:`~callrec.errors.AccessDenied`) unless ``actor`` may run ``action``."""
    allowed = ACTION_ROLES[action]
    held = _held(vault, actor)
    if held & allowed:
        return
    if not held:
        refuse(vault, actor.log_name, action, "this account is not a callrec user", **fields)
    named = sorted(allowed - {"service"})
    refuse(vault, actor.log_name, action, f"needs the role {' or '.join(named)}", **fields)
