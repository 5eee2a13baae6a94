"""Ops and maintenance use cases: how the recorder is doing, and planned maintenance. No content."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.health import (
    MaintenanceWindow,
    SystemStatus,
    add_maintenance,
    cancel_maintenance,
    collect_status,
    end_maintenance,
    list_maintenance,
)
from callrec.timefmt import parse_time
from callrec.vault import Vault

__all__ = ["MaintenanceList", "maintenance_add", "maintenance_cancel", "maintenance_end", "maintenance_list", "status"]


@dataclass(frozen=True)
class MaintenanceList:
    windows: list[MaintenanceWindow]


@use_case("status")
def status(vault: Vault, actor: Actor) -> SystemStatus:
    return collect_status(vault, vault.config)


@use_case("maintenance.add")
def maintenance_add(vault: Vault, actor: Actor, *, from_iso: str, to_iso: str, reason: str) -> MaintenanceWindow:
    zone = vault.config.zone
    return add_maintenance(vault, actor.log_name, parse_time(from_iso, zone, "--from"),
                           parse_time(to_iso, zone, "--to", end=True), reason, from_text=from_iso)


@use_case("maintenance.end")
def maintenance_end(vault: Vault, actor: Actor, *, window_id: int) -> MaintenanceWindow:
    """The work is done early: the running window ends now."""
    return end_maintenance(vault, actor.log_name, window_id)


@use_case("maintenance.cancel")
def maintenance_cancel(vault: Vault, actor: Actor, *, window_id: int) -> MaintenanceWindow:
    """The work will not happen: a window that has not started is cancelled (still listed)."""
    return cancel_maintenance(vault, actor.log_name, window_id)


@use_case("maintenance.list")
def maintenance_list(vault: Vault, actor: Actor) -> MaintenanceList:
    return MaintenanceList(list_maintenance(vault, cancelled=True))
