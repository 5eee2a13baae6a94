"""Who the caller is to callrec: their roles and the actions the role table lets them run.

A front end (the web page of ``callrec ui``) asks this instead of deciding roles itself: it shows
a page per role held and a control per action allowed. The actions are read from the one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import ACTION_ROLES
from callrec.vault import Vault
from callrec.vault.people import roles_of

__all__ = ["Me", "whoami"]


@dataclass(frozen=True)
class Me:
    name: str
    roles: list[str]
    #: Every row of the role table (actions and privileges) one of these roles may run.
    actions: list[str]


@use_case("whoami")
def whoami(vault: Vault, actor: Actor) -> Me:
    held = roles_of(vault, actor.name)
    return Me(actor.log_name, sorted(held), sorted(name for name, roles in ACTION_ROLES.items() if roles & held))
