"""``calls.list``: what was recorded, without content."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.timefmt import parse_iso
from callrec.vault import Vault
from callrec.vault._calls import list_calls

__all__ = ["CallList", "calls_list"]


@dataclass(frozen=True)
class CallList:
    #: The ``calls list --json`` objects (DESIGN.md, "Interfaces"), oldest first.
    calls: list[dict]


@use_case("calls.list")
def calls_list(vault: Vault, actor: Actor, *, from_iso: str, to_iso: str) -> CallList:
    zone = vault.config.zone
    return CallList(list_calls(vault, parse_iso(from_iso, zone, "--from"), parse_iso(to_iso, zone, "--to"), zone))
