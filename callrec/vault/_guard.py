"""Refusing an action: the refusal itself is written to the access log, then raised.

Which roles may run an action is decided by the access layer's table (``callrec.access``); the
vault refuses only by the rules of one row (not this reviewer's case, four-eyes, …).
"""

from __future__ import annotations

from typing import Any, NoReturn

from callrec.errors import AccessDenied
from callrec.vault._store import Vault

__all__ = ["refuse"]


def refuse(vault: Vault, actor: str, action: str, why: str, **fields: Any) -> NoReturn:
    vault.log_now(actor, action, outcome="refused", detail={"why": why, **fields.pop("detail", {})}, **fields)
    vault.checkpoint()
    raise AccessDenied(actor, why)
