"""Refusing an action: the refusal itself is written to the access log, then raised."""

from __future__ import annotations

from typing import Any, NoReturn

from callrec.errors import AccessDenied
from callrec.vault._store import Vault
from callrec.vault._users import roles_of

__all__ = ["refuse", "require_role"]


def refuse(vault: Vault, actor: str, action: str, why: str, **fields: Any) -> NoReturn:
    vault.log_now(actor, action, outcome="refused", detail={"why": why, **fields.pop("detail", {})}, **fields)
    vault.checkpoint()
    raise AccessDenied(actor, why)


def require_role(vault: Vault, actor: str, action: str, *roles: str, **fields: Any) -> set[str]:
    """The actor's roles; refuses (logged) unless they hold one of ``roles``."""
    held = roles_of(vault, actor)
    if not held:
        refuse(vault, actor, action, "this account is not a callrec user", **fields)
    if not held & set(roles):
        refuse(vault, actor, action, f"needs the role {' or '.join(roles)}", **fields)
    return held
